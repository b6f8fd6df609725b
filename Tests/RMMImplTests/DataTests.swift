import Testing
@testable import RMMImpl

/// Reference 5.5-5.7: DATA_CREATE, DATA_CREATE_UNKNOWN, DATA_DESTROY.
@Suite struct DataCommands {
    @Test func createFailures() {
        let h = Host()
        let (rd, rtt0) = h.createRealm()
        let t = h.createRtts(rd, 0)
        let src = h.nsPage(), d = h.delegated()
        func create(_ rd: UInt64 = 0, _ data: UInt64 = 0, _ ipa: UInt64 = 0, _ s: UInt64 = 0, flags: UInt64 = 1) -> UInt64 {
            h.call(FID.dataCreate, rd, data, ipa, s, flags).x0
        }
        #expect(create(rd, d, 0, src + 8) == RC.input)  // src_align
        #expect(create(rd, d, 0, 0x1000_0000) == RC.input)  // src_bound (device memory)
        #expect(create(rd, d, 0, rtt0) == RC.input)  // src_pas (an RTT)
        #expect(h.rmm.setGPT(src, .root))
        #expect(create(rd, d, 0, src) == RC.input)  // src_pas (GPT)
        #expect(h.rmm.setGPT(src, .ns))
        #expect(create(rd, d + 8, 0, src) == RC.input)  // data_align
        #expect(create(rd, 0x1000, 0, src) == RC.input)  // data_bound
        #expect(create(rd, 0x9000_0000, 0, src) == RC.input)  // data_state
        #expect(create(rd, rd, 0, src) == RC.input)  // data == rd
        #expect(create(rd, t[2], 0, src) == RC.input)  // data_state: an RTT
        #expect(create(rd + 8, d, 0, src) == RC.input)  // rd_align
        #expect(create(t[0], d, 0, src) == RC.input)  // rd_state
        #expect(create(rd, d, 0x800, src) == RC.input)  // ipa_align
        #expect(create(rd, d, 1 << 39, src) == RC.input)  // ipa_bound (Unprotected)
        #expect(create(rd, d, 1 << 40, src) == RC.input)  // ipa_bound (beyond 2^w)
        #expect(create(rd, d, 0x4000_0000, src) == RC.rtt(1))  // rtt_walk: no level-2 RTT there
        #expect(create(rd, d, 0x20_0000, src) == RC.rtt(2))  // rtt_walk: no level-3 RTT there
        #expect(create(rd, d, 0, src) == RC.success)
        let d2 = h.delegated()
        #expect(create(rd, d2, 0, src) == RC.rtt(3))  // rtte_state
        #expect(h.state(d2) == .delegated && h.refcount(t[2]) == 1)
        // realm_state: only a NEW Realm.
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        #expect(create(rd, d2, 0x1000, src) == RC.realm)
        // The spec orders realm_state only after rd_*: an ACTIVE Realm with a bad IPA may
        // answer either; RMMImpl (like TF-RMM) answers REALM.
        #expect(create(rd, d2, 0x801, src) == RC.realm)
    }

    @Test func walkStopsAtStartingLevel() {
        // w = 48: IPA 2^39 is protected, and no level-1 RTT covers it.
        let h = Host()
        let (rd, _) = h.createRealm { $0.s2sz = 48 }
        let src = h.nsPage()
        #expect(h.call(FID.dataCreate, rd, h.delegated(), 1 << 39, src, 0).x0 == RC.rtt(0))
        #expect(h.call(FID.dataCreateUnknown, rd, h.delegated(), 1 << 39).x0 == RC.rtt(0))
        #expect(h.call(FID.dataDestroy, rd, 1 << 39) == RMIResult(x0: RC.rtt(0), x2: 1 << 48))
    }

    @Test func createContentsAndRipas() {
        let h = Host()
        let (rd, _) = h.createRealm()
        h.createRtts(rd, 0)
        let src = h.nsPage()
        h.write(src, [(0x10, 0xCAFE)])
        let d = h.delegated()
        #expect(h.call(FID.rttInitRipas, rd, 0x1000, 0x2000).x0 == RC.success)
        // RMI_NO_MEASURE_CONTENT still copies the contents; SBZ flag bits are ignored.
        #expect(h.call(FID.dataCreate, rd, d, 0x1000, src, 2).x0 == RC.success)
        #expect(h.rmm.contentDigest(at: d) == h.rmm.contentDigest(at: src))
        #expect(h.call(FID.rttReadEntry, rd, 0x1000, 3) == RMIResult(x0: 0, x1: 3, x2: 1, x3: d, x4: 1))
        // DESTROYED becomes RAM again through DATA_CREATE.
        #expect(h.call(FID.dataDestroy, rd, 0x1000) == RMIResult(x0: 0, x1: d, x2: 0x20_0000))
        #expect(h.call(FID.rttReadEntry, rd, 0x1000, 3).x4 == 2)
        #expect(h.call(FID.dataCreate, rd, d, 0x1000, src, 0).x0 == RC.success)
        #expect(h.call(FID.rttReadEntry, rd, 0x1000, 3).x4 == 1)
    }

    @Test func createUnknown() {
        let h = Host()
        let (rd, rtt0) = h.createRealm()
        let t = h.createRtts(rd, 0)
        let d = h.delegated()
        #expect(h.call(FID.dataCreateUnknown, d, d, 0).x0 == RC.input)  // data == rd
        #expect(h.call(FID.dataCreateUnknown, rd, rtt0, 0).x0 == RC.input)  // data_state
        #expect(h.call(FID.dataCreateUnknown, rd, d, 1 << 39).x0 == RC.input)  // ipa_bound
        #expect(h.call(FID.dataCreateUnknown, rd, d, 0x10).x0 == RC.input)  // ipa_align
        #expect(h.call(FID.dataCreateUnknown, rd, d, 0x8000_0000).x0 == RC.rtt(1))  // rtt_walk
        // Works in any Realm state; keeps the RIPAS (EMPTY: no mapping, but ASSIGNED).
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        #expect(h.call(FID.dataCreateUnknown, rd, d, 0x3000).x0 == RC.success)
        #expect(h.call(FID.rttReadEntry, rd, 0x3000, 3) == RMIResult(x0: 0, x1: 3, x2: 1, x3: d, x4: 0))
        #expect(h.call(FID.dataCreateUnknown, rd, h.delegated(), 0x3000).x0 == RC.rtt(3))  // rtte_state
        #expect(h.refcount(t[2]) == 1)
        // EMPTY stays EMPTY through DATA_DESTROY.
        #expect(h.call(FID.dataDestroy, rd, 0x3000).x1 == d)
        #expect(h.call(FID.rttReadEntry, rd, 0x3000, 3) == RMIResult(x0: 0, x1: 3, x2: 0, x3: 0, x4: 0))
    }

    @Test func createUnknownNeverShowsOldContents() {
        // A DATA granule destroyed and reused (without undelegation) for DATA_CREATE_UNKNOWN
        // holds zeros, not the previous Realm's data.
        let h = Host()
        let (rd, _) = h.createRealm()
        h.createRtts(rd, 0)
        let src = h.nsPage()
        h.write(src, [(0, 0x5EC2E7)])
        let d = h.delegated()
        #expect(h.call(FID.dataCreate, rd, d, 0, src, 1).x0 == RC.success)
        #expect(h.call(FID.dataDestroy, rd, 0).x0 == RC.success)
        #expect(h.call(FID.dataCreateUnknown, rd, d, 0x1000).x0 == RC.success)
        #expect(h.rmm.contentDigest(at: d) == 0)
    }

    @Test func destroyFailuresAndTop() {
        let h = Host()
        let (rd, rtt0) = h.createRealm()
        h.createRtts(rd, 0)
        let src = h.nsPage()
        for ipa: UInt64 in [0x5000, 0x9000] {
            #expect(h.call(FID.dataCreate, rd, h.delegated(), ipa, src, 0).x0 == RC.success)
        }
        #expect(h.call(FID.dataDestroy, rd + 8, 0x5000) == RMIResult(x0: RC.input))  // rd_align; top = 0
        #expect(h.call(FID.dataDestroy, rtt0, 0x5000) == RMIResult(x0: RC.input))  // rd_state
        #expect(h.call(FID.dataDestroy, rd, 0x5008) == RMIResult(x0: RC.input))  // ipa_align
        #expect(h.call(FID.dataDestroy, rd, 1 << 39) == RMIResult(x0: RC.input))  // ipa_bound
        // rtte_state: not mapped; top = the next live entry (or the end of the RTT).
        #expect(h.call(FID.dataDestroy, rd, 0x1000) == RMIResult(x0: RC.rtt(3), x2: 0x5000))
        #expect(h.call(FID.dataDestroy, rd, 0x6000) == RMIResult(x0: RC.rtt(3), x2: 0x9000))
        #expect(h.call(FID.dataDestroy, rd, 0xA000) == RMIResult(x0: RC.rtt(3), x2: 0x20_0000))
        // rtt_walk: stops at level 2 (1 GB past: level 1); top skips to the end of that RTT.
        #expect(h.call(FID.dataDestroy, rd, 0x20_0000) == RMIResult(x0: RC.rtt(2), x2: 0x4000_0000))
        #expect(h.call(FID.dataDestroy, rd, 0x4000_0000) == RMIResult(x0: RC.rtt(1), x2: 0x80_0000_0000))
        // Works in any Realm state.
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        #expect(h.call(FID.dataDestroy, rd, 0x5000).x2 == 0x9000)
    }

    @Test func destroyAssignedBlock() {
        // 512 DATA pages folded into a 2 MB block: DATA_DESTROY needs level 3, so it fails
        // with (RTT, 2) and top == ipa; RTT_CREATE unfolds it again.
        let h = Host()
        let (rd, _) = h.createRealm()
        let t = h.createRtts(rd, 0x20_0000)
        h.nextGranule = 0x8040_0000
        let src = h.nsPage()
        for i: UInt64 in 0 ..< 512 {
            #expect(h.call(FID.dataCreate, rd, h.delegated(), 0x20_0000 + i * 0x1000, src, 0).x0 == RC.success)
        }
        #expect(h.refcount(t[2]) == 512)
        #expect(h.call(FID.rttFold, rd, 0x20_0000, 3) == RMIResult(x0: 0, x1: t[2]))
        #expect(h.call(FID.rttReadEntry, rd, 0x20_0000, 3) == RMIResult(x0: 0, x1: 2, x2: 1, x3: 0x8040_0000, x4: 1))
        #expect(h.call(FID.dataDestroy, rd, 0x20_3000) == RMIResult(x0: RC.rtt(2), x2: 0x20_3000))
        #expect(h.call(FID.rttDestroy, rd, 0x20_0000, 3) == RMIResult(x0: RC.rtt(2), x2: 0x20_0000))
        let t3 = h.delegated()
        #expect(h.call(FID.rttCreate, rd, t3, 0x20_0000, 3).x0 == RC.success)
        #expect(h.refcount(t3) == 512 && h.refcount(t[1]) == 1)
        #expect(h.call(FID.dataDestroy, rd, 0x20_3000) == RMIResult(x0: 0, x1: 0x8040_3000, x2: 0x20_4000))
        #expect(h.refcount(t3) == 511)
    }
}
