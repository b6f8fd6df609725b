import Foundation
import RMICheck
import RMISpec

/// One step of a host trace: an environment operation and the choices among the results
/// the spec allows for its calls (SpecRMM.script).
public struct HostTraceStep: Hashable, Sendable, CustomStringConvertible {
    public var op: HostOp
    public var script: [Int]
    public init(op: HostOp, script: [Int] = []) { self.op = op; self.script = script }
    public var description: String { op.description + (script.contains { $0 != 0 } ? "  [spec choices \(script)]" : "") }
}

/// What a search found.
public struct ExploreResult: Sendable {
    public var violation: Violation?
    /// Shortest trace to the violation (empty when none).
    public var trace: [HostTraceStep]
    public var states: Int
    public var transitions: Int
    public var depth: Int
    /// Every state within the bound was explored.
    public var complete: Bool
    public var covers: Set<String>
    public var seconds: Double
    /// RTT_FOLD results the memo returned instead of RMISpec (SpecRMM.memo).
    public var memoHits = 0
}

/// The environment: what a VMM and a guest may do next in a host state (§2 VMM sequence,
/// §3 guest behaviour), over a small vocabulary (KVMEnv).
public enum Environment {
    public static func guestActions(vcpu v: Int, vcpus: Int) -> [RealmActionValue] {
        let shared = KVMLayout.sharedBit(KVMLayout.ipaBits)
        var a: [RealmActionValue] = [
            RealmActionValue(.irq),
            RealmActionValue(.hostCall, [1]),
            RealmActionValue(.psciSystemOff),
            RealmActionValue(.ripasChange, [0x1000, 0x2000, Ripas.empty.rawValue, 0]),
            RealmActionValue(.ripasChange, [0x20_0000, 0x20_1000, Ripas.empty.rawValue, 0]),
            RealmActionValue(.mmioAbort, [shared | KVMEnv.mmioIPA, 1]),
            RealmActionValue(.mmioAbort, [shared | 0x1000, 1]),
            RealmActionValue(.protectedAbort, [0x1000]),
            RealmActionValue(.protectedAbort, [0x20_0000]),
            RealmActionValue(.protectedAbort, [0x20_1000]),
        ]
        for t in 0..<vcpus where t != v {
            a.append(RealmActionValue(.psciCpuOn, [UInt64(t), 0x8_0000, 0]))
            a.append(RealmActionValue(.psciAffinityInfo, [UInt64(t), 0]))
        }
        return a
    }

    /// The VMM's construction operations, in the order of §2 (steps 5–8), each with its step.
    static let construction: [(Int, HostOp)] = [
        (5, .initRipas(base: 0x0, size: 0x2000)),
        (5, .initRipas(base: 0x20_0000, size: 0x20_0000)),
        (6, .populate(ipa: 0x0)),
        (6, .populate(ipa: 0x4000_0000)),
    ]

    /// What the VMM of a second VM does (`vms` > 1): create it, one vCPU, the realm, that
    /// vCPU's REC, close it. Enough for what one VM cannot show (VMIDs, per-realm REC_AUX_COUNT).
    static func secondVM(_ h: HostState, index i: Int) -> [HostOp] {
        guard let vm = h.vms[i] else { return h.initialized && !h.rmeAvailable ? [] : [.onVM(i, .createVM)] }
        if vm.destroyed { return [] }
        var ops: [HostOp] = []
        switch vm.state {
        case .none: ops.append(vm.vcpus.isEmpty ? .createVcpu : .createRealm)
        case .new: if vm.vcpus.contains(where: { !$0.finalized }) { ops.append(.finalizeVcpu(0)) }
        default: break
        }
        ops.append(.destroyVM)
        return ops.map { .onVM(i, $0) }
    }

    public static func operations(_ h: HostState, variant: HostVariant, guest: Set<RealmActionKind>? = nil,
                                  refusals: Bool = true, teardown: Bool = true, unmaps: Bool = true, vms: Int = 1,
                                  release: Bool = false) -> [HostOp] {
        var ops = firstVM(h, variant: variant, guest: guest, refusals: refusals, teardown: teardown, unmaps: unmaps,
                          release: release)
        for i in 1..<max(1, min(vms, KVMEnv.maxVMs)) where h.vm != nil { ops += secondVM(h, index: i) }
        return ops
    }

    static func firstVM(_ h: HostState, variant: HostVariant, guest: Set<RealmActionKind>?,
                        refusals: Bool, teardown: Bool, unmaps: Bool, release: Bool) -> [HostOp] {
        guard let vm = h.vm else { return h.initialized && !h.rmeAvailable ? [] : [.createVM] }
        if vm.destroyed { return [] }
        if vm.mmReleased {
            // Only guest_memfd (its fds outlive the mm), the rest of pass 1, then the close.
            let punches = unmaps ? vm.gmem.keys.sorted().map { HostOp.punchHole(ipa: $0) } : []
            return punches + [vm.rttWalkNext != nil ? .releaseMMContinue : .destroyVM]
        }
        var ops: [HostOp] = []
        if refusals && !h.refuseNextDelegate { ops.append(.refuseNextDelegate) }
        switch vm.state {
        case .none:
            // §2 steps 1–4: vCPUs, then CREATE_REALM (a second attempt after a failure).
            if vm.vcpus.count < KVMEnv.maxVcpus { ops.append(.createVcpu) }
            if !vm.vcpus.isEmpty { ops.append(.createRealm) }
        case .new:
            // A VMM that configures or creates again (§6 issue 3): refused unless M11.
            ops.append(.configRPV)
            ops.append(.createRealm)
            for (step, op) in construction where step >= vm.vmmStep { ops.append(op) }
            // VMMs finalize in ascending MPIDR order (§2.6): the next one only.
            if vm.vmmStep <= 7, let v = vm.vcpus.firstIndex(where: { !$0.finalized }) { ops.append(.finalizeVcpu(v)) }
            ops.append(.activate)
        case .active:
            for v in vm.vcpus.indices {
                let c = vm.vcpus[v]
                if c.fault != nil { ops.append(.faultContinue(v)); continue }
                guard c.finalized, !c.stopped, c.poweredOn else { continue }
                for a in guestActions(vcpu: v, vcpus: vm.vcpus.count) where guest?.contains(a.kind) ?? true {
                    ops.append(.run(v, a))
                }
            }
        case .dying, .dead: break
        }
        for g in vm.user.keys.sorted() where unmaps && vm.state == .active { ops.append(.unmapShared(gpa: g)) }
        for i in vm.gmem.keys.sorted() where unmaps && vm.state == .active { ops.append(.punchHole(ipa: i)) }
        // The VM fd is released only when no vCPU thread is inside KVM_RUN (a vCPU fd holds
        // a reference on the VM): no teardown in the middle of a fault.
        if teardown && !vm.vcpus.contains(where: { $0.fault != nil }) {
            ops.append(.destroyVM)
            if release { ops.append(.releaseMM) }
        }
        return ops
    }
}

/// An RMM the explorer can search against: copied at every node, enumerating its choices
/// (SpecRMM.script), and identified in the visited set by its abstract state.
public protocol ExplorableRMM: RMMUnderTest {
    /// A copy that later calls on either leave the other unchanged.
    func snapshot() -> Self
    mutating func restart(script: [Int])
    /// Alternatives at each choice point met since `restart` (empty: deterministic).
    var branching: [Int] { get }
    var stateKey: SpecState { get }
}

extension SpecRMM: ExplorableRMM {
    public func snapshot() -> SpecRMM { self }
    public var stateKey: SpecState { state }
}

/// RMMImpl for the search: one answer per call, its state (a class) copied per node. The
/// properties read the abstract state before every call, and computing it from RMMImpl is
/// the search's main cost (an RTT_FOLD sweep is 512 calls), so it is kept until something
/// can have changed it: a successful call, any REC_ENTER, a Host write. A failed call
/// changes nothing, in the spec and in an RMMImpl without deviations (which is all this
/// accepts; the conformance suite checks that RMMImpl agrees with the spec on it).
public struct ImplRMM: ExplorableRMM {
    public private(set) var impl: BuiltinRMM
    final class Box { var state: SpecState? }
    var box = Box()

    public init(_ impl: BuiltinRMM) {
        precondition(impl.bugs.isEmpty, "a deviation may change the state on a failed call")
        self.impl = impl
    }

    public var name: String { impl.name }
    public var platform: Platform { impl.platform }
    public mutating func reset() throws { box.state = nil; try impl.reset() }
    public mutating func write(_ w: HostWrite) throws { box.state = nil; try impl.write(w) }
    public mutating func setGPT(_ addr: UInt64, _ gpt: GPT) throws { box.state = nil; try impl.setGPT(addr, gpt) }
    public mutating func call(_ cmd: RMICommand, _ args: [UInt64], realm: RealmActionValue?) throws -> ImplResult {
        let r = try impl.call(cmd, args, realm: realm)
        if cmd == .recEnter || r.status == .success || r.status == nil { box.state = nil }
        return r
    }
    public mutating func recExit(rec: UInt64, realm: RealmActionValue) throws -> ImplResult {
        box.state = nil
        return try impl.recExit(rec: rec, realm: realm)
    }
    public func abstractState() -> SpecState? {
        if let s = box.state { return s }
        let s = impl.abstractState()
        box.state = s
        return s
    }

    public func snapshot() -> ImplRMM {
        let c = ImplRMM(impl.snapshot())
        c.box.state = box.state
        return c
    }
    public mutating func restart(script: [Int]) {}
    public var branching: [Int] { [] }
    public var stateKey: SpecState { abstractState()! }
}

/// Breadth-first search over the environment's operations, with a visited set of
/// (host state, RMM state) and a depth bound; the properties are checked on every call
/// and at the end of every operation, so the first violation found has a shortest trace.
public struct Explorer {
    public var variant: HostVariant
    public var only: Set<String>?
    public var bound: Int
    public var maxStates: Int
    /// Most spec-choice scripts tried per operation.
    public var maxScripts = 8
    public var progress: ((Int, Int) -> Void)? = nil
    /// Guest actions explored (nil: all) and whether the environment refuses delegations:
    /// a focused environment for deep traces.
    public var guest: Set<RealmActionKind>? = nil
    public var refusals = true
    /// Whether the environment closes the VM (off: a focus on the runtime).
    public var teardown = true
    /// Whether the VMM munmaps shared pages and punches holes in guest_memfd (off: a focus
    /// on faults; each of those runs the `realm_fold_rtt_level` recursion, the search's
    /// main cost).
    public var unmaps = true
    /// The RMM fault model (SpecRMM.faults): REC_AUX_COUNT and GRANULE_UNDELEGATE may also
    /// fail where the spec lets them succeed. Off by default.
    public var rmmFaults = false
    /// Share RTT_FOLD results between equal spec states (SpecRMM.memo).
    public var useMemo = true
    /// VMs the environment creates (1, or 2 for what needs several: P17's distinct VMIDs,
    /// P9 per realm). The second VM's VMM only creates, finalizes one vCPU and closes.
    public var vms = 1
    /// Whether the VMM's mm may go away before the VM is closed (pass 1 from the MMU
    /// notifier, then guest_memfd hole punches, then the close: P19's interleavings).
    public var releaseBeforeClose = false

    public init(variant: HostVariant, only: Set<String>? = nil, bound: Int = 12, maxStates: Int = 200_000) {
        self.variant = variant; self.only = only; self.bound = bound; self.maxStates = maxStates
    }

    struct Key: Hashable { let h: HostState; let r: SpecState }

    /// Runs `op` from `host` under every choice script (up to maxScripts).
    func successors<R: ExplorableRMM>(_ host: KVMHost<R>, _ op: HostOp) -> [(HostTraceStep, KVMHost<R>)] {
        var out: [(HostTraceStep, KVMHost<R>)] = []
        var work: [[Int]] = [[]]
        while let script = work.popLast(), out.count < maxScripts {
            var h = host
            h.rmm = host.rmm.snapshot()
            h.violations = []
            h.rmm.restart(script: script)
            h.perform(op)
            let b = h.rmm.branching
            for i in script.count..<b.count where b[i] > 1 {
                for k in 1..<b[i] {
                    var s = script + Array(repeating: 0, count: i - script.count)
                    s.append(k)
                    work.append(s)
                }
            }
            out.append((HostTraceStep(op: op, script: script), h))
        }
        return out
    }

    /// The search against the spec (every result it allows), with the fault model and the
    /// fold memo when set.
    public func run() -> ExploreResult {
        var rmm = SpecRMM()
        rmm.faults = rmmFaults
        let memo = useMemo ? CallMemo() : nil
        rmm.memo = memo
        var r = run(on: rmm)
        r.memoHits = memo?.hits ?? 0
        return r
    }

    /// The search against another RMM, copied at every node; its states are told apart by
    /// its abstract state.
    public func run<R: ExplorableRMM>(on rmm: R) -> ExploreResult {
        let t0 = Date()
        let root = { var h = KVMHost(rmm: rmm, variant: variant); h.only = only; return h }()
        var nodes: [KVMHost<R>] = [root]
        var parent: [Int] = [-1]
        var stepOf: [HostTraceStep?] = [nil]
        var depthOf: [Int] = [0]
        var visited: Set<Key> = [Key(h: root.s, r: root.rmm.stateKey)]
        var covers: Set<String> = []
        var transitions = 0
        var head = 0
        var complete = true
        var maxDepth = 0
        func trace(_ i: Int) -> [HostTraceStep] {
            var t: [HostTraceStep] = []
            var j = i
            while j > 0 { t.append(stepOf[j]!); j = parent[j] }
            return t.reversed()
        }
        while head < nodes.count {
            let i = head
            head += 1
            let node = nodes[i]
            if depthOf[i] >= bound { complete = false; continue }
            for op in Environment.operations(node.s, variant: variant, guest: guest, refusals: refusals, teardown: teardown,
                                             unmaps: unmaps, vms: vms, release: releaseBeforeClose) {
                for (step, next) in successors(node, op) {
                    transitions += 1
                    covers.formUnion(next.covers)
                    if let v = next.violations.first {
                        var t = trace(i)
                        t.append(step)
                        return ExploreResult(violation: v, trace: t, states: visited.count, transitions: transitions,
                                             depth: depthOf[i] + 1, complete: false, covers: covers,
                                             seconds: Date().timeIntervalSince(t0))
                    }
                    var n = next
                    n.covers = []
                    n.log = []
                    let key = Key(h: n.s, r: n.rmm.stateKey)
                    if visited.insert(key).inserted {
                        if visited.count > maxStates { complete = false; continue }
                        nodes.append(n)
                        parent.append(i)
                        stepOf.append(step)
                        depthOf.append(depthOf[i] + 1)
                        maxDepth = max(maxDepth, depthOf[i] + 1)
                    }
                }
            }
            // Free the explored node's memory.
            nodes[i] = root
            if let p = progress, i % 1000 == 0 { p(visited.count, depthOf[i]) }
        }
        return ExploreResult(violation: nil, trace: [], states: visited.count, transitions: transitions,
                             depth: maxDepth, complete: complete, covers: covers, seconds: Date().timeIntervalSince(t0))
    }

    /// Replays a trace from the initial state with logging; returns the host after it (its
    /// violations and its log of every operation).
    public static func replay<R: RMMUnderTest>(_ trace: [HostTraceStep], rmm: R, variant: HostVariant,
                                               only: Set<String>? = nil) -> (host: KVMHost<R>, log: [String]) {
        var h = KVMHost(rmm: rmm, variant: variant)
        h.only = only
        h.logging = true
        var log: [String] = []
        for (n, step) in trace.enumerated() {
            if var spec = h.rmm as? SpecRMM {
                spec.restart(script: step.script)
                h.rmm = spec as! R
            }
            h.perform(step.op)
            if let first = h.log.first { log.append("\(n + 1). \(first)") }
            log.append(contentsOf: h.log.dropFirst())
            if !h.violations.isEmpty { break }
        }
        return (h, log)
    }
}

extension HostOp {
    /// The spelling of an operation in a trace file (one per line).
    public var token: String {
        switch self {
        case .createVM: "create_vm"
        case .configRPV: "config_rpv"
        case .configHash(let a): "config_hash \(a)"
        case .createVcpu: "create_vcpu"
        case .createRealm: "create_realm"
        case .initRipas(let b, let s): "init_ripas \(hex(b)) \(hex(s))"
        case .populate(let i): "populate \(hex(i))"
        case .finalizeVcpu(let v): "finalize_vcpu \(v)"
        case .activate: "activate"
        case .run(let v, let a): "run \(v) \(a.kind.name)" + a.args.map { " " + hex($0) }.joined()
        case .faultContinue(let v): "fault_continue \(v)"
        case .unmapShared(let g): "unmap_shared \(hex(g))"
        case .punchHole(let i): "punch_hole \(hex(i))"
        case .refuseNextDelegate: "refuse_next_delegate"
        case .destroyVM: "destroy_vm"
        case .releaseMM: "release_mm"
        case .releaseMMContinue: "release_mm_continue"
        case .onVM(let i, let op): "vm\(i) " + op.token
        }
    }

    public init?(token: String) {
        let w = token.split(separator: " ").map(String.init)
        guard let name = w.first else { return nil }
        if name.hasPrefix("vm"), let i = Int(name.dropFirst(2)), i >= 1, i < KVMEnv.maxVMs,
           let op = HostOp(token: w.dropFirst().joined(separator: " ")) {
            self = .onVM(i, op)
            return
        }
        func num(_ i: Int) -> UInt64? {
            guard i < w.count else { return nil }
            let s = w[i]
            return s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s)
        }
        switch name {
        case "create_vm": self = .createVM
        case "config_rpv": self = .configRPV
        case "config_hash": guard let a = num(1) else { return nil }; self = .configHash(a)
        case "create_vcpu": self = .createVcpu
        case "create_realm": self = .createRealm
        case "init_ripas": guard let b = num(1), let s = num(2) else { return nil }; self = .initRipas(base: b, size: s)
        case "populate": guard let i = num(1) else { return nil }; self = .populate(ipa: i)
        case "finalize_vcpu": guard let v = num(1) else { return nil }; self = .finalizeVcpu(Int(v))
        case "activate": self = .activate
        case "run":
            guard let v = num(1), w.count > 2, let k = RealmActionKind(name: w[2]) else { return nil }
            self = .run(Int(v), RealmActionValue(k, (3..<w.count).compactMap { num($0) }))
        case "fault_continue": guard let v = num(1) else { return nil }; self = .faultContinue(Int(v))
        case "unmap_shared": guard let g = num(1) else { return nil }; self = .unmapShared(gpa: g)
        case "punch_hole": guard let i = num(1) else { return nil }; self = .punchHole(ipa: i)
        case "refuse_next_delegate": self = .refuseNextDelegate
        case "destroy_vm": self = .destroyVM
        case "release_mm": self = .releaseMM
        case "release_mm_continue": self = .releaseMMContinue
        default: return nil
        }
    }
}

extension HostTraceStep {
    /// `op [| choices c0 c1 ...]`.
    public var line: String { op.token + (script.isEmpty ? "" : " | " + script.map(String.init).joined(separator: " ")) }
    public init?(line: String) {
        let parts = line.split(separator: "|", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let op = HostOp(token: parts[0]) else { return nil }
        let script = parts.count > 1 ? parts[1].split(separator: " ").compactMap { Int($0) } : []
        self.init(op: op, script: script)
    }
}
