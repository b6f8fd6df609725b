/// A trace: what a Host did, step by step, and what it expected back. The currency between
/// engines, and the file format users keep (docs/trace-format.md).
public struct Trace: Sendable {
    public var description: String?
    public var platform: Platform
    public var options: SpecOptions
    public var steps: [TraceStep]

    public init(description: String? = nil, platform: Platform = .standard, options: SpecOptions = [],
                steps: [TraceStep] = []) {
        self.description = description; self.platform = platform; self.options = options; self.steps = steps
    }
}

public enum TraceStep: Sendable {
    /// An RMI call, after the Host's writes to NS memory.
    case call(CallStep)
    /// A write to NS memory on its own.
    case write(HostWrite)
    /// An agent other than the RMM changes the GPT entry of an UNDELEGATED Granule (A2.2.3.1).
    case setGPT(addr: UInt64, gpt: GPT)
    /// A REC that a REC_ENTER left running exits: the REC_ENTER call returns now.
    case recExit(rec: UInt64, realm: RealmActionValue, expect: Expectation?)
}

public struct CallStep: Sendable {
    public var command: RMICommand
    /// X1..X5, as many as the command takes.
    public var args: [UInt64]
    public var writes: [HostWrite]
    public var realm: RealmActionValue?
    public var expect: Expectation?
    public init(command: RMICommand, args: [UInt64], writes: [HostWrite] = [], realm: RealmActionValue? = nil,
                expect: Expectation? = nil) {
        self.command = command; self.args = args; self.writes = writes; self.realm = realm; self.expect = expect
    }
}

/// A Host write to NS memory.
public enum HostWrite: Sendable {
    case realmParams(at: UInt64, RealmParamsValues)
    case recParams(at: UInt64, RecParamsValues)
    case recRun(at: UInt64, RecEnterValues)
    /// Page contents, as a digest (the data a DATA_CREATE copies and measures).
    case data(at: UInt64, content: UInt64)
    /// Raw 64-bit words from `at`.
    case words(at: UInt64, [UInt64])

    public var address: UInt64 {
        switch self {
        case .realmParams(let a, _), .recParams(let a, _), .recRun(let a, _), .data(let a, _), .words(let a, _): a
        }
    }
}

/// The Realm's behaviour during a REC_ENTER.
public struct RealmActionValue: Hashable, Sendable {
    public var kind: RealmActionKind
    public var args: [UInt64]
    public init(_ kind: RealmActionKind, _ args: [UInt64] = []) { self.kind = kind; self.args = args }
    public var action: RealmAction<Concrete> {
        if kind == .irq && args.isEmpty { return RealmAction.idle }
        let n = args.count
        if n <= 4 {
            // The four arguments as a literal (RealmAction pads to four with zeros).
            return RealmAction(kind: CWord(kind.rawValue),
                               args: [CWord(n > 0 ? args[0] : 0), CWord(n > 1 ? args[1] : 0),
                                      CWord(n > 2 ? args[2] : 0), CWord(n > 3 ? args[3] : 0)])
        }
        return RealmAction(kind: CWord(kind.rawValue), args: args.map { CWord($0) })
    }
}

/// What a step expects: status and index, and optionally named outputs and REC exit fields.
public struct Expectation: Hashable, Sendable {
    public var status: Status
    public var index: UInt64
    public var outputs: [String: UInt64]
    public var exit: [String: UInt64]
    /// The failure condition the author meant to hit; checked when present.
    public var label: String?
    public init(status: Status, index: UInt64 = 0, outputs: [String: UInt64] = [:], exit: [String: UInt64] = [:],
                label: String? = nil) {
        self.status = status; self.index = index; self.outputs = outputs; self.exit = exit; self.label = label
    }
}
