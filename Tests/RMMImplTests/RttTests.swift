import Testing
@testable import RMMImpl

/// Reference 5.15-5.20, 3.4: RTT_CREATE, RTT_DESTROY, RTT_FOLD, RTT_MAP_UNPROTECTED,
/// RTT_UNMAP_UNPROTECTED, RTT_READ_ENTRY.
@Suite struct RttCommands {
    let nsIpa: UInt64 = 1 << 39
    let nsDesc: UInt64 = 0x18 | 0xC0  // MemAttr Normal WB, S2AP RW

    @Test func createFailures() {
        let h = Host()
        let (rd, rtt0) = h.createRealm()
        let t = h.delegated()
        #expect(h.call(FID.rttCreate, rd + 8, t, 0, 1).x0 == RC.input)  // rd_align
        #expect(h.call(FID.rttCreate, rtt0, t, 0, 1).x0 == RC.input)  // rd_state
        #expect(h.call(FID.rttCreate, rd, t, 0, 0).x0 == RC.input)  // level_bound: the starting level
        #expect(h.call(FID.rttCreate, rd, t, 0, 4).x0 == RC.input)  // level_bound
        #expect(h.call(FID.rttCreate, rd, t, 0, UInt64(bitPattern: -1)).x0 == RC.input)
        #expect(h.call(FID.rttCreate, rd, t, 0x4000_0000, 1).x0 == RC.input)  // ipa_align (Size(0))
        #expect(h.call(FID.rttCreate, rd, t, 1 << 40, 1).x0 == RC.input)  // ipa_bound
        #expect(h.call(FID.rttCreate, rd, t + 8, 0, 1).x0 == RC.input)  // rtt_align
        #expect(h.call(FID.rttCreate, rd, 0x1000, 0, 1).x0 == RC.input)  // rtt_bound
        #expect(h.call(FID.rttCreate, rd, 0x9000_0000, 0, 1).x0 == RC.input)  // rtt_state
        #expect(h.call(FID.rttCreate, rd, rd, 0, 1).x0 == RC.input)  // rtt == rd
        #expect(h.call(FID.rttCreate, rd, t, 0, 3).x0 == RC.rtt(0))  // rtt_walk
        #expect(h.call(FID.rttCreate, rd, t, 0, 2).x0 == RC.rtt(0))
        #expect(h.state(t) == .delegated && h.refcount(rtt0) == 0)
        #expect(h.call(FID.rttCreate, rd, t, 0, 1).x0 == RC.success)
        #expect(h.call(FID.rttCreate, rd, h.delegated(), 0, 1).x0 == RC.rtt(0))  // rtte_state: TABLE
        #expect(h.state(t) == .rtt && h.refcount(rtt0) == 1)
        // Either IPA half, any Realm state.
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        #expect(h.call(FID.rttCreate, rd, h.delegated(), nsIpa, 1).x0 == RC.success)
        #expect(RMM.decodeEntry(h.rmm.rttEntries(at: h.nextGranule - GS)![5], level: 1).state == .unassignedNS)
    }

    @Test func unfold() {
        let h = Host()
        let (rd, _) = h.createRealm()
        let t = h.createRtts(rd, 0, from: 1, to: 2)
        // UNASSIGNED with RIPAS RAM (a level-2 entry) unfolds into 512 RAM entries.
        #expect(h.call(FID.rttInitRipas, rd, 0x20_0000, 0x40_0000) == RMIResult(x0: 0, x1: 0x40_0000))
        let t3 = h.delegated()
        #expect(h.call(FID.rttCreate, rd, t3, 0x20_0000, 3).x0 == RC.success)
        #expect(h.rmm.rttEntries(at: t3)!.allSatisfy { RMM.decodeEntry($0, level: 3) == RttEntryView(
            state: .unassigned, ripas: 1, addr: 0, memAttr: 0, s2ap: 0) })
        #expect(h.refcount(t3) == 0 && h.refcount(t[1]) == 1)
        // An ASSIGNED_NS block unfolds into contiguous ASSIGNED_NS pages; the parent keeps
        // counting the new TABLE entry.
        let n = h.createRtts(rd, nsIpa, from: 1, to: 2)
        #expect(h.call(FID.rttMapUnprotected, rd, nsIpa, 2, 0xC020_0000 | nsDesc).x0 == RC.success)
        #expect(h.refcount(n[1]) == 0)
        let n3 = h.delegated()
        #expect(h.call(FID.rttCreate, rd, n3, nsIpa, 3).x0 == RC.success)
        #expect(h.refcount(n[1]) == 1 && h.refcount(n3) == 0)
        let e = h.rmm.rttEntries(at: n3)!.map { RMM.decodeEntry($0, level: 3) }
        #expect(e[0] == RttEntryView(state: .assignedNS, ripas: 0, addr: 0xC020_0000, memAttr: 6, s2ap: 3))
        #expect(e[511].addr == 0xC020_0000 + 511 * GS && e[511].state == .assignedNS)
        #expect(h.call(FID.rttReadEntry, rd, nsIpa + 0x5000, 3)
            == RMIResult(x0: 0, x1: 3, x2: 1, x3: 0xC020_5000 | nsDesc, x4: 0))
        // And folds back.
        #expect(h.call(FID.rttFold, rd, nsIpa, 3) == RMIResult(x0: 0, x1: n3))
        #expect(h.call(FID.rttReadEntry, rd, nsIpa, 3) == RMIResult(x0: 0, x1: 2, x2: 1, x3: 0xC020_0000 | nsDesc))
        #expect(h.refcount(n[1]) == 0 && h.state(n3) == .delegated)
    }

    @Test func destroy() {
        let h = Host()
        let (rd, rtt0) = h.createRealm()
        let t = h.createRtts(rd, 0)
        #expect(h.call(FID.dataCreate, rd, h.delegated(), 0x3000, h.nsPage(), 0).x0 == RC.success)
        // INPUT: rtt and top are 0.
        #expect(h.call(FID.rttDestroy, rd | 0x10, 0, 3) == RMIResult(x0: RC.input))
        #expect(h.call(FID.rttDestroy, rtt0, 0, 3) == RMIResult(x0: RC.input))
        #expect(h.call(FID.rttDestroy, rd, 0, 0) == RMIResult(x0: RC.input))  // level_bound
        #expect(h.call(FID.rttDestroy, rd, 0x1000, 3) == RMIResult(x0: RC.input))  // ipa_align (2 MB)
        #expect(h.call(FID.rttDestroy, rd, 1 << 40, 1) == RMIResult(x0: RC.input))  // ipa_bound
        // rtt_live: (RTT, level), top == ipa.
        #expect(h.call(FID.rttDestroy, rd, 0, 3) == RMIResult(x0: RC.rtt(3), x2: 0))
        #expect(h.call(FID.rttDestroy, rd, 0, 2) == RMIResult(x0: RC.rtt(2), x2: 0))
        #expect(h.call(FID.rttDestroy, rd, 0, 1) == RMIResult(x0: RC.rtt(1), x2: 0))
        // rtt_walk / rtte_state: no RTT there; top skips the non-live entries.
        #expect(h.call(FID.rttDestroy, rd, 0x20_0000, 3) == RMIResult(x0: RC.rtt(2), x2: 0x4000_0000))
        #expect(h.call(FID.rttDestroy, rd, 0x4000_0000, 3) == RMIResult(x0: RC.rtt(1), x2: 0x80_0000_0000))
        #expect(h.call(FID.rttDestroy, rd, nsIpa, 2) == RMIResult(x0: RC.rtt(0), x2: 1 << 48))
        // Success: the parent entry becomes UNASSIGNED, RIPAS DESTROYED, even in a NEW Realm.
        #expect(h.call(FID.dataDestroy, rd, 0x3000).x0 == RC.success)
        #expect(h.call(FID.rttDestroy, rd, 0, 3) == RMIResult(x0: 0, x1: t[2], x2: 0x4000_0000))
        #expect(h.call(FID.rttReadEntry, rd, 0, 3) == RMIResult(x0: 0, x1: 2, x2: 0, x3: 0, x4: 2))
        #expect(h.refcount(t[1]) == 0 && h.state(t[2]) == .delegated)
        // Unprotected IPAs: the parent becomes UNASSIGNED_NS; ASSIGNED_NS children are dropped.
        let n = h.createRtts(rd, nsIpa)
        #expect(h.call(FID.rttMapUnprotected, rd, nsIpa + 0x1000, 3, 0x9000_0000 | nsDesc).x0 == RC.success)
        #expect(h.call(FID.rttDestroy, rd, nsIpa, 3) == RMIResult(x0: 0, x1: n[2], x2: nsIpa + 0x4000_0000))
        #expect(h.call(FID.rttReadEntry, rd, nsIpa, 3) == RMIResult(x0: 0, x1: 2, x2: 0, x3: 0, x4: 0))
        #expect(h.call(FID.rttMapUnprotected, rd, nsIpa, 2, 0xC000_0000 | nsDesc).x0 == RC.success)
    }

    @Test func fold() {
        let h = Host()
        let (rd, rtt0) = h.createRealm()
        let t = h.createRtts(rd, 0)
        #expect(h.call(FID.rttFold, rtt0, 0, 3) == RMIResult(x0: RC.input))  // rd_state
        #expect(h.call(FID.rttFold, rd, 0, 0) == RMIResult(x0: RC.input))  // level_bound
        #expect(h.call(FID.rttFold, rd, 0x1000, 3) == RMIResult(x0: RC.input))  // ipa_align
        #expect(h.call(FID.rttFold, rd, 0x20_0000, 3) == RMIResult(x0: RC.rtt(2)))  // rtte_state
        #expect(h.call(FID.rttFold, rd, 0x4000_0000, 3) == RMIResult(x0: RC.rtt(1)))  // rtt_walk
        // rtt_homo: mixed RIPAS, or a live entry.
        #expect(h.call(FID.rttInitRipas, rd, 0x1000, 0x2000).x0 == RC.success)
        #expect(h.call(FID.rttFold, rd, 0, 3) == RMIResult(x0: RC.rtt(3)))
        #expect(h.call(FID.rttFold, rd, 0, 2) == RMIResult(x0: RC.rtt(2)))  // has a TABLE
        #expect(h.call(FID.rttInitRipas, rd, 0, 0x1000).x0 == RC.success)
        #expect(h.call(FID.rttInitRipas, rd, 0x2000, 0x20_0000) == RMIResult(x0: 0, x1: 0x20_0000))
        // All UNASSIGNED/RAM: folds into an UNASSIGNED/RAM level-2 entry.
        #expect(h.call(FID.rttFold, rd, 0, 3) == RMIResult(x0: 0, x1: t[2]))
        #expect(h.call(FID.rttReadEntry, rd, 0x5000, 3) == RMIResult(x0: 0, x1: 2, x2: 0, x3: 0, x4: 1))
        #expect(h.state(t[2]) == .delegated && h.refcount(t[1]) == 0)
        // The level-2 RTT now mixes RAM and EMPTY.
        #expect(h.call(FID.rttFold, rd, 0, 2) == RMIResult(x0: RC.rtt(2)))
    }

    @Test func foldLevelOneChildIndex() {
        // A level-1 RTT whose 512 entries are all TABLE (refcount 512) is not homogeneous:
        // (RTT, 1) as the spec says (TF-RMM answers (RTT, 0), reference 9.7).
        let h = Host()
        let (rd, _) = h.createRealm()
        let t1 = h.createRtts(rd, 0, from: 1, to: 1)[0]
        for i: UInt64 in 0 ..< 512 {
            #expect(h.call(FID.rttCreate, rd, h.delegated(), i << 30, 2).x0 == RC.success)
        }
        #expect(h.refcount(t1) == 512)
        #expect(h.call(FID.rttFold, rd, 0, 1) == RMIResult(x0: RC.rtt(1)))
        #expect(h.call(FID.rttDestroy, rd, 0, 1) == RMIResult(x0: RC.rtt(1), x2: 0))
        // A level-1 RTT of UNASSIGNED/EMPTY entries folds into the level-0 entry.
        let h2 = Host()
        let (rd2, _) = h2.createRealm()
        let u = h2.createRtts(rd2, 0, from: 1, to: 1)[0]
        #expect(h2.call(FID.rttFold, rd2, 0, 1) == RMIResult(x0: 0, x1: u))
        #expect(h2.call(FID.rttReadEntry, rd2, 0, 1) == RMIResult(x0: 0, x1: 0, x2: 0, x3: 0, x4: 0))
    }

    @Test func foldAssignedNS() {
        // 512 contiguous ASSIGNED_NS pages with the same attributes fold into a 2 MB block;
        // different attributes or a gap do not.
        let h = Host()
        let (rd, _) = h.createRealm()
        let n = h.createRtts(rd, nsIpa)
        for i: UInt64 in 0 ..< 512 {
            let desc = (0xC000_0000 + i * GS) | (i == 7 ? 0x18 : nsDesc)
            #expect(h.call(FID.rttMapUnprotected, rd, nsIpa + i * GS, 3, desc).x0 == RC.success)
        }
        #expect(h.refcount(n[2]) == 0)
        #expect(h.call(FID.rttFold, rd, nsIpa, 3) == RMIResult(x0: RC.rtt(3)))
        #expect(h.call(FID.rttUnmapUnprotected, rd, nsIpa + 7 * GS, 3) == RMIResult(x0: 0, x1: nsIpa + 7 * GS + GS))
        #expect(h.call(FID.rttFold, rd, nsIpa, 3) == RMIResult(x0: RC.rtt(3)))
        #expect(h.call(FID.rttMapUnprotected, rd, nsIpa + 7 * GS, 3, (0xC000_0000 + 7 * GS) | nsDesc).x0 == 0)
        #expect(h.call(FID.rttFold, rd, nsIpa, 3) == RMIResult(x0: 0, x1: n[2]))
        #expect(h.call(FID.rttReadEntry, rd, nsIpa, 2) == RMIResult(x0: 0, x1: 2, x2: 1, x3: 0xC000_0000 | nsDesc))
        // A 2 MB ASSIGNED_NS block is unmapped at level 2 only.
        #expect(h.call(FID.rttUnmapUnprotected, rd, nsIpa, 3) == RMIResult(x0: RC.rtt(2), x1: nsIpa))
        #expect(h.call(FID.rttUnmapUnprotected, rd, nsIpa, 2) == RMIResult(x0: 0, x1: nsIpa + 0x4000_0000))
    }

    @Test func mapUnprotected() {
        let h = Host()
        let (rd, rtt0) = h.createRealm()
        h.createRtts(rd, nsIpa)
        let pa: UInt64 = 0x9000_0000
        func map(_ ipa: UInt64, _ level: UInt64, _ desc: UInt64, rd r: UInt64? = nil) -> UInt64 {
            h.call(FID.rttMapUnprotected, r ?? rd, ipa, level, desc).x0
        }
        #expect(map(nsIpa, 3, pa | nsDesc | 1) == RC.input)  // attr_valid: descriptor type bits
        #expect(map(nsIpa, 3, pa | nsDesc | 1 << 10) == RC.input)  // attr_valid: AF is the RMM's
        #expect(map(nsIpa, 3, pa | 0x10 | 0xC0) == RC.input)  // attr_valid: MemAttr 0b100 reserved
        #expect(map(nsIpa, 3, pa | nsDesc | 1 << 55) == RC.input)
        #expect(map(nsIpa, 2, pa | 0x1000 | nsDesc) == RC.input)  // addr_align
        #expect(map(nsIpa, 3, 1 << 48 | nsDesc) == RC.input)  // addr_bound
        #expect(map(nsIpa, 3, pa | nsDesc, rd: rtt0) == RC.input)  // rd_state
        #expect(map(nsIpa, 0, pa | nsDesc) == RC.input)  // level_bound
        #expect(map(nsIpa, 4, pa | nsDesc) == RC.input)
        #expect(map(nsIpa + 0x800, 3, pa | nsDesc) == RC.input)  // ipa_align
        #expect(map(nsIpa + 0x1000, 2, pa | nsDesc) == RC.input)
        #expect(map(0x1000, 3, pa | nsDesc) == RC.input)  // ipa_bound: Protected
        #expect(map(1 << 40, 3, pa | nsDesc) == RC.input)  // ipa_bound: beyond 2^w
        #expect(map(nsIpa + 0x4000_0000, 3, pa | nsDesc) == RC.rtt(1))  // rtt_walk
        #expect(map(nsIpa, 3, pa | nsDesc) == RC.success)
        #expect(map(nsIpa, 3, pa | nsDesc) == RC.rtt(3))  // rtte_state
        #expect(map(nsIpa, 2, pa | nsDesc) == RC.rtt(2))  // a TABLE is there
        // Any PA, even a delegated granule or device memory (the GPT protects it).
        #expect(map(nsIpa + 0x1000, 3, rtt0 | nsDesc) == RC.success)
        #expect(map(nsIpa + 0x2000, 3, 0x1000_0000) == RC.success)  // MemAttr 0, S2AP 0
        #expect(h.call(FID.rttReadEntry, rd, nsIpa + 0x2000, 3) == RMIResult(x0: 0, x1: 3, x2: 1, x3: 0x1000_0000))
        // 1 GB block at level 1.
        #expect(map(nsIpa + 0x4000_0000, 1, 0x4000_0000 | nsDesc) == RC.success)
        #expect(h.call(FID.rttReadEntry, rd, nsIpa + 0x4000_0000, 3)
            == RMIResult(x0: 0, x1: 1, x2: 1, x3: 0x4000_0000 | nsDesc, x4: 0))
        #expect(map(nsIpa + 0x4000_0000, 1, 0x4000_0000 | nsDesc) == RC.rtt(1))  // rtte_state
    }

    @Test func blockOrPageLevelAgainstStartingLevel() {
        // SL = 2 (w = 32, 4 starting RTTs): level 1 is not a level of this Realm (reference 9.8).
        let h = Host()
        let rd = h.delegated()
        h.nextGranule = 0x8010_0000
        let base = h.nextGranule
        for _ in 0 ..< 4 { _ = h.delegated() }
        let p = h.realmParams(.init(s2sz: 32, rttBase: base, rttLevelStart: 2, rttNumStart: 4))
        #expect(h.call(FID.realmCreate, rd, p).x0 == RC.success)
        #expect(h.call(FID.rttMapUnprotected, rd, 0, 1, 0).x0 == RC.input)
        #expect(h.call(FID.rttUnmapUnprotected, rd, 0x8000_0000, 1) == RMIResult(x0: RC.input))
        #expect(h.call(FID.rttReadEntry, rd, 0x8000_0000, 1).x0 == RC.input)
        #expect(h.call(FID.rttMapUnprotected, rd, 0x8000_0000, 2, 0xC000_0000).x0 == RC.success)
        #expect(h.call(FID.rttReadEntry, rd, 0x8020_0000, 2) == RMIResult(x0: 0, x1: 2, x2: 0, x3: 0, x4: 0))
        #expect(h.call(FID.rttReadEntry, rd, 0x8000_0000, 3) == RMIResult(x0: 0, x1: 2, x2: 1, x3: 0xC000_0000))
    }

    @Test func unmapUnprotected() {
        let h = Host()
        let (rd, rtt0) = h.createRealm()
        h.createRtts(rd, nsIpa)
        #expect(h.call(FID.rttMapUnprotected, rd, nsIpa + 0x5000, 3, 0x9000_0000 | nsDesc).x0 == RC.success)
        #expect(h.call(FID.rttUnmapUnprotected, rtt0, nsIpa, 3) == RMIResult(x0: RC.input))  // rd_state
        #expect(h.call(FID.rttUnmapUnprotected, rd, nsIpa, 0) == RMIResult(x0: RC.input))  // level_bound
        #expect(h.call(FID.rttUnmapUnprotected, rd, nsIpa + 8, 3) == RMIResult(x0: RC.input))  // ipa_align
        #expect(h.call(FID.rttUnmapUnprotected, rd, 0x5000, 3) == RMIResult(x0: RC.input))  // ipa_bound
        // rtte_state: not mapped; top = the next live entry.
        #expect(h.call(FID.rttUnmapUnprotected, rd, nsIpa, 3) == RMIResult(x0: RC.rtt(3), x1: nsIpa + 0x5000))
        // rtt_walk.
        #expect(h.call(FID.rttUnmapUnprotected, rd, nsIpa + 0x20_0000, 3)
            == RMIResult(x0: RC.rtt(2), x1: nsIpa + 0x4000_0000))
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        #expect(h.call(FID.rttUnmapUnprotected, rd, nsIpa + 0x5000, 3) == RMIResult(x0: 0, x1: nsIpa + 0x20_0000))
        #expect(h.call(FID.rttReadEntry, rd, nsIpa + 0x5000, 3) == RMIResult(x0: 0, x1: 3, x2: 0, x3: 0, x4: 0))
    }

    @Test func readEntry() {
        let h = Host()
        let (rd, rtt0) = h.createRealm()
        #expect(h.call(FID.rttReadEntry, rtt0, 0, 0).x0 == RC.input)  // rd_state
        #expect(h.call(FID.rttReadEntry, rd, 0, UInt64(bitPattern: -1)).x0 == RC.input)  // level_bound
        #expect(h.call(FID.rttReadEntry, rd, 0, 4).x0 == RC.input)
        #expect(h.call(FID.rttReadEntry, rd, 0x1000, 2).x0 == RC.input)  // ipa_align
        #expect(h.call(FID.rttReadEntry, rd, 1 << 40, 0).x0 == RC.input)  // ipa_bound
        // The walk stops where the tree ends.
        #expect(h.call(FID.rttReadEntry, rd, 0x7000, 3, 9) == RMIResult(x0: 0, x1: 0, x2: 0, x3: 0, x4: 0))
        #expect(h.call(FID.rttReadEntry, rd, nsIpa, 0) == RMIResult(x0: 0, x1: 0, x2: 0, x3: 0, x4: 0))
        let t = h.createRtts(rd, 0)
        // TABLE: state 2, desc = the RTT, ripas EMPTY.
        #expect(h.call(FID.rttReadEntry, rd, 0, 0) == RMIResult(x0: 0, x1: 0, x2: 2, x3: t[0], x4: 0))
        #expect(h.call(FID.rttReadEntry, rd, 0, 2) == RMIResult(x0: 0, x1: 2, x2: 2, x3: t[2], x4: 0))
        let d = h.delegated()
        #expect(h.call(FID.dataCreateUnknown, rd, d, 0x7000).x0 == RC.success)
        #expect(h.call(FID.rttReadEntry, rd, 0x7000, 3) == RMIResult(x0: 0, x1: 3, x2: 1, x3: d, x4: 0))
        // ASSIGNED with RIPAS DESTROYED reports its address (TF-RMM at the tag: 0, reference 9.4).
        let d2 = h.delegated()
        #expect(h.call(FID.dataCreate, rd, d2, 0x8000, h.nsPage(), 0).x0 == RC.success)
        #expect(h.call(FID.dataDestroy, rd, 0x8000).x0 == RC.success)
        #expect(h.call(FID.dataCreateUnknown, rd, d2, 0x8000).x0 == RC.success)
        #expect(h.call(FID.rttReadEntry, rd, 0x8000, 3) == RMIResult(x0: 0, x1: 3, x2: 1, x3: d2, x4: 2))
    }
}

/// LPA2 Realms: 52-bit IPAs, starting level -1 (a 16-entry table), level -1 in results.
@Suite struct Lpa2 {
    @Test func levelMinusOne() {
        var p = RMMPlatform.standard
        p.paWidth = 52
        p.features0 = RMMPlatform.encodeFeatures0(s2sz: 52, lpa2: true, sve: false, sveVL: 0, numBPs: 5, numWPs: 3,
                                                  pmu: true, pmuNumCtrs: 8, sha256: true, sha512: true,
                                                  gicv3NumLRs: 15, maxRecsOrder: 10)
        let h = Host(platform: p)
        let (rd, rtt) = h.createRealm { $0.flags = 1; $0.s2sz = 52; $0.rttLevelStart = -1 }
        let d = h.rmm.rd(at: rd)!
        #expect(d.lpa2 && d.startLevel == -1 && d.numStartRtts == 1)
        // Entries 0-7 of the level -1 table are protected (2^51 = 8 * 2^48).
        let e = h.rmm.rttEntries(at: rtt)!.map { RMM.decodeEntry($0, level: -1) }
        #expect(e[7].state == .unassigned && e[8].state == .unassignedNS)
        let minus1 = UInt64(bitPattern: -1)
        #expect(h.call(FID.rttReadEntry, rd, 1 << 48, 3) == RMIResult(x0: 0, x1: minus1, x2: 0, x3: 0, x4: 0))
        #expect(h.call(FID.dataCreateUnknown, rd, h.delegated(), 1 << 48).x0 == 0xFF04)
        #expect(h.call(FID.rttDestroy, rd, 1 << 48, 0) == RMIResult(x0: 0xFF04, x2: 1 << 52))
        #expect(h.call(FID.rttCreate, rd, h.delegated(), 0, UInt64(bitPattern: -1)).x0 == RC.input)
        #expect(h.call(FID.rttCreate, rd, h.delegated(), 0, 0).x0 == RC.success)
        h.createRtts(rd, 0)
        #expect(h.call(FID.dataCreate, rd, h.delegated(), 0x5000, h.nsPage(), 1).x0 == RC.success)
        #expect(h.call(FID.rttReadEntry, rd, 0x5000, 3).x2 == 1)
        // SL = -1 needs LPA2; without the flag the configuration is invalid.
        let rd2 = h.delegated(), t2 = h.delegated()
        #expect(h.call(FID.realmCreate, rd2, h.realmParams(.init(s2sz: 52, vmid: 2, rttBase: t2, rttLevelStart: -1))).x0
            == RC.input)
    }
}
