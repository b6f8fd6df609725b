import RMISpec

/// An RMM under test, as the conformance engine drives it: Host writes to NS memory, RMI
/// calls with the Realm's behaviour during REC_ENTER, environment events, and a reset to the
/// initial state between traces.
public protocol RMMUnderTest {
    /// A short name for reports ("builtin", the adapter command).
    var name: String { get }
    /// The platform the implementation announced; traces use only its addresses.
    var platform: Platform { get }

    /// Back to the initial state: every Granule UNDELEGATED, no Realm.
    mutating func reset() throws
    mutating func write(_ w: HostWrite) throws
    mutating func setGPT(_ addr: UInt64, _ gpt: GPT) throws
    mutating func call(_ cmd: RMICommand, _ args: [UInt64], realm: RealmActionValue?) throws -> ImplResult
    /// Ends a REC_ENTER that left `rec` running; the result is that REC_ENTER's.
    mutating func recExit(rec: UInt64, realm: RealmActionValue) throws -> ImplResult
    /// The implementation's state mapped to the spec's abstract state, for implementations
    /// whose state can be inspected (nil for a black box). `ns` is the NS memory the Host
    /// wrote, which is not RMM state.
    func abstractState() -> SpecState?
}

/// What an RMI call returned: X0..X4, and for REC_ENTER the exit record fields.
public struct ImplResult: Hashable, Sendable, CustomStringConvertible {
    public var x: [UInt64]
    public var exit: ExitValues
    public init(x: [UInt64], exit: ExitValues = [:]) {
        self.x = x.count >= 5 ? x : x + Array(repeating: 0, count: 5 - x.count); self.exit = exit
    }
    public var status: Status? { Status(rawValue: x[0] & 0xFF) }
    public var index: UInt64 { (x[0] >> 8) & 0xFF }
    public var description: String {
        guard let s = status, x[0] >> 16 == 0 else { return "X0 = \(hex(x[0])) (not an RMI return code)" }
        return s.specName + (s == .success ? "" : ",\(Int8(bitPattern: UInt8(index)))")
    }
}

/// An implementation that misbehaved: never a pass.
public struct ImplError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable { case crashed, timedOut = "timed out", malformedReply = "malformed reply", refused }
    public var kind: Kind
    public var detail: String
    public init(_ kind: Kind, _ detail: String) { self.kind = kind; self.detail = detail }
    public var description: String { "implementation \(kind.rawValue): \(detail)" }
}

/// The exit record fields the conformance check compares after a REC_ENTER: the ones whose
/// meaning the spec fixes for the exits it models (reason, the Realm's call and its
/// arguments, the RIPAS request, the host call immediate). ESR/FAR/HPFAR encodings and the
/// GIC and timer state are architecture detail the spec face does not model.
public let comparedExitFields: [String] = ["exit_reason", "ripas_base", "ripas_top", "ripas_value", "imm"]
    + (0..<4).map { "gprs\($0)" }

/// `comparedExitFields` with their offsets in RmiRecRun.
let comparedExitOffsets: [(name: String, offset: UInt64)] = comparedExitFields.map { ($0, ExitRecord.offset(of: $0)!) }
