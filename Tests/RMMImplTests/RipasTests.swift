import Testing
@testable import RMMImpl

/// Reference 5.21, 5.22, 9.1, 9.9, 9.10: RTT_INIT_RIPAS and RTT_SET_RIPAS.
@Suite struct RipasCommands {
    @Test func initRipasFailures() {
        let h = Host()
        let (rd, rtt0) = h.createRealm()
        h.createRtts(rd, 0)
        #expect(h.call(FID.dataCreate, rd, h.delegated(), 0x3000, h.nsPage(), 0).x0 == RC.success)
        func initRipas(_ base: UInt64, _ top: UInt64, rd r: UInt64? = nil) -> RMIResult {
            h.call(FID.rttInitRipas, r ?? rd, base, top)
        }
        #expect(initRipas(0x2000, 0x2000) == RMIResult(x0: RC.input))  // size_valid
        #expect(initRipas(0x3000, 0x2000) == RMIResult(x0: RC.input))
        #expect(initRipas(0x1000, 0x2000, rd: rtt0) == RMIResult(x0: RC.input))  // rd_state
        #expect(initRipas(0x1000, 0x2000, rd: rd + 8) == RMIResult(x0: RC.input))  // rd_align
        #expect(initRipas(0x1000, (1 << 39) + 0x2000) == RMIResult(x0: RC.input))  // top_bound
        #expect(initRipas(0, 0x800) == RMIResult(x0: RC.input))  // top_bound: top - 4K wraps
        #expect(initRipas(0x20_1000, 0x20_2000) == RMIResult(x0: RC.rtt(2)))  // base_align
        #expect(initRipas((1 << 39) - 0x1000, 1 << 39) == RMIResult(x0: RC.rtt(1)))
        #expect(initRipas(0x1800, 0x3000) == RMIResult(x0: RC.rtt(3)))  // base_align at level 3
        #expect(initRipas(0x3000, 0x4000) == RMIResult(x0: RC.rtt(3)))  // rtte_state: ASSIGNED
        #expect(initRipas(0x1000, 0x1800) == RMIResult(x0: RC.input))  // top_gran_align
        // top_gran_align is ordered before no_progress.
        #expect(initRipas(0x20_0000, 0x20_0800) == RMIResult(x0: RC.input))
        #expect(initRipas(0x20_0000, 0x20_1000) == RMIResult(x0: RC.rtt(2)))  // no_progress
        // Nothing changed so far.
        #expect(h.call(FID.rttReadEntry, rd, 0x1000, 3).x4 == 0)
        // realm_state.
        let rim = h.rmm.rd(at: rd)!.rim
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        #expect(initRipas(0x1000, 0x2000) == RMIResult(x0: RC.realm))
        #expect(h.rmm.rd(at: rd)!.rim == rim)
    }

    @Test func initRipasRuns() {
        let h = Host()
        h.rmm.recordsMeasurementLog = true
        let (rd, _) = h.createRealm()
        h.createRtts(rd, 0)
        #expect(h.call(FID.dataCreate, rd, h.delegated(), 0x3000, h.nsPage(), 0).x0 == RC.success)
        // The run stops before the ASSIGNED entry.
        #expect(h.call(FID.rttInitRipas, rd, 0x1000, 0x10000) == RMIResult(x0: 0, x1: 0x3000))
        // ... and at the end of the RTT.
        #expect(h.call(FID.rttInitRipas, rd, 0x1F_F000, 0x30_0000) == RMIResult(x0: 0, x1: 0x20_0000))
        // Level-2 entries (no level-3 RTT): whole 2 MB entries only, one measurement each.
        let before = h.rmm.rd(at: rd)!.rimLog.count
        #expect(h.call(FID.rttInitRipas, rd, 0x20_0000, 0x70_0000) == RMIResult(x0: 0, x1: 0x60_0000))
        let log = h.rmm.rd(at: rd)!.rimLog
        #expect(log.count == before + 2)
        #expect(log.last == .ripas(base: 0x40_0000, top: 0x60_0000))
        #expect(h.call(FID.rttReadEntry, rd, 0x40_0000, 3) == RMIResult(x0: 0, x1: 2, x2: 0, x3: 0, x4: 1))
        // RAM entries stay RAM (and are measured again).
        #expect(h.call(FID.rttInitRipas, rd, 0x1000, 0x2000) == RMIResult(x0: 0, x1: 0x2000))
        // UNASSIGNED/DESTROYED becomes RAM (the spec; TF-RMM refuses, reference 9.9).
        #expect(h.call(FID.dataDestroy, rd, 0x3000).x0 == RC.success)
        #expect(h.call(FID.rttReadEntry, rd, 0x3000, 3).x4 == 2)
        #expect(h.call(FID.rttInitRipas, rd, 0x3000, 0x5000) == RMIResult(x0: 0, x1: 0x5000))
        #expect(h.call(FID.rttReadEntry, rd, 0x3000, 3).x4 == 1)
    }

    /// An ACTIVE Realm (w = 40) with RTTs for IPA 0 and 4 MB, DATA at 0x40000 (RAM), a
    /// DESTROYED entry at 0x30000, RECs 0 and 1, and a REC of another Realm.
    func setup(_ h: Host) -> (rd: UInt64, rec0: UInt64, rec1: UInt64, data: UInt64, otherRd: UInt64, otherRec: UInt64) {
        let (rd, _) = h.createRealm()
        h.createRtts(rd, 0)
        let src = h.nsPage()
        let data = h.delegated()
        #expect(h.call(FID.dataCreate, rd, data, 0x40000, src, 0).x0 == RC.success)
        #expect(h.call(FID.dataCreate, rd, h.delegated(), 0x30000, src, 0).x0 == RC.success)
        #expect(h.call(FID.dataDestroy, rd, 0x30000).x0 == RC.success)
        let r0 = h.createRec(rd, index: 0).rec
        let r1 = h.createRec(rd, index: 1).rec
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        let (rd2, _) = h.createRealm(vmid: 2)
        let o = h.createRec(rd2, index: 0).rec
        #expect(h.call(FID.realmActivate, rd2).x0 == RC.success)
        return (rd, r0, r1, data, rd2, o)
    }

    func request(_ h: Host, _ rec: UInt64, _ base: UInt64, _ top: UInt64, _ ripas: UInt64, _ flags: UInt64 = 0) {
        #expect(h.enter(rec, h.runPage(), .ripasChange(base: base, top: top, ripas: ripas, flags: flags)).x0 == 0)
        #expect(h.rmm.rec(at: rec)!.lastExit == .ripasChange)
    }

    @Test func setRipasFailures() {
        let h = Host()
        let s = setup(h)
        func set(_ rd: UInt64, _ rec: UInt64, _ base: UInt64, _ top: UInt64) -> RMIResult {
            h.call(FID.rttSetRipas, rd, rec, base, top)
        }
        // No request pending: base_bound / top_bound.
        #expect(set(s.rd, s.rec0, 0, 0x1000) == RMIResult(x0: RC.input, x4: 0x1000))
        request(h, s.rec0, 0x10000, 0x14000, 1)
        #expect(set(s.rd, s.rec0, 0x10000, 0x10000).x0 == RC.input)  // size_valid
        #expect(set(s.rd + 8, s.rec0, 0x10000, 0x12000).x0 == RC.input)  // rd_align
        #expect(set(s.rec1, s.rec0, 0x10000, 0x12000).x0 == RC.input)  // rd_state
        #expect(set(s.rd, s.rec0 + 8, 0x10000, 0x12000).x0 == RC.input)  // rec_align
        #expect(set(s.rd, 0x1000, 0x10000, 0x12000).x0 == RC.input)  // rec_bound
        #expect(set(s.rd, s.rd, 0x10000, 0x12000).x0 == RC.input)  // rec_gran_state
        #expect(set(s.otherRd, s.rec0, 0x10000, 0x12000).x0 == RC.rec)  // rec_owner
        #expect(set(s.rd, s.otherRec, 0x10000, 0x12000).x0 == RC.rec)
        #expect(set(s.rd, s.rec1, 0x10000, 0x12000).x0 == RC.input)  // base_bound: not rec1's request
        #expect(set(s.rd, s.rec0, 0x11000, 0x12000).x0 == RC.input)  // base_bound
        #expect(set(s.rd, s.rec0, 0x10000, 0x15000).x0 == RC.input)  // top_bound
        #expect(set(s.rd, s.rec0, 0x10000, 0x12800).x0 == RC.input)  // top_gran_align
        #expect(h.call(FID.rttReadEntry, s.rd, 0x10000, 3).x4 == 0)
        // Served in two chunks.
        #expect(set(s.rd, s.rec0, 0x10000, 0x12000) == RMIResult(x0: 0, x1: 0x12000, x4: 0x12000))
        #expect(h.rmm.rec(at: s.rec0)!.ripasAddr == 0x12000)
        #expect(set(s.rd, s.rec0, 0x10000, 0x12000).x0 == RC.input)  // base_bound: moved on
        #expect(set(s.rd, s.rec0, 0x12000, 0x14000) == RMIResult(x0: 0, x1: 0x14000, x4: 0x14000))
        #expect(h.call(FID.rttReadEntry, s.rd, 0x13000, 3).x4 == 1)
        // rec_state: the REC is running again.
        #expect(h.enter(s.rec0, h.runPage(), .stayRunning).x0 == RC.success)
        #expect(set(s.rd, s.rec0, 0x14000, 0x14000).x0 == RC.input)  // size_valid comes first
        #expect(set(s.rd, s.rec0, 0x14000, 0x15000).x0 == RC.rec)
    }

    @Test func setRipasLevels() {
        let h = Host()
        let s = setup(h)
        // base_align: base inside a 2 MB EMPTY entry, request RAM.
        request(h, s.rec1, 0x20_1000, 0x40_0000, 1)
        #expect(h.call(FID.rttSetRipas, s.rd, s.rec1, 0x20_1000, 0x40_0000).x0 == RC.rtt(2))
        // The same entry already has the requested RIPAS (EMPTY): base_align is exempt and
        // the whole entry is the run (reference 9.10).
        request(h, s.rec1, 0x20_1000, 0x40_0000, 0)
        #expect(h.call(FID.rttSetRipas, s.rd, s.rec1, 0x20_1000, 0x40_0000).x1 == 0x40_0000)
        // A TABLE entry ends the run.
        #expect(h.call(FID.rttCreate, s.rd, h.delegated(), 0x40_0000, 3).x0 == RC.success)
        request(h, s.rec1, 0x20_0000, 0x60_0000, 1)
        #expect(h.call(FID.rttSetRipas, s.rd, s.rec1, 0x20_0000, 0x60_0000).x1 == 0x40_0000)
        #expect(h.call(FID.rttReadEntry, s.rd, 0x20_0000, 2) == RMIResult(x0: 0, x1: 2, x2: 0, x3: 0, x4: 1))
        #expect(h.call(FID.rttSetRipas, s.rd, s.rec1, 0x40_0000, 0x60_0000).x1 == 0x60_0000)
        // The end of the RTT ends the run.
        request(h, s.rec1, 0x1F_E000, 0x20_2000, 1)
        #expect(h.call(FID.rttSetRipas, s.rd, s.rec1, 0x1F_E000, 0x20_2000).x1 == 0x20_0000)
    }

    @Test func setRipasDestroyedAndAssigned() {
        let h = Host()
        let s = setup(h)
        // A DESTROYED entry stops the run unless CHANGE_DESTROYED.
        request(h, s.rec0, 0x2F000, 0x32000, 1)
        #expect(h.call(FID.rttSetRipas, s.rd, s.rec0, 0x2F000, 0x32000).x1 == 0x30000)
        #expect(h.call(FID.rttSetRipas, s.rd, s.rec0, 0x30000, 0x32000).x0 == RC.rtt(3))  // no_progress
        request(h, s.rec0, 0x30000, 0x32000, 1, 1)
        #expect(h.call(FID.rttSetRipas, s.rd, s.rec0, 0x30000, 0x32000).x1 == 0x32000)
        #expect(h.call(FID.rttReadEntry, s.rd, 0x30000, 3).x4 == 1)
        // ASSIGNED RAM to EMPTY keeps the page assigned (no valid mapping), and back.
        request(h, s.rec0, 0x40000, 0x41000, 0)
        #expect(h.call(FID.rttSetRipas, s.rd, s.rec0, 0x40000, 0x41000).x1 == 0x41000)
        #expect(h.call(FID.rttReadEntry, s.rd, 0x40000, 3) == RMIResult(x0: 0, x1: 3, x2: 1, x3: s.data, x4: 0))
        request(h, s.rec0, 0x40000, 0x41000, 1)
        #expect(h.call(FID.rttSetRipas, s.rd, s.rec0, 0x40000, 0x41000).x1 == 0x41000)
        #expect(h.call(FID.rttReadEntry, s.rd, 0x40000, 3) == RMIResult(x0: 0, x1: 3, x2: 1, x3: s.data, x4: 1))
        // RAM entries already RAM count as progress.
        request(h, s.rec0, 0x40000, 0x42000, 1)
        #expect(h.call(FID.rttSetRipas, s.rd, s.rec0, 0x40000, 0x42000).x1 == 0x42000)
    }
}
