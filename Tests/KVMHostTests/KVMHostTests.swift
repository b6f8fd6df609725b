import Testing
import KVMHost
import RMICheck
import RMISpec

@Suite struct KVMHostTests {
    /// The v10 happy path (§2 VMM sequence, a run with a fault, a RIPAS change, PSCI, a
    /// shared mapping, SYSTEM_OFF, teardown).
    static let happyPath: [HostOp] = [
        .createVM, .configHash(0), .configRPV, .createVcpu, .createVcpu, .createRealm,
        .initRipas(base: 0x0, size: 0x2000), .initRipas(base: 0x20_0000, size: 0x20_0000),
        .populate(ipa: 0x0), .populate(ipa: 0x4000_0000), .finalizeVcpu(0), .finalizeVcpu(1), .activate,
        .run(0, RealmActionValue(.protectedAbort, [0x1000])),
        .run(0, RealmActionValue(.protectedAbort, [0x20_0000])), .faultContinue(0),
        .run(0, RealmActionValue(.psciCpuOn, [1, 0x8_0000, 0])),
        .run(1, RealmActionValue(.hostCall, [7])),
        .run(0, RealmActionValue(.mmioAbort, [KVMLayout.sharedBit(KVMLayout.ipaBits) | 0x1000, 1])),
        .run(0, RealmActionValue(.mmioAbort, [KVMLayout.sharedBit(KVMLayout.ipaBits) | KVMEnv.mmioIPA, 1])),
        .run(1, RealmActionValue(.ripasChange, [0x1000, 0x2000, Ripas.empty.rawValue, 0])),
        .run(1, RealmActionValue(.irq)),
        .run(0, RealmActionValue(.psciAffinityInfo, [1, 0])),
        .run(0, RealmActionValue(.psciSystemOff)),
        .run(1, RealmActionValue(.irq)),
        .destroyVM,
    ]

    func runHappy<R: RMMUnderTest>(_ rmm: R) -> KVMHost<R> {
        var h = KVMHost(rmm: rmm, variant: .v10)
        h.logging = true
        var log: [String] = []
        for op in Self.happyPath {
            let e = h.perform(op)
            log += h.log
            if op == .destroyVM || op == .createVM || op == .activate || op == .createRealm {
                #expect(e == .ok, Comment(rawValue: "\(op)\n" + log.joined(separator: "\n")))
            }
        }
        #expect(h.violations == [], Comment(rawValue: log.joined(separator: "\n")))
        // No page leaked, every granule UNDELEGATED.
        #expect(!(h.s.pages.values.contains(.leaked)))
        #expect(!(h.s.pages.values.contains(.lost)))
        let st = h.rmm.abstractState()!
        #expect(st.delegatedGranules.map(\.0) == [], Comment(rawValue: log.joined(separator: "\n")))
        #expect(h.covers.contains("P1"))
        #expect(h.covers.contains("protected_fault"))
        #expect(h.covers.contains("P12"), Comment(rawValue: log.joined(separator: "\n")))
        #expect(h.covers.contains("P11"), Comment(rawValue: log.joined(separator: "\n")))
        #expect(h.covers.contains("map_unprotected"), Comment(rawValue: log.joined(separator: "\n")))
        #expect(h.covers.contains("shutdown"), Comment(rawValue: log.joined(separator: "\n")))
        return h
    }

    @Test func testHappyPathAgainstSpec() {
        _ = runHappy(SpecRMM())
    }

    @Test func testHappyPathAgainstBuiltin() {
        _ = runHappy(BuiltinRMM(platform: KVMPlatform.platform))
    }

    /// A second CREATE / CONFIG after creation is refused with no RMI side effect (§6 issue 3).
    @Test func testRecreateRefused() {
        var h = KVMHost(rmm: SpecRMM(), variant: .v10)
        for op: HostOp in [.createVM, .createVcpu, .createRealm] { #expect(h.perform(op) == .ok) }
        let before = h.rmm.state
        #expect(h.perform(.createRealm) == .EEXIST)
        #expect(h.perform(.configRPV) == .EBUSY)
        #expect(h.rmm.state == before)
    }

    func found(_ bug: HostBug, bound: Int, _ setUp: (inout Explorer) -> Void = { _ in }) -> ExploreResult {
        let variant = HostVariant.mutation(bug)
        var ex = Explorer(variant: variant, only: Set(HostVariant.expectedProperty(bug)), bound: bound)
        setUp(&ex)
        let r = ex.run()
        #expect(r.violation != nil, Comment(rawValue: "\(bug.rawValue) not found within \(bound) (\(r.states) states)"))
        guard let v = r.violation else { return r }
        #expect(HostVariant.expectedProperty(bug).contains(v.property), Comment(rawValue: "\(bug.rawValue): \(v)"))
        #expect(r.trace.count <= 40)
        // The trace replays: the same violation, and the fixed flow does not violate it.
        let (h, log) = Explorer.replay(r.trace, rmm: SpecRMM(), variant: variant)
        #expect(h.violations.contains { $0.property == v.property }, Comment(rawValue: log.joined(separator: "\n")))
        return r
    }

    @Test func testM6RecRunLeftSetFound() { _ = found(.m6RecRunLeftSet, bound: 7) }
    @Test func testM9AliasMixUpFound() { _ = found(.m9AliasMixUp, bound: 7) }
    @Test func testM4TeardownReorderedFound() { _ = found(.m4TeardownReordered, bound: 6) }
    @Test func testM11RecreateFound() { _ = found(.m11RecreateAllowed, bound: 5) }
    @Test func testM1WalkPgdFound() { _ = found(.m1WalkPgdAfterUndelegate, bound: 5) }

    /// P6, children first: M12 tries a live table again before destroying its children;
    /// v10's walk recurses first, so the retry meets no child (a probe is met, then P6 holds).
    @Test func testChildrenDestroyedFirst() {
        let r = found(.m12RetryBeforeChildren, bound: 5)
        #expect(r.violation?.message.contains("children not destroyed first") == true)
        let ok = Explorer(variant: .v10, only: ["P6"], bound: 5).run()
        #expect(ok.violation == nil, Comment(rawValue: ok.violation.map { "\($0) after \(ok.trace)" } ?? ""))
        #expect(ok.covers.contains("P6:retry") && ok.covers.contains("P6:children_first"))
    }

    /// The second VM's environment, focused: no guest, no refusals, no unmaps.
    static func twoVMs(_ ex: inout Explorer) {
        ex.vms = 2
        ex.guest = []
        ex.refusals = false
        ex.unmaps = false
    }

    /// P9 per realm: M13 skips REC_AUX_COUNT for every realm after the host's first, which
    /// only a second VM shows.
    @Test func testRecAfterAuxCountPerRealm() {
        let r = found(.m13AuxCountOncePerHost, bound: 7, Self.twoVMs)
        #expect(r.trace.contains { if case .onVM = $0.op { true } else { false } })
        var one = Explorer(variant: .mutation(.m13AuxCountOncePerHost), only: ["P9"], bound: 7)
        one.guest = []
        one.refusals = false
        one.unmaps = false
        #expect(one.run().violation == nil)
    }

    /// P17 across VMs: M14 hands the first VM's VMID to the second while the first realm
    /// lives; v10 with two VMs keeps them distinct (and each release after REALM_DESTROY),
    /// and closing one VM while the other lives leaves only the other's granules delegated (P1).
    @Test func testVmidsDistinctAcrossVMs() {
        let r = found(.m14VmidNotMarked, bound: 6, Self.twoVMs)
        #expect(r.violation?.message.contains("holds it") == true)
        var ex = Explorer(variant: .v10, only: ["P1", "P9", "P17"], bound: 7)
        Self.twoVMs(&ex)
        let ok = ex.run()
        #expect(ok.violation == nil, Comment(rawValue: ok.violation.map { "\($0) after \(ok.trace)" } ?? ""))
        #expect(ok.covers.contains("P17:distinct") && ok.covers.contains("P17") && ok.covers.contains("P9") && ok.covers.contains("P1"))
    }

    /// P19: M15's pass 2 unmaps a dead realm; v10 with the mm released before the close
    /// (pass 1's unmap, hole punches, its RTT walk, hole punches, the close) never does.
    @Test func testTeardownInterleavings() {
        _ = found(.m15Pass2UnmapsAgain, bound: 4)
        var ex = Explorer(variant: .v10, only: ["P19", "P1", "P3", "P4"], bound: 8)
        ex.releaseBeforeClose = true
        ex.guest = []
        ex.refusals = false
        let ok = ex.run()
        #expect(ok.violation == nil, Comment(rawValue: ok.violation.map { "\($0) after \(ok.trace)" } ?? ""))
        #expect(ok.covers.contains("P19:unmap_after_pass1") && ok.covers.contains("P19:unmap_inside_pass1"))
        #expect(ok.covers.contains("P19") && ok.covers.contains("P1"))
    }

    /// M3 and M5 under the RMM fault model (`--rmm-faults`): found with a trace that
    /// replays against the spec with the fault model, contains an injected fault, and does
    /// not replay against the conforming spec.
    func foundWithFaults(_ bug: HostBug, bound: Int) {
        let variant = HostVariant.mutation(bug)
        let props = Set(HostVariant.expectedProperty(bug))
        var ex = Explorer(variant: variant, only: props, bound: bound)
        ex.rmmFaults = true
        let r = ex.run()
        guard let v = r.violation else {
            Issue.record("\(bug.rawValue) not found under --rmm-faults within \(bound) (\(r.states) states)")
            return
        }
        #expect(props.contains(v.property), Comment(rawValue: "\(bug.rawValue): \(v)"))
        #expect(r.trace.count <= 40)
        var faulty = SpecRMM()
        faulty.faults = true
        let (h, log) = Explorer.replay(r.trace, rmm: faulty, variant: variant)
        #expect(h.violations.contains { $0.property == v.property }, Comment(rawValue: log.joined(separator: "\n")))
        #expect(log.contains { $0.contains("INJECTED RMM FAULT") }, Comment(rawValue: log.joined(separator: "\n")))
        // Without the fault model the same steps do not violate the property.
        let (c, _) = Explorer.replay(r.trace.map { HostTraceStep(op: $0.op) }, rmm: SpecRMM(), variant: variant)
        #expect(!c.violations.contains { $0.property == v.property })
    }

    @Test func testM3FoundUnderRmmFaults() { foundWithFaults(.m3NoErrorOnAuxCount, bound: 5) }
    @Test func testM5FoundUnderRmmFaults() { foundWithFaults(.m5FreeAfterFailedUndelegate, bound: 5) }

    /// Against the conforming spec (no fault model) neither M3 nor M5 is reachable within a
    /// small bound, and the fixed flow tolerates every injected fault within one.
    @Test func testRmmFaultsOnlyWhenAsked() {
        for bug: HostBug in [.m3NoErrorOnAuxCount, .m5FreeAfterFailedUndelegate] {
            let r = Explorer(variant: .mutation(bug), only: Set(HostVariant.expectedProperty(bug)), bound: 4).run()
            #expect(r.violation == nil, Comment(rawValue: "\(bug.rawValue): \(r.violation.map(\.description) ?? "")"))
            #expect(!r.covers.contains("rmm_fault"))
        }
        var ex = Explorer(variant: .fixed, only: ["P1", "P2", "P3", "P8", "P17"], bound: 5)
        ex.rmmFaults = true
        let r = ex.run()
        #expect(r.violation == nil, Comment(rawValue: r.violation.map { "\($0) after \(r.trace)" } ?? ""))
        #expect(r.covers.contains("rmm_fault"))
    }

    /// M2 in the focused environment of docs/kvm-host.md (two vCPUs racing on a fault, no
    /// refusals, teardown or unmaps): the "already exists" path leaks the RTT granule.
    @Test func testM2FoundFocused() {
        var ex = Explorer(variant: .mutation(.m2NoFreeRttOnExists), only: ["P15"], bound: 13)
        ex.guest = [.psciCpuOn, .protectedAbort]
        ex.refusals = false
        ex.teardown = false
        ex.unmaps = false
        let r = ex.run()
        guard let v = r.violation else { Issue.record("M2 not found (\(r.states) states)"); return }
        #expect(v.property == "P15")
        #expect(r.trace.count <= 40)
        let (h, log) = Explorer.replay(r.trace, rmm: SpecRMM(), variant: .mutation(.m2NoFreeRttOnExists))
        #expect(h.violations.contains { $0.property == "P15" }, Comment(rawValue: log.joined(separator: "\n")))
    }

    /// The RTT_FOLD memo changes nothing but the work: the same states, transitions, covers
    /// and verdict with and without it, in an environment with faults and hole punches.
    @Test func testFoldMemoIsTransparent() {
        func search(memo: Bool) -> ExploreResult {
            var ex = Explorer(variant: .fixed, bound: 9)
            ex.guest = [.protectedAbort]
            ex.refusals = false
            ex.teardown = false
            ex.useMemo = memo
            return ex.run()
        }
        let a = search(memo: true), b = search(memo: false)
        #expect(a.memoHits > 0)
        #expect(b.memoHits == 0)
        #expect(a.states == b.states && a.transitions == b.transitions && a.depth == b.depth)
        #expect(a.covers == b.covers)
        #expect(a.violation == b.violation && a.trace == b.trace)
    }

    /// The fixed flow does not violate what each fast mutation violates, at the same bound.
    @Test func testFixedFlowHoldsWhereMutationsFail() {
        let r = Explorer(variant: .fixed, only: ["P2", "P4", "P5", "P8", "P13"], bound: 6).run()
        #expect(r.violation == nil, Comment(rawValue: r.violation.map { "\($0) after \(r.trace)" } ?? ""))
    }

    /// The search against RMMImpl: each node has its own copy of the RMM (a call on a
    /// snapshot leaves the original as it was), a mutation is found with a trace that
    /// replays on RMMImpl, and the fixed flow holds within a small bound.
    @Test func testExploreAgainstBuiltin() throws {
        let a = BuiltinRMM(platform: KVMPlatform.compact)
        var b = a.snapshot()
        _ = try b.call(.granuleDelegate, [KVMLayout.poolBase], realm: nil)
        #expect(a.abstractState()!.granule(KVMLayout.poolBase).state == .undelegated)
        #expect(b.abstractState()!.granule(KVMLayout.poolBase).state == .delegated)

        // The kept abstract state is what RMMImpl's state maps to, after a success and a failure.
        var c = ImplRMM(a.snapshot())
        _ = c.abstractState()
        #expect(try c.call(.granuleDelegate, [KVMLayout.poolBase], realm: nil).status == .success)
        #expect(c.abstractState() == c.impl.abstractState())
        #expect(try c.call(.granuleUndelegate, [KVMLayout.poolBase + KVMLayout.page], realm: nil).status != .success)
        #expect(c.abstractState() == c.impl.abstractState())
        #expect(c.abstractState()!.granule(KVMLayout.poolBase).state == .delegated)

        let m = Explorer(variant: .mutation(.m12RetryBeforeChildren), only: ["P6"], bound: 5).run(on: ImplRMM(a))
        let v = try #require(m.violation)
        #expect(v.property == "P6")
        let (h, log) = Explorer.replay(m.trace, rmm: BuiltinRMM(platform: KVMPlatform.compact), variant: .mutation(.m12RetryBeforeChildren))
        #expect(h.violations.contains { $0.property == "P6" }, Comment(rawValue: log.joined(separator: "\n")))

        var ex = Explorer(variant: .fixed, bound: 5)
        ex.refusals = false
        let ok = ex.run(on: ImplRMM(a))
        #expect(ok.violation == nil, Comment(rawValue: ok.violation.map { "\($0) after \(ok.trace)" } ?? ""))
        #expect(ok.states > 20 && ok.covers.contains("P8") && ok.covers.contains("P1"))
        #expect(a.abstractState()!.delegatedGranules.isEmpty)
    }

    /// Trace lines round-trip.
    @Test func testTraceLines() {
        for op in Self.happyPath + [.releaseMM, .releaseMMContinue, .onVM(1, .createRealm), .onVM(1, .finalizeVcpu(0))] {
            let s = HostTraceStep(op: op, script: [0, 1])
            #expect(HostTraceStep(line: s.line) == s)
        }
        #expect(HostTraceStep(line: "vm1 create_vm")?.op == .onVM(1, .createVM))
        #expect(HostTraceStep(line: "vm9 create_vm") == nil)
    }
}
