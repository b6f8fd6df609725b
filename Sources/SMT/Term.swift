internal import CZ3

/// A Z3 term (expression) of any sort: Bool, bit-vector, array, ...
///
/// Terms are hash-consed by Z3, so `Equatable`/`Hashable` are *structural
/// identity* (same term in the same context) and return a Swift `Bool`.
/// To build the logical equation use `context.eq(a, b)`.
///
/// Operators are provided where they are unambiguous: `!`, `&&`, `||` for
/// Booleans; `+ - * & | ~ <<` and unary `-` for bit-vectors (both operands
/// of the same width; a `UInt64` operand is converted to the other operand's
/// width); `^` is `xor` for Booleans and `bvxor` for bit-vectors. There are
/// no comparison operators (signed vs. unsigned would be ambiguous): use
/// `ult`, `sle`, ... on the `Context`.
public final class Term: CustomStringConvertible, Hashable {
    /// The context that owns this term.
    public let context: Context
    let raw: OpaquePointer

    init(_ context: Context, _ raw: OpaquePointer) {
        self.context = context
        self.raw = raw
        Z3_inc_ref(context.raw, raw)
        context.releaseDropped()
    }

    deinit {
        context.dropped.append(raw)
    }

    /// Z3's id of the term: unique among the context's live terms; Z3 gives the id of a
    /// freed term to a later one.
    public var id: UInt32 { Z3_get_ast_id(context.raw, raw) }

    /// The sort of this term.
    public var sort: Sort {
        context.sort(Z3_get_sort(context.raw, raw), "Term.sort")
    }

    /// The width if this is a bit-vector term, otherwise nil.
    public var width: Int? { sort.bvWidth }

    /// True if this is a Boolean term.
    public var isBool: Bool { sort.isBool }

    /// True if this is an array term.
    public var isArray: Bool { sort.isArray }

    /// SMT-LIB-like text of the term.
    public var description: String {
        guard let s = Z3_ast_to_string(context.raw, raw) else { return "<term>" }
        let str = String(cString: s)
        _ = context.takeError()
        return str
    }

    public static func == (lhs: Term, rhs: Term) -> Bool {
        lhs.context === rhs.context && lhs.raw == rhs.raw
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(raw)
    }
}

@available(*, unavailable)
extension Term: Sendable {}

/// A Z3 sort (Bool, bit-vector of some width, array, ...).
public final class Sort: CustomStringConvertible, Hashable {
    public let context: Context
    let raw: OpaquePointer

    init(_ context: Context, _ raw: OpaquePointer) {
        self.context = context
        self.raw = raw
        Z3_inc_ref(context.raw, Z3_sort_to_ast(context.raw, raw))
        context.releaseDropped()
    }

    deinit {
        context.dropped.append(Z3_sort_to_ast(context.raw, raw))
    }

    private var kind: Z3_sort_kind { Z3_get_sort_kind(context.raw, raw) }

    public var isBool: Bool { kind == Z3_BOOL_SORT }
    public var isArray: Bool { kind == Z3_ARRAY_SORT }

    /// The width of a bit-vector sort, nil for other sorts.
    public var bvWidth: Int? {
        guard kind == Z3_BV_SORT else { return nil }
        return Int(Z3_get_bv_sort_size(context.raw, raw))
    }

    /// The index sort of an array sort, nil for other sorts.
    public var arrayDomain: Sort? {
        guard isArray else { return nil }
        return context.sort(Z3_get_array_sort_domain(context.raw, raw), "arrayDomain")
    }

    /// The value sort of an array sort, nil for other sorts.
    public var arrayRange: Sort? {
        guard isArray else { return nil }
        return context.sort(Z3_get_array_sort_range(context.raw, raw), "arrayRange")
    }

    public var description: String {
        guard let s = Z3_sort_to_string(context.raw, raw) else { return "<sort>" }
        return String(cString: s)
    }

    public static func == (lhs: Sort, rhs: Sort) -> Bool {
        lhs.context === rhs.context && lhs.raw == rhs.raw
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(raw)
    }
}

@available(*, unavailable)
extension Sort: Sendable {}

/// A function or relation declaration, made with `Context.function`.
public final class FuncDecl: CustomStringConvertible, Hashable {
    public let context: Context
    let raw: OpaquePointer

    init(_ context: Context, _ raw: OpaquePointer) {
        self.context = context
        self.raw = raw
        Z3_inc_ref(context.raw, Z3_func_decl_to_ast(context.raw, raw))
        context.releaseDropped()
    }

    deinit {
        context.dropped.append(Z3_func_decl_to_ast(context.raw, raw))
    }

    /// The application `self(args...)`. A sort or arity mismatch is a
    /// programming error (`preconditionFailure`).
    public func apply(_ args: [Term]) -> Term {
        for a in args { context.ownedBy(a, "apply") }
        let raws: [Z3_ast?] = args.map { $0.raw }
        let p = raws.withUnsafeBufferPointer {
            Z3_mk_app(context.raw, raw, UInt32($0.count), $0.baseAddress)
        }
        return withExtendedLifetime(args) { context.term(p, "apply(\(self))") }
    }

    /// Same as `apply`: `inv(x, y)`.
    public func callAsFunction(_ args: Term...) -> Term { apply(args) }

    public var description: String {
        guard let s = Z3_func_decl_to_string(context.raw, raw) else { return "<decl>" }
        return String(cString: s)
    }

    public static func == (lhs: FuncDecl, rhs: FuncDecl) -> Bool {
        lhs.context === rhs.context && lhs.raw == rhs.raw
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(raw)
    }
}

@available(*, unavailable)
extension FuncDecl: Sendable {}

// MARK: - Operators

extension Term {
    public static prefix func ! (a: Term) -> Term { a.context.not(a) }
    public static func && (lhs: Term, rhs: Term) -> Term { lhs.context.and([lhs, rhs]) }
    public static func || (lhs: Term, rhs: Term) -> Term { lhs.context.or([lhs, rhs]) }

    /// `xor` for Booleans, `bvxor` for bit-vectors.
    public static func ^ (lhs: Term, rhs: Term) -> Term {
        lhs.isBool ? lhs.context.xor(lhs, rhs) : lhs.context.bvxor(lhs, rhs)
    }

    public static func + (lhs: Term, rhs: Term) -> Term { lhs.context.bvadd(lhs, rhs) }
    public static func - (lhs: Term, rhs: Term) -> Term { lhs.context.bvsub(lhs, rhs) }
    public static func * (lhs: Term, rhs: Term) -> Term { lhs.context.bvmul(lhs, rhs) }
    public static func & (lhs: Term, rhs: Term) -> Term { lhs.context.bvand(lhs, rhs) }
    public static func | (lhs: Term, rhs: Term) -> Term { lhs.context.bvor(lhs, rhs) }
    public static func << (lhs: Term, rhs: Term) -> Term { lhs.context.bvshl(lhs, rhs) }
    public static prefix func ~ (a: Term) -> Term { a.context.bvnot(a) }
    public static prefix func - (a: Term) -> Term { a.context.bvneg(a) }

    public static func + (lhs: Term, rhs: UInt64) -> Term { lhs + lhs.literal(rhs) }
    public static func - (lhs: Term, rhs: UInt64) -> Term { lhs - lhs.literal(rhs) }
    public static func * (lhs: Term, rhs: UInt64) -> Term { lhs * lhs.literal(rhs) }
    public static func & (lhs: Term, rhs: UInt64) -> Term { lhs & lhs.literal(rhs) }
    public static func | (lhs: Term, rhs: UInt64) -> Term { lhs | lhs.literal(rhs) }
    public static func ^ (lhs: Term, rhs: UInt64) -> Term { lhs ^ lhs.literal(rhs) }

    /// A literal of this bit-vector term's width.
    private func literal(_ v: UInt64) -> Term {
        guard let w = width else { preconditionFailure("bit-vector operator applied to non-bit-vector term \(self)") }
        return context.bv(v, width: w)
    }
}

extension Term {
    /// The number of distinct subterms (the term's DAG size, itself included): what the
    /// solver has to bit-blast. Diagnostics only; linear in the result.
    public var dagSize: Int { operatorCounts.values.reduce(0, +) }

    /// The distinct subterms counted by operator name (`bvmul`, `ite`, a constant's name
    /// for constants...): where a term's size goes. Diagnostics only.
    public var operatorCounts: [String: Int] {
        let c = context.raw
        var seen = Set<UInt32>()
        var counts: [String: Int] = [:]
        var stack: [OpaquePointer] = [raw]
        while let a = stack.popLast() {
            guard seen.insert(Z3_get_ast_id(c, a)).inserted else { continue }
            if Z3_get_ast_kind(c, a) == Z3_QUANTIFIER_AST, let body = Z3_get_quantifier_body(c, a) {
                counts["quantifier", default: 0] += 1
                stack.append(body)
                continue
            }
            guard Z3_get_ast_kind(c, a) == Z3_APP_AST, let app = Z3_to_app(c, a) else {
                counts["numeral/other", default: 0] += 1
                continue
            }
            let n = Z3_get_app_num_args(c, app)
            let name = n == 0 ? "constant" : (Z3_get_symbol_string(c, Z3_get_decl_name(c, Z3_get_app_decl(c, app))).map { String(cString: $0) } ?? "?")
            counts[name, default: 0] += 1
            for i in 0..<n { stack.append(Z3_get_app_arg(c, app, i)) }
        }
        return counts
    }
}

extension Term {
    /// The operands of nested conjunctions (`and` flattened), or the term itself when it is
    /// no conjunction.
    public var conjuncts: [Term] {
        let c = context.raw
        var out: [Term] = []
        var stack: [OpaquePointer] = [raw]
        while let a = stack.popLast() {
            if Z3_get_ast_kind(c, a) == Z3_APP_AST, let app = Z3_to_app(c, a),
               Z3_get_decl_kind(c, Z3_get_app_decl(c, app)) == Z3_OP_AND {
                let n = Z3_get_app_num_args(c, app)
                for i in (0..<n).reversed() { stack.append(Z3_get_app_arg(c, app, i)) }
            } else {
                out.append(Term(context, a))
            }
        }
        return out
    }
}

extension Term {
    /// The uninterpreted constants the term contains (0-ary applications of declared
    /// symbols: `bvConst`, `boolConst`...), each once, in order of first visit. The bound
    /// variables of a Horn rule are these.
    public var freeConstants: [Term] {
        let c = context.raw
        var seen = Set<UInt32>()
        var out: [Term] = []
        var stack: [OpaquePointer] = [raw]
        while let a = stack.popLast() {
            guard seen.insert(Z3_get_ast_id(c, a)).inserted else { continue }
            guard Z3_get_ast_kind(c, a) == Z3_APP_AST, let app = Z3_to_app(c, a) else { continue }
            let n = Z3_get_app_num_args(c, app)
            if n == 0 {
                if Z3_get_decl_kind(c, Z3_get_app_decl(c, app)) == Z3_OP_UNINTERPRETED { out.append(Term(context, a)) }
                continue
            }
            for i in (0..<n).reversed() { stack.append(Z3_get_app_arg(c, app, i)) }
        }
        return out
    }
}

extension Term {
    /// Whether `decl` is applied anywhere in the term.
    public func mentions(_ decl: FuncDecl) -> Bool {
        let c = context.raw
        var seen = Set<UInt32>()
        var stack: [OpaquePointer] = [raw]
        while let a = stack.popLast() {
            guard seen.insert(Z3_get_ast_id(c, a)).inserted else { continue }
            switch Z3_get_ast_kind(c, a) {
            case Z3_QUANTIFIER_AST:
                if let b = Z3_get_quantifier_body(c, a) { stack.append(b) }
            case Z3_APP_AST:
                guard let app = Z3_to_app(c, a) else { continue }
                if Z3_is_eq_func_decl(c, Z3_get_app_decl(c, app), decl.raw) { return true }
                for i in 0..<Z3_get_app_num_args(c, app) { stack.append(Z3_get_app_arg(c, app, i)) }
            default:
                continue
            }
        }
        return false
    }
}
