import Testing
@testable import RMMImpl

/// Reference 5.12, 5.13, 3.3: REC_CREATE and REC_DESTROY.
@Suite struct RecCommands {
    /// A NEW Realm plus two delegated aux granules and a delegated REC granule.
    func setup(_ h: Host) -> (rd: UInt64, rec: UInt64, aux: [UInt64]) {
        let (rd, _) = h.createRealm()
        return (rd, h.delegated(), [h.delegated(), h.delegated()])
    }

    func expectUnchanged(_ h: Host, _ rd: UInt64, _ rec: UInt64, _ aux: [UInt64]) {
        #expect(h.state(rec) == .delegated)
        #expect(aux.allSatisfy { h.state($0) == .delegated })
        #expect(h.rmm.rd(at: rd)?.recIndex == 0 && h.refcount(rd) == 0)
    }

    @Test func paramsAndGranules() {
        let h = Host()
        let (rd, rec, aux) = setup(h)
        let p = h.recParams(mpidr: 0, runnable: true, aux: aux)
        #expect(h.call(FID.recCreate, rd, rec, p + 0x100).x0 == RC.input)  // params_align
        #expect(h.call(FID.recCreate, rd, rec, 0x1000).x0 == RC.input)  // params_bound
        #expect(h.call(FID.recCreate, rd, rec, rd).x0 == RC.input)  // params_pas
        #expect(h.call(FID.recCreate, rd, rec + 1, p).x0 == RC.input)  // rec_align
        #expect(h.call(FID.recCreate, rd, 0x1000_0000, p).x0 == RC.input)  // rec_bound
        #expect(h.call(FID.recCreate, rd, 0x9000_0000, p).x0 == RC.input)  // rec_state
        #expect(h.call(FID.recCreate, rd, rd, p).x0 == RC.input)  // rec == rd
        #expect(h.call(FID.recCreate, rec, rec, p).x0 == RC.input)
        #expect(h.call(FID.recCreate, aux[0] + 0x10, rec, p).x0 == RC.input)  // rd_align
        #expect(h.call(FID.recCreate, 0x9000_0000, rec, p).x0 == RC.input)  // rd_state
        expectUnchanged(h, rd, rec, aux)
        #expect(h.call(FID.recCreate, rd, rec, p).x0 == RC.success)
    }

    @Test func auxGranules() {
        let h = Host()
        let (rd, rec, aux) = setup(h)
        func tryAux(_ a: [UInt64], numAux: UInt64? = nil) -> UInt64 {
            h.call(FID.recCreate, rd, rec, h.recParams(mpidr: 0, runnable: true, aux: a, numAux: numAux)).x0
        }
        #expect(tryAux([aux[0]]) == RC.input)  // num_aux 1 != 2
        #expect(tryAux(aux + [h.delegated()]) == RC.input)  // num_aux 3
        #expect(tryAux(aux, numAux: 17) == RC.input)
        #expect(tryAux(aux, numAux: 1 << 32 | 2) == RC.input)  // the full 64-bit value counts
        #expect(tryAux([aux[0], aux[1] + 8]) == RC.input)  // aux_align
        #expect(tryAux([aux[0], aux[0]]) == RC.input)  // aux_alias
        #expect(tryAux([aux[0], rec]) == RC.input)  // aux_alias with rec
        #expect(tryAux([aux[0], 0x9000_0000]) == RC.input)  // aux_state
        #expect(tryAux([aux[0], 0x1000]) == RC.input)  // aux not delegable
        #expect(tryAux([aux[0], rd]) == RC.input)  // aux_state: an RD
        expectUnchanged(h, rd, rec, aux)
        #expect(tryAux(aux) == RC.success)
        let r = h.rmm.rec(at: rec)!
        #expect(r.aux == aux && r.owner == rd && r.index == 0)
        #expect(aux.allSatisfy { h.state($0) == .recAux })
    }

    @Test func realmAndIndex() {
        let h = Host()
        let (rd, rec, aux) = setup(h)
        // mpidr_index: the first REC must have index 0.
        #expect(h.call(FID.recCreate, rd, rec, h.recParams(mpidr: 1, runnable: true, aux: aux)).x0 == RC.input)
        #expect(h.call(FID.recCreate, rd, rec, h.recParams(mpidr: 0x100, runnable: true, aux: aux)).x0 == RC.input)
        expectUnchanged(h, rd, rec, aux)
        let (r0, _) = h.createRec(rd, index: 0)
        // Indices 1, 16 (aff1 = 1), ... in creation order; rec_index does not go back.
        let (r1, _) = h.createRec(rd, index: 1, runnable: false)
        #expect(h.call(FID.recDestroy, r0).x0 == RC.success)
        #expect(h.rmm.rd(at: rd)?.recIndex == 2 && h.refcount(rd) == 1)
        let a2 = [h.delegated(), h.delegated()], g2 = h.delegated()
        #expect(h.call(FID.recCreate, rd, g2, h.recParams(mpidr: 0, runnable: true, aux: a2)).x0 == RC.input)
        #expect(h.call(FID.recCreate, rd, g2, h.recParams(mpidr: 2, runnable: true, aux: a2, gprs: [7, 8])).x0
            == RC.success)
        let r2 = h.rmm.rec(at: g2)!
        #expect(r2.index == 2 && r2.mpidr == 2 && r2.pc == 0x1000 && r2.gprs[0] == 7 && r2.gprs[1] == 8)
        #expect(r2.gprs.count == 31 && r2.gprs[8...].allSatisfy { $0 == 0 } && r2.runnable && !r2.psciPending)
        #expect(!h.rmm.rec(at: r1)!.runnable)
        // realm_state: only a NEW Realm gets RECs.
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        let a3 = [h.delegated(), h.delegated()], g3 = h.delegated()
        #expect(h.call(FID.recCreate, rd, g3, h.recParams(mpidr: 3, runnable: true, aux: a3)).x0 == RC.realm)
        #expect(h.state(g3) == .delegated && a3.allSatisfy { h.state($0) == .delegated })
    }

    @Test func mpidrIndex() {
        #expect(RMM.recIndex(mpidr: 0x0102_0304) == 4 + 3 * 16 + 2 * 4096 + 1 << 20)
        for i: UInt64 in [0, 1, 15, 16, 17, 4095, 4096, 1 << 20, 0x3FF_FFFF] {
            #expect(RMM.recIndex(mpidr: RMM.mpidr(forIndex: i)) == i)
        }
    }

    @Test func maxRecs() {
        // MAX_RECS_ORDER 1: at most one REC.
        var p = RMMPlatform.standard
        p.features0 = RMMPlatform.encodeFeatures0(s2sz: 48, lpa2: false, sve: false, sveVL: 0, numBPs: 5, numWPs: 3,
                                                  pmu: true, pmuNumCtrs: 8, sha256: true, sha512: true,
                                                  gicv3NumLRs: 15, maxRecsOrder: 1)
        let h = Host(platform: p)
        let (rd, _) = h.createRealm()
        _ = h.createRec(rd, index: 0)
        let a = [h.delegated(), h.delegated()], g = h.delegated()
        #expect(h.call(FID.recCreate, rd, g, h.recParams(mpidr: 1, runnable: true, aux: a)).x0 == RC.realm)
    }

    @Test func destroy() {
        let h = Host()
        let (rd, _) = h.createRealm()
        let (rec, aux) = h.createRec(rd, index: 0)
        #expect(h.call(FID.recDestroy, rec + 0x40).x0 == RC.input)  // rec_align
        #expect(h.call(FID.recDestroy, 0x1000).x0 == RC.input)  // rec_bound
        #expect(h.call(FID.recDestroy, rd).x0 == RC.input)  // rec_gran_state
        #expect(h.call(FID.recDestroy, aux[0]).x0 == RC.input)
        // rec_state: running (a REC_ENTER still in progress).
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        #expect(h.enter(rec, h.runPage(), .stayRunning).x0 == RC.success)
        #expect(h.call(FID.recDestroy, rec).x0 == RC.rec)
        #expect(h.rmm.completeRun(rec: rec, .irq) == RC.success)
        #expect(h.call(FID.recDestroy, rec).x0 == RC.success)
        #expect(h.state(rec) == .delegated && aux.allSatisfy { h.state($0) == .delegated })
        #expect(h.refcount(rd) == 0 && h.rmm.rec(at: rec) == nil)
        #expect(h.call(FID.recDestroy, rec).x0 == RC.input)
    }
}
