/// One result of a command: X0 (status and index) and the output registers the spec
/// defines for it (`nil` where the spec leaves a register undefined).
public struct Outcome: Hashable, Sendable, CustomStringConvertible {
    public var status: Status
    public var index: UInt64
    public var outputs: [UInt64?]
    /// The failure condition that gives this result; nil for success.
    public var label: String?

    public init(status: Status, index: UInt64 = 0, outputs: [UInt64?] = [], label: String? = nil) {
        self.status = status; self.index = index; self.outputs = outputs; self.label = label
    }
    /// RmiCommandReturnCode: `status | index << 8`.
    public var x0: UInt64 { status.rawValue | (index & 0xFF) << 8 }
    public var description: String {
        var s = status.specName + (index != 0 || status == .errorRtt ? ",\(Int64(bitPattern: index))" : "")
        if let label { s += " (\(label))" }
        return s
    }
}

/// The spec's answer to one call on a concrete state.
public struct StepResult: Sendable, CustomStringConvertible {
    /// Every result the spec allows, in the listing order of the conditions that give them;
    /// a single success outcome when no condition fails.
    public var allowed: [Outcome]
    /// Labels of every failure condition that holds.
    public var failing: [String]
    /// The state after the call (unchanged when a condition fails).
    public var next: SpecState
    /// For REC_ENTER and REC exits: the RmiRecRun block the exit record is written to.
    public var runPtr: UInt64? = nil
    public var canonical: Outcome { allowed[0] }
    public var description: String { allowed.map(\.description).joined(separator: " or ") }
    public var succeeded: Bool { failing.isEmpty }

    /// Whether `o` is an allowed result (status and index, and each output the spec defines
    /// and `o` states).
    public func allows(status: Status, index: UInt64) -> Outcome? {
        allowed.first { $0.status == status && ($0.index & 0xFF) == (index & 0xFF) }
    }
}

/// The executable specification.
public enum RMISpec {
    /// Evaluates `cmd` on any machine: the one place that maps a command to its definition.
    public static func evaluate<M: Machine>(_ cmd: RMICommand, _ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        switch cmd {
        case .version: Version.evaluate(&m, c)
        case .features: Features.evaluate(&m, c)
        case .granuleDelegate: GranuleDelegate.evaluate(&m, c)
        case .granuleUndelegate: GranuleUndelegate.evaluate(&m, c)
        case .dataCreate: DataCreate.evaluate(&m, c)
        case .dataCreateUnknown: DataCreateUnknown.evaluate(&m, c)
        case .dataDestroy: DataDestroy.evaluate(&m, c)
        case .realmActivate: RealmActivate.evaluate(&m, c)
        case .realmCreate: RealmCreate.evaluate(&m, c)
        case .realmDestroy: RealmDestroy.evaluate(&m, c)
        case .recAuxCount: RecAuxCount.evaluate(&m, c)
        case .recCreate: RecCreate.evaluate(&m, c)
        case .recDestroy: RecDestroy.evaluate(&m, c)
        case .recEnter: RecEnter.evaluate(&m, c)
        case .rttCreate: RttCreate.evaluate(&m, c)
        case .rttDestroy: RttDestroy.evaluate(&m, c)
        case .rttFold: RttFold.evaluate(&m, c)
        case .rttMapUnprotected: RttMapUnprotected.evaluate(&m, c)
        case .rttUnmapUnprotected: RttUnmapUnprotected.evaluate(&m, c)
        case .rttReadEntry: RttReadEntry.evaluate(&m, c)
        case .rttInitRipas: RttInitRipas.evaluate(&m, c)
        case .rttSetRipas: RttSetRipas.evaluate(&m, c)
        case .psciComplete: PsciComplete.evaluate(&m, c)
        }
    }

    /// Runs one call on a concrete state.
    public static func step(_ s: SpecState, _ cmd: RMICommand, _ x: [UInt64],
                            realm: RealmAction<Concrete> = RealmAction(kind: 0)) -> StepResult {
        var m = s
        return apply(cmd, to: &m, x, realm: realm)
    }

    /// Runs one call on `state` in place (no copy of the state when it is uniquely held);
    /// the result's `next` is the new state.
    public static func apply(_ cmd: RMICommand, to state: inout SpecState, _ x: [UInt64],
                             realm: RealmAction<Concrete> = RealmAction(kind: 0)) -> StepResult {
        let e = evaluate(cmd, &state, Call(registers: x, realm: realm))
        var r = result(cmd, e, next: state, options: state.options)
        if cmd == .recEnter { r.runPtr = x.count > 1 ? x[1] : 0 }
        return r
    }

    /// Runs one call on `state` in place, as `apply` does, and says only whether it succeeded
    /// (no failure condition holds): for searches that read nothing else of the result.
    public static func applySucceeds(_ cmd: RMICommand, to state: inout SpecState, _ x: [UInt64],
                                     realm: RealmAction<Concrete>) -> Bool {
        applySucceeds(cmd, to: &state, Call(registers: x, realm: realm))
    }

    /// `applySucceeds` on a call built by the caller: a search can keep one `Call` and write
    /// each call's registers and Realm action into it in place, instead of building their
    /// arrays for every call.
    public static func applySucceeds(_ cmd: RMICommand, to state: inout SpecState, _ call: Call<Concrete>) -> Bool {
        let e = evaluate(cmd, &state, call)
        return !e.conditions.contains { $0.fails.raw }
    }

    /// `applySucceeds` on the flat state of a pool.
    public static func applySucceeds(_ cmd: RMICommand, to state: inout PoolState, _ call: Call<Concrete>) -> Bool {
        let e = evaluate(cmd, &state, call)
        return !e.conditions.contains { $0.fails.raw }
    }

    /// Turns an evaluation into the set of allowed outcomes (B1.6): the results of the
    /// failing conditions that no other failing condition precedes in the partial order.
    public static func result(_ cmd: RMICommand, _ e: Evaluation<Concrete>, next: SpecState,
                              options: SpecOptions) -> StepResult {
        // Most calls succeed: look for a failing condition before collecting them.
        if !e.conditions.contains(where: { $0.fails.raw }) {
            return StepResult(allowed: [Outcome(status: .success, outputs: e.outputs.map { $0.raw })],
                              failing: [], next: next)
        }
        let failingIdx = e.conditions.indices.filter { e.conditions[$0].fails.raw }
        let minimal: [Int]
        if options.contains(.strictListingOrder) || failingIdx.count == 1 {
            minimal = [failingIdx[0]]
        } else {
            let order = Ordering.of(cmd)
            minimal = failingIdx.filter { c in !failingIdx.contains { order.precedes(e.conditions[$0].label, e.conditions[c].label) } }
        }
        var allowed: [Outcome] = []
        for i in minimal {
            let c = e.conditions[i]
            let o = Outcome(status: c.status, index: c.index.raw, outputs: c.outputs.map { $0?.raw }, label: c.label)
            if !allowed.contains(where: { $0.status == o.status && $0.index == o.index && $0.outputs == o.outputs }) {
                allowed.append(o)
            }
        }
        return StepResult(allowed: allowed, failing: failingIdx.map { e.conditions[$0].label }, next: next)
    }

    /// The failure conditions of a command in listing order (label, status), read off the
    /// definition itself.
    public static func conditions(of cmd: RMICommand) -> [ConditionInfo] {
        var m = SpecState()
        let e = evaluate(cmd, &m, Call([1, 1, 1, 1, 1]))
        return e.conditions.map { ConditionInfo(label: $0.label, status: $0.status, listed: $0.listed, source: $0.source) }
    }
}

/// A failure condition as data: what `rmi-check spec` lists.
public struct ConditionInfo: Sendable, Hashable {
    public var label: String
    public var status: Status
    public var listed: Bool
    public var source: String
}

/// The transitive closure of a command's ordering constraints.
extension RMISpec {
    /// Whether the spec orders failure condition `a` before `b` for `cmd` (transitively).
    public static func precedes(_ cmd: RMICommand, _ a: String, _ b: String) -> Bool {
        Ordering.of(cmd).precedes(a, b)
    }
}

struct Ordering: Sendable {
    let pairs: Set<Pair>
    struct Pair: Hashable, Sendable { let a: String, b: String }

    func precedes(_ a: String, _ b: String) -> Bool { pairs.contains(Pair(a: a, b: b)) }

    static func of(_ cmd: RMICommand) -> Ordering { table[cmd]! }

    private static let table: [RMICommand: Ordering] = {
        var t: [RMICommand: Ordering] = [:]
        for cmd in RMICommand.allCases {
            var pairs = Set<Pair>()
            for (before, after) in cmd.ordering { for a in before { for b in after { pairs.insert(Pair(a: a, b: b)) } } }
            var changed = true
            while changed {
                changed = false
                for p in pairs { for q in pairs where p.b == q.a && !pairs.contains(Pair(a: p.a, b: q.b)) {
                    pairs.insert(Pair(a: p.a, b: q.b)); changed = true
                } }
            }
            t[cmd] = Ordering(pairs: pairs)
        }
        return t
    }()
}
