internal import CZ3

/// An incremental Z3 solver.
///
/// Operations that can fail because of their input or the solver's state
/// throw `Z3Error`; the solver stays usable afterwards. The initializers do
/// not throw: an unrecognized `logic` name is a programming error
/// (`preconditionFailure`).
public final class Solver {
    public let context: Context
    let raw: OpaquePointer

    /// A solver for `logic` (e.g. `"QF_BV"`, `"QF_ABV"`, `"HORN"`), or Z3's
    /// default combined solver when `logic` is nil. The context's `timeoutMs`,
    /// if any, is applied.
    public init(_ c: Context, logic: String? = nil) {
        let p: OpaquePointer?
        if let logic {
            p = Z3_mk_solver_for_logic(c.raw, c.symbol(logic))
        } else {
            p = Z3_mk_solver(c.raw)
        }
        c.checkFatal("Solver(logic: \(logic ?? "nil"))")
        guard let p else { preconditionFailure("Z3 returned no solver") }
        context = c
        raw = p
        Z3_solver_inc_ref(c.raw, p)
        applyContextDefaults()
    }

    private init(_ c: Context, raw p: OpaquePointer) {
        context = c
        raw = p
        Z3_solver_inc_ref(c.raw, p)
        applyContextDefaults()
    }

    /// A "simple" solver (`Z3_mk_simple_solver`): the incremental SMT core
    /// without the preprocessing tactic pipeline.
    public static func simple(_ c: Context) -> Solver {
        let p = Z3_mk_simple_solver(c.raw)
        c.checkFatal("Solver.simple")
        guard let p else { preconditionFailure("Z3 returned no solver") }
        return Solver(c, raw: p)
    }

    deinit {
        Z3_solver_dec_ref(context.raw, raw)
    }

    private func applyContextDefaults() {
        if let ms = context.timeoutMs {
            do { try setTimeout(ms: ms) } catch { preconditionFailure("setting solver timeout: \(error)") }
        }
    }

    // MARK: assertions and scopes

    /// Adds a Boolean assertion. Throws if `t` is not Boolean.
    public func assert(_ t: Term) throws {
        context.ownedBy(t, "assert")
        Z3_solver_assert(context.raw, raw, t.raw)
        try context.check()
    }

    /// Adds `t` tracked by the Boolean constant `tracking`; `tracking`
    /// appears in `unsatCore()` when `t` is needed for unsatisfiability.
    public func assert(_ t: Term, tracking: Term) throws {
        context.ownedBy(t, "assert"); context.ownedBy(tracking, "assert")
        Z3_solver_assert_and_track(context.raw, raw, t.raw, tracking.raw)
        try context.check()
    }

    /// Opens a backtracking scope.
    public func push() throws {
        Z3_solver_push(context.raw, raw)
        try context.check()
    }

    /// Closes `n` scopes, dropping their assertions. Throws if fewer are open.
    public func pop(_ n: Int = 1) throws {
        precondition(n >= 0, "pop: negative count")
        let open = Int(Z3_solver_get_num_scopes(context.raw, raw))
        guard n <= open else {
            throw Z3Error.wrapper("pop(\(n)) but only \(open) scope(s) are open")
        }
        Z3_solver_pop(context.raw, raw, UInt32(n))
        try context.check()
    }

    /// Number of open scopes.
    public var numScopes: Int {
        Int(Z3_solver_get_num_scopes(context.raw, raw))
    }

    /// Removes all assertions and scopes.
    public func reset() throws {
        Z3_solver_reset(context.raw, raw)
        try context.check()
    }

    // MARK: checking

    /// Checks the assertions, under the given Boolean assumption literals.
    ///
    /// Returns `.unknown` on timeout, resource limit, interruption or
    /// cancellation (if the context's `CancellationToken` was cancelled before
    /// the check, it returns `.unknown(reason: "canceled (before start)")`
    /// without calling Z3).
    public func check(assumptions: [Term] = []) throws -> CheckResult {
        for a in assumptions { context.ownedBy(a, "check") }
        context.releaseDropped()
        let token = context.cancellation
        if let token, !token.beginCheck(context.raw) {
            return .unknown(reason: token.unknownReason(CancellationToken.beforeStartReason))
        }
        let r: Z3_lbool
        if assumptions.isEmpty {
            r = Z3_solver_check(context.raw, raw)
        } else {
            let raws: [Z3_ast?] = assumptions.map { $0.raw }
            r = raws.withUnsafeBufferPointer {
                Z3_solver_check_assumptions(context.raw, raw, UInt32($0.count), $0.baseAddress)
            }
        }
        // Stop interrupts as soon as Z3 returns: an interrupt reaching an idle
        // context lingers and would make later calls fail with "canceled".
        token?.endCheck(context.raw)
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

    /// The model of the last `.sat` check. Throws if there is none.
    public func model() throws -> Model {
        let p = Z3_solver_get_model(context.raw, raw)
        try context.check()
        guard let p else { throw Z3Error.wrapper("no model available") }
        return Model(context, p)
    }

    /// The assumptions / tracking literals of an unsatisfiable core after an
    /// `.unsat` check. Throws if there is none.
    public func unsatCore() throws -> [Term] {
        let v = Z3_solver_get_unsat_core(context.raw, raw)
        try context.check()
        guard let v else { throw Z3Error.wrapper("no unsat core available") }
        Z3_ast_vector_inc_ref(context.raw, v)
        defer { Z3_ast_vector_dec_ref(context.raw, v) }
        let n = Z3_ast_vector_size(context.raw, v)
        var out: [Term] = []
        out.reserveCapacity(Int(n))
        for i in 0..<n {
            let a = Z3_ast_vector_get(context.raw, v, i)
            out.append(try context.tryTerm(a, "unsatCore"))
        }
        return out
    }

    /// Z3's explanation of the last `unknown` result ("" if none).
    public var reasonUnknown: String {
        let p = Z3_solver_get_reason_unknown(context.raw, raw)
        if context.takeError() != nil { return "" }
        guard let p else { return "" }
        return String(cString: p)
    }

    /// The current assertions, as terms.
    public var assertions: [Term] {
        guard let v = Z3_solver_get_assertions(context.raw, raw) else {
            _ = context.takeError()
            return []
        }
        Z3_ast_vector_inc_ref(context.raw, v)
        defer { Z3_ast_vector_dec_ref(context.raw, v) }
        return (0..<Z3_ast_vector_size(context.raw, v)).map {
            context.term(Z3_ast_vector_get(context.raw, v, $0), "assertions")
        }
    }

    /// Statistics of the last check (keys as Z3 names them, e.g. "conflicts",
    /// "rlimit count", "time").
    public var statistics: [String: Double] {
        guard let st = Z3_solver_get_statistics(context.raw, raw) else {
            _ = context.takeError()
            return [:]
        }
        Z3_stats_inc_ref(context.raw, st)
        defer { Z3_stats_dec_ref(context.raw, st) }
        return readStatistics(context, st)
    }

    /// SMT-LIB text of the assertions.
    public var smtlib: String {
        guard let p = Z3_solver_to_string(context.raw, raw) else { return "" }
        return String(cString: p)
    }

    // MARK: parameters

    /// Sets a solver parameter (un-prefixed names such as `timeout`,
    /// `rlimit`, `random_seed`, `unsat_core`). Throws on an unknown name or
    /// wrong value type.
    public func setParam(_ name: String, _ value: ParamValue) throws {
        // Z3 only validates solver parameters once the solver is initialized
        // (first assert/check), so validate explicitly against its descriptors.
        guard let descrs = Z3_solver_get_param_descrs(context.raw, raw) else {
            try context.check()
            throw Z3Error.wrapper("no parameter descriptors for solver")
        }
        Z3_param_descrs_inc_ref(context.raw, descrs)
        defer { Z3_param_descrs_dec_ref(context.raw, descrs) }
        try withParams(context, [(name, value)]) { p in
            Z3_params_validate(context.raw, p, descrs)
            if Z3_get_error_code(context.raw) == Z3_OK {
                Z3_solver_set_params(context.raw, raw, p)
            }
        }
    }

    /// Wall-clock timeout per check, in milliseconds (non-deterministic;
    /// prefer `setRlimit` for reproducible results).
    public func setTimeout(ms: UInt32) throws { try setParam("timeout", .uint(ms)) }

    /// Deterministic resource limit per check (values above `UInt32.max`
    /// are clamped, Z3 4.8 takes an unsigned int).
    public func setRlimit(_ n: UInt64) throws {
        try setParam("rlimit", .uint(UInt32(clamping: n)))
    }

    /// Random seed of the solver.
    public func setSeed(_ s: UInt32) throws { try setParam("random_seed", .uint(s)) }
}

@available(*, unavailable)
extension Solver: Sendable {}

// MARK: - shared helpers (params, statistics)

/// Builds a ref-counted `Z3_params`, lets `body` apply it, then checks errors.
func withParams(
    _ c: Context, _ entries: [(String, ParamValue)], _ body: (OpaquePointer) -> Void
) throws {
    guard let p = Z3_mk_params(c.raw) else {
        try c.check()
        throw Z3Error.wrapper("Z3_mk_params failed")
    }
    Z3_params_inc_ref(c.raw, p)
    defer { Z3_params_dec_ref(c.raw, p) }
    for (name, value) in entries {
        let k = c.symbol(name)
        switch value {
        case .bool(let b): Z3_params_set_bool(c.raw, p, k, b)
        case .uint(let u): Z3_params_set_uint(c.raw, p, k, u)
        case .double(let d): Z3_params_set_double(c.raw, p, k, d)
        case .symbol(let s): Z3_params_set_symbol(c.raw, p, k, c.symbol(s))
        }
        try c.check()
    }
    body(p)
    try c.check()
}

func readStatistics(_ c: Context, _ st: OpaquePointer) -> [String: Double] {
    var out: [String: Double] = [:]
    let n = Z3_stats_size(c.raw, st)
    for i in 0..<n {
        guard let k = Z3_stats_get_key(c.raw, st, i) else { continue }
        let key = String(cString: k)
        if Z3_stats_is_uint(c.raw, st, i) {
            out[key] = Double(Z3_stats_get_uint_value(c.raw, st, i))
        } else {
            out[key] = Z3_stats_get_double_value(c.raw, st, i)
        }
    }
    _ = c.takeError()
    return out
}
