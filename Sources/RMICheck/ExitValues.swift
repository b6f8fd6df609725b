import RMISpec

/// The REC exit record fields an implementation reported (`ImplResult.exit`), by name as
/// `ExitRecord.offset(of:)` names them (`exit_reason`, `gprs0`, ...).
///
/// Fields under their own names are kept by offset, so an adapter in process fills them
/// and the conformance check reads them with no string hashing; any other name (one that
/// `ExitRecord.offset(of:)` also accepts, such as `gprs01`) is kept apart under that name,
/// as a `[String: UInt64]` would keep it.
public struct ExitValues: Hashable, Sendable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    var byOffset = AddrMap<UInt64>()
    var others: [String: UInt64] = [:]

    public init() {}
    public init(dictionaryLiteral elements: (String, UInt64)...) {
        for (k, v) in elements { self[k] = v }
    }

    /// Every field's own name, with its offset in RmiRecRun.
    static let offsets: [String: UInt64] = {
        var t: [String: UInt64] = [:]
        for name in ["exit_reason", "esr", "far", "hpfar", "ripas_base", "ripas_top", "ripas_value", "imm"]
            + (0..<31).map({ "gprs\($0)" }) {
            t[name] = ExitRecord.offset(of: name)!
        }
        return t
    }()

    public subscript(name: String) -> UInt64? {
        get {
            if let o = ExitValues.offsets[name] { return byOffset[o] }
            return others[name]
        }
        set {
            if let o = ExitValues.offsets[name] { byOffset[o] = newValue } else { others[name] = newValue }
        }
    }

    /// The field at `offset` in RmiRecRun.
    public subscript(offset offset: UInt64) -> UInt64? {
        get { byOffset[offset] }
        set { byOffset[offset] = newValue }
    }

    public var isEmpty: Bool { byOffset.isEmpty && others.isEmpty }

    /// Every field, by name.
    public var fields: [String: UInt64] {
        var d = others
        for (name, o) in ExitValues.offsets { if let v = byOffset[o] { d[name] = v } }
        return d
    }

    public var description: String {
        "[" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "]"
    }
}
