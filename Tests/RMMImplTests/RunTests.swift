import Testing
@testable import RMMImpl

/// Reference 5.14 and section 6: REC_ENTER, what entry consumes, Realm behaviours and exits.
@Suite struct RecEnter {
    /// An ACTIVE Realm with L1-L3 RTTs for IPA 0 (one DATA page at 0), two runnable RECs.
    func setup(_ h: Host) -> (rd: UInt64, rec0: UInt64, rec1: UInt64) {
        let (rd, _) = h.createRealm()
        h.createRtts(rd, 0)
        #expect(h.call(FID.dataCreate, rd, h.delegated(), 0, h.nsPage(), 0).x0 == RC.success)
        let (r0, _) = h.createRec(rd, index: 0)
        let (r1, _) = h.createRec(rd, index: 1)
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        return (rd, r0, r1)
    }

    @Test func runAndRecGranules() {
        let h = Host()
        let (rd, rec, _) = setup(h)
        let run = h.runPage()
        #expect(h.enter(rec, run + 8, .irq).x0 == RC.input)  // run_align
        #expect(h.enter(rec, 0x1000, .irq).x0 == RC.input)  // run_bound
        #expect(h.enter(rec, 0x1000_0000, .irq).x0 == RC.input)  // run_bound: device memory
        #expect(h.enter(rec, rd, .irq).x0 == RC.input)  // run_pas: delegated
        #expect(h.rmm.setGPT(run, .secure))
        #expect(h.enter(rec, run, .irq).x0 == RC.input)  // run_pas: GPT
        #expect(h.rmm.setGPT(run, .ns))
        #expect(h.enter(rec + 8, run, .irq).x0 == RC.input)  // rec_align
        #expect(h.enter(0x1000, run, .irq).x0 == RC.input)  // rec_bound
        #expect(h.enter(rd, run, .irq).x0 == RC.input)  // rec_gran_state
        #expect(h.rmm.rec(at: rec)?.lastExit == nil)
        #expect(h.enter(rec, run, .irq).x0 == RC.success)
        #expect(h.rmm.rec(at: rec)?.lastExit == .irq && !h.rmm.rec(at: rec)!.running)
    }

    @Test func realmState() {
        let h = Host()
        let (rd, _) = h.createRealm()
        let (rec, _) = h.createRec(rd, index: 0)
        let (rec1, _) = h.createRec(rd, index: 1)
        let run = h.runPage()
        #expect(h.enter(rec, run, .irq).x0 == RC.realm(0))  // realm_new
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        #expect(h.enter(rec, run, .psciSystemReset).x0 == RC.success)
        #expect(h.rmm.rd(at: rd)?.state == .systemOff)
        #expect(h.exitWord(run, 0x200) == 0x8400_0009)
        #expect(h.enter(rec, run, .irq).x0 == RC.realm(1))  // system_off
        #expect(h.enter(rec1, run, .irq).x0 == RC.realm(1))
    }

    @Test func recState() {
        let h = Host()
        let (_, rec, rec1) = setup(h)
        let run = h.runPage(), run1 = h.runPage()
        // rec_state: a REC_ENTER that is still running, seen by a second caller.
        #expect(h.enter(rec, run, .stayRunning).x0 == RC.success)
        #expect(h.rmm.rec(at: rec)!.running && h.rmm.rec(at: rec)!.runPtr == run)
        #expect(h.refcount(rec) == 1)
        #expect(h.enter(rec, run1, .irq).x0 == RC.rec)
        // Other RECs of the Realm run meanwhile.
        #expect(h.enter(rec1, run1, .irq).x0 == RC.success)
        // completeRun: malformed requests change nothing.
        #expect(h.rmm.completeRun(rec: rec1, .irq) == RC.input)
        #expect(h.rmm.completeRun(rec: rec, .stayRunning) == RC.input)
        #expect(h.rmm.completeRun(rec: rec, .hostCall(imm: 3)) == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.hostCall.rawValue && h.exitWord(run, 0x600) == 3)
        #expect(!h.rmm.rec(at: rec)!.running && h.refcount(rec) == 0)
        #expect(h.enter(rec, run, .irq).x0 == RC.success)
    }

    @Test func runnableAndPsciPending() {
        let h = Host()
        let (rd, _) = h.createRealm()
        let (r0, _) = h.createRec(rd, index: 0)
        let (r1, _) = h.createRec(rd, index: 1, runnable: false)
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        let run = h.runPage()
        #expect(h.enter(r1, run, .irq).x0 == RC.rec)  // rec_runnable
        #expect(h.enter(r0, run, .psciAffinityInfo(target: 1, lowestLevel: 0)).x0 == RC.success)
        #expect(h.rmm.rec(at: r0)!.psciPending)
        #expect(h.exitWord(run, 0x200) == 0xC400_0004 && h.exitWord(run, 0x208) == 1)
        #expect(h.enter(r0, run, .irq).x0 == RC.rec)  // rec_psci
        #expect(h.call(FID.psciComplete, r0, r1, 0).x0 == RC.success)
        #expect(h.rmm.rec(at: r0)!.gprs[0] == 1)  // PSCI_OFF
        #expect(h.enter(r0, run, .psciCpuOff).x0 == RC.success)
        #expect(h.enter(r0, run, .irq).x0 == RC.rec)  // rec_runnable after CPU_OFF
    }

    @Test func emulatedMmio() {
        let h = Host()
        let (_, rec, _) = setup(h)
        let run = h.runPage(), mmio = h.runPage(flags: 1)
        #expect(h.enter(rec, mmio, .irq).x0 == RC.rec)  // rec_mmio: no abort before
        #expect(h.enter(rec, run, .mmioAbort(ipa: 1 << 39, isv: false)).x0 == RC.success)
        #expect(h.exitWord(run, 0x100) == 0x9000_0000 && h.exitWord(run, 0x110) == (1 << 39) >> 8)
        #expect(h.enter(rec, mmio, .irq).x0 == RC.rec)  // rec_mmio: not emulatable (ISV = 0)
        #expect(h.enter(rec, run, .mmioAbort(ipa: (1 << 39) + 0x5000, isv: true)).x0 == RC.success)
        #expect(h.rmm.rec(at: rec)!.emulatableAbort)
        #expect(h.enter(rec, mmio, .irq).x0 == RC.success)
        #expect(!h.rmm.rec(at: rec)!.emulatableAbort)
        #expect(h.enter(rec, mmio, .irq).x0 == RC.rec)  // only once
        // inject_sea is not a failure condition, with or without a preceding abort.
        #expect(h.enter(rec, h.runPage(flags: 2), .irq).x0 == RC.success)
        // An "MMIO" abort at a Protected IPA or beyond the IPA space does not reach the Host.
        #expect(h.enter(rec, run, .mmioAbort(ipa: 0x3000, isv: true)).x0 == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.irq.rawValue && !h.rmm.rec(at: rec)!.emulatableAbort)
        #expect(h.enter(rec, run, .mmioAbort(ipa: 1 << 40, isv: true)).x0 == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.irq.rawValue)
    }

    @Test func gicState() {
        let h = Host()
        let (_, rec, _) = setup(h)
        func enterWith(hcr: UInt64 = 0, lrs: [UInt64] = []) -> UInt64 {
            let run = h.runPage()
            var w: [(Int, UInt64)] = [(0x300, hcr)]
            for (i, lr) in lrs.enumerated() { w.append((0x308 + 8 * i, lr)) }
            h.write(run, w)
            return h.enter(rec, run, .irq).x0
        }
        let pending: UInt64 = 1 << 62
        #expect(enterWith(hcr: 1) == RC.rec)  // En is not Host-controlled
        #expect(enterWith(hcr: 1 << 14 | 0b1111_1110) == RC.success)
        #expect(enterWith(lrs: [pending | 1 << 61 | 32]) == RC.rec)  // HW = 1
        #expect(enterWith(lrs: [pending | 1 << 48 | 32]) == RC.rec)  // priority RES0 bits
        #expect(enterWith(lrs: [pending | 1 << 32 | 32]) == RC.rec)  // pINTID
        #expect(enterWith(lrs: [pending | 1 << 41 | 32]) == RC.success)  // EOI
        #expect(enterWith(lrs: [pending | 1020]) == RC.rec)  // reserved INTID
        #expect(enterWith(lrs: [pending | 8192]) == RC.success)  // LPI
        #expect(enterWith(lrs: [pending | 0x1_0000]) == RC.rec)  // beyond 16 INTID bits
        #expect(enterWith(lrs: [pending | 40, 0, pending | 40]) == RC.rec)  // same vINTID twice
        #expect(enterWith(lrs: [pending | 40, 40, pending | 41]) == RC.success)  // invalid LRs ignored
        #expect(h.rmm.rec(at: rec)!.gicv3Lrs[2] == pending | 41)
    }

    @Test func exitRecord() {
        let h = Host()
        let (_, rec, _) = setup(h)
        let run = h.runPage()
        // The whole exit record is written; stale values are cleared.
        h.write(run, [(0x900, 0xFFFF), (0xA08, 0xFFFF), (0xD00, 0xFFFF), (0xFF8, 0xFFFF), (0x200, 0x77)])
        #expect(h.enter(rec, run, .fiq).x0 == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.fiq.rawValue)
        for off: UInt64 in [0x100, 0x208, 0x500, 0x7F8] { #expect(h.exitWord(run, off) == 0) }
        #expect(h.rmm.hostRead(run + 0x200) == 0x77)  // enter is the Host's
        #expect(h.enter(rec, run, .serror).x0 == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.serror.rawValue)
        #expect(h.enter(rec, run, .hostCall(imm: 0x1_2345)).x0 == RC.success)
        #expect(h.exitWord(run, 0x600) == 0x2345 && h.rmm.rec(at: rec)!.hostCallPending)
        #expect(h.enter(rec, run, .irq).x0 == RC.success)
        #expect(!h.rmm.rec(at: rec)!.hostCallPending)
    }

    @Test func exitWriteFault() {
        // A run granule that faults when the RMM writes the exit: INPUT, but what the Realm
        // did stays (A4.3).
        let h = Host()
        let (rd, rec, _) = setup(h)
        let run = h.runPage()
        #expect(h.enter(rec, run, .stayRunning).x0 == RC.success)
        #expect(h.rmm.setGPT(run, .secure))
        #expect(h.rmm.completeRun(rec: rec, .psciSystemOff) == RC.input)
        #expect(h.rmm.rd(at: rd)?.state == .systemOff && !h.rmm.rec(at: rec)!.running)
    }

    @Test func protectedAborts() {
        let h = Host()
        let (rd, rec, _) = setup(h)
        let run = h.runPage()
        #expect(h.call(FID.rttInitRipas, rd, 0x4000, 0x5000).x0 == RC.realm)  // ACTIVE
        // IPA 0 is mapped (DATA, RAM): no exit for the Host.
        #expect(h.enter(rec, run, .protectedAbort(ipa: 0)).x0 == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.irq.rawValue)
        // UNASSIGNED, EMPTY: an SEA for the Realm, not a Host exit.
        #expect(h.enter(rec, run, .protectedAbort(ipa: 0x1000)).x0 == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.irq.rawValue)
        // DESTROYED (after DATA_DESTROY): reported, also through a level-2 walk.
        #expect(h.call(FID.dataDestroy, rd, 0).x0 == RC.success)
        #expect(h.enter(rec, run, .protectedAbort(ipa: 0)).x0 == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.sync.rawValue && h.exitWord(run, 0x100) == 0x9000_0000)
        #expect(h.call(FID.rttDestroy, rd, 0, 3).x0 == RC.success)
        #expect(h.enter(rec, run, .protectedAbort(ipa: 0x1000)).x0 == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.sync.rawValue && h.exitWord(run, 0x110) == 0x10)
        // Not a Protected IPA: nothing to report.
        #expect(h.enter(rec, run, .protectedAbort(ipa: 1 << 39)).x0 == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.irq.rawValue)
    }

    @Test func psciAnsweredByTheRmm() {
        let h = Host()
        let (_, rec, _) = setup(h)
        let run = h.runPage()
        func x0() -> UInt64 { h.rmm.rec(at: rec)!.gprs[0] }
        #expect(h.enter(rec, run, .psciCpuOn(target: 1, entry: 1 << 39, context: 0)).x0 == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.irq.rawValue && x0() == UInt64(bitPattern: -9))
        #expect(h.enter(rec, run, .psciCpuOn(target: 2, entry: 0x1000, context: 0)).x0 == RC.success)
        #expect(x0() == UInt64(bitPattern: -2))  // no REC with index 2
        #expect(h.enter(rec, run, .psciCpuOn(target: 0, entry: 0x1000, context: 0)).x0 == RC.success)
        #expect(x0() == UInt64(bitPattern: -4))  // itself: ALREADY_ON
        #expect(h.enter(rec, run, .psciAffinityInfo(target: 1, lowestLevel: 1)).x0 == RC.success)
        #expect(x0() == UInt64(bitPattern: -2))
        #expect(h.enter(rec, run, .psciAffinityInfo(target: 0, lowestLevel: 0)).x0 == RC.success)
        #expect(x0() == 0 && h.exitReason(run) == RMM.ExitReason.irq.rawValue)
        #expect(!h.rmm.rec(at: rec)!.psciPending)
        #expect(h.enter(rec, run, .psciCpuSuspend).x0 == RC.success)
        #expect(h.exitReason(run) == RMM.ExitReason.psci.rawValue && h.exitWord(run, 0x200) == 0xC400_0001)
        #expect(x0() == 0 && h.exitWord(run, 0x208) == 0)
        #expect(h.enter(rec, run, .irq).x0 == RC.success)  // nothing to complete
    }

    @Test func ripasRequests() {
        let h = Host()
        let (rd, rec, rec1) = setup(h)
        let run = h.runPage()
        // Invalid requests are answered by the RMM (RSI_ERROR_INPUT) without an exit.
        for b: RealmBehaviour in [.ripasChange(base: 0x2000, top: 0x2000, ripas: 1, flags: 0),
                                  .ripasChange(base: 0x2000, top: 0x1000, ripas: 1, flags: 0),
                                  .ripasChange(base: 0x2001, top: 0x3000, ripas: 1, flags: 0),
                                  .ripasChange(base: 0x2000, top: 0x3000, ripas: 2, flags: 0),
                                  .ripasChange(base: 0x2000, top: (1 << 39) + 0x1000, ripas: 0, flags: 0)] {
            #expect(h.enter(rec, run, b).x0 == RC.success)
            #expect(h.exitReason(run) == RMM.ExitReason.irq.rawValue && h.rmm.rec(at: rec)!.gprs[0] == 1)
            #expect(h.rmm.rec(at: rec)!.ripasTop == 0)
        }
        // A valid request, served in part, then rejected by the Host.
        #expect(h.enter(rec, run, .ripasChange(base: 0x2000, top: 0x4000, ripas: 1, flags: 0)).x0 == RC.success)
        var r = h.rmm.rec(at: rec)!
        #expect(r.ripasAddr == 0x2000 && r.ripasTop == 0x4000 && r.ripasValue == 1 && !r.ripasChangeDestroyed)
        #expect(h.call(FID.rttSetRipas, rd, rec, 0x2000, 0x3000).x1 == 0x3000)
        // Another REC turns the Realm off; the failed REC_ENTER keeps the request open.
        #expect(h.enter(rec1, h.runPage(), .psciSystemOff).x0 == RC.success)
        #expect(h.enter(rec, h.runPage(flags: 1 << 4), .irq).x0 == RC.realm(1))
        #expect(h.call(FID.rttSetRipas, rd, rec, 0x3000, 0x4000).x1 == 0x4000)
        // A fresh Realm for the response: partial progress + REJECT.
        let h2 = Host()
        let (rd2, r20, _) = setup(h2)
        #expect(h2.enter(r20, run, .ripasChange(base: 0x2000, top: 0x4000, ripas: 1, flags: 1)).x0 == RC.success)
        #expect(h2.rmm.rec(at: r20)!.ripasChangeDestroyed)
        #expect(h2.call(FID.rttSetRipas, rd2, r20, 0x2000, 0x3000).x1 == 0x3000)
        #expect(h2.enter(r20, h2.runPage(flags: 1 << 4), .irq).x0 == RC.success)
        r = h2.rmm.rec(at: r20)!
        #expect(r.gprs[0] == 0 && r.gprs[1] == 0x3000 && r.gprs[2] == 1 && r.ripasResponseReject)
        // After an exit that is not RIPAS_CHANGE the request is gone.
        #expect(r.ripasAddr == 0 && r.ripasTop == 0)
        #expect(h2.call(FID.rttSetRipas, rd2, r20, 0x3000, 0x4000).x0 == RC.input)
    }

    @Test func guests() {
        let h = Host()
        let (_, rec, rec1) = setup(h)
        let run = h.runPage()
        h.rmm.guest = ScriptedGuest([.wfi, .fiq])
        #expect(h.call(FID.recEnter, rec, run).x0 == RC.success && h.exitReason(run) == 0)
        #expect(h.call(FID.recEnter, rec, run).x0 == RC.success && h.exitReason(run) == 2)
        #expect(h.call(FID.recEnter, rec, run).x0 == RC.success && h.exitReason(run) == 1)
        h.rmm.guest = ClosureGuest { $0.index == 1 ? .serror : .irq }
        #expect(h.call(FID.recEnter, rec1, run).x0 == RC.success && h.exitReason(run) == 6)
        // nextBehaviour is used once, and cleared by a failing REC_ENTER too.
        h.rmm.nextBehaviour = .wfi
        #expect(h.call(FID.recEnter, rec, run + 8).x0 == RC.input)
        #expect(h.rmm.nextBehaviour == nil)
    }
}
