import Testing
@testable import RMMImpl

/// Reference 5.8-5.11, 4.1, 3.4: REALM_CREATE (parameter validation), REALM_ACTIVATE,
/// REALM_DESTROY, REC_AUX_COUNT.
@Suite struct RealmCommands {
    /// REALM_CREATE with `tweak` applied to valid parameters; the rd and starting RTT are
    /// fresh delegated granules (RTT base aligned for up to 16 tables).
    func create(_ h: Host, tweak: (inout Host.RealmParams) -> Void) -> (x0: UInt64, rd: UInt64, rtt: UInt64) {
        let rd = h.delegated()
        h.nextGranule = (h.nextGranule + 0xF_FFFF) & ~0xF_FFFF
        let rtt = h.nextGranule
        for _ in 0 ..< 16 { _ = h.delegated() }
        var p = Host.RealmParams(rttBase: rtt)
        tweak(&p)
        let x0 = h.call(FID.realmCreate, rd, h.realmParams(p)).x0
        if x0 != RC.success {
            // A failed REALM_CREATE changes nothing.
            #expect(h.state(rd) == .delegated && h.state(rtt) == .delegated)
            #expect(!h.rmm.vmidInUse(p.vmid) || p.vmid == 7)
        }
        return (x0, rd, rtt)
    }

    @Test func paramsPointer() {
        let h = Host()
        let rd = h.delegated(), rtt = h.delegated()
        let p = h.realmParams(Host.RealmParams(rttBase: rtt))
        #expect(h.call(FID.realmCreate, rd, p + 8).x0 == RC.input)  // params_align
        #expect(h.call(FID.realmCreate, rd, 0x1000_0000).x0 == RC.input)  // params_bound (device)
        #expect(h.call(FID.realmCreate, rd, rtt).x0 == RC.input)  // params_pas (delegated)
        #expect(h.rmm.setGPT(p, .secure))
        #expect(h.call(FID.realmCreate, rd, p).x0 == RC.input)  // params_pas (GPT)
        #expect(h.rmm.setGPT(p, .ns))
        #expect(h.call(FID.realmCreate, rd, p).x0 == RC.success)
    }

    @Test func parameterValidation() {
        // params_valid / params_supp / rtt_num_level: all INPUT.
        let bad: [(String, (inout Host.RealmParams) -> Void)] = [
            ("hash_algo 2", { $0.hashAlgo = 2 }),
            ("lpa2 unsupported", { $0.flags = 1 }),
            ("sve unsupported", { $0.flags = 2 }),
            ("s2sz 31", { $0.s2sz = 31 }),
            ("s2sz 49", { $0.s2sz = 49 }),
            ("num_bps 0", { $0.numBPs = 0 }),
            ("num_bps 6", { $0.numBPs = 6 }),
            ("num_wps 0", { $0.numWPs = 0 }),
            ("num_wps 4", { $0.numWPs = 4 }),
            ("pmu 0 counters without FEAT_HPMN0", { $0.flags = 4; $0.pmuNumCtrs = 0 }),
            ("pmu 9 counters", { $0.flags = 4; $0.pmuNumCtrs = 9 }),
            ("SL 0 w 39", { $0.s2sz = 39 }),
            ("SL 1 w 40 n 1", { $0.rttLevelStart = 1 }),
            ("SL 3", { $0.rttLevelStart = 3; $0.s2sz = 32 }),
            ("SL -1 without LPA2", { $0.rttLevelStart = -1 }),
            ("n 2 for SL 0 w 40", { $0.rttNumStart = 2 }),
            ("n 0", { $0.rttNumStart = 0 }),
            ("vmid beyond 16 bits is masked: 0x10007 is 7, in use", { $0.vmid = 0x1_0007 }),
        ]
        let h = Host()
        _ = h.createRealm(vmid: 7)
        for (name, tweak) in bad {
            #expect(create(h, tweak: tweak).x0 == RC.input, "\(name)")
        }
    }

    @Test func validConfigurations() {
        // (w, SL, n) combinations of reference 3.4, and optional features within limits.
        let good: [(String, (inout Host.RealmParams) -> Void)] = [
            ("SL 0 w 48", { $0.s2sz = 48 }),
            ("SL 1 w 32", { $0.s2sz = 32; $0.rttLevelStart = 1 }),
            ("SL 1 w 40 n 2", { $0.rttLevelStart = 1; $0.rttNumStart = 2 }),
            ("SL 1 w 43 n 16", { $0.s2sz = 43; $0.rttLevelStart = 1; $0.rttNumStart = 16 }),
            ("SL 2 w 34 n 16", { $0.s2sz = 34; $0.rttLevelStart = 2; $0.rttNumStart = 16 }),
            ("pmu 8 counters", { $0.flags = 4; $0.pmuNumCtrs = 8 }),
            ("SHA-512, 5 bps, 3 wps", { $0.hashAlgo = 1; $0.numBPs = 5; $0.numWPs = 3 }),
            ("SBZ flag bits", { $0.flags = 1 << 40 }),
        ]
        for (i, (name, tweak)) in good.enumerated() {
            let h = Host()
            let r = create(h, tweak: { p in p.vmid = UInt64(i); tweak(&p) })
            #expect(r.x0 == RC.success, "\(name)")
            #expect(h.rmm.vmidInUse(UInt64(i)))
        }
    }

    @Test func startingRttsAndDescriptor() {
        // w = 32, SL = 1: one level-1 table, entries of 1 GB; [0, 2 GB) is protected.
        let h = Host()
        let (x0, rd, rtt) = create(h) { $0.s2sz = 32; $0.rttLevelStart = 1; $0.vmid = 3 }
        #expect(x0 == RC.success)
        let d = h.rmm.rd(at: rd)!
        #expect(d.state == .new && d.ipaWidth == 32 && d.startLevel == 1 && d.numStartRtts == 1)
        #expect(d.rttBase == rtt && d.vmid == 3 && d.recIndex == 0 && d.numRecs == 0 && d.rpv[0] == 0x1234)
        let e = h.rmm.rttEntries(at: rtt)!.map { RMM.decodeEntry($0, level: 1) }
        #expect(e[0].state == .unassigned && e[1].state == .unassigned && e[0].ripas == 0)
        #expect(e[2].state == .unassignedNS && e[3].state == .unassignedNS)
        #expect(h.refcount(rtt) == 0 && h.refcount(rd) == 0)
    }

    @Test func concatenatedStartingRtts() {
        // w = 41, SL = 1: 4 tables at rtt_base .. rtt_base + 12K; the RD may not alias them
        // and rtt_base must be aligned to 16K.
        let h = Host()
        let tweak: (inout Host.RealmParams) -> Void = { $0.s2sz = 41; $0.rttLevelStart = 1; $0.rttNumStart = 4 }
        let rd = h.delegated()
        h.nextGranule = 0x8010_0000
        let base = h.nextGranule
        for _ in 0 ..< 5 { _ = h.delegated() }
        var p = Host.RealmParams(rttBase: base)
        tweak(&p)
        #expect(h.call(FID.realmCreate, base + 0x2000, h.realmParams(p)).x0 == RC.input)  // alias
        p.rttBase = base + 0x1000
        #expect(h.call(FID.realmCreate, rd, h.realmParams(p)).x0 == RC.input)  // rtt_align
        p.rttBase = base
        h.nextGranule = 0x8010_0000 + 0x3000
        #expect(h.call(FID.granuleUndelegate, base + 0x3000).x0 == RC.success)
        #expect(h.call(FID.realmCreate, rd, h.realmParams(p)).x0 == RC.input)  // rtt_state
        #expect(h.call(FID.granuleDelegate, base + 0x3000).x0 == RC.success)
        #expect(h.call(FID.realmCreate, rd, h.realmParams(p)).x0 == RC.success)
        for i: UInt64 in 0 ..< 4 { #expect(h.state(base + i * 0x1000) == .rtt) }
        // The second table covers [512 GB, 1 TB): protected (2^40 is the first unprotected IPA).
        #expect(h.call(FID.rttReadEntry, rd, 0x80_0000_0000, 1) == RMIResult(x0: 0, x1: 1, x2: 0, x3: 0, x4: 0))
        #expect(h.call(FID.rttReadEntry, rd, 1 << 40, 1).x2 == 0)
        #expect(RMM.decodeEntry(h.rmm.rttEntries(at: base + 0x2000)![0], level: 1).state == .unassignedNS)
        // Tearing it down frees all four.
        #expect(h.call(FID.realmDestroy, rd).x0 == RC.success)
        for i: UInt64 in 0 ..< 4 { #expect(h.state(base + i * 0x1000) == .delegated) }
    }

    @Test func rdAndVmid() {
        let h = Host()
        let (rd, _) = h.createRealm(vmid: 9)
        // rd_state: already an RD; rd undelegated; rd == an RTT of another Realm.
        let rtt = h.delegated()
        #expect(h.call(FID.realmCreate, rd, h.realmParams(.init(vmid: 10, rttBase: rtt))).x0 == RC.input)
        #expect(h.call(FID.realmCreate, 0x9000_0000, h.realmParams(.init(vmid: 10, rttBase: rtt))).x0 == RC.input)
        // vmid_valid: in use; beyond the platform's VMID width.
        let rd2 = h.delegated()
        #expect(h.call(FID.realmCreate, rd2, h.realmParams(.init(vmid: 9, rttBase: rtt))).x0 == RC.input)
        var p8 = RMMPlatform.standard
        p8.vmidBits = 8
        let h8 = Host(platform: p8)
        let r8 = h8.delegated(), t8 = h8.delegated()
        #expect(h8.call(FID.realmCreate, r8, h8.realmParams(.init(vmid: 256, rttBase: t8))).x0 == RC.input)
        #expect(h8.call(FID.realmCreate, r8, h8.realmParams(.init(vmid: 255, rttBase: t8))).x0 == RC.success)
        // A failing REALM_CREATE releases the VMID it reserved (alias fails after validation).
        let rd3 = h.delegated()
        #expect(h.call(FID.realmCreate, rd3, h.realmParams(.init(vmid: 11, rttBase: rd3))).x0 == RC.input)
        #expect(!h.rmm.vmidInUse(11))
    }

    @Test func activate() {
        let h = Host()
        let (rd, rtt) = h.createRealm()
        #expect(h.call(FID.realmActivate, rd + 0x10).x0 == RC.input)  // rd_align
        #expect(h.call(FID.realmActivate, 0x1000).x0 == RC.input)  // rd_bound
        #expect(h.call(FID.realmActivate, rtt).x0 == RC.input)  // rd_state
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        #expect(h.rmm.rd(at: rd)?.state == .active)
        #expect(h.call(FID.realmActivate, rd).x0 == RC.realm)  // realm_state
    }

    @Test func destroy() {
        let h = Host()
        let (rd, rtt) = h.createRealm(vmid: 4)
        #expect(h.call(FID.realmDestroy, rd + 0x800).x0 == RC.input)
        #expect(h.call(FID.realmDestroy, 0x1000).x0 == RC.input)
        #expect(h.call(FID.realmDestroy, rtt).x0 == RC.input)
        // realm_live: a REC.
        let (rec, aux) = h.createRec(rd, index: 0)
        #expect(h.call(FID.realmDestroy, rd).x0 == RC.realm)
        #expect(h.call(FID.recDestroy, rec).x0 == RC.success)
        // realm_live: a TABLE entry in the starting RTT.
        let t = h.createRtts(rd, 0, from: 1, to: 1)
        #expect(h.call(FID.realmDestroy, rd).x0 == RC.realm)
        #expect(h.state(rd) == .rd)
        #expect(h.call(FID.rttDestroy, rd, 0, 1).x0 == RC.success)
        // ASSIGNED_NS entries do not make a Realm live; nor does the Realm's state.
        _ = h.createRtts(rd, 1 << 39, from: 1, to: 1)
        #expect(h.call(FID.rttMapUnprotected, rd, 1 << 39, 1, 0xC000_0000 | 0xC0).x0 == RC.success)
        #expect(h.call(FID.realmDestroy, rd).x0 == RC.realm)  // the NS level-1 RTT is a TABLE entry
        #expect(h.call(FID.rttFold, rd, 1 << 39, 1).x0 == RC.rtt(1))  // not foldable
        #expect(h.call(FID.rttDestroy, rd, 1 << 39, 1).x0 == RC.success)  // ASSIGNED_NS are dropped
        #expect(h.call(FID.realmActivate, rd).x0 == RC.success)
        #expect(h.call(FID.realmDestroy, rd).x0 == RC.success)
        #expect(h.state(rd) == .delegated && h.state(rtt) == .delegated && !h.rmm.vmidInUse(4))
        #expect((aux + t + [rec]).allSatisfy { h.state($0) == .delegated })
        #expect(h.rmm.rd(at: rd) == nil)
    }

    @Test func recAuxCount() {
        let h = Host()
        let (rd, rtt) = h.createRealm()
        #expect(h.call(FID.recAuxCount, rd) == RMIResult(x0: 0, x1: 2))
        #expect(h.call(FID.recAuxCount, rtt).x0 == RC.input)
        #expect(h.call(FID.recAuxCount, rd | 1).x0 == RC.input)
        var p = RMMPlatform.standard
        p.recAuxCount = 16
        let h16 = Host(platform: p)
        let (rd16, _) = h16.createRealm()
        #expect(h16.call(FID.recAuxCount, rd16) == RMIResult(x0: 0, x1: 16))
        _ = h16.createRec(rd16, index: 0)
    }

    @Test func measurement() {
        // Equal inputs give equal RIMs; content, IPA, flags and REC parameters all count;
        // unmeasured content does not.
        func build(content: UInt64, measure: UInt64 = 1, ipa: UInt64 = 0, pc: UInt64 = 0x1000) -> UInt64 {
            let h = Host()
            h.rmm.recordsMeasurementLog = true
            let (rd, _) = h.createRealm()
            h.createRtts(rd, 0)
            let src = h.nsPage()
            h.write(src, [(0x100, content)])
            #expect(h.call(FID.dataCreate, rd, h.delegated(), ipa, src, measure).x0 == RC.success)
            #expect(h.call(FID.rttInitRipas, rd, 0x10000, 0x12000).x0 == RC.success)
            _ = h.createRec(rd, index: 0, pc: pc)
            _ = h.createRec(rd, index: 1, runnable: false, pc: 0x5555)
            let d = h.rmm.rd(at: rd)!
            #expect(d.rimLog.count == 5)  // params, data, 2 ripas entries, 1 runnable REC
            return d.rim
        }
        let a = build(content: 1)
        #expect(build(content: 1) == a)
        #expect(build(content: 2) != a)
        #expect(build(content: 1, ipa: 0x1000) != a)
        #expect(build(content: 1, pc: 0x2000) != a)
        #expect(build(content: 1, measure: 0) != a)
        #expect(build(content: 1, measure: 0) == build(content: 2, measure: 0))
    }
}
