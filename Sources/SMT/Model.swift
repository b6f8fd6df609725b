internal import CZ3

/// A model (satisfying assignment) returned by `Solver.model()`.
///
/// Values are read by evaluation with model completion, so unconstrained
/// constants get an arbitrary but fixed value. For arrays only the indices
/// the constraints talk about are meaningful (the default value is arbitrary).
public final class Model: CustomStringConvertible {
    public let context: Context
    let raw: OpaquePointer

    init(_ context: Context, _ raw: OpaquePointer) {
        self.context = context
        self.raw = raw
        Z3_model_inc_ref(context.raw, raw)
    }

    deinit {
        Z3_model_dec_ref(context.raw, raw)
    }

    /// Evaluates `t` in this model. With `completion`, constants the model
    /// does not mention get a default value, so the result is a literal for
    /// quantifier-free terms.
    public func eval(_ t: Term, completion: Bool = true) throws -> Term {
        context.ownedBy(t, "eval")
        var out: Z3_ast? = nil
        let ok = Z3_model_eval(context.raw, raw, t.raw, completion, &out)
        try context.check()
        guard ok, let out else { throw Z3Error.wrapper("model evaluation of \(t) failed") }
        return Term(context, out)
    }

    /// The value of a bit-vector term of width ≤ 64.
    public func bvValue(_ t: Term) throws -> UInt64 {
        guard let w = t.width else { throw Z3Error.wrapper("bvValue: \(t) is not a bit-vector") }
        guard w <= 64 else { throw Z3Error.wrapper("bvValue: width \(w) > 64") }
        let v = try eval(t, completion: true)
        guard Z3_is_numeral_ast(context.raw, v.raw) else {
            _ = context.takeError()
            throw Z3Error.wrapper("bvValue: \(t) evaluates to \(v), not a numeral")
        }
        var out: UInt64 = 0
        let ok = Z3_get_numeral_uint64(context.raw, v.raw, &out)
        try context.check()
        guard ok else { throw Z3Error.wrapper("bvValue: \(v) does not fit in 64 bits") }
        return out
    }

    /// The value of a Boolean term.
    public func boolValue(_ t: Term) throws -> Bool {
        guard t.isBool else { throw Z3Error.wrapper("boolValue: \(t) is not Boolean") }
        let v = try eval(t, completion: true)
        let b = Z3_get_bool_value(context.raw, v.raw)
        try context.check()
        switch b {
        case Z3_L_TRUE: return true
        case Z3_L_FALSE: return false
        default: throw Z3Error.wrapper("boolValue: \(t) evaluates to \(v), not true/false")
        }
    }

    /// The value `array[index]` (bit-vector values of width ≤ 64), read by
    /// evaluating `select(array, index)`.
    public func arrayValue(_ array: Term, at index: Term) throws -> UInt64 {
        guard array.isArray else { throw Z3Error.wrapper("arrayValue: \(array) is not an array") }
        return try bvValue(context.select(array, index))
    }

    /// `arrayValue` with a literal index of the array's bit-vector index width.
    public func arrayValue(_ array: Term, at index: UInt64) throws -> UInt64 {
        guard let w = array.sort.arrayDomain?.bvWidth else {
            throw Z3Error.wrapper("arrayValue: \(array) is not an array with bit-vector indices")
        }
        return try arrayValue(array, at: context.bv(index, width: w))
    }

    /// Z3's text rendering of the model.
    public var description: String {
        guard let s = Z3_model_to_string(context.raw, raw) else {
            _ = context.takeError()
            return "<model>"
        }
        return String(cString: s)
    }
}

@available(*, unavailable)
extension Model: Sendable {}
