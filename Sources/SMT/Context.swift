internal import CZ3
internal import Foundation

/// Z3 calls this instead of its default handler (which would `exit(1)`).
/// Errors are picked up by polling `Z3_get_error_code` after each call.
private func silentErrorHandler(_ c: Z3_context?, _ e: Z3_error_code) {}

/// The version of the Z3 library in use, e.g. `"4.8.12.0"`.
public func z3Version() -> String {
    var major: UInt32 = 0, minor: UInt32 = 0, build: UInt32 = 0, revision: UInt32 = 0
    Z3_get_version(&major, &minor, &build, &revision)
    return "\(major).\(minor).\(build).\(revision)"
}

/// Caps the memory Z3 may use in this process, over all its contexts (Z3's global
/// `memory_max_size`). A check that would go past it returns `.unknown` (out of memory)
/// instead of the process being killed by the system.
public func setZ3MemoryLimit(megabytes: Int) {
    Z3_global_param_set("memory_max_size", String(max(1, megabytes)))
}

/// A Z3 context: the factory and owner of all terms, sorts, solvers and models.
///
/// * Not `Sendable`: a context and everything made from it must stay on one
///   thread (use `runZ3` to run Z3 work on a dedicated thread).
/// * Every object made from a context keeps a strong reference to it, so the
///   underlying `Z3_context` is deleted only after its last object.
/// * Term constructors (`bool`, `bv`, `and`, `bvadd`, `select`, ...) do not
///   throw; a Z3 error while building a term (a sort mismatch, a term from
///   another context, ...) is a programming error and triggers
///   `preconditionFailure` with Z3's message. See `Z3Error` for the policy.
public final class Context {
    let raw: OpaquePointer
    /// Timeout applied to every `Solver` and `Fixedpoint` made from this context.
    public let timeoutMs: UInt32?
    /// The token through which this context's checks can be cancelled.
    public let cancellation: CancellationToken?
    private var ruleCounter = 0
    /// Terms, sorts and declarations Swift no longer holds, not yet released to Z3. Z3 reuses
    /// the ids of what it frees, and its search follows the ids of the terms it is given;
    /// Swift frees what a dictionary or set held in an order that depends on the process's
    /// hash seed. So that the same run asks Z3 the same questions (and gets the same answers
    /// in the same time), the dropped ones are released together, in the order of their
    /// kinds and ids, when the next one is made, a check starts or the context goes.
    var dropped: [OpaquePointer] = []

    /// Creates a context.
    /// - Parameters:
    ///   - timeoutMs: if set, the `timeout` parameter of every solver and
    ///     fixedpoint created from this context (a solver may override it).
    ///   - cancellation: a token whose `cancel()` interrupts this context's
    ///     checks (sticky: checks started after the cancel return `.unknown`).
    public init(timeoutMs: UInt32? = nil, cancellation: CancellationToken? = nil) {
        guard let cfg = Z3_mk_config() else { preconditionFailure("Z3_mk_config failed") }
        Z3_set_param_value(cfg, "model", "true")
        let ctx = Z3_mk_context_rc(cfg)
        Z3_del_config(cfg)
        guard let ctx else {
            FileHandle.standardError.write(Data("rmi-check: Z3 could not make a context (past its memory limit, --memory-limit?): undecided\n".utf8))
            exit(2)
        }
        Z3_set_error_handler(ctx, silentErrorHandler)
        raw = ctx
        self.timeoutMs = timeoutMs
        self.cancellation = cancellation
        cancellation?.register(ctx)
    }

    deinit {
        // Unregister first, under the token's lock, so no interrupt can be
        // sent to a deleted context.
        cancellation?.unregister(raw)
        releaseDropped()
        Z3_del_context(raw)
    }

    func releaseDropped() {
        if dropped.isEmpty { return }
        if dropped.count > 1 {
            // Terms and declarations (sorts among them) number their ids apart.
            dropped.sort { a, b in
                let ka = Z3_get_ast_kind(raw, a).rawValue, kb = Z3_get_ast_kind(raw, b).rawValue
                return ka != kb ? ka < kb : Z3_get_ast_id(raw, a) < Z3_get_ast_id(raw, b)
            }
        }
        for t in dropped { Z3_dec_ref(raw, t) }
        dropped.removeAll(keepingCapacity: true)
    }

    // MARK: error polling

    /// Returns the pending Z3 error (if any) and resets the error state.
    func takeError() -> Z3Error? {
        let code = Z3_get_error_code(raw)
        if code == Z3_OK { return nil }
        var msg: String
        if let p = Z3_get_error_msg(raw, code) { msg = String(cString: p) } else { msg = "unknown Z3 error" }
        Z3_set_error(raw, Z3_OK)
        // "unknown parameter 'x'" is followed by a list of every legal parameter.
        if let r = msg.range(of: "\nLegal parameters are:") { msg = String(msg[..<r.lowerBound]) }
        return Z3Error(code: Int(code.rawValue), message: msg)
    }

    /// Throws the pending Z3 error, if any.
    func check() throws {
        if let e = takeError() { throw e }
    }

    /// Stops with Z3's message if the last call failed (term construction path).
    /// Z3 going past its memory limit while building a term is no bug of the caller: the
    /// process says so and ends with status 2 (undecided), as a check that runs out does.
    func checkFatal(_ op: @autoclosure () -> String) {
        guard let e = takeError() else { return }
        if e.isOutOfMemory {
            FileHandle.standardError.write(Data("rmi-check: Z3 went past its memory limit (--memory-limit) while building \(op()): undecided\n".utf8))
            exit(2)
        }
        preconditionFailure("Z3 error in \(op()): \(e.message) (code \(e.code))")
    }

    /// Wraps a freshly created AST (term construction path).
    func term(_ p: OpaquePointer?, _ op: @autoclosure () -> String) -> Term {
        checkFatal(op())
        guard let p else { preconditionFailure("Z3 returned no term in \(op())") }
        return Term(self, p)
    }

    /// Wraps a freshly created AST (throwing path).
    func tryTerm(_ p: OpaquePointer?, _ op: @autoclosure () -> String) throws -> Term {
        try check()
        guard let p else { throw Z3Error.wrapper("Z3 returned no term in \(op())") }
        return Term(self, p)
    }

    func sort(_ p: OpaquePointer?, _ op: @autoclosure () -> String) -> Sort {
        checkFatal(op())
        guard let p else { preconditionFailure("Z3 returned no sort in \(op())") }
        return Sort(self, p)
    }

    func symbol(_ name: String) -> OpaquePointer? {
        Z3_mk_string_symbol(raw, name)
    }

    func ownedBy(_ t: Term, _ op: @autoclosure () -> String) {
        precondition(t.context === self, "\(op()): term belongs to another Context")
    }

    func nextRuleName() -> String {
        ruleCounter += 1
        return "rule!\(ruleCounter)"
    }
}

@available(*, unavailable)
extension Context: Sendable {}

// MARK: - Sorts

extension Context {
    /// The Boolean sort.
    public var boolSort: Sort { sort(Z3_mk_bool_sort(raw), "boolSort") }

    /// The bit-vector sort of the given width (> 0).
    public func bvSort(_ width: Int) -> Sort {
        precondition(width > 0 && width <= Int(UInt32.max), "bvSort: invalid width \(width)")
        return sort(Z3_mk_bv_sort(raw, UInt32(width)), "bvSort(\(width))")
    }

    /// The array sort `domain -> range`.
    public func arraySort(domain: Sort, range: Sort) -> Sort {
        sort(Z3_mk_array_sort(raw, domain.raw, range.raw), "arraySort")
    }

    /// The array sort `BV(indexWidth) -> BV(valueWidth)`.
    public func arraySort(indexWidth: Int, valueWidth: Int) -> Sort {
        arraySort(domain: bvSort(indexWidth), range: bvSort(valueWidth))
    }
}

// MARK: - Constants and literals

extension Context {
    /// The Boolean literal `true` or `false`.
    public func bool(_ value: Bool) -> Term {
        term(value ? Z3_mk_true(raw) : Z3_mk_false(raw), "bool")
    }

    /// An uninterpreted constant of any sort.
    public func const(_ name: String, _ sort: Sort) -> Term {
        term(Z3_mk_const(raw, symbol(name), sort.raw), "const(\(name))")
    }

    /// A Boolean constant.
    public func boolConst(_ name: String) -> Term {
        const(name, boolSort)
    }

    /// A bit-vector literal. `value` is taken modulo 2^width.
    public func bv(_ value: UInt64, width: Int) -> Term {
        let s = bvSort(width)
        let v = width >= 64 ? value : value & ((UInt64(1) << UInt64(width)) - 1)
        return term(Z3_mk_unsigned_int64(raw, v, s.raw), "bv(\(value), width: \(width))")
    }

    /// A bit-vector constant.
    public func bvConst(_ name: String, width: Int) -> Term {
        const(name, bvSort(width))
    }

    /// An array constant `BV(indexWidth) -> BV(valueWidth)`.
    public func arrayConst(_ name: String, indexWidth: Int, valueWidth: Int) -> Term {
        const(name, arraySort(indexWidth: indexWidth, valueWidth: valueWidth))
    }

    /// The constant array `BV(indexWidth) -> sort(value)` mapping every index to `value`.
    public func constArray(indexWidth: Int, value: Term) -> Term {
        constArray(domain: bvSort(indexWidth), value: value)
    }

    /// The constant array `domain -> sort(value)` mapping every index to `value`.
    public func constArray(domain: Sort, value: Term) -> Term {
        ownedBy(value, "constArray")
        return term(Z3_mk_const_array(raw, domain.raw, value.raw), "constArray")
    }

    /// An uninterpreted function (or relation, when `range` is `boolSort`).
    public func function(_ name: String, domain: [Sort], range: Sort) -> FuncDecl {
        let ds: [OpaquePointer?] = domain.map { $0.raw }
        let p = ds.withUnsafeBufferPointer {
            Z3_mk_func_decl(raw, symbol(name), UInt32($0.count), $0.baseAddress, range.raw)
        }
        checkFatal("function(\(name))")
        guard let p else { preconditionFailure("Z3 returned no declaration for \(name)") }
        return withExtendedLifetime(domain) { FuncDecl(self, p) }
    }
}

// MARK: - Boolean operations

extension Context {
    public func not(_ a: Term) -> Term {
        ownedBy(a, "not")
        return term(Z3_mk_not(raw, a.raw), "not")
    }

    /// Conjunction; `and([])` is `true`.
    public func and(_ ts: [Term]) -> Term { nary(ts, "and", Z3_mk_and) }
    public func and(_ ts: Term...) -> Term { and(ts) }

    /// Disjunction; `or([])` is `false`.
    public func or(_ ts: [Term]) -> Term { nary(ts, "or", Z3_mk_or) }
    public func or(_ ts: Term...) -> Term { or(ts) }

    public func implies(_ a: Term, _ b: Term) -> Term { binary(a, b, "implies", Z3_mk_implies) }
    public func xor(_ a: Term, _ b: Term) -> Term { binary(a, b, "xor", Z3_mk_xor) }

    /// Equality of two terms of the same sort (for Booleans: "iff").
    public func eq(_ a: Term, _ b: Term) -> Term { binary(a, b, "eq", Z3_mk_eq) }

    /// Pairwise distinctness; needs at least one term.
    public func distinct(_ ts: [Term]) -> Term {
        precondition(!ts.isEmpty, "distinct: needs at least one term")
        return nary(ts, "distinct", Z3_mk_distinct)
    }
    public func distinct(_ ts: Term...) -> Term { distinct(ts) }

    /// If-then-else: `cond` is Boolean, `a` and `b` have the same sort.
    public func ite(_ cond: Term, _ a: Term, _ b: Term) -> Term {
        ownedBy(cond, "ite"); ownedBy(a, "ite"); ownedBy(b, "ite")
        return term(Z3_mk_ite(raw, cond.raw, a.raw, b.raw), "ite")
    }
}

// MARK: - Bit-vector operations

extension Context {
    public func bvadd(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvadd", Z3_mk_bvadd) }
    public func bvsub(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvsub", Z3_mk_bvsub) }
    public func bvmul(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvmul", Z3_mk_bvmul) }
    public func bvudiv(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvudiv", Z3_mk_bvudiv) }
    public func bvurem(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvurem", Z3_mk_bvurem) }
    public func bvsdiv(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvsdiv", Z3_mk_bvsdiv) }
    public func bvsrem(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvsrem", Z3_mk_bvsrem) }
    public func bvand(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvand", Z3_mk_bvand) }
    public func bvor(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvor", Z3_mk_bvor) }
    public func bvxor(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvxor", Z3_mk_bvxor) }
    public func bvshl(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvshl", Z3_mk_bvshl) }
    public func bvlshr(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvlshr", Z3_mk_bvlshr) }
    public func bvashr(_ a: Term, _ b: Term) -> Term { binary(a, b, "bvashr", Z3_mk_bvashr) }

    public func bvnot(_ a: Term) -> Term {
        ownedBy(a, "bvnot")
        return term(Z3_mk_bvnot(raw, a.raw), "bvnot")
    }

    public func bvneg(_ a: Term) -> Term {
        ownedBy(a, "bvneg")
        return term(Z3_mk_bvneg(raw, a.raw), "bvneg")
    }

    public func ult(_ a: Term, _ b: Term) -> Term { binary(a, b, "ult", Z3_mk_bvult) }
    public func ule(_ a: Term, _ b: Term) -> Term { binary(a, b, "ule", Z3_mk_bvule) }
    public func ugt(_ a: Term, _ b: Term) -> Term { binary(a, b, "ugt", Z3_mk_bvugt) }
    public func uge(_ a: Term, _ b: Term) -> Term { binary(a, b, "uge", Z3_mk_bvuge) }
    public func slt(_ a: Term, _ b: Term) -> Term { binary(a, b, "slt", Z3_mk_bvslt) }
    public func sle(_ a: Term, _ b: Term) -> Term { binary(a, b, "sle", Z3_mk_bvsle) }
    public func sgt(_ a: Term, _ b: Term) -> Term { binary(a, b, "sgt", Z3_mk_bvsgt) }
    public func sge(_ a: Term, _ b: Term) -> Term { binary(a, b, "sge", Z3_mk_bvsge) }

    /// Bits `hi` down to `lo` (inclusive) of `t`; the result has width `hi - lo + 1`.
    public func extract(_ hi: Int, _ lo: Int, _ t: Term) -> Term {
        ownedBy(t, "extract")
        precondition(hi >= lo && lo >= 0, "extract: invalid range [\(hi):\(lo)]")
        return term(Z3_mk_extract(raw, UInt32(hi), UInt32(lo), t.raw), "extract(\(hi), \(lo))")
    }

    /// `t` widened by `by` zero bits.
    public func zeroExtend(_ by: Int, _ t: Term) -> Term {
        ownedBy(t, "zeroExtend")
        precondition(by >= 0, "zeroExtend: negative amount")
        return term(Z3_mk_zero_ext(raw, UInt32(by), t.raw), "zeroExtend(\(by))")
    }

    /// `t` widened by `by` copies of its sign bit.
    public func signExtend(_ by: Int, _ t: Term) -> Term {
        ownedBy(t, "signExtend")
        precondition(by >= 0, "signExtend: negative amount")
        return term(Z3_mk_sign_ext(raw, UInt32(by), t.raw), "signExtend(\(by))")
    }

    /// `a` as the high bits, `b` as the low bits.
    public func concat(_ a: Term, _ b: Term) -> Term { binary(a, b, "concat", Z3_mk_concat) }
}

// MARK: - Arrays, quantifiers, simplification

extension Context {
    /// `array[index]`.
    public func select(_ array: Term, _ index: Term) -> Term {
        binary(array, index, "select", Z3_mk_select)
    }

    /// `array` with `index` updated to `value`.
    public func store(_ array: Term, _ index: Term, _ value: Term) -> Term {
        ownedBy(array, "store"); ownedBy(index, "store"); ownedBy(value, "store")
        return term(Z3_mk_store(raw, array.raw, index.raw, value.raw), "store")
    }

    /// `∀ bound. body`; `bound` must be constants (from `const`, `bvConst`, ...).
    /// With no bound variables the result is `body` itself.
    public func forall(bound: [Term], _ body: Term) -> Term {
        quantifier(bound, body, "forall", Z3_mk_forall_const)
    }

    /// `∃ bound. body`; `bound` must be constants.
    /// With no bound variables the result is `body` itself.
    public func exists(bound: [Term], _ body: Term) -> Term {
        quantifier(bound, body, "exists", Z3_mk_exists_const)
    }

    /// The array `λ x. body(x)` over `domain`. `x` is a de Bruijn variable (`Z3_mk_bound`),
    /// so wrapping `body` in the binder does not walk it: a body that captures large
    /// closed terms costs no more than a small one (`Z3_mk_lambda_const` abstracts its
    /// constant through the whole term, which took minutes on nested updates).
    public func lambda(over domain: Sort, named name: String, _ body: (Term) -> Term) -> Term {
        let x = term(Z3_mk_bound(raw, 0, domain.raw), "bound variable")
        let b = body(x)
        ownedBy(b, "lambda")
        var sorts: [Z3_sort?] = [domain.raw]
        var names: [Z3_symbol?] = [symbol(name)]
        let p = Z3_mk_lambda(raw, 1, &sorts, &names, b.raw)
        return withExtendedLifetime((x, b, domain)) { term(p, "lambda") }
    }

    /// Z3's rewriter applied to `t` (e.g. folds constant arithmetic).
    /// If the rewriter is interrupted (the context's cancellation token fired),
    /// `t` itself is returned: it is equivalent, just not simplified.
    public func simplify(_ t: Term) -> Term {
        ownedBy(t, "simplify")
        let p = Z3_simplify(raw, t.raw)
        if let e = takeError() {
            if e.isResourceOut { return t }
            preconditionFailure("Z3 error in simplify: \(e.message) (code \(e.code))")
        }
        return term(p, "simplify")
    }
}

// MARK: - helpers

extension Context {
    private func binary(
        _ a: Term, _ b: Term, _ name: String,
        _ f: (Z3_context?, Z3_ast?, Z3_ast?) -> Z3_ast?
    ) -> Term {
        ownedBy(a, name); ownedBy(b, name)
        return term(f(raw, a.raw, b.raw), name)
    }

    private func nary(
        _ ts: [Term], _ name: String,
        _ f: (Z3_context?, UInt32, UnsafePointer<Z3_ast?>?) -> Z3_ast?
    ) -> Term {
        for t in ts { ownedBy(t, name) }
        let raws: [Z3_ast?] = ts.map { $0.raw }
        let p = raws.withUnsafeBufferPointer { f(raw, UInt32($0.count), $0.baseAddress) }
        return withExtendedLifetime(ts) { term(p, name) }
    }

    private func quantifier(
        _ bound: [Term], _ body: Term, _ name: String,
        _ f: (Z3_context?, UInt32, UInt32, UnsafePointer<Z3_app?>?, UInt32,
              UnsafePointer<Z3_pattern?>?, Z3_ast?) -> Z3_ast?
    ) -> Term {
        ownedBy(body, name)
        if bound.isEmpty { return body }
        var apps: [Z3_app?] = []
        apps.reserveCapacity(bound.count)
        for v in bound {
            ownedBy(v, name)
            precondition(Z3_is_app(raw, v.raw), "\(name): bound variable \(v) is not a constant")
            apps.append(Z3_to_app(raw, v.raw))
        }
        checkFatal(name)
        let p = apps.withUnsafeBufferPointer {
            f(raw, 0, UInt32($0.count), $0.baseAddress, 0, nil, body.raw)
        }
        return withExtendedLifetime(bound) { term(p, name) }
    }
}
