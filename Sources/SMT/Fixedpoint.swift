internal import CZ3

/// A Z3 fixedpoint (constrained Horn clause) engine, configured for Spacer.
///
/// Typical use: register the relations, add rules `∀ vars. body ⇒ head`
/// (built with `Context.forall` and `Context.implies`), then query an error
/// relation: `.unsat` means the error is unreachable (the property holds; see
/// `answer()` for the inductive invariant), `.sat` means it is reachable.
public final class Fixedpoint {
    public let context: Context
    let raw: OpaquePointer

    /// A fixedpoint object with `engine = spacer`; the context's `timeoutMs`,
    /// if any, is applied.
    public init(_ c: Context) {
        let p = Z3_mk_fixedpoint(c.raw)
        c.checkFatal("Fixedpoint")
        guard let p else { preconditionFailure("Z3 returned no fixedpoint object") }
        context = c
        raw = p
        Z3_fixedpoint_inc_ref(c.raw, p)
        var params: [(String, ParamValue)] = [("engine", .symbol("spacer"))]
        if let ms = c.timeoutMs { params.append(("timeout", .uint(ms))) }
        do { try setParams(params) } catch { preconditionFailure("configuring fixedpoint: \(error)") }
    }

    deinit {
        Z3_fixedpoint_dec_ref(context.raw, raw)
    }

    /// Sets a fixedpoint parameter (e.g. `engine`, `timeout`,
    /// `spacer.max_level`). Throws on an unknown name or wrong value type.
    public func setParam(_ name: String, _ value: ParamValue) throws {
        try setParams([(name, value)])
    }

    /// Wall-clock timeout of a query, in milliseconds.
    public func setTimeout(ms: UInt32) throws { try setParam("timeout", .uint(ms)) }

    private func setParams(_ entries: [(String, ParamValue)]) throws {
        try withParams(context, entries) { p in
            Z3_fixedpoint_set_params(context.raw, raw, p)
        }
    }

    /// Declares `decl` as a relation (predicate) to be solved for.
    public func registerRelation(_ decl: FuncDecl) throws {
        precondition(decl.context === context, "registerRelation: declaration of another Context")
        Z3_fixedpoint_register_relation(context.raw, raw, decl.raw)
        try context.check()
    }

    /// Adds a Horn rule, typically `forall(bound: vars, implies(body, head))`
    /// or a fact `head`.
    public func addRule(_ t: Term, name: String? = nil) throws {
        context.ownedBy(t, "addRule")
        let n = context.symbol(name ?? context.nextRuleName())
        Z3_fixedpoint_add_rule(context.raw, raw, t.raw, n)
        try context.check()
    }

    /// Is any of `relations` derivable? `.sat`: yes (e.g. the error is
    /// reachable), `.unsat`: no (the property holds). Timeouts and
    /// interruptions (which Spacer reports as the error "canceled") become
    /// `.unknown`, as does a cancellation before the query starts.
    public func query(relations: [FuncDecl]) throws -> CheckResult {
        for d in relations {
            precondition(d.context === context, "query: declaration of another Context")
        }
        let token = context.cancellation
        if let token, !token.beginCheck(context.raw) {
            return .unknown(reason: token.unknownReason(CancellationToken.beforeStartReason))
        }
        let raws: [Z3_func_decl?] = relations.map { $0.raw }
        let r = raws.withUnsafeBufferPointer {
            Z3_fixedpoint_query_relations(context.raw, raw, UInt32($0.count), $0.baseAddress)
        }
        token?.endCheck(context.raw)   // as early as possible, see Solver.check
        if let e = context.takeError() {
            if e.isResourceOut { return .unknown(reason: token?.unknownReason(e.message) ?? e.message) }
            throw e
        }
        switch r {
        case Z3_L_TRUE: return .sat
        case Z3_L_FALSE: return .unsat
        default: return .unknown(reason: token?.unknownReason(reasonUnknown) ?? reasonUnknown)
        }
    }

    /// After `.unsat`: the inductive invariant (interpretation of the
    /// relations); after `.sat`: a derivation / counterexample.
    public func answer() throws -> Term {
        let p = Z3_fixedpoint_get_answer(context.raw, raw)
        return try context.tryTerm(p, "answer")
    }

    /// After `.unsat`: the formula Spacer found for `relation`, applied to `args` (one term per
    /// argument, of the relation's sorts). Read from `answer()`, whose definitions have the
    /// shape `∀ vars. relation(vars) = body`; an answer that does not mention `relation`
    /// leaves it unconstrained (`true`). Throws when a definition has another shape.
    public func interpretation(of relation: FuncDecl, at args: [Term]) throws -> Term {
        precondition(relation.context === context, "interpretation: declaration of another Context")
        for a in args { context.ownedBy(a, "interpretation") }
        let c = context.raw
        let answer = try self.answer()
        func isRelation(_ a: OpaquePointer?) -> Bool {
            guard let a, Z3_get_ast_kind(c, a) == Z3_APP_AST, let app = Z3_to_app(c, a) else { return false }
            return Z3_is_eq_func_decl(c, Z3_get_app_decl(c, app), relation.raw)
        }
        for part in answer.conjuncts {
            var body: OpaquePointer? = part.raw
            var bound = 0
            if Z3_get_ast_kind(c, part.raw) == Z3_QUANTIFIER_AST {
                guard Z3_is_quantifier_forall(c, part.raw) else { continue }
                bound = Int(Z3_get_quantifier_num_bound(c, part.raw))
                body = Z3_get_quantifier_body(c, part.raw)
            }
            guard let b = body, Z3_get_ast_kind(c, b) == Z3_APP_AST, let app = Z3_to_app(c, b) else { continue }
            let head: OpaquePointer?, definition: OpaquePointer?
            if isRelation(b) {
                (head, definition) = (b, Z3_mk_true(c))
            } else if Z3_get_decl_kind(c, Z3_get_app_decl(c, app)) == Z3_OP_EQ, Z3_get_app_num_args(c, app) == 2,
                      isRelation(Z3_get_app_arg(c, app, 0)) {
                (head, definition) = (Z3_get_app_arg(c, app, 0), Z3_get_app_arg(c, app, 1))
            } else if Z3_get_decl_kind(c, Z3_get_app_decl(c, app)) == Z3_OP_NOT, isRelation(Z3_get_app_arg(c, app, 0)) {
                (head, definition) = (Z3_get_app_arg(c, app, 0), Z3_mk_false(c))
            } else {
                continue
            }
            guard let headApp = Z3_to_app(c, head), Int(Z3_get_app_num_args(c, headApp)) == args.count else {
                throw Z3Error(code: Z3Error.wrapperCode, message: "interpretation of \(relation): arity differs from \(args.count) arguments")
            }
            // The definition's free variables are de Bruijn indices; the head says which
            // argument each one stands for.
            var to = [Z3_ast?](repeating: nil, count: bound)
            for j in 0..<args.count {
                let v = Z3_get_app_arg(c, headApp, UInt32(j))
                guard let v, Z3_get_ast_kind(c, v) == Z3_VAR_AST else {
                    throw Z3Error(code: Z3Error.wrapperCode, message: "interpretation of \(relation): argument \(j) of the definition's head is not a variable")
                }
                let index = Int(Z3_get_index_value(c, v))
                guard index < bound else { throw Z3Error(code: Z3Error.wrapperCode, message: "interpretation of \(relation): variable index out of range") }
                to[index] = args[j].raw
            }
            guard to.allSatisfy({ $0 != nil }) else {
                throw Z3Error(code: Z3Error.wrapperCode, message: "interpretation of \(relation): a bound variable is no argument")
            }
            let p = to.withUnsafeMutableBufferPointer { Z3_substitute_vars(c, definition, UInt32(bound), $0.baseAddress) }
            return withExtendedLifetime(args) { withExtendedLifetime(answer) { context.term(p, "interpretation") } }
        }
        if answer.mentions(relation) {
            throw Z3Error(code: Z3Error.wrapperCode, message: "Spacer's answer defines \(relation) in a shape not understood: \(answer)")
        }
        return context.bool(true)
    }

    /// Z3's explanation of the last `unknown` answer.
    public var reasonUnknown: String {
        let p = Z3_fixedpoint_get_reason_unknown(context.raw, raw)
        if context.takeError() != nil { return "" }
        guard let p else { return "" }
        return String(cString: p)
    }

    /// Statistics of the last query.
    public var statistics: [String: Double] {
        guard let st = Z3_fixedpoint_get_statistics(context.raw, raw) else {
            _ = context.takeError()
            return [:]
        }
        Z3_stats_inc_ref(context.raw, st)
        defer { Z3_stats_dec_ref(context.raw, st) }
        return readStatistics(context, st)
    }
}

@available(*, unavailable)
extension Fixedpoint: Sendable {}
