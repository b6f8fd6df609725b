import RMICheck
import RMISpec

/// The executable spec as an RMM under test: each call returns one of the results the spec
/// allows (`StepResult.allowed`). Where the spec allows several (failure conditions with
/// no order between them), `script` chooses: the i-th such call takes alternative
/// `script[i]` (0, the first allowed result, when the script is shorter). `branching`
/// records, for every such call met since the last `restart`, how many alternatives there
/// were, so that an explorer can enumerate every choice.
public struct SpecRMM: RMMUnderTest, Hashable {
    public var state: SpecState
    public let platform: Platform
    public var name: String { "spec" }
    /// Choices for the calls with several allowed results, in order.
    public var script: [Int] = []
    /// Alternatives at each choice point met since `restart`.
    public private(set) var branching: [Int] = []
    /// The RMM fault model (`rmi-check host --rmm-faults`), off by default. When on, a
    /// call to one of `SpecRMM.injectable` that the spec lets succeed may instead fail
    /// with RMI_ERROR_INPUT and no effect: one more alternative at that call, after the
    /// spec's own. A conforming RMM never gives that answer (DEN0137 1.0-rel0 has no
    /// such failure condition); it stands for firmware or RMM faults the host must
    /// tolerate (§4.3: "the RMM may refuse one ... that always means a bug").
    public var faults = false
    /// Whether the last call's result was an injected fault (for the log).
    public private(set) var lastInjected = false
    /// The calls the fault model may fail: REC_AUX_COUNT right after REALM_CREATE (M3)
    /// and GRANULE_UNDELEGATE (M5).
    public static let injectable: Set<RMICommand> = [.recAuxCount, .granuleUndelegate]
    /// A memo of RTT_FOLD results per spec state (CallMemo), shared by every copy of this
    /// RMM (nil: none). RMISpec still computes every result once; the memo returns the
    /// same result when the same call meets the same state again.
    public var memo: CallMemo? = nil
    /// The memo's entries for the current state (nil when unknown or after a change).
    var memoBox: CallMemo.Box? = nil

    public init(platform: Platform = KVMPlatform.platform) {
        self.platform = platform
        state = SpecState(platform: platform)
    }

    /// Starts a new script (one host operation).
    public mutating func restart(script: [Int]) {
        self.script = script; branching = []
    }

    public static func == (a: SpecRMM, b: SpecRMM) -> Bool { a.state == b.state }
    public func hash(into h: inout Hasher) { h.combine(state) }

    public mutating func reset() throws { state = SpecState(platform: platform); branching = []; memoBox = nil }

    /// Whether the Host can write `pa` (TraceRunner.hostCanAccess): a write the hardware
    /// refuses (GPF) changes nothing.
    func hostCanAccess(_ pa: UInt64) -> Bool {
        state.hostMayWrite(CWord(pa & ~(Layout.granuleSize - 1))).raw
    }

    public mutating func write(_ w: HostWrite) throws {
        memoBox = nil
        var r = TraceRunner(state: state)
        state = SpecState(platform: platform)   // the runner holds the only copy
        r.apply(w)
        state = r.state
    }

    public mutating func setGPT(_ addr: UInt64, _ gpt: GPT) throws {
        memoBox = nil
        state.setGranuleGPT(CWord(addr), CWord(gpt.rawValue), when: true)
    }

    public mutating func call(_ cmd: RMICommand, _ args: [UInt64], realm: RealmActionValue?) throws -> ImplResult {
        lastInjected = false
        // RTT_FOLD from a state met before: the result RMISpec gave then (only results with
        // one allowed outcome that leave the state unchanged are kept).
        let memoable = cmd == .rttFold && memo != nil && !(faults && SpecRMM.injectable.contains(cmd))
        if memoable {
            let box = memoBox ?? memo!.box(for: state)
            memoBox = box
            if let x = box.results[args] { memo!.hits += 1; return ImplResult(x: x) }
            memo!.misses += 1
        }
        // A failing call leaves the state unchanged (StepResult.next), so no copy is kept
        // (except under the fault model, where an injected failure restores it).
        let before: SpecState? = faults && SpecRMM.injectable.contains(cmd) ? state : nil
        var r = RMISpec.apply(cmd, to: &state, args, realm: (realm ?? RealmActionValue(.irq)).action)
        r.next = SpecState(platform: platform)
        if r.allowed.contains(where: { $0.status == .success }) {
            memoBox = nil
        } else if memoable, r.allowed.count == 1, let box = memoBox {
            let o = r.allowed[0]
            box.results[args] = [o.x0] + o.outputs.map { $0 ?? 0 }
        }
        if let before, r.allowed.allSatisfy({ $0.status == .success }) {
            // The injected failure is the last alternative: the spec's answers come first.
            let i = branching.count
            branching.append(r.allowed.count + 1)
            let k = i < script.count ? min(script[i], r.allowed.count) : 0
            if k == r.allowed.count {
                state = before
                lastInjected = true
                return ImplResult(x: [Outcome(status: .errorInput).x0])
            }
            // choose() must not count this call's choice point again.
            let o = r.allowed[k]
            return ImplResult(x: [o.x0] + o.outputs.map { $0 ?? 0 })
        }
        return choose(r)
    }

    public mutating func recExit(rec: UInt64, realm: RealmActionValue) throws -> ImplResult {
        memoBox = nil
        let r = RMISpec.recExit(state, rec: rec, realm: realm.action)
        state = r.next
        return choose(r)
    }

    mutating func choose(_ r: StepResult) -> ImplResult {
        var k = 0
        if r.allowed.count > 1 {
            let i = branching.count
            branching.append(r.allowed.count)
            k = i < script.count ? min(script[i], r.allowed.count - 1) : 0
        }
        let o = r.allowed[k]
        var result = ImplResult(x: [o.x0] + o.outputs.map { $0 ?? 0 })
        if o.status == .success, let run = r.runPtr {
            for f in comparedExitFields + ["esr", "hpfar"] {
                if let off = ExitRecord.offset(of: f) { result.exit[f] = state.nsRead(CWord(run &+ off)).raw }
            }
        }
        return result
    }

    public func abstractState() -> SpecState? { state }
}

/// The platform the host model runs on: the standard one (1 GiB of DRAM, a Secure
/// carve-out whose Granules EL3 refuses to delegate) with one aux Granule per REC, to keep
/// the state space small.
public enum KVMPlatform {
    public static let platform = Platform(
        delegable: Platform.standard.delegable, secure: Platform.standard.secure,
        features0: Platform.defaultFeatures0, recAuxCount: 1, vmidBits: 16, paWidth: 48)

    /// The same with only the memory the host model touches delegable: the allocator's
    /// first MB and the Secure carve-out. RMMImpl keeps an entry for every delegable
    /// granule and the search copies it at every node, so searches against RMMImpl use this.
    public static let compact = Platform(
        delegable: [.init(base: KVMLayout.poolBase, size: 0x10_0000), .init(base: KVMLayout.securePool, size: 0x1_0000)],
        secure: Platform.standard.secure, features0: Platform.defaultFeatures0, recAuxCount: 1, vmidBits: 16, paWidth: 48)
}

/// RTT_FOLD results per spec state, shared by the copies of a SpecRMM during one search:
/// `realm_fold_rtt_level` makes 512 RTT_FOLD calls per live level-2 table after every unmap,
/// and many host states share one spec state. Each result was computed by RMISpec from an
/// equal state, so a hit returns exactly what RMISpec would. At most `capacity` states are
/// kept (then the memo starts again).
public final class CallMemo: @unchecked Sendable {
    final class Box { var results: [[UInt64]: [UInt64]] = [:] }
    var boxes: [SpecState: Box] = [:]
    let capacity: Int
    public internal(set) var hits = 0
    public internal(set) var misses = 0
    public init(capacity: Int = 1024) { self.capacity = capacity }
    func box(for s: SpecState) -> Box {
        if let b = boxes[s] { return b }
        if boxes.count >= capacity { boxes.removeAll(keepingCapacity: true) }
        let b = Box()
        boxes[s] = b
        return b
    }
}
