import Testing
@testable import RMISpec

// REC_CREATE, REC_DESTROY, REC_ENTER (with the Realm's actions and `rec_exit`) and
// PSCI_COMPLETE. Every failure label is reached by a trace built from the initial state.

// MARK: Fixtures

/// A Realm with RECs of indices 0, 1, ... (runnable as given), an NS page for RmiRecRun.
private struct Fixture {
    var s: Scenario
    var realm: Scenario.RealmHandle
    var recs: [UInt64] = []
    var aux: [[UInt64]] = []
    var run: UInt64 = 0

    init(runnable: [Bool] = [true], activate: Bool = true, platform: Platform = .standard, vmid: UInt64 = 1) {
        s = Scenario(platform: platform)
        let (realm, r) = s.createRealm(vmid: vmid)
        expectSuccess(r)
        self.realm = realm
        for (i, rn) in runnable.enumerated() {
            let c = s.createRec(realm, mpidr: UInt64(i), runnable: rn, pc: 0x8_0000)
            expectSuccess(c.result)
            recs.append(c.rec)
            aux.append(c.aux)
        }
        if activate { expectSuccess(s.call(.realmActivate, realm.rd)) }
        run = s.granule()
        s.write(.recRun(at: run, RecEnterValues()))
    }

    @discardableResult
    mutating func enter(_ rec: UInt64, _ kind: RealmActionKind = .irq, _ args: [UInt64] = [],
                        flags: UInt64 = 0) -> StepResult {
        s.write(.recRun(at: run, RecEnterValues(flags: flags)))
        return s.call(.recEnter, rec, run, realm: RealmActionValue(kind, args))
    }

    func field(_ rec: UInt64, _ f: RecField) -> UInt64 { s.state.rec(CWord(rec), f).value }
    func realmField(_ f: RealmField) -> UInt64 { s.state.realm(CWord(realm.rd), f).value }
    func exit(_ name: String, run: UInt64? = nil) -> UInt64 {
        s.state.nsRead(CWord((run ?? self.run) + ExitRecord.offset(of: name)!)).value
    }
    func granuleState(_ a: UInt64) -> GranuleState { s.state.granule(a).state }
}

/// A NEW Realm, a delegated REC Granule and aux Granules, and an NS page for RmiRecParams.
private struct CreateFixture {
    var s: Scenario
    var realm: Scenario.RealmHandle
    var rec: UInt64
    var aux: [UInt64]
    var params: UInt64

    init(platform: Platform = .standard) {
        var s = Scenario(platform: platform)
        realm = s.createRealm().0
        aux = (0..<Int(platform.recAuxCount)).map { _ in s.granule() }
        rec = s.granule()
        params = s.granule()
        s.delegate(aux + [rec])
        self.s = s
    }

    var values: RecParamsValues { RecParamsValues(mpidr: 0, aux: aux) }

    @discardableResult
    mutating func create(rd: UInt64? = nil, rec: UInt64? = nil, params: UInt64? = nil,
                         _ change: (inout RecParamsValues) -> Void = { _ in }) -> StepResult {
        var p = values
        change(&p)
        s.write(.recParams(at: self.params, p))
        return s.call(.recCreate, rd ?? realm.rd, rec ?? self.rec, params ?? self.params)
    }
}

private let nonDelegable: UInt64 = 0x1000
private let runningState = RecState.running.rawValue

/// The standard platform with MAX_RECS_ORDER = 1 (one REC per Realm).
private var oneRecPlatform: Platform {
    var p = Platform.standard
    var f = p.features
    f.maxRecsOrder = 1
    p.features0 = f.encoded
    return p
}

/// REC 0 has asked PSCI_CPU_ON for REC 1 (not runnable); REC 2 (if any) is runnable.
private func cpuOnPending(recs: Int = 2) -> Fixture {
    var f = Fixture(runnable: [true, false] + Array(repeating: true, count: recs - 2))
    expectSuccess(f.enter(f.recs[0], .psciCpuOn, [1, 0x2000, 0x42]))
    #expect(f.exit("exit_reason") == ExitReason.psci.rawValue)
    #expect(f.field(f.recs[0], .psciPending) == 1)
    return f
}

// MARK: Label cases

/// Label cases of REC_CREATE, REC_DESTROY, REC_ENTER and PSCI_COMPLETE: one trace per label.
enum RecLabelCases {
    static var cases: [LabelCase] {
        var c: [LabelCase] = []

        // REC_CREATE: a NEW Realm and a valid call, with one thing broken.
        func create(_ label: String, _ status: Status = .errorInput, _ call: @escaping @Sendable (inout CreateFixture) -> Void) {
            c.append(LabelCase(.recCreate, label, status) { var f = CreateFixture(); call(&f); return f.s })
        }
        create("params_align") { f in f.create(params: f.params + 8) }
        create("params_bound") { f in
            f.s.write(.recParams(at: nonDelegable, f.values))
            f.s.call(.recCreate, f.realm.rd, f.rec, nonDelegable)
        }
        create("params_pas") { f in f.s.setGPT(f.params, .secure); f.create() }
        create("rec_align") { f in f.create(rec: f.rec + 8) }
        create("rec_bound") { f in f.create(rec: nonDelegable) }
        create("rec_state") { f in let undelegated = f.s.granule(); f.create(rec: undelegated) }
        create("rd_align") { f in f.create(rd: f.realm.rd + 8) }
        create("rd_bound") { f in f.create(rd: nonDelegable) }
        create("rd_state") { f in let notRd = f.s.granule(); f.s.delegate(notRd); f.create(rd: notRd) }
        create("realm_state", .errorRealm) { f in f.s.call(.realmActivate, f.realm.rd); f.create() }
        c.append(LabelCase(.recCreate, "num_recs", .errorRealm) {
            var s = Scenario(platform: oneRecPlatform)
            let (realm, _) = s.createRealm()
            s.createRec(realm, mpidr: 0)
            s.createRec(realm, mpidr: 1)
            return s
        })
        create("mpidr_index") { f in f.create { $0.mpidr = 1 } }
        create("num_aux") { f in f.create { $0.numAux = 1 } }
        create("aux_align") { f in f.create { $0.aux[1] += 8 } }
        create("aux_alias") { f in f.create { $0.aux[1] = $0.aux[0] } }
        create("aux_state") { f in let undelegated = f.s.granule(); f.create { $0.aux[1] = undelegated } }

        // REC_DESTROY and REC_ENTER: an ACTIVE Realm with RECs (runnable as given).
        func run(_ command: RMICommand, _ label: String, _ status: Status = .errorInput, index: UInt64 = 0,
                 runnable: [Bool] = [true], activate: Bool = true, _ call: @escaping @Sendable (inout Fixture) -> Void) {
            c.append(LabelCase(command, label, status, index: index) {
                var f = Fixture(runnable: runnable, activate: activate)
                call(&f)
                return f.s
            })
        }
        run(.recDestroy, "rec_align") { f in f.s.call(.recDestroy, f.recs[0] + 8) }
        run(.recDestroy, "rec_bound") { f in f.s.call(.recDestroy, nonDelegable) }
        run(.recDestroy, "rec_gran_state") { f in f.s.call(.recDestroy, f.aux[0][0]) }
        run(.recDestroy, "rec_state", .errorRec) { f in
            f.enter(f.recs[0], .stayRunning)
            f.s.call(.recDestroy, f.recs[0])
        }

        run(.recEnter, "run_align") { f in f.s.call(.recEnter, f.recs[0], f.run + 8) }
        run(.recEnter, "run_bound") { f in f.s.call(.recEnter, f.recs[0], nonDelegable) }
        run(.recEnter, "run_pas") { f in f.s.setGPT(f.run, .secure); f.enter(f.recs[0]) }
        run(.recEnter, "rec_align") { f in f.enter(f.recs[0] + 8) }
        run(.recEnter, "rec_bound") { f in f.enter(nonDelegable) }
        run(.recEnter, "rec_gran_state") { f in f.enter(f.aux[0][1]) }
        run(.recEnter, "realm_new", .errorRealm, activate: false) { f in f.enter(f.recs[0]) }
        run(.recEnter, "system_off", .errorRealm, index: 1, runnable: [true, true]) { f in
            f.enter(f.recs[0], .psciSystemOff)
            f.enter(f.recs[0])
        }
        run(.recEnter, "rec_state", .errorRec) { f in
            f.enter(f.recs[0], .stayRunning)
            f.enter(f.recs[0])
        }
        run(.recEnter, "rec_runnable", .errorRec, runnable: [true, false]) { f in f.enter(f.recs[1]) }
        // No exit yet, so no Emulatable Data Abort.
        run(.recEnter, "rec_mmio", .errorRec) { f in f.enter(f.recs[0], flags: RecRunLayout.flagEmulMmio) }
        run(.recEnter, "rec_gicv3", .errorRec) { f in
            var e = RecEnterValues()
            e.gicv3Hcr = 1  // ICH_HCR_EL2.En is the RMM's, not the Host's
            f.s.write(.recRun(at: f.run, e))
            f.s.call(.recEnter, f.recs[0], f.run)
        }
        run(.recEnter, "rec_psci", .errorRec, runnable: [true, false]) { f in
            f.enter(f.recs[0], .psciCpuOn, [1, 0x1000, 0])
            f.enter(f.recs[0])
        }

        // PSCI_COMPLETE: REC 0 has asked PSCI_CPU_ON for REC 1.
        func psci(_ label: String, recs: Int = 2, _ call: @escaping @Sendable (inout Fixture) -> Void) {
            c.append(LabelCase(.psciComplete, label, .errorInput) { var f = cpuOnPending(recs: recs); call(&f); return f.s })
        }
        psci("alias") { f in f.s.call(.psciComplete, f.recs[0], f.recs[0], PSCI.success) }
        psci("calling_align") { f in f.s.call(.psciComplete, f.recs[0] + 8, f.recs[1], PSCI.success) }
        psci("calling_bound") { f in f.s.call(.psciComplete, nonDelegable, f.recs[1], PSCI.success) }
        psci("calling_state") { f in f.s.call(.psciComplete, f.aux[0][0], f.recs[1], PSCI.success) }
        psci("target_align") { f in f.s.call(.psciComplete, f.recs[0], f.recs[1] + 8, PSCI.success) }
        psci("target_bound") { f in f.s.call(.psciComplete, f.recs[0], nonDelegable, PSCI.success) }
        psci("target_state") { f in f.s.call(.psciComplete, f.recs[0], f.aux[1][0], PSCI.success) }
        psci("pending") { f in f.s.call(.psciComplete, f.recs[1], f.recs[0], PSCI.success) }
        // A second Realm with its own REC of index 1 (its REC 0 is runnable, REC 1 is not).
        psci("owner") { f in
            let (other, _) = f.s.createRealm(vmid: 2)
            f.s.createRec(other, mpidr: 0)
            let foreign = f.s.createRec(other, mpidr: 1, runnable: false)
            f.s.call(.psciComplete, f.recs[0], foreign.rec, PSCI.success)
        }
        psci("target", recs: 3) { f in f.s.call(.psciComplete, f.recs[0], f.recs[2], PSCI.success) }
        psci("status") { f in f.s.call(.psciComplete, f.recs[0], f.recs[1], PSCI.notSupported) }
        return c
    }

    /// The case of `label` of `command`.
    static func named(_ command: RMICommand, _ label: String) -> LabelCase? {
        cases.first { $0.command == command && $0.label == label }
    }
}

// MARK: Tests

@Suite struct RecCommandTests {
    @Test func conditionListsFollowTheReference() {
        #expect(RMISpec.conditions(of: .recCreate).map(\.label) == [
            "params_align", "params_bound", "params_pas", "rec_align", "rec_bound", "rec_state",
            "rd_align", "rd_bound", "rd_state", "realm_state", "num_recs", "mpidr_index", "num_aux",
            "aux_align", "aux_alias", "aux_state"])
        #expect(RMISpec.conditions(of: .recDestroy).map(\.label) == [
            "rec_align", "rec_bound", "rec_gran_state", "rec_state"])
        #expect(RMISpec.conditions(of: .recEnter).map(\.label) == [
            "run_align", "run_bound", "run_pas", "rec_align", "rec_bound", "rec_gran_state", "realm_new",
            "system_off", "rec_state", "rec_runnable", "rec_mmio", "rec_gicv3", "rec_psci"])
        #expect(RMISpec.conditions(of: .psciComplete).map(\.label) == [
            "alias", "calling_align", "calling_bound", "calling_state", "target_align", "target_bound",
            "target_state", "pending", "owner", "target", "status"])
        for cmd in [RMICommand.recCreate, .recDestroy, .recEnter, .psciComplete] {
            let listed = RMISpec.conditions(of: cmd).allSatisfy { $0.listed }
            #expect(listed)
        }
    }

    // MARK: Label cases (RecLabelCases): what the label tests checked besides the hit

    /// The result of the call under test of a case.
    private func result(_ command: RMICommand, _ label: String) -> StepResult? {
        guard let c = RecLabelCases.named(command, label) else {
            Issue.record("no case \(command.rawValue) \(label)"); return nil
        }
        return lastCall(of: c)?.result
    }

    @Test func labelCasesWhereNoOtherConditionFails() {
        let only: [(RMICommand, String)] = [
            (.recCreate, "num_recs"), (.recCreate, "aux_alias"), (.recCreate, "aux_state"),
            (.recEnter, "realm_new"), (.recEnter, "rec_state"), (.recEnter, "rec_gicv3"),
            (.psciComplete, "pending"), (.psciComplete, "owner"), (.psciComplete, "target")]
        for (command, label) in only {
            #expect(result(command, label)?.failing == [label], "\(command.rawValue) \(label)")
        }
    }

    @Test func recDestroyOfARunningRecLeavesItARec() throws {
        let c = try #require(RecLabelCases.named(.recDestroy, "rec_state"))
        guard case .call(let call)? = c.build().trace.steps.last else { Issue.record("no call"); return }
        let r = try #require(lastCall(of: c)).result
        #expect(r.next.granule(call.args[0]).state == .rec)
    }

    // MARK: REC_CREATE

    @Test func recCreateMpidrIndexOfAff1() {
        // aff1 = 1 is index 16, not 0 either.
        var f = CreateFixture()
        expectHit(f.create { $0.mpidr = 0x100 }, .errorInput, label: "mpidr_index")
    }

    @Test func recCreateNumAuxOn64Bits() {
        // The full 64-bit value counts: 2^32 + 2 is not 2 (TF-RMM would truncate it).
        var f = CreateFixture()
        let r = f.create { $0.numAux = (1 << 32) + 2 }
        expectHit(r, .errorInput, label: "num_aux")
        #expect(r.failing == ["num_aux"])
    }

    @Test func recCreateAuxAliasOfTheRec() {
        var f = CreateFixture()
        let rec = f.rec
        let isRec = f.create { $0.aux[0] = rec }
        expectHit(isRec, .errorInput, label: "aux_alias")
        #expect(isRec.failing == ["aux_alias"])
    }

    @Test func recCreateAuxStateOfANonDelegableAux() {
        var f = CreateFixture()
        expectHit(f.create { $0.aux[0] = nonDelegable }, .errorInput, label: "aux_state")
    }

    @Test func recCreateSuccess() {
        var f = CreateFixture()
        let rimBefore = f.s.state.realm(CWord(f.realm.rd), .rim).value
        let r = f.create { $0.pc = 0x4000; $0.gprs[0] = 0xAA; $0.gprs[7] = 0x77 }
        expectSuccess(r)
        let st = f.s.state
        #expect(st.granule(f.rec).state == .rec)
        #expect(f.aux.allSatisfy { st.granule($0).state == .recAux })
        func rec(_ x: RecField) -> UInt64 { st.rec(CWord(f.rec), x).value }
        #expect(rec(.owner) == f.realm.rd)
        #expect(rec(.state) == RecState.ready.rawValue)
        #expect(rec(.runnable) == 1)
        #expect(rec(.pc) == 0x4000 && rec(.gpr(0)) == 0xAA && rec(.gpr(7)) == 0x77 && rec(.gpr(8)) == 0)
        #expect(rec(.aux(0)) == f.aux[0] && rec(.aux(1)) == f.aux[1] && rec(.aux(2)) == 0)
        #expect(rec(.lastExit) == 0 && rec(.psciPending) == 0 && rec(.ripasTop) == 0)
        #expect(st.realm(CWord(f.realm.rd), .recIndex).value == 1)
        #expect(st.realm(CWord(f.realm.rd), .numRecs).value == 1)
        // A runnable REC is measured into the RIM, a non-runnable one is not.
        let rimAfter = st.realm(CWord(f.realm.rd), .rim).value
        #expect(rimAfter != rimBefore)
        let second = f.s.createRec(f.realm, mpidr: 1, runnable: false)
        expectSuccess(second.result)
        #expect(f.s.state.realm(CWord(f.realm.rd), .rim).value == rimAfter)
        #expect(f.s.state.realm(CWord(f.realm.rd), .recIndex).value == 2)
    }

    // MARK: REC_DESTROY

    @Test func recDestroyOfAnRd() {
        var f = Fixture()
        expectHit(f.s.call(.recDestroy, f.realm.rd), .errorInput, label: "rec_gran_state")
    }

    @Test func recDestroyReturnsAuxGranules() {
        var f = Fixture(runnable: [true, false])
        expectSuccess(f.s.call(.recDestroy, f.recs[1]))
        #expect(f.granuleState(f.recs[1]) == .delegated)
        #expect(f.aux[1].allSatisfy { f.granuleState($0) == .delegated })
        #expect(f.aux[0].allSatisfy { f.granuleState($0) == .recAux })
        #expect(f.realmField(.numRecs) == 1)
        #expect(f.realmField(.recIndex) == 2)
        // The REC is gone.
        expectHit(f.s.call(.recDestroy, f.recs[1]), .errorInput, label: "rec_gran_state")
    }

    // MARK: REC_ENTER failures

    @Test func recEnterRunPasOfADelegatedPage() {
        // A delegated page is not NS-accessible either.
        var f = Fixture()
        let delegated = f.s.granule()
        f.s.delegate(delegated)
        expectHit(f.s.call(.recEnter, f.recs[0], delegated), .errorInput, label: "run_pas")
    }

    @Test func recEnterSystemOffForEveryRec() {
        var f = Fixture(runnable: [true, true])
        expectSuccess(f.enter(f.recs[0], .psciSystemOff))
        expectHit(f.enter(f.recs[1]), .errorRealm, 1, label: "system_off")
    }

    @Test func recEnterRecMmioAfterANonEmulatableAbort() {
        var f = Fixture()
        let unprotected: UInt64 = 1 << 39
        expectSuccess(f.enter(f.recs[0], .mmioAbort, [unprotected, 0]))
        #expect(f.exit("exit_reason") == ExitReason.sync.rawValue)
        expectHit(f.enter(f.recs[0], flags: RecRunLayout.flagEmulMmio), .errorRec, 0, label: "rec_mmio")
    }

    @Test func gicv3ConfigValidity() {
        let m = SpecState()
        func valid(hcr: UInt64 = 0, _ lrs: [UInt64]) -> Bool {
            m.gicv3ConfigIsValid(hcr: CWord(hcr), lrs: lrs.map { CWord($0) }).value
        }
        let pending: UInt64 = 1 << 62, active: UInt64 = 2 << 62
        #expect(m.gicv3ImplementedLrs == 16)
        #expect(valid([]))
        #expect(valid(hcr: RecExitEncoding.gicHcrHostBits, []))
        #expect(!valid(hcr: 1 << 10, []))  // TC
        #expect(valid([pending | 27, active | 1019, pending | 8192 | 0xA0 << 48 | 1 << 41]))
        #expect(!valid([pending | 27 | 1 << 61]))  // HW
        #expect(!valid([pending | 1020]))  // reserved INTID
        #expect(!valid([pending | 0x10000]))  // beyond 16 INTID bits
        #expect(!valid([pending | 27 | 1 << 48]))  // RES0 priority bit
        #expect(!valid([pending | 27 | 5 << 32]))  // pINTID
        #expect(!valid([pending | 27, 0, 0, active | 27]))  // same vINTID twice
        #expect(valid([pending | 27, 27, 1 << 61]))  // Invalid LRs are not checked
    }

    // MARK: PSCI_COMPLETE

    @Test func psciCompleteTwice() {
        // Completing twice: the second finds no request.
        var f = cpuOnPending()
        expectSuccess(f.s.call(.psciComplete, f.recs[0], f.recs[1], PSCI.success))
        expectHit(f.s.call(.psciComplete, f.recs[0], f.recs[1], PSCI.success), .errorInput, label: "pending")
    }

    @Test func psciCompleteStatusDenied() {
        // DENIED is only for a CPU_ON whose target is off ...
        var g = Fixture(runnable: [true, true])
        expectSuccess(g.enter(g.recs[0], .psciCpuOn, [1, 0x2000, 0]))
        expectHit(g.s.call(.psciComplete, g.recs[0], g.recs[1], PSCI.denied), .errorInput, label: "status")
        #expect(g.field(g.recs[0], .psciPending) == 1)
        // ... never for AFFINITY_INFO.
        var h = Fixture(runnable: [true, false])
        expectSuccess(h.enter(h.recs[0], .psciAffinityInfo, [1, 0]))
        expectHit(h.s.call(.psciComplete, h.recs[0], h.recs[1], PSCI.denied), .errorInput, label: "status")
    }

    // MARK: Success paths

    @Test func runLoopWithIrq() {
        var f = Fixture()
        let r = f.enter(f.recs[0], .irq)
        expectSuccess(r)
        #expect(r.runPtr == f.run)
        #expect(f.exit("exit_reason") == ExitReason.irq.rawValue)
        #expect(f.field(f.recs[0], .state) == RecState.ready.rawValue)
        #expect(f.field(f.recs[0], .lastExit) == ExitReason.irq.rawValue + 1)
        for kind in [RealmActionKind.fiq, .serror, .wfi, .irq] {
            expectSuccess(f.enter(f.recs[0], kind))
        }
        #expect(f.exit("exit_reason") == ExitReason.irq.rawValue)
        #expect(f.s.trace.steps.count > 0)
    }

    @Test func exitReasonsOfSimpleActions() {
        var f = Fixture()
        let cases: [(RealmActionKind, ExitReason, UInt64)] = [
            (.fiq, .fiq, 0), (.serror, .serror, 0), (.wfi, .sync, RecExitEncoding.esrWfx)]
        for (kind, reason, esr) in cases {
            expectSuccess(f.enter(f.recs[0], kind))
            #expect(f.exit("exit_reason") == reason.rawValue)
            #expect(f.exit("esr") == esr)
        }
    }

    @Test func cpuOnThenPsciCompleteStartsTheTarget() {
        var f = cpuOnPending()
        #expect(f.exit("gprs0") == PSCI.cpuOn)
        #expect(f.exit("gprs1") == 1 && f.exit("gprs2") == 0x2000 && f.exit("gprs3") == 0x42)
        expectHit(f.enter(f.recs[1]), .errorRec, 0, label: "rec_runnable")
        expectSuccess(f.s.call(.psciComplete, f.recs[0], f.recs[1], PSCI.success))
        #expect(f.field(f.recs[1], .runnable) == 1)
        #expect(f.field(f.recs[1], .pc) == 0x2000)
        #expect(f.field(f.recs[1], .gpr(0)) == 0x42)
        #expect(f.field(f.recs[0], .gpr(0)) == PSCI.success)
        #expect((1...3).allSatisfy { f.field(f.recs[0], .gpr($0)) == 0 })
        #expect(f.field(f.recs[0], .psciPending) == 0)
        expectSuccess(f.enter(f.recs[1]))
        expectSuccess(f.enter(f.recs[0]))
    }

    @Test func cpuOnOfARunningTargetAnswersAlreadyOn() {
        var f = Fixture(runnable: [true, true])
        expectSuccess(f.enter(f.recs[0], .psciCpuOn, [1, 0x2000, 0x42]))
        expectSuccess(f.s.call(.psciComplete, f.recs[0], f.recs[1], PSCI.success))
        #expect(f.field(f.recs[0], .gpr(0)) == PSCI.alreadyOn)
        #expect(f.field(f.recs[1], .pc) == 0x8_0000)
    }

    @Test func cpuOnDenied() {
        var f = cpuOnPending()
        expectSuccess(f.s.call(.psciComplete, f.recs[0], f.recs[1], PSCI.denied))
        #expect(f.field(f.recs[0], .gpr(0)) == PSCI.denied)
        #expect(f.field(f.recs[1], .runnable) == 0)
        expectHit(f.enter(f.recs[1]), .errorRec, 0, label: "rec_runnable")
    }

    @Test func affinityInfoReportsOnAndOff() {
        var f = Fixture(runnable: [true, false, true])
        expectSuccess(f.enter(f.recs[0], .psciAffinityInfo, [1, 0]))
        #expect(f.exit("gprs0") == PSCI.affinityInfo && f.exit("gprs1") == 1)
        expectSuccess(f.s.call(.psciComplete, f.recs[0], f.recs[1], PSCI.success))
        #expect(f.field(f.recs[0], .gpr(0)) == PSCI.off)
        expectSuccess(f.enter(f.recs[0], .psciAffinityInfo, [2, 0]))
        expectSuccess(f.s.call(.psciComplete, f.recs[0], f.recs[2], PSCI.success))
        #expect(f.field(f.recs[0], .gpr(0)) == PSCI.success)
    }

    @Test func psciRequestsTheRmmAnswersItself() {
        var f = Fixture(runnable: [true, false])
        let cases: [(RealmActionKind, [UInt64], UInt64)] = [
            (.psciCpuOn, [0, 0x2000, 0], PSCI.alreadyOn),            // itself
            (.psciCpuOn, [2, 0x2000, 0], PSCI.invalidParameters),    // index >= rec_index
            (.psciCpuOn, [1, 1 << 39, 0], PSCI.invalidAddress),      // unprotected entry point
            (.psciAffinityInfo, [0, 0], PSCI.success),               // itself: ON
            (.psciAffinityInfo, [1, 1], PSCI.invalidParameters),     // lowest level != 0
            (.psciAffinityInfo, [5, 0], PSCI.invalidParameters),     // no such REC
        ]
        for (kind, args, answer) in cases {
            expectSuccess(f.enter(f.recs[0], kind, args))
            #expect(f.exit("exit_reason") == ExitReason.irq.rawValue, "\(kind) \(args)")
            #expect(f.field(f.recs[0], .gpr(0)) == answer, "\(kind) \(args)")
            #expect(f.field(f.recs[0], .psciPending) == 0)
        }
    }

    @Test func cpuOffAndSuspend() {
        var f = Fixture(runnable: [true, true])
        expectSuccess(f.enter(f.recs[1], .psciCpuSuspend))
        #expect(f.exit("exit_reason") == ExitReason.psci.rawValue && f.exit("gprs0") == PSCI.cpuSuspend)
        #expect(f.field(f.recs[1], .runnable) == 1)
        expectSuccess(f.enter(f.recs[1], .psciCpuOff))
        #expect(f.exit("exit_reason") == ExitReason.psci.rawValue && f.exit("gprs0") == PSCI.cpuOff)
        #expect(f.field(f.recs[1], .runnable) == 0)
        expectHit(f.enter(f.recs[1]), .errorRec, 0, label: "rec_runnable")
        // It can be switched on again.
        expectSuccess(f.enter(f.recs[0], .psciCpuOn, [1, 0x3000, 7]))
        expectSuccess(f.s.call(.psciComplete, f.recs[0], f.recs[1], PSCI.success))
        expectSuccess(f.enter(f.recs[1]))
    }

    @Test func systemOffAndReset() {
        for kind in [RealmActionKind.psciSystemOff, .psciSystemReset] {
            var f = Fixture(runnable: [true, true])
            expectSuccess(f.enter(f.recs[1], kind))
            #expect(f.exit("exit_reason") == ExitReason.psci.rawValue)
            #expect(f.exit("gprs0") == (kind == .psciSystemOff ? PSCI.systemOff : PSCI.systemReset))
            #expect(f.realmField(.state) == RealmState.systemOff.rawValue)
            expectHit(f.enter(f.recs[0]), .errorRealm, 1, label: "system_off")
            // Tear-down still works in SYSTEM_OFF.
            expectSuccess(f.s.call(.recDestroy, f.recs[0]))
        }
    }

    @Test func ripasChangeRequest() {
        var f = Fixture()
        let base: UInt64 = 0x1000_0000, top: UInt64 = 0x1000_4000
        expectSuccess(f.enter(f.recs[0], .ripasChange, [base, top, Ripas.ram.rawValue, 1]))
        #expect(f.exit("exit_reason") == ExitReason.ripasChange.rawValue)
        #expect(f.exit("ripas_base") == base && f.exit("ripas_top") == top)
        #expect(f.exit("ripas_value") == Ripas.ram.rawValue)
        #expect(f.field(f.recs[0], .ripasAddr) == base && f.field(f.recs[0], .ripasTop) == top)
        #expect(f.field(f.recs[0], .ripasValue) == Ripas.ram.rawValue)
        #expect(f.field(f.recs[0], .ripasDestroyed) == 1)
        // A failing REC_ENTER leaves the request open.
        expectHit(f.enter(f.recs[0], flags: RecRunLayout.flagEmulMmio), .errorRec, 0, label: "rec_mmio")
        #expect(f.field(f.recs[0], .ripasTop) == top)
        // Re-entering with REJECT: the Realm gets RSI_SUCCESS, the current address and REJECT
        // (nothing was changed, so the request is not finished); the next exit closes it.
        expectSuccess(f.enter(f.recs[0], .irq, flags: RecRunLayout.flagRipasReject))
        #expect(f.field(f.recs[0], .gpr(0)) == RecExitEncoding.rsiSuccess)
        #expect(f.field(f.recs[0], .gpr(1)) == base)
        #expect(f.field(f.recs[0], .gpr(2)) == RecExitEncoding.rsiReject)
        #expect(f.field(f.recs[0], .ripasResponse) == 1)
        #expect(f.field(f.recs[0], .ripasAddr) == 0 && f.field(f.recs[0], .ripasTop) == 0)
        #expect(f.exit("ripas_top") == 0)
    }

    @Test func ripasChangeAcceptedAndInvalidRequests() {
        var f = Fixture()
        expectSuccess(f.enter(f.recs[0], .ripasChange, [0x2000, 0x3000, Ripas.empty.rawValue, 0]))
        expectSuccess(f.enter(f.recs[0], .irq, flags: RecRunLayout.flagRipasReject))
        // EMPTY requests are always accepted.
        #expect(f.field(f.recs[0], .gpr(2)) == RecExitEncoding.rsiAccept)
        let par: UInt64 = 1 << 39
        let invalid: [[UInt64]] = [
            [0x3000, 0x2000, 1, 0],       // base > top
            [0x2000, 0x2000, 1, 0],       // empty range
            [0x2800, 0x3000, 1, 0],       // base unaligned
            [0x2000, 0x3800, 1, 0],       // top unaligned
            [par - 0x1000, par + 0x1000, 1, 0],  // leaves PAR
            [0x2000, 0x3000, 2, 0],       // DESTROYED cannot be requested
        ]
        for args in invalid {
            expectSuccess(f.enter(f.recs[0], .ripasChange, args))
            #expect(f.exit("exit_reason") == ExitReason.irq.rawValue, "\(args)")
            #expect(f.field(f.recs[0], .gpr(0)) == RecExitEncoding.rsiErrorInput)
            #expect(f.field(f.recs[0], .ripasTop) == 0)
        }
        expectSuccess(f.enter(f.recs[0], .ripasChange, [par - 0x1000, par, 1, 0]))
        #expect(f.exit("exit_reason") == ExitReason.ripasChange.rawValue)
    }

    @Test func hostCall() {
        var f = Fixture()
        expectSuccess(f.enter(f.recs[0], .hostCall, [0x1_2345]))
        #expect(f.exit("exit_reason") == ExitReason.hostCall.rawValue)
        #expect(f.exit("imm") == 0x2345)
        #expect(f.field(f.recs[0], .hostCallPending) == 1)
        expectSuccess(f.enter(f.recs[0]))
        #expect(f.field(f.recs[0], .hostCallPending) == 0)
    }

    @Test func emulatableMmioAbort() {
        var f = Fixture()
        let ipa: UInt64 = (1 << 39) + 0x5000
        expectSuccess(f.enter(f.recs[0], .mmioAbort, [ipa, 1]))
        #expect(f.exit("exit_reason") == ExitReason.sync.rawValue)
        #expect(f.exit("esr") == RecExitEncoding.esrDataAbort | RecExitEncoding.esrIsv)
        #expect(f.exit("hpfar") == ipa >> 8)
        #expect(f.field(f.recs[0], .emulatableAbort) == 1)
        expectSuccess(f.enter(f.recs[0], .irq, flags: RecRunLayout.flagEmulMmio))
        #expect(f.field(f.recs[0], .emulatableAbort) == 0)
        expectHit(f.enter(f.recs[0], flags: RecRunLayout.flagEmulMmio), .errorRec, 0, label: "rec_mmio")
        // An "MMIO" abort at a Protected IPA or outside the IPA space does not reach the Host.
        for bad in [UInt64(0x5000), 1 << 40] {
            expectSuccess(f.enter(f.recs[0], .mmioAbort, [bad, 1]))
            #expect(f.exit("exit_reason") == ExitReason.irq.rawValue)
            #expect(f.field(f.recs[0], .emulatableAbort) == 0)
        }
    }

    @Test func protectedAbortAtEmptyIsNotReported() {
        var f = Fixture()
        // Fresh Realm: every Protected IPA is UNASSIGNED with RIPAS EMPTY, which the RMM
        // reflects to the Realm as an SEA.
        expectSuccess(f.enter(f.recs[0], .protectedAbort, [0x5000]))
        #expect(f.exit("exit_reason") == ExitReason.irq.rawValue)
    }

    @Test func stayRunningThenRecExit() {
        var f = Fixture(runnable: [true, false])
        let r = f.enter(f.recs[0], .stayRunning)
        expectSuccess(r)
        #expect(f.field(f.recs[0], .state) == runningState)
        #expect(f.field(f.recs[0], .runPtr) == f.run)
        #expect(f.field(f.recs[0], .lastExit) == 0)
        // While it runs, another CPU's calls see it RUNNING.
        expectHit(f.s.call(.recDestroy, f.recs[0]), .errorRec, 0, label: "rec_state")
        let other = f.s.granule()
        let x = f.s.recExit(rec: f.recs[0], realm: RealmActionValue(.psciCpuOn, [1, 0x2000, 9]))
        expectSuccess(x)
        #expect(x.runPtr == f.run)
        #expect(f.exit("exit_reason") == ExitReason.psci.rawValue)
        #expect(f.field(f.recs[0], .state) == RecState.ready.rawValue)
        #expect(f.field(f.recs[0], .runPtr) == 0)
        #expect(f.field(f.recs[0], .psciPending) == 1)
        expectSuccess(f.s.call(.psciComplete, f.recs[0], f.recs[1], PSCI.success))
        // A rec_exit for a REC that is not running is malformed.
        let y = f.s.recExit(rec: f.recs[0], realm: RealmActionValue(.irq))
        expectHit(y, .errorInput, label: "rec_exit_not_running")
        #expect(y.runPtr == nil)
        expectHit(f.s.recExit(rec: other, realm: RealmActionValue(.irq)), .errorInput, label: "rec_exit_not_running")
        expectSuccess(f.enter(f.recs[1], .stayRunning))
        expectHit(f.s.recExit(rec: f.recs[1], realm: RealmActionValue(.stayRunning)), .errorInput,
                  label: "rec_exit_stays_running")
        expectSuccess(f.s.recExit(rec: f.recs[1], realm: RealmActionValue(.hostCall, [5])))
        #expect(f.exit("imm") == 5)
    }

    @Test func stayRunningKeepsARipasRequestOpenUntilTheExit() {
        var f = Fixture()
        expectSuccess(f.enter(f.recs[0], .ripasChange, [0x2000, 0x4000, 1, 0]))
        expectSuccess(f.enter(f.recs[0], .stayRunning))
        #expect(f.field(f.recs[0], .ripasTop) == 0x4000)
        #expect(f.field(f.recs[0], .gpr(0)) == RecExitEncoding.rsiSuccess)
        #expect(f.field(f.recs[0], .gpr(2)) == RecExitEncoding.rsiAccept)
        expectSuccess(f.s.recExit(rec: f.recs[0], realm: RealmActionValue(.irq)))
        #expect(f.field(f.recs[0], .ripasTop) == 0)
    }

    @Test func twoRecsRunAtOnce() {
        var f = Fixture(runnable: [true, true])
        let run2 = f.s.granule()
        expectSuccess(f.enter(f.recs[0], .stayRunning))
        expectSuccess(f.s.call(.recEnter, f.recs[1], run2, realm: RealmActionValue(.stayRunning)))
        // REC 1 switches the Realm off while REC 0 still runs; REC 0 exits later.
        expectSuccess(f.s.recExit(rec: f.recs[1], realm: RealmActionValue(.psciSystemOff)))
        #expect(f.exit("exit_reason", run: run2) == ExitReason.psci.rawValue)
        expectSuccess(f.s.recExit(rec: f.recs[0], realm: RealmActionValue(.wfi)))
        #expect(f.exit("exit_reason") == ExitReason.sync.rawValue)
        expectHit(f.enter(f.recs[0]), .errorRealm, 1, label: "system_off")
    }

    @Test func fullTeardownReturnsEverything() {
        var f = Fixture(runnable: [true, false, true])
        expectSuccess(f.enter(f.recs[0], .psciCpuOn, [1, 0x2000, 0]))
        expectSuccess(f.s.call(.psciComplete, f.recs[0], f.recs[1], PSCI.success))
        expectSuccess(f.enter(f.recs[1], .psciSystemOff))
        // The Realm is live while it has RECs.
        expectHit(f.s.call(.realmDestroy, f.realm.rd), .errorRealm, 0, label: "realm_live")
        for rec in f.recs { expectSuccess(f.s.call(.recDestroy, rec)) }
        #expect(f.realmField(.numRecs) == 0)
        expectSuccess(f.s.call(.realmDestroy, f.realm.rd))
        let granules = f.s.state.delegatedGranules
        #expect(granules.allSatisfy { $0.1.state == .delegated })
        #expect(granules.count == 1 + 1 + 3 * 3)  // RD, starting RTT, 3 RECs with 2 aux each
        for (addr, _) in granules { expectSuccess(f.s.call(.granuleUndelegate, addr)) }
        #expect(f.s.state.delegatedGranules.isEmpty)
    }

    @Test func traceReplaysAgainstTheSpec() throws {
        var f = cpuOnPending()
        expectSuccess(f.s.call(.psciComplete, f.recs[0], f.recs[1], PSCI.success))
        expectSuccess(f.enter(f.recs[1], .stayRunning))
        expectSuccess(f.s.recExit(rec: f.recs[1], realm: RealmActionValue(.hostCall, [3])))
        var runner = TraceRunner()
        for (i, step) in f.s.trace.steps.enumerated() {
            guard let r = runner.run(step) else { continue }
            switch step {
            case .call(let c):
                let e = try #require(c.expect)
                let mismatch = runner.check(r, against: e, command: c.command, step: i)
                #expect(mismatch == nil, "\(String(describing: mismatch))")
            case .recExit(_, _, let e):
                let mismatch = runner.check(r, against: try #require(e), command: nil, step: i)
                #expect(mismatch == nil, "\(String(describing: mismatch))")
            default:
                break
            }
        }
        #expect(runner.state == f.s.state)
    }
}
