/// The 23 commands of RMI v1.0 (B4.3), with their function IDs and register interface.
public enum RMICommand: String, CaseIterable, Sendable, Codable {
    case version = "RMI_VERSION"
    case granuleDelegate = "RMI_GRANULE_DELEGATE"
    case granuleUndelegate = "RMI_GRANULE_UNDELEGATE"
    case dataCreate = "RMI_DATA_CREATE"
    case dataCreateUnknown = "RMI_DATA_CREATE_UNKNOWN"
    case dataDestroy = "RMI_DATA_DESTROY"
    case realmActivate = "RMI_REALM_ACTIVATE"
    case realmCreate = "RMI_REALM_CREATE"
    case realmDestroy = "RMI_REALM_DESTROY"
    case recCreate = "RMI_REC_CREATE"
    case recDestroy = "RMI_REC_DESTROY"
    case recEnter = "RMI_REC_ENTER"
    case rttCreate = "RMI_RTT_CREATE"
    case rttDestroy = "RMI_RTT_DESTROY"
    case rttMapUnprotected = "RMI_RTT_MAP_UNPROTECTED"
    case rttReadEntry = "RMI_RTT_READ_ENTRY"
    case rttUnmapUnprotected = "RMI_RTT_UNMAP_UNPROTECTED"
    case psciComplete = "RMI_PSCI_COMPLETE"
    case features = "RMI_FEATURES"
    case rttFold = "RMI_RTT_FOLD"
    case recAuxCount = "RMI_REC_AUX_COUNT"
    case rttInitRipas = "RMI_RTT_INIT_RIPAS"
    case rttSetRipas = "RMI_RTT_SET_RIPAS"

    /// SMC64 function ID: `0xC4000000 | (0x150 + offset)`.
    public var fid: UInt64 {
        let offset: UInt64 = switch self {
        case .version: 0x00
        case .granuleDelegate: 0x01
        case .granuleUndelegate: 0x02
        case .dataCreate: 0x03
        case .dataCreateUnknown: 0x04
        case .dataDestroy: 0x05
        case .realmActivate: 0x07
        case .realmCreate: 0x08
        case .realmDestroy: 0x09
        case .recCreate: 0x0A
        case .recDestroy: 0x0B
        case .recEnter: 0x0C
        case .rttCreate: 0x0D
        case .rttDestroy: 0x0E
        case .rttMapUnprotected: 0x0F
        case .rttReadEntry: 0x11
        case .rttUnmapUnprotected: 0x12
        case .psciComplete: 0x14
        case .features: 0x15
        case .rttFold: 0x16
        case .recAuxCount: 0x17
        case .rttInitRipas: 0x18
        case .rttSetRipas: 0x19
        }
        return 0xC400_0150 + offset
    }

    public init?(fid: UInt64) {
        guard let c = RMICommand.allCases.first(where: { $0.fid == fid }) else { return nil }
        self = c
    }

    /// Accepts the spec name (`RMI_DATA_CREATE`), the name without prefix
    /// (`DATA_CREATE`, case-insensitive) or a function ID in hex.
    public init?(name: String) {
        let upper = name.uppercased()
        if let c = RMICommand(rawValue: upper) ?? RMICommand(rawValue: "RMI_" + upper) {
            self = c
        } else if upper.hasPrefix("0X"), let v = UInt64(upper.dropFirst(2), radix: 16), let c = RMICommand(fid: v) {
            self = c
        } else {
            return nil
        }
    }

    /// Input registers X1.. by the spec's names.
    public var inputs: [String] {
        switch self {
        case .version: ["req"]
        case .features: ["index"]
        case .granuleDelegate, .granuleUndelegate: ["addr"]
        case .dataCreate: ["rd", "data", "ipa", "src", "flags"]
        case .dataCreateUnknown: ["rd", "data", "ipa"]
        case .dataDestroy: ["rd", "ipa"]
        case .realmActivate, .realmDestroy, .recAuxCount: ["rd"]
        case .realmCreate: ["rd", "params_ptr"]
        case .recCreate: ["rd", "rec", "params_ptr"]
        case .recDestroy: ["rec_ptr"]
        case .recEnter: ["rec", "run_ptr"]
        case .rttCreate: ["rd", "rtt", "ipa", "level"]
        case .rttDestroy, .rttFold, .rttReadEntry, .rttUnmapUnprotected: ["rd", "ipa", "level"]
        case .rttMapUnprotected: ["rd", "ipa", "level", "desc"]
        case .rttInitRipas: ["rd", "base", "top"]
        case .rttSetRipas: ["rd", "rec_ptr", "base", "top"]
        case .psciComplete: ["calling_rec", "target_rec", "status"]
        }
    }

    /// Output registers X1.. by the spec's names.
    public var outputs: [String] {
        switch self {
        case .version: ["lower", "higher"]
        case .features: ["value"]
        case .dataDestroy: ["data", "top"]
        case .rttDestroy: ["rtt", "top"]
        case .rttFold: ["rtt"]
        case .rttReadEntry: ["walk_level", "state", "desc", "ripas"]
        case .rttUnmapUnprotected: ["top"]
        case .recAuxCount: ["aux_count"]
        case .rttInitRipas, .rttSetRipas: ["out_top"]
        default: []
        }
    }

    /// The command's ordering constraints (B1.6): each pair says that a failure of any
    /// condition on the left takes priority over every condition on the right.
    public var ordering: [(before: [String], after: [String])] {
        switch self {
        case .version, .features, .granuleDelegate, .granuleUndelegate, .realmCreate, .rttReadEntry, .psciComplete:
            []
        case .dataCreate:
            [(["rd_bound", "rd_state"], ["realm_state"]),
             (["rd_bound", "rd_state"], ["rtt_walk", "rtte_state"]),
             (["ipa_bound"], ["rtt_walk", "rtte_state"])]
        case .dataCreateUnknown, .dataDestroy:
            [(["rd_bound", "rd_state"], ["rtt_walk", "rtte_state"]),
             (["ipa_bound"], ["rtt_walk", "rtte_state"])]
        case .realmActivate:
            [(["rd_bound", "rd_state"], ["realm_state"])]
        case .realmDestroy:
            [(["rd_bound", "rd_state"], ["realm_live"])]
        case .recAuxCount:
            []
        case .recCreate:
            [(["rd_bound", "rd_state"], ["realm_state", "num_recs"])]
        case .recDestroy:
            [(["rec_bound", "rec_gran_state"], ["rec_state"])]
        case .recEnter:
            [(["rec_align", "rec_bound", "rec_gran_state", "run_pas", "run_bound", "run_align"],
              ["rec_state", "rec_runnable", "rec_mmio", "realm_new", "system_off", "rec_gicv3", "rec_psci"])]
        case .rttCreate, .rttMapUnprotected, .rttUnmapUnprotected:
            [(["rd_bound", "rd_state"], ["rtt_walk", "rtte_state"]),
             (["level_bound", "ipa_bound"], ["rtt_walk", "rtte_state"])]
        case .rttDestroy:
            [(["rd_bound", "rd_state"], ["rtt_walk", "rtte_state", "rtt_live"]),
             (["level_bound", "ipa_bound"], ["rtt_walk", "rtte_state"])]
        case .rttFold:
            [(["rd_bound", "rd_state"], ["rtt_walk", "rtte_state", "rtt_homo"]),
             (["level_bound", "ipa_bound"], ["rtt_walk", "rtte_state"])]
        case .rttInitRipas:
            [(["rd_bound", "rd_state"], ["realm_state"]),
             (["rd_bound", "rd_state"], ["base_align", "rtte_state"]),
             (["rd_bound", "rd_state"], ["no_progress"]),
             (["top_gran_align"], ["no_progress"])]
        case .rttSetRipas:
            [(["rd_bound", "rd_state"], ["base_align"]),
             (["rd_bound", "rd_state"], ["no_progress"]),
             (["rec_bound", "rec_gran_state"], ["rec_state", "rec_owner"]),
             (["base_bound"], ["base_align"]),
             (["top_gran_align"], ["no_progress"])]
        }
    }
}

/// One failure condition of a command, evaluated: its label, the result it gives, and
/// whether it holds in the pre-state.
///
/// Concretely a condition holds no reference and takes 64 bytes: its label, suffix and file
/// are kept as the addresses and lengths of their literals (static text), its outputs
/// inline with a count. The arrays of conditions every command builds are then copied and
/// freed without reference counting, and a command's whole list (at most 15 of them, all
/// but RMI_REC_CREATE) fits in one of the allocator's small blocks.
public struct Condition<D: Domain> {
    // Stored largest first, so that the concrete layout has no padding.
    private let labelStart: UnsafePointer<UInt8>
    private let suffixStart: UnsafePointer<UInt8>
    private let fileStart: UnsafePointer<UInt8>
    /// The index field of the return code (an RTT level for RMI_ERROR_RTT).
    public let index: Word<D>
    private let output0: Word<D>, output1: Word<D>
    private let lineNumber: UInt32
    private let fileCount: UInt16
    private let labelCount: UInt8, suffixCount: UInt8
    /// How many outputs (bits 0-1), and which of them the spec defines (bits 2 and 3).
    private let outputShape: UInt8
    public let status: Status
    /// False for a result rule that the spec states outside the command's failure
    /// conditions (RMI_VERSION's compatibility rule).
    public let listed: Bool
    public let fails: Bit<D>

    private static func text(_ start: UnsafePointer<UInt8>, _ count: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    }
    /// The spec's label. Kept as two parts (`gran` and `_align`) so that building a condition
    /// joins no strings: most conditions are never asked for their label.
    public var label: String {
        Self.text(labelStart, Int(labelCount)) + Self.text(suffixStart, Int(suffixCount))
    }
    /// Output registers the spec defines on this failure (e.g. `top`), by position.
    public var outputs: [Word<D>?] {
        let first: Word<D>? = outputShape & 4 != 0 ? output0 : nil
        let second: Word<D>? = outputShape & 8 != 0 ? output1 : nil
        switch outputShape & 3 {
        case 0: return []
        case 1: return [first]
        default: return [first, second]
        }
    }
    /// Where the condition is written, for reports that point at the rule.
    public var file: String { Self.text(fileStart, Int(fileCount)) }
    public var line: UInt { UInt(lineNumber) }

    /// At most two `outputs` (no command defines more on a failure).
    public init(_ label: StaticString, _ status: Status, _ fails: Bit<D>, index: Word<D> = 0,
                outputs: [Word<D>?] = [], listed: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        self.init(label, suffix: "", status, fails, index: index, outputs: outputs, listed: listed, file: file, line: line)
    }
    /// The condition labelled `name + suffix`.
    init(_ name: StaticString, suffix: StaticString, _ status: Status, _ fails: Bit<D>, index: Word<D> = 0,
         outputs: [Word<D>?] = [], listed: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        precondition(outputs.count <= 2, "a failure condition defines at most two outputs")
        precondition(name.hasPointerRepresentation && suffix.hasPointerRepresentation && file.hasPointerRepresentation
                     && name.utf8CodeUnitCount < 256 && suffix.utf8CodeUnitCount < 256 && file.utf8CodeUnitCount < 65536,
                     "a condition's label and file are short string literals")
        labelStart = name.utf8Start; labelCount = UInt8(name.utf8CodeUnitCount)
        suffixStart = suffix.utf8Start; suffixCount = UInt8(suffix.utf8CodeUnitCount)
        fileStart = file.utf8Start; fileCount = UInt16(file.utf8CodeUnitCount)
        lineNumber = UInt32(truncatingIfNeeded: line)
        self.status = status; self.fails = fails; self.index = index; self.listed = listed
        let first = outputs.count > 0 ? outputs[0] : nil, second = outputs.count > 1 ? outputs[1] : nil
        outputShape = UInt8(outputs.count) | (first != nil ? 4 : 0) | (second != nil ? 8 : 0)
        output0 = first ?? 0; output1 = second ?? 0
    }
    /// The source location relative to the package root (`Sources/RMISpec/...`).
    public var source: String {
        let path = file.range(of: "Sources/").map { String(file[$0.lowerBound...]) } ?? file
        return "\(path):\(line)"
    }
}

/// The three conditions on one address argument (`granuleArgument`, `nsArgument`), held
/// inline rather than in an array of their own.
///
/// A command joins its conditions with `+` and `+=`; these build one array for the list
/// (room for 15: every command's whole list but RMI_REC_CREATE's 16) and append each
/// argument's three to it, where arrays of three joined by `Array`'s `+` would allocate and
/// copy at every step. On the
/// concrete face a search evaluates millions of calls, and those copies were most of their
/// allocations.
public struct ArgumentConditions<D: Domain> {
    let first: Condition<D>, second: Condition<D>, third: Condition<D>
    init(_ first: Condition<D>, _ second: Condition<D>, _ third: Condition<D>) {
        self.first = first; self.second = second; self.third = third
    }
    /// The three, in order, as the start of a command's list.
    public var array: [Condition<D>] {
        var c: [Condition<D>] = []
        c.reserveCapacity(15)
        c += self
        return c
    }

    public static func += (lhs: inout [Condition<D>], rhs: ArgumentConditions) {
        lhs.append(rhs.first); lhs.append(rhs.second); lhs.append(rhs.third)
    }
    public static func + (lhs: ArgumentConditions, rhs: ArgumentConditions) -> [Condition<D>] {
        var c = lhs.array
        c += rhs
        return c
    }
    public static func + (lhs: ArgumentConditions, rhs: [Condition<D>]) -> [Condition<D>] {
        var c = lhs.array
        c += rhs
        return c
    }
    /// Appends to `lhs` in place (the list being built, which nothing else holds).
    public static func + (lhs: consuming [Condition<D>], rhs: ArgumentConditions) -> [Condition<D>] {
        var c = lhs
        c += rhs
        return c
    }
}

/// What evaluating a command yields: its failure conditions in the spec's listing order,
/// and the success outputs. Success effects have been applied to the machine, guarded by
/// "no condition fails".
public struct Evaluation<D: Domain> {
    public var conditions: [Condition<D>]
    public var outputs: [Word<D>]
    public init(_ conditions: [Condition<D>], outputs: [Word<D>] = []) {
        self.conditions = conditions; self.outputs = outputs
    }
    /// True when no failure condition holds.
    public static func succeeds(_ conditions: [Condition<D>]) -> Bit<D> {
        var failed = Bit<D>(false)
        for c in conditions { failed = failed || c.fails }
        return !failed
    }
}
