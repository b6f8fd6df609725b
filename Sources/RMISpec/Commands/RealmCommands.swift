/// RmiRealmParams (B4.4.12) as the RMM reads it from NS memory.
struct RealmParams<D: Domain> {
    var flags, s2sz, sveVL, numBPs, numWPs, pmuNumCtrs, hashAlgo, rpv, vmid, rttBase, rttLevelStart, rttNumStart: Word<D>

    init<M: Machine>(_ m: M, at p: Word<D>) where M.D == D {
        typealias L = RealmParamsLayout
        func read(_ off: UInt64) -> Word<D> { m.nsRead(p + Word(off)) }
        flags = read(L.flags)
        // UInt8 fields (TF-RMM reads 32 bits of these; reference audit A4).
        s2sz = read(L.s2sz) & 0xFF
        sveVL = read(L.sveVL) & 0xFF
        numBPs = read(L.numBPs) & 0xFF
        numWPs = read(L.numWPs) & 0xFF
        pmuNumCtrs = read(L.pmuNumCtrs) & 0xFF
        hashAlgo = read(L.hashAlgo) & 0xFF
        rpv = read(L.rpv)
        vmid = read(L.vmid) & 0xFFFF
        rttBase = read(L.rttBase)
        rttLevelStart = read(L.rttLevelStart)
        rttNumStart = read(L.rttNumStart) & 0xFFFF_FFFF
    }

    var lpa2: Bit<D> { flags.bit(0) }
    var sve: Bit<D> { flags.bit(1) }
    var pmu: Bit<D> { flags.bit(2) }
}

extension Machine {
    /// `RttConfigIsValid(s2sz, rtt_level_start, rtt_num_start)` (reference 3.4).
    public func rttConfigIsValid(w: Word<D>, sl: Word<D>, n: Word<D>, lpa2: Bit<D>) -> Bit<D> {
        let slValid = (Word(0).sle(sl) && sl.sle(3)) || (lpa2 && sl == Word(UInt64(bitPattern: -1)))
        let paOK = implies(sl.sle(0), Bit(m_paWidth >= 44))
        let lvls = 3 - sl
        let lo = 9 * lvls + 13
        let extra: Word<D> = ite(sl.slt(0), 3, ite(Word(0).slt(sl) || (sl == 0 && lpa2), 12, 8))
        let wValid = lo.sle(w) && w.sle(lo + extra)
        let b = 9 * lvls + 21
        let expected = ite(b.slt(w), Word(1) << (w - b), 1)
        return slValid && paOK && wValid && n == expected
    }
    var m_paWidth: UInt64 { platform.paWidth }

    /// `RealmParamsSupported(params)`: what the platform reports in RmiFeatureRegister0.
    func realmParamsSupported(_ p: RealmParams<D>) -> Bit<D> {
        let f = platform.features
        let lpa2OK = implies(p.lpa2, Bit(f.lpa2))
        let s2szOK = Word(32) <= p.s2sz && p.s2sz <= Word(f.s2sz) && (p.s2sz <= 48 || p.lpa2)
        let bpsOK = p.numBPs != 0 && p.numBPs <= Word(f.numBPs)
        let wpsOK = p.numWPs != 0 && p.numWPs <= Word(f.numWPs)
        let sveOK = implies(p.sve, Bit(f.sveEnabled) && p.sveVL <= Word(f.sveVL))
        // No FEAT_HPMN0 on the modelled platform: zero counters are not supported.
        let pmuOK = implies(p.pmu, Bit(f.pmuEnabled) && p.pmuNumCtrs != 0 && p.pmuNumCtrs <= Word(f.pmuNumCtrs))
        let hashOK = (p.hashAlgo == 0 && Bit(f.sha256)) || (p.hashAlgo == 1 && Bit(f.sha512))
        return lpa2OK && s2szOK && bpsOK && wpsOK && sveOK && pmuOK && hashOK
    }
}

/// RMI_REALM_CREATE (B4.3.10).
enum RealmCreate {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        typealias W = Word<M.D>
        let rd = c.x[0], ptr = c.x[1]
        let p = RealmParams(m, at: ptr)
        let n = p.rttNumStart
        let rttsDelegated = m.allStartingRtts(base: p.rttBase, count: n) { t in m.isDelegable(t) && m.granuleIs(t, .delegated) }
        let vmidUsed = m.existsRealm { other in m.realm(other, .vmid) == p.vmid }
        var conditions = m.nsArgument("params", ptr) + [
            // Reserved encodings; SBZ flag bits are not checked (as TF-RMM).
            Condition("params_valid", .errorInput, p.hashAlgo > 1),
            Condition("params_supp", .errorInput, !m.realmParamsSupported(p)),
            Condition("alias", .errorInput, n != 0 && rd >= p.rttBase && (rd - p.rttBase) <= (n - 1) * M.granule),
        ]
        conditions += m.granuleArgument("rd", rd, is: .delegated)
        conditions += [
            Condition("rtt_align", .errorInput, !p.rttBase.isAligned(to: n * M.granule) || !m.aligned(p.rttBase)),
            Condition("rtt_num_level", .errorInput,
                      !m.rttConfigIsValid(w: p.s2sz, sl: p.rttLevelStart, n: n, lpa2: p.lpa2)),
            Condition("rtt_state", .errorInput, !rttsDelegated),
            Condition("vmid_valid", .errorInput, p.vmid >= W(1 << m.platform.vmidBits) || vmidUsed),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }

        m.setGranuleState(rd, .rd, when: ok)
        let fields: [(RealmField, W)] = [
            (.state, W(RealmState.new.rawValue)), (.ipaWidth, p.s2sz), (.levelStart, p.rttLevelStart),
            (.numStart, n), (.rttBase, p.rttBase), (.lpa2, p.lpa2.word), (.hashAlgo, p.hashAlgo),
            (.vmid, p.vmid), (.rpv, p.rpv), (.recIndex, 0), (.numRecs, 0),
            (.rim, m.measure(p.hashAlgo, [p.flags, p.s2sz, p.sveVL, p.numBPs, p.numWPs, p.pmuNumCtrs, p.hashAlgo])),
        ]
        for (f, v) in fields { m.setRealm(rd, f, v, when: ok) }

        let size = m.levelSize(p.rttLevelStart)
        let protectedTop = W(1) << (p.s2sz - 1)
        m.updateStartingRtts(base: p.rttBase, count: n, when: ok) { m, i, t, make in
            let tableBase = i * 512 * size
            m.setGranuleState(t, .rtt, when: make)
            m.setRtt(t, .level, p.rttLevelStart, when: make)
            m.setRtt(t, .owner, rd, when: make)
            m.setRtt(t, .ipaBase, tableBase, when: make)
            // Entry j is UNASSIGNED when its IPA, tableBase + j * size, is below protectedTop,
            // else UNASSIGNED_NS: the first `protectedCount` entries are protected. Written as
            // two constant range updates rather than one closure of j, so that the symbolic
            // face keeps the untracked entries as one summary instead of 512 terms.
            let protectedCount = ite(tableBase < protectedTop,
                                     W.min((protectedTop - tableBase + size - 1) >> m.levelShift(p.rttLevelStart), 512), 0)
            m.updateEntries(t, from: 0, to: 512, when: make) { _, _ in
                RttEntry(state: W(RttEntryState.unassignedNS.rawValue), ripas: W(Ripas.empty.rawValue))
            }
            m.updateEntries(t, from: 0, to: protectedCount, when: make) { _, _ in
                RttEntry(state: W(RttEntryState.unassigned.rawValue), ripas: W(Ripas.empty.rawValue))
            }
        }
        return Evaluation(conditions)
    }
}

/// RMI_REALM_ACTIVATE (B4.3.9).
enum RealmActivate {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        let rd = c.x[0]
        let conditions: [Condition<M.D>] = m.granuleArgument("rd", rd, is: .rd) + [
            Condition("realm_state", .errorRealm, !m.realmIs(rd, .new)),
        ]
        m.setRealm(rd, .state, Word(RealmState.active.rawValue), when: Evaluation.succeeds(conditions))
        return Evaluation(conditions)
    }
}

/// RMI_REALM_DESTROY (B4.3.11).
enum RealmDestroy {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        let rd = c.x[0]
        let conditions: [Condition<M.D>] = m.granuleArgument("rd", rd, is: .rd) + [
            Condition("realm_live", .errorRealm, m.realmIsLive(rd)),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }
        m.updateStartingRtts(base: m.realm(rd, .rttBase), count: m.realm(rd, .numStart), when: ok) { m, _, t, make in
            m.setGranuleState(t, .delegated, when: make)
            m.setGranuleContent(t, 0, when: make)
        }
        m.setGranuleState(rd, .delegated, when: ok)
        m.setGranuleContent(rd, 0, when: ok)
        return Evaluation(conditions)
    }
}

/// RMI_REC_AUX_COUNT (B4.3.14).
enum RecAuxCount {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        let rd = c.x[0]
        let conditions = m.granuleArgument("rd", rd, is: .rd).array
        return Evaluation(conditions, outputs: [Word(m.platform.recAuxCount)])
    }
}
