internal import CZ3

/// An error reported by Z3 (or detected by this wrapper while talking to Z3).
///
/// Error-handling policy of the `SMT` target:
///
/// * Every `Context` installs a silent error handler, so Z3's default handler
///   (which prints and calls `exit(1)`) is never reached. After each Z3 call
///   the wrapper polls the context's error code and clears it.
/// * **Term, sort and declaration constructors do not throw.** A Z3 error while
///   building a term (for example a sort mismatch such as `bvadd` of a Bool) is
///   a bug in the caller's encoder; it stops the program with
///   `preconditionFailure` carrying Z3's message.
/// * **Solver, Model and Fixedpoint operations throw `Z3Error`.** After a
///   thrown error the context, its terms and its solvers remain usable.
/// * Initializers of `Solver` / `Fixedpoint` and read-only accessors that
///   cannot fail on valid objects (`description`, `reasonUnknown`,
///   `statistics`) do not throw either.
public struct Z3Error: Error, CustomStringConvertible, Equatable, Sendable {
    /// The raw `Z3_error_code` value (1 = sort error, 3 = invalid argument,
    /// 12 = exception, ...), or `Z3Error.wrapperCode` for errors the wrapper
    /// detects itself (e.g. a model value that is not a numeral).
    public let code: Int
    /// Z3's error message (or the wrapper's explanation).
    public let message: String

    /// The `code` used for errors detected by the wrapper rather than by Z3.
    public static let wrapperCode = -1

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "Z3Error(\(code)): \(message)"
    }

    /// True if the message looks like Z3 giving up because of an interrupt,
    /// a timeout or a resource limit (these become `.unknown` results).
    var isResourceOut: Bool {
        let m = message.lowercased()
        return m.contains("cancel") || m.contains("interrupt") || m.contains("timeout")
            || m.contains("resource limit") || m.contains("max. resource") || m.contains("memory")
    }

    /// True when Z3 went past its memory limit (`setZ3MemoryLimit`).
    public var isOutOfMemory: Bool {
        code == Int(Z3_MEMOUT_FAIL.rawValue) || message.lowercased().contains("out of memory")
    }

    static func wrapper(_ message: String) -> Z3Error {
        Z3Error(code: wrapperCode, message: message)
    }
}

/// The outcome of a satisfiability check or a fixedpoint query.
public enum CheckResult: Equatable, Sendable, CustomStringConvertible {
    case sat
    case unsat
    /// Z3 gave up; `reason` is Z3's explanation (timeout, "canceled",
    /// "max. resource limit exceeded", "canceled (before start)", ...).
    case unknown(reason: String)

    public var description: String {
        switch self {
        case .sat: return "sat"
        case .unsat: return "unsat"
        case .unknown(let reason): return "unknown (\(reason))"
        }
    }

    /// True for `.unknown`.
    public var isUnknown: Bool {
        if case .unknown = self { return true }
        return false
    }
}

/// A value for a solver or fixedpoint parameter (`Solver.setParam`,
/// `Fixedpoint.setParam`). Literals work directly:
/// `try s.setParam("timeout", 100)`, `try fp.setParam("engine", "spacer")`.
public enum ParamValue: Sendable, Equatable,
    ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral
{
    case bool(Bool)
    case uint(UInt32)
    case double(Double)
    /// A symbol-valued parameter such as `engine = spacer`.
    case symbol(String)

    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: UInt32) { self = .uint(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .symbol(value) }
}
