import Testing
@testable import RMMImpl

/// Reference 5.23: RMI_PSCI_COMPLETE.
@Suite struct PsciComplete {
    /// An ACTIVE Realm with REC 0 (runnable), REC 1 (not runnable), REC 2 (runnable).
    func setup(_ h: Host, vmid: UInt64 = 1) -> (rd: UInt64, recs: [UInt64]) {
        let (rd, _) = h.createRealm(vmid: vmid)
        let r0 = h.createRec(rd, index: 0).rec
        let r1 = h.createRec(rd, index: 1, runnable: false).rec
        let r2 = h.createRec(rd, index: 2).rec
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        return (rd, [r0, r1, r2])
    }

    @Test func failures() {
        let h = Host()
        let (rd, r) = setup(h)
        // pending: nothing requested yet.
        #expect(h.call(FID.psciComplete, r[0], r[1], 0).x0 == RC.input)
        #expect(h.enter(r[0], h.runPage(), .psciCpuOn(target: 1, entry: 0x8000, context: 9)).x0 == RC.success)
        let before = h.rmm.rec(at: r[0])!
        #expect(h.call(FID.psciComplete, r[0], r[0], 0).x0 == RC.input)  // alias
        #expect(h.call(FID.psciComplete, r[0] + 8, r[1], 0).x0 == RC.input)  // calling_align
        #expect(h.call(FID.psciComplete, 0x1000, r[1], 0).x0 == RC.input)  // calling_bound
        #expect(h.call(FID.psciComplete, rd, r[1], 0).x0 == RC.input)  // calling_state
        #expect(h.call(FID.psciComplete, r[0], r[1] + 8, 0).x0 == RC.input)  // target_align
        #expect(h.call(FID.psciComplete, r[0], 0x1000, 0).x0 == RC.input)  // target_bound
        #expect(h.call(FID.psciComplete, r[0], rd, 0).x0 == RC.input)  // target_state
        #expect(h.call(FID.psciComplete, r[1], r[0], 0).x0 == RC.input)  // pending (r1 has none)
        #expect(h.call(FID.psciComplete, r[0], r[2], 0).x0 == RC.input)  // target: MPIDR 1 is r1
        #expect(h.call(FID.psciComplete, r[0], r[1], UInt64(bitPattern: -1)).x0 == RC.input)  // status
        #expect(h.call(FID.psciComplete, r[0], r[1], 1).x0 == RC.input)
        // owner: a REC of another Realm with the right MPIDR.
        let (_, other) = setup(h, vmid: 2)
        #expect(h.call(FID.psciComplete, r[0], other[1], 0).x0 == RC.input)
        // Nothing changed.
        #expect(h.rmm.rec(at: r[0]) == before && !h.rmm.rec(at: r[1])!.runnable)
        #expect(!h.rmm.rec(at: other[1])!.runnable)
    }

    @Test func cpuOnSuccess() {
        let h = Host()
        let (_, r) = setup(h)
        #expect(h.enter(r[0], h.runPage(), .psciCpuOn(target: 1, entry: 0x8000, context: 9)).x0 == RC.success)
        let c = h.rmm.rec(at: r[0])!
        #expect(c.psciPending && c.gprs[0] == 0xC400_0003 && c.gprs[1] == 1 && c.gprs[2] == 0x8000 && c.gprs[3] == 9)
        #expect(h.call(FID.psciComplete, r[0], r[1], 0, 0x77) == RMIResult(x0: 0, x4: 0x77))
        let t = h.rmm.rec(at: r[1])!
        #expect(t.runnable && t.pc == 0x8000 && t.gprs[0] == 9 && t.gprs[1...].allSatisfy { $0 == 0 })
        let c2 = h.rmm.rec(at: r[0])!
        #expect(!c2.psciPending && c2.gprs[0] == 0 && c2.gprs[1] == 0 && c2.gprs[2] == 0 && c2.gprs[3] == 0)
        #expect(h.call(FID.psciComplete, r[0], r[1], 0).x0 == RC.input)  // no longer pending
        #expect(h.enter(r[1], h.runPage(), .irq).x0 == RC.success)
    }

    @Test func cpuOnDeniedAndAlreadyOn() {
        let h = Host()
        let (_, r) = setup(h)
        // DENIED for an off target: the Realm sees DENIED.
        #expect(h.enter(r[0], h.runPage(), .psciCpuOn(target: 1, entry: 0x8000, context: 9)).x0 == RC.success)
        #expect(h.call(FID.psciComplete, r[0], r[1], UInt64(bitPattern: -3)).x0 == RC.success)
        #expect(h.rmm.rec(at: r[0])!.gprs[0] == UInt64(bitPattern: -3) && !h.rmm.rec(at: r[1])!.runnable)
        // CPU_ON of a target that is on: DENIED is not permitted (and has no side effect);
        // SUCCESS completes with ALREADY_ON.
        #expect(h.enter(r[0], h.runPage(), .psciCpuOn(target: 2, entry: 0x8000, context: 9)).x0 == RC.success)
        #expect(h.call(FID.psciComplete, r[0], r[2], UInt64(bitPattern: -3)).x0 == RC.input)
        #expect(h.rmm.rec(at: r[0])!.psciPending && h.rmm.rec(at: r[0])!.gprs[0] == 0xC400_0003)
        #expect(h.call(FID.psciComplete, r[0], r[2], 0).x0 == RC.success)
        #expect(h.rmm.rec(at: r[0])!.gprs[0] == UInt64(bitPattern: -4) && h.rmm.rec(at: r[2])!.pc == 0x1000)
    }

    @Test func affinityInfo() {
        let h = Host()
        let (_, r) = setup(h)
        #expect(h.enter(r[0], h.runPage(), .psciAffinityInfo(target: 2, lowestLevel: 0)).x0 == RC.success)
        #expect(h.call(FID.psciComplete, r[0], r[2], UInt64(bitPattern: -3)).x0 == RC.input)  // DENIED
        #expect(h.call(FID.psciComplete, r[0], r[2], 0).x0 == RC.success)
        #expect(h.rmm.rec(at: r[0])!.gprs[0] == 0)  // ON
        // A running target is on.
        #expect(h.enter(r[2], h.runPage(), .stayRunning).x0 == RC.success)
        #expect(h.enter(r[0], h.runPage(), .psciAffinityInfo(target: 1, lowestLevel: 0)).x0 == RC.success)
        #expect(h.call(FID.psciComplete, r[0], r[1], 0).x0 == RC.success)
        #expect(h.rmm.rec(at: r[0])!.gprs[0] == 1)  // OFF
        // A running calling REC has no pending request.
        #expect(h.call(FID.psciComplete, r[2], r[1], 0).x0 == RC.input)
        #expect(h.rmm.completeRun(rec: r[2], .irq) == RC.success)
    }
}
