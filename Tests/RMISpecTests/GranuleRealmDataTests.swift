import Testing
@testable import RMISpec

/// Label cases for GRANULE_DELEGATE/UNDELEGATE, REALM_*, REC_AUX_COUNT and DATA_*.
enum GranuleRealmDataCases {
    static let nonDelegable: UInt64 = 0x1000          // below DRAM: MMIO on the standard platform
    static let secureGranule: UInt64 = 0xBFFF_0000    // in DRAM, GPT_SECURE at boot

    static var cases: [LabelCase] {
        var c: [LabelCase] = []
        // GRANULE_DELEGATE
        c.append(LabelCase(.granuleDelegate, "gran_align", .errorInput) { var s = Scenario(); s.call(.granuleDelegate, 0x8000_0010); return s })
        c.append(LabelCase(.granuleDelegate, "gran_bound", .errorInput) { var s = Scenario(); s.call(.granuleDelegate, nonDelegable); return s })
        c.append(LabelCase(.granuleDelegate, "gran_state", .errorInput) {
            var s = Scenario(); let g = s.granule(); s.call(.granuleDelegate, g); s.call(.granuleDelegate, g); return s
        })
        c.append(LabelCase(.granuleDelegate, "gran_gpt", .errorInput) { var s = Scenario(); s.call(.granuleDelegate, secureGranule); return s })
        // GRANULE_UNDELEGATE
        c.append(LabelCase(.granuleUndelegate, "gran_align", .errorInput) { var s = Scenario(); s.call(.granuleUndelegate, 0x8000_0008); return s })
        c.append(LabelCase(.granuleUndelegate, "gran_bound", .errorInput) { var s = Scenario(); s.call(.granuleUndelegate, nonDelegable); return s })
        c.append(LabelCase(.granuleUndelegate, "gran_state", .errorInput) { var s = Scenario(); s.call(.granuleUndelegate, s.granule()); return s })

        // REALM_CREATE: each case breaks one thing of an otherwise valid call.
        func realmCreate(_ f: @escaping @Sendable (inout Scenario, inout UInt64, inout UInt64, inout RealmParamsValues) -> Void) -> @Sendable () -> Scenario {
            {
                var s = Scenario()
                let rtt = s.granule(), other = s.granule()
                var rd = s.granule(), params = s.granule()
                s.delegate(rtt, rd)
                _ = other
                var p = RealmParamsValues(rttBase: rtt)
                f(&s, &rd, &params, &p)
                s.call(.realmCreate, rd, params, writes: params % 0x1000 == 0 && s.state.granule(params).state == .undelegated
                       ? [.realmParams(at: params, p)] : [])
                return s
            }
        }
        c.append(LabelCase(.realmCreate, "params_align", .errorInput, realmCreate { _, _, params, _ in params += 8 }))
        c.append(LabelCase(.realmCreate, "params_bound", .errorInput, realmCreate { _, _, params, _ in params = nonDelegable }))
        c.append(LabelCase(.realmCreate, "params_pas", .errorInput, realmCreate { s, _, params, _ in s.setGPT(params, .secure) }))
        c.append(LabelCase(.realmCreate, "params_valid", .errorInput, realmCreate { _, _, _, p in p.hashAlgo = 2 }))
        c.append(LabelCase(.realmCreate, "params_supp", .errorInput, realmCreate { _, _, _, p in p.numBPs = 0 }))
        c.append(LabelCase(.realmCreate, "alias", .errorInput, realmCreate { _, rd, _, p in p.rttBase = rd }))
        c.append(LabelCase(.realmCreate, "rd_align", .errorInput, realmCreate { _, rd, _, _ in rd += 0x10 }))
        c.append(LabelCase(.realmCreate, "rd_bound", .errorInput, realmCreate { _, rd, _, _ in rd = nonDelegable }))
        c.append(LabelCase(.realmCreate, "rd_state", .errorInput, realmCreate { s, rd, _, _ in rd = s.granule() }))
        c.append(LabelCase(.realmCreate, "rtt_align", .errorInput, realmCreate { s, _, _, p in
            // Two starting RTTs (w = 40, SL = 1) need an 8 KB aligned base.
            let g = s.granules(3, alignment: 0x2000)
            s.delegate(g[1], g[2])
            p.rttBase = g[1]; p.rttLevelStart = 1; p.rttNumStart = 2
        }))
        c.append(LabelCase(.realmCreate, "rtt_num_level", .errorInput, realmCreate { _, _, _, p in p.rttNumStart = 2 }))
        c.append(LabelCase(.realmCreate, "rtt_state", .errorInput, realmCreate { s, _, _, p in p.rttBase = s.granule() }))
        c.append(LabelCase(.realmCreate, "vmid_valid", .errorInput) {
            var s = Scenario()
            s.createRealm(vmid: 5)
            s.createRealm(vmid: 5)
            return s
        })
        // REALM_ACTIVATE
        c.append(LabelCase(.realmActivate, "rd_align", .errorInput) { var s = Scenario(); s.call(.realmActivate, 0x8000_0004); return s })
        c.append(LabelCase(.realmActivate, "rd_bound", .errorInput) { var s = Scenario(); s.call(.realmActivate, nonDelegable); return s })
        c.append(LabelCase(.realmActivate, "rd_state", .errorInput) {
            var s = Scenario(); let g = s.granule(); s.delegate(g); s.call(.realmActivate, g); return s
        })
        c.append(LabelCase(.realmActivate, "realm_state", .errorRealm) {
            var s = Scenario(); let (r, _) = s.createRealm(); s.call(.realmActivate, r.rd); s.call(.realmActivate, r.rd); return s
        })
        // REALM_DESTROY
        c.append(LabelCase(.realmDestroy, "rd_align", .errorInput) { var s = Scenario(); s.call(.realmDestroy, 0x8000_0001); return s })
        c.append(LabelCase(.realmDestroy, "rd_bound", .errorInput) { var s = Scenario(); s.call(.realmDestroy, nonDelegable); return s })
        c.append(LabelCase(.realmDestroy, "rd_state", .errorInput) { var s = Scenario(); s.call(.realmDestroy, s.granule()); return s })
        c.append(LabelCase(.realmDestroy, "realm_live", .errorRealm) {
            var s = Scenario(); let r = realmWithTables(&s, level: 1); s.call(.realmDestroy, r.rd); return s
        })
        // REC_AUX_COUNT
        c.append(LabelCase(.recAuxCount, "rd_align", .errorInput) { var s = Scenario(); s.call(.recAuxCount, 0x8000_0002); return s })
        c.append(LabelCase(.recAuxCount, "rd_bound", .errorInput) { var s = Scenario(); s.call(.recAuxCount, nonDelegable); return s })
        c.append(LabelCase(.recAuxCount, "rd_state", .errorInput) { var s = Scenario(); s.call(.recAuxCount, s.granule()); return s })

        // DATA_CREATE: a valid call, with one argument made bad.
        struct DataArgs { var rd, data, ipa, src, flags: UInt64 }
        func dataCreate(_ f: @escaping @Sendable (inout Scenario, inout DataArgs) -> Void) -> @Sendable () -> Scenario {
            {
                var s = Scenario()
                let r = realmWithTables(&s)
                let src = s.granule(), data = s.granule()
                s.write(.data(at: src, content: 0xABCD))
                s.delegate(data)
                var a = DataArgs(rd: r.rd, data: data, ipa: 0x3000, src: src, flags: 1)
                f(&s, &a)
                s.call(.dataCreate, a.rd, a.data, a.ipa, a.src, a.flags)
                return s
            }
        }
        c.append(LabelCase(.dataCreate, "src_align", .errorInput, dataCreate { _, a in a.src += 0x800 }))
        c.append(LabelCase(.dataCreate, "src_bound", .errorInput, dataCreate { _, a in a.src = nonDelegable }))
        c.append(LabelCase(.dataCreate, "src_pas", .errorInput, dataCreate { s, a in s.delegate(a.src) }))
        c.append(LabelCase(.dataCreate, "data_align", .errorInput, dataCreate { _, a in a.data += 0x40 }))
        c.append(LabelCase(.dataCreate, "data_bound", .errorInput, dataCreate { _, a in a.data = nonDelegable }))
        c.append(LabelCase(.dataCreate, "data_state", .errorInput, dataCreate { s, a in a.data = s.granule() }))
        c.append(LabelCase(.dataCreate, "data_bound2", .errorInput) {
            // A delegable range above 2^48 on this platform.
            var p = Platform.standard
            p.delegable.append(.init(base: 1 << 48, size: 0x10_0000))
            var s = Scenario(platform: p)
            let r = realmWithTables(&s)
            let src = s.granule()
            let high: UInt64 = 1 << 48
            s.delegate(high)
            s.call(.dataCreate, r.rd, high, 0x3000, src, 0)
            return s
        })
        c.append(LabelCase(.dataCreate, "rd_align", .errorInput, dataCreate { _, a in a.rd += 0x100 }))
        c.append(LabelCase(.dataCreate, "rd_bound", .errorInput, dataCreate { _, a in a.rd = nonDelegable }))
        c.append(LabelCase(.dataCreate, "rd_state", .errorInput, dataCreate { s, a in a.rd = s.granule() }))
        c.append(LabelCase(.dataCreate, "ipa_align", .errorInput, dataCreate { _, a in a.ipa += 0x10 }))
        c.append(LabelCase(.dataCreate, "ipa_bound", .errorInput, dataCreate { _, a in a.ipa = 1 << 39 }))
        c.append(LabelCase(.dataCreate, "realm_state", .errorRealm, dataCreate { s, a in s.call(.realmActivate, a.rd) }))
        c.append(LabelCase(.dataCreate, "rtt_walk", .errorRtt, index: 2, dataCreate { _, a in a.ipa = 0x20_0000 }))
        c.append(LabelCase(.dataCreate, "rtte_state", .errorRtt, index: 3, dataCreate { s, a in
            let d = s.granule(); s.delegate(d); s.call(.dataCreate, a.rd, d, a.ipa, a.src, 0)
        }))
        // DATA_CREATE_UNKNOWN
        func dataUnknown(_ f: @escaping @Sendable (inout Scenario, inout DataArgs) -> Void) -> @Sendable () -> Scenario {
            {
                var s = Scenario()
                let r = realmWithTables(&s)
                let data = s.granule()
                s.delegate(data)
                var a = DataArgs(rd: r.rd, data: data, ipa: 0x5000, src: 0, flags: 0)
                f(&s, &a)
                s.call(.dataCreateUnknown, a.rd, a.data, a.ipa)
                return s
            }
        }
        c.append(LabelCase(.dataCreateUnknown, "data_align", .errorInput, dataUnknown { _, a in a.data += 4 }))
        c.append(LabelCase(.dataCreateUnknown, "data_bound", .errorInput, dataUnknown { _, a in a.data = nonDelegable }))
        c.append(LabelCase(.dataCreateUnknown, "data_state", .errorInput, dataUnknown { s, a in a.data = s.granule() }))
        c.append(LabelCase(.dataCreateUnknown, "data_bound2", .errorInput) {
            var p = Platform.standard
            p.delegable.append(.init(base: 1 << 48, size: 0x10_0000))
            var s = Scenario(platform: p)
            let r = realmWithTables(&s)
            s.delegate(1 << 48)
            s.call(.dataCreateUnknown, r.rd, 1 << 48, 0x5000)
            return s
        })
        c.append(LabelCase(.dataCreateUnknown, "rd_align", .errorInput, dataUnknown { _, a in a.rd += 8 }))
        c.append(LabelCase(.dataCreateUnknown, "rd_bound", .errorInput, dataUnknown { _, a in a.rd = nonDelegable }))
        c.append(LabelCase(.dataCreateUnknown, "rd_state", .errorInput, dataUnknown { s, a in a.rd = s.granule() }))
        c.append(LabelCase(.dataCreateUnknown, "ipa_align", .errorInput, dataUnknown { _, a in a.ipa += 1 }))
        c.append(LabelCase(.dataCreateUnknown, "ipa_bound", .errorInput, dataUnknown { _, a in a.ipa = (1 << 40) + 0x5000 }))
        c.append(LabelCase(.dataCreateUnknown, "rtt_walk", .errorRtt, index: 1, dataUnknown { _, a in a.ipa = 1 << 30 }))
        c.append(LabelCase(.dataCreateUnknown, "rtte_state", .errorRtt, index: 3, dataUnknown { s, a in
            let d = s.granule(); s.delegate(d); s.call(.dataCreateUnknown, a.rd, d, a.ipa)
        }))
        // DATA_DESTROY
        func dataDestroy(_ f: @escaping @Sendable (inout Scenario, inout DataArgs) -> Void) -> @Sendable () -> Scenario {
            {
                var s = Scenario()
                let r = realmWithTables(&s)
                let data = s.granule()
                s.delegate(data)
                s.call(.dataCreateUnknown, r.rd, data, 0x7000)
                var a = DataArgs(rd: r.rd, data: data, ipa: 0x7000, src: 0, flags: 0)
                f(&s, &a)
                s.call(.dataDestroy, a.rd, a.ipa)
                return s
            }
        }
        c.append(LabelCase(.dataDestroy, "rd_align", .errorInput, dataDestroy { _, a in a.rd += 0x20 }))
        c.append(LabelCase(.dataDestroy, "rd_bound", .errorInput, dataDestroy { _, a in a.rd = nonDelegable }))
        c.append(LabelCase(.dataDestroy, "rd_state", .errorInput, dataDestroy { s, a in a.rd = s.granule() }))
        c.append(LabelCase(.dataDestroy, "ipa_align", .errorInput, dataDestroy { _, a in a.ipa += 0x200 }))
        c.append(LabelCase(.dataDestroy, "ipa_bound", .errorInput, dataDestroy { _, a in a.ipa = 1 << 39 }))
        c.append(LabelCase(.dataDestroy, "rtt_walk", .errorRtt, index: 2, dataDestroy { _, a in a.ipa = 0x40_0000 }))
        c.append(LabelCase(.dataDestroy, "rtte_state", .errorRtt, index: 3, dataDestroy { _, a in a.ipa = 0x8000 }))
        return c
    }
}

@Suite struct GranuleRealmDataTests {
    @Test func delegateThenUndelegateRestoresTheInitialState() {
        var s = Scenario()
        let g = s.granule()
        s.write(.data(at: g, content: 0x1234))
        expectSuccess(s.call(.granuleDelegate, g))
        #expect(s.state.granule(g).state == .delegated)
        #expect(s.state.granule(g).gpt == .realm)
        #expect(s.state.granule(g).content == 0, "delegation wipes the Granule")
        expectSuccess(s.call(.granuleUndelegate, g))
        #expect(s.state == SpecState())
    }

    @Test func realmCreateInitialisesTheStartingTable() {
        var s = Scenario()
        let (r, res) = s.createRealm(s2sz: 40, sl: 0)
        expectSuccess(res)
        let rtt = s.state.rtts[r.startingRtts[0]]!
        #expect(rtt.level == 0)
        // w = 40, SL = 0: entry 0 covers [0, 512 GB), protected; entry 1 the unprotected half.
        #expect(rtt.entries[0].entryState == .unassigned && rtt.entries[0].ripasValue == .empty)
        #expect(rtt.entries[1].entryState == .unassignedNS)
        #expect(s.state.realms[r.rd]!.fields[RealmField.state.rawValue] == RealmState.new.rawValue)
    }

    @Test func dataCreateMeasuresContentAndDestroyReturnsTop() {
        var s = Scenario()
        let r = realmWithTables(&s)
        let src = s.granule(), data = s.granule()
        s.write(.data(at: src, content: 0xFEED))
        s.delegate(data)
        let rim0 = s.state.realms[r.rd]!.fields[RealmField.rim.rawValue]
        expectSuccess(s.call(.dataCreate, r.rd, data, 0x3000, src, 1))
        #expect(s.state.granule(data).state == .data)
        #expect(s.state.granule(data).content == 0xFEED)
        #expect(s.state.realms[r.rd]!.fields[RealmField.rim.rawValue] != rim0)
        let d = s.call(.dataDestroy, r.rd, 0x3000)
        expectSuccess(d)
        // data = the Granule; top = past the last entry of the level-3 RTT (no other live entry).
        #expect(d.canonical.outputs == [data, 0x20_0000])
        #expect(s.state.granule(data).state == .delegated && s.state.granule(data).content == 0)
        let walk = s.state.walk(CWord(r.rd), CWord(0x3000), to: 3)
        #expect(walk.entry.state.raw == RttEntryState.unassigned.rawValue)
        #expect(walk.entry.ripas.raw == Ripas.destroyed.rawValue, "RAM becomes DESTROYED")
    }

    @Test func dataDestroyTopSkipsToTheNextLiveEntry() {
        var s = Scenario()
        let r = realmWithTables(&s)
        let a = s.granule(), b = s.granule()
        s.delegate(a, b)
        s.call(.dataCreateUnknown, r.rd, a, 0x1000)
        s.call(.dataCreateUnknown, r.rd, b, 0x9000)
        // Not mapped at 0x2000: RTT error at level 3, top = next live entry 0x9000.
        let miss = s.call(.dataDestroy, r.rd, 0x2000)
        expectHit(miss, "rtte_state", .errorRtt, index: 3)
        #expect(miss.canonical.outputs.last == 0x9000)
        let hit = s.call(.dataDestroy, r.rd, 0x1000)
        #expect(hit.canonical.outputs == [a, 0x9000])
    }

    @Test func unorderedFailuresAllowEitherResult() {
        // DATA_CREATE with an unaligned IPA in a Realm that is no longer NEW: ipa_align and
        // realm_state are unordered (reference 5.5), so INPUT and REALM are both allowed.
        var s = Scenario()
        let r = realmWithTables(&s)
        let src = s.granule(), data = s.granule()
        s.delegate(data)
        s.call(.realmActivate, r.rd)
        let res = s.call(.dataCreate, r.rd, data, 0x3008, src, 0)
        #expect(Set(res.allowed.map(\.status)) == [.errorInput, .errorRealm])
        // With the CBMC reading, only the first failing condition in listing order.
        let strict = RMISpec.step(SpecState(options: .strictListingOrder), .granuleDelegate, [0x1001])
        #expect(strict.failing == ["gran_align", "gran_bound"] && strict.allowed.map(\.label) == ["gran_align"])
        // rd_state precedes realm_state: with an RD that is not an RD, only INPUT.
        let bad = s.call(.dataCreate, data, data, 0x3000, src, 0)
        #expect(bad.allowed.allSatisfy { $0.status == .errorInput })
    }
}
