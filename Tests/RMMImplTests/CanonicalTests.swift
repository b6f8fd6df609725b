import Testing
@testable import RMMImpl

/// Reference section 8: the canonical build, run and teardown sequence, SUCCESS throughout,
/// ending with every granule UNDELEGATED.
@Suite struct CanonicalSequence {
    @Test func buildRunTeardown() {
        let h = Host()
        let rmm = h.rmm

        // 8.1.1 VERSION and FEATURES.
        let v = h.call(FID.version, 0x10000)
        #expect(v == RMIResult(x0: RC.success, x1: 0x10000, x2: 0x10000))
        let f = h.call(FID.features, 0)
        #expect(f.x0 == RC.success && f.x1 == RMMPlatform.defaultFeatures0 && f.x1 >> 42 == 0)
        #expect(h.call(FID.features, 1).x1 == 0)

        // 8.1.2-3 REALM_CREATE (w = 40, SL = 0, one starting RTT).
        let (rd, rtt0) = h.createRealm()
        #expect(h.state(rd) == .rd && h.state(rtt0) == .rtt)
        #expect(rmm.rd(at: rd)?.state == .new)

        // 8.1.4 RTTs for IPA 0, top-down.
        let prot = h.createRtts(rd, 0)
        #expect(h.refcount(rtt0) == 1 && h.refcount(prot[0]) == 1 && h.refcount(prot[1]) == 1)

        // 8.1.5 RTT_INIT_RIPAS.
        let rim0 = rmm.rd(at: rd)!.rim
        let ir = h.call(FID.rttInitRipas, rd, 0x10000, 0x20000)
        #expect(ir == RMIResult(x0: RC.success, x1: 0x20000))
        #expect(rmm.rd(at: rd)!.rim != rim0)

        // 8.1.6 DATA_CREATE with measured content.
        let src = h.nsPage()
        h.write(src, [(0, 0x1111), (0xFF8, 0x2222)])
        var data: [UInt64] = []
        for ipa: UInt64 in [0x0, 0x1000] {
            let d = h.delegated()
            #expect(h.call(FID.dataCreate, rd, d, ipa, src, 1).x0 == RC.success)
            data.append(d)
        }
        #expect(h.refcount(prot[2]) == 2)
        #expect(rmm.contentDigest(at: data[0]) == rmm.contentDigest(at: src))

        // 8.1.7 RECs: REC 0 runnable, REC 1 not.
        #expect(h.call(FID.recAuxCount, rd) == RMIResult(x0: RC.success, x1: 2))
        let (rec0, aux0) = h.createRec(rd, index: 0, runnable: true)
        let (rec1, aux1) = h.createRec(rd, index: 1, runnable: false)
        #expect(h.refcount(rd) == 2)
        #expect(aux0.allSatisfy { h.state($0) == .recAux } && aux1.allSatisfy { h.state($0) == .recAux })

        // 8.1.8 Unprotected memory (IPA 2^39 is the first Unprotected IPA for w = 40).
        let nsIpa: UInt64 = 1 << 39
        let unprot = h.createRtts(rd, nsIpa)
        let nsDesc: UInt64 = 0xA00F_0000 | 0x18 | 0xC0
        #expect(h.call(FID.rttMapUnprotected, rd, nsIpa, 3, nsDesc).x0 == RC.success)
        #expect(h.refcount(unprot[2]) == 0)

        // 8.1.9 REALM_ACTIVATE; the RIM is frozen from here.
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        let rim = rmm.rd(at: rd)!.rim

        // 8.1.10 Run.
        let run0 = h.runPage(), run1 = h.runPage()
        #expect(h.enter(rec0, run0, .irq).x0 == RC.success)
        #expect(h.exitReason(run0) == RMM.ExitReason.irq.rawValue)

        #expect(h.enter(rec0, run0, .psciCpuOn(target: RMM.mpidr(forIndex: 1), entry: 0x2000, context: 0x42)).x0
            == RC.success)
        #expect(h.exitReason(run0) == RMM.ExitReason.psci.rawValue)
        #expect(h.exitWord(run0, 0x200) == 0xC400_0003)
        #expect(h.exitWord(run0, 0x208) == 1 && h.exitWord(run0, 0x210) == 0x2000 && h.exitWord(run0, 0x218) == 0x42)
        #expect(h.enter(rec0, run0, .irq).x0 == RC.rec)  // rec_psci
        #expect(h.enter(rec1, run1, .irq).x0 == RC.rec)  // rec_runnable
        #expect(h.call(FID.psciComplete, rec0, rec1, 0).x0 == RC.success)
        #expect(rmm.rec(at: rec1)!.runnable && rmm.rec(at: rec1)!.pc == 0x2000 && rmm.rec(at: rec1)!.gprs[0] == 0x42)
        #expect(rmm.rec(at: rec0)!.gprs[0] == 0 && !rmm.rec(at: rec0)!.psciPending)

        // A RIPAS change request, served by RTT_SET_RIPAS.
        #expect(h.enter(rec1, run1, .ripasChange(base: 0x20000, top: 0x22000, ripas: 1, flags: 0)).x0 == RC.success)
        #expect(h.exitReason(run1) == RMM.ExitReason.ripasChange.rawValue)
        #expect(h.exitWord(run1, 0x500) == 0x20000 && h.exitWord(run1, 0x508) == 0x22000 && h.exitWord(run1, 0x510) == 1)
        // X4 (top) comes back as passed: the command has no X4 output (reference 1.1).
        #expect(h.call(FID.rttSetRipas, rd, rec1, 0x20000, 0x22000) == RMIResult(x0: RC.success, x1: 0x22000, x4: 0x22000))
        #expect(h.call(FID.rttReadEntry, rd, 0x21000, 3) == RMIResult(x0: RC.success, x1: 3, x2: 0, x3: 0, x4: 1))

        // Host call; the RIPAS response reaches the Realm on this entry.
        #expect(h.enter(rec1, run1, .hostCall(imm: 7)).x0 == RC.success)
        #expect(h.exitReason(run1) == RMM.ExitReason.hostCall.rawValue && h.exitWord(run1, 0x600) == 7)
        let r1 = rmm.rec(at: rec1)!
        #expect(r1.gprs[0] == 0 && r1.gprs[1] == 0x22000 && r1.gprs[2] == 0 && r1.hostCallPending)

        // An emulatable MMIO abort, then re-entry with emul_mmio.
        #expect(h.enter(rec1, run1, .mmioAbort(ipa: nsIpa + 0x1000, isv: true)).x0 == RC.success)
        #expect(h.exitReason(run1) == RMM.ExitReason.sync.rawValue)
        #expect(h.exitWord(run1, 0x100) == 0x9100_0000 && h.exitWord(run1, 0x110) == (nsIpa + 0x1000) >> 8)
        let mmioRun = h.runPage(flags: 1)
        #expect(h.enter(rec1, mmioRun, .wfi).x0 == RC.success)
        #expect(h.exitReason(mmioRun) == RMM.ExitReason.sync.rawValue && h.exitWord(mmioRun, 0x100) == 0x0400_0000)

        // Protected aborts: RIPAS EMPTY is not reported (IRQ), RIPAS RAM + UNASSIGNED is.
        #expect(h.enter(rec1, run1, .protectedAbort(ipa: 0x30000)).x0 == RC.success)
        #expect(h.exitReason(run1) == RMM.ExitReason.irq.rawValue)
        #expect(h.enter(rec1, run1, .protectedAbort(ipa: 0x20000)).x0 == RC.success)
        #expect(h.exitReason(run1) == RMM.ExitReason.sync.rawValue && h.exitWord(run1, 0x110) == 0x200)

        // CPU_OFF, SYSTEM_OFF.
        #expect(h.enter(rec0, run0, .psciCpuOff).x0 == RC.success)
        #expect(h.exitWord(run0, 0x200) == 0x8400_0002 && !rmm.rec(at: rec0)!.runnable)
        #expect(h.enter(rec1, run1, .psciSystemOff).x0 == RC.success)
        #expect(rmm.rd(at: rd)!.state == .systemOff)
        #expect(h.enter(rec1, run1, .irq).x0 == RC.realm(1))
        #expect(rmm.rd(at: rd)!.rim == rim)

        // 8.2.1 REC_DESTROY.
        #expect(h.call(FID.recDestroy, rec0).x0 == RC.success)
        #expect(h.call(FID.recDestroy, rec1).x0 == RC.success)
        #expect(h.refcount(rd) == 0)
        #expect((aux0 + aux1).allSatisfy { h.state($0) == .delegated })

        // 8.2.2 DATA_DESTROY, continuing at top.
        #expect(h.call(FID.dataDestroy, rd, 0) == RMIResult(x0: RC.success, x1: data[0], x2: 0x1000))
        #expect(h.call(FID.dataDestroy, rd, 0x1000) == RMIResult(x0: RC.success, x1: data[1], x2: 0x20_0000))
        #expect(h.call(FID.rttReadEntry, rd, 0, 3) == RMIResult(x0: RC.success, x1: 3, x2: 0, x3: 0, x4: 2))

        // 8.2.3 RTT_UNMAP_UNPROTECTED.
        #expect(h.call(FID.rttUnmapUnprotected, rd, nsIpa, 3) == RMIResult(x0: RC.success, x1: nsIpa + 0x20_0000))

        // 8.2.4 RTT_DESTROY bottom-up.
        #expect(h.call(FID.rttDestroy, rd, 0, 3) == RMIResult(x0: RC.success, x1: prot[2], x2: 0x4000_0000))
        #expect(h.call(FID.rttDestroy, rd, 0, 2) == RMIResult(x0: RC.success, x1: prot[1], x2: 0x80_0000_0000))
        // The level-0 entry of the unprotected half is still a TABLE (live): top stops there.
        #expect(h.call(FID.rttDestroy, rd, 0, 1) == RMIResult(x0: RC.success, x1: prot[0], x2: nsIpa))
        #expect(h.call(FID.rttDestroy, rd, nsIpa, 3) == RMIResult(x0: RC.success, x1: unprot[2], x2: nsIpa + 0x4000_0000))
        #expect(h.call(FID.rttDestroy, rd, nsIpa, 2) == RMIResult(x0: RC.success, x1: unprot[1], x2: 1 << 40))
        #expect(h.call(FID.rttDestroy, rd, nsIpa, 1) == RMIResult(x0: RC.success, x1: unprot[0], x2: 1 << 48))
        #expect(h.refcount(rtt0) == 0)

        // 8.2.5 REALM_DESTROY.
        #expect(h.call(FID.realmDestroy, rd).x0 == RC.success)
        #expect(!rmm.vmidInUse(1))

        // 8.2.6 GRANULE_UNDELEGATE every granule returned.
        for g in [rd, rtt0] + prot + unprot + data + [rec0, rec1] + aux0 + aux1 {
            #expect(h.state(g) == .delegated)
            #expect(h.call(FID.granuleUndelegate, g).x0 == RC.success)
        }

        // Every granule that was ever touched is UNDELEGATED, NS, unreferenced.
        for g in rmm.touchedGranules {
            let i = rmm.inspectGranule(g)!
            #expect(i.state == .undelegated && i.gpt == .ns && i.refcount == 0, "\(String(g, radix: 16))")
        }
        // The Realm's data did not go back to the Host.
        for d in data { #expect(rmm.contentDigest(at: d) == 0) }
        #expect(rmm.lockViolations == 0 && rmm.refcountViolations == 0 && rmm.locksHeld == 0)
    }

    @Test func resetRestoresBootState() {
        let h = Host()
        _ = h.populatedRealm()
        h.rmm.reset()
        #expect(h.rmm.touchedGranules.isEmpty)
        #expect(h.state(0x8000_0000) == .undelegated)
        #expect(h.rmm.inspectGranule(0xBFFF_0000)?.gpt == .secure)
        #expect(!h.rmm.vmidInUse(1))
        // The same sequence works again.
        h.nextGranule = 0x8000_0000
        let (rd, _, _) = h.populatedRealm()
        #expect(h.state(rd) == .rd)
    }
}

@Suite struct Snapshots {
    @Test func snapshotAndRestore() {
        let h = Host()
        let (rd, rtts, data) = h.populatedRealm()
        let s = h.rmm.snapshot()
        #expect(h.call(FID.dataDestroy, rd, 0).x0 == RC.success)
        #expect(h.call(FID.granuleUndelegate, data[0]).x0 == RC.success)
        #expect(h.rmm.hostWrite(data[0], 7))
        h.rmm.restore(s)
        #expect(h.state(data[0]) == .data && h.refcount(rtts[2]) == 2 && h.rmm.hostRead(data[0]) == nil)
        #expect(h.call(FID.rttReadEntry, rd, 0, 3).x3 == data[0])
        // The snapshot itself is unaffected by what happens after a restore.
        #expect(h.call(FID.dataDestroy, rd, 0).x0 == RC.success)
        h.rmm.restore(s)
        #expect(h.call(FID.dataDestroy, rd, 0).x0 == RC.success)
        #expect(h.rmm.hostPage(data[0]) == nil && h.rmm.hostPage(0xA000_0000)?.count == 512)
    }
}
