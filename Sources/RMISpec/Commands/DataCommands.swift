extension Machine {
    /// DATA_CREATE(_UNKNOWN)'s `ipa_bound`: the IPA is not Protected. Under
    /// `weaken-data-create-walk-before-ipa-bound` the bound is checked after the walk for an
    /// IPA inside the IPA space, so it fails only when the walk reached an UNASSIGNED level-3
    /// entry (else `rtt_walk` or `rtte_state` gives RMI_ERROR_RTT first).
    func dataIpaOutOfBound(_ rd: Word<D>, _ ipa: Word<D>, _ walk: Walk<D>) -> Bit<D> {
        let outside = !isProtected(rd, ipa)
        guard options.contains(.weakenDataCreateWalkBeforeIpaBound) else { return outside }
        let walkPasses = !walk.level.slt(3) && walk.entry.is(.unassigned)
        return outside && (!ipaInRange(rd, ipa) || walkPasses)
    }
}

/// RMI_DATA_CREATE (B4.3.1).
enum DataCreate {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        let rd = c.x[0], data = c.x[1], ipa = c.x[2], src = c.x[3], flags = c.x[4]
        let walk = m.walk(rd, ipa, to: 3)
        let noLpa2 = m.realm(rd, .lpa2) == 0
        var conditions = m.nsArgument("src", src) + m.granuleArgument("data", data, is: .delegated)
        conditions += [Condition("data_bound2", .errorInput, noLpa2 && data >= Word(1 << 48))]
        conditions += m.granuleArgument("rd", rd, is: .rd)
        conditions += [
            Condition("ipa_align", .errorInput, !m.aligned(ipa)),
            Condition("ipa_bound", .errorInput, m.dataIpaOutOfBound(rd, ipa, walk)),
            Condition("realm_state", .errorRealm, !m.realmIs(rd, .new)),
            Condition("rtt_walk", .errorRtt, walk.level.slt(3), index: walk.level),
            Condition("rtte_state", .errorRtt, !walk.entry.is(.unassigned), index: walk.level),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }
        let content = m.granuleContent(src)
        m.setGranuleState(data, .data, when: ok)
        m.setGranuleContent(data, content, when: ok)
        m.setEntry(walk.rtt, walk.index,
                   RttEntry(state: Word(RttEntryState.assigned.rawValue), ripas: Word(Ripas.ram.rawValue), addr: data),
                   when: ok)
        // RimExtendData: descriptor type 0, the IPA, the flags, and the content digest when
        // RMI_MEASURE_CONTENT is set (else zero).
        let measured = ite(flags.bit(0), content, 0)
        m.setRealm(rd, .rim, m.measure(m.realm(rd, .rim), [0, ipa, flags, measured]), when: ok)
        return Evaluation(conditions)
    }
}

/// RMI_DATA_CREATE_UNKNOWN (B4.3.2). No Realm-state condition: NEW, ACTIVE and SYSTEM_OFF.
enum DataCreateUnknown {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        let rd = c.x[0], data = c.x[1], ipa = c.x[2]
        let walk = m.walk(rd, ipa, to: 3)
        let noLpa2 = m.realm(rd, .lpa2) == 0
        var conditions = m.granuleArgument("data", data, is: .delegated) + [
            Condition("data_bound2", .errorInput, noLpa2 && data >= Word(1 << 48)),
        ]
        conditions += m.granuleArgument("rd", rd, is: .rd)
        conditions += [
            Condition("ipa_align", .errorInput, !m.aligned(ipa)),
            Condition("ipa_bound", .errorInput, m.dataIpaOutOfBound(rd, ipa, walk)),
            Condition("rtt_walk", .errorRtt, walk.level.slt(3), index: walk.level),
            Condition("rtte_state", .errorRtt, !walk.entry.is(.unassigned), index: walk.level),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }
        m.setGranuleState(data, .data, when: ok)
        m.setGranuleContent(data, 0, when: ok)
        // RIPAS is unchanged: EMPTY stays EMPTY (no mapping), DESTROYED stays DESTROYED.
        m.setEntry(walk.rtt, walk.index,
                   RttEntry(state: Word(RttEntryState.assigned.rawValue), ripas: walk.entry.ripas, addr: data),
                   when: ok)
        return Evaluation(conditions)
    }
}

/// RMI_DATA_DESTROY (B4.3.3). Outputs `data` and `top`; `top` is defined on the RTT
/// failures (walk_top) and is 0 on the others (outcome table B4.3.3.1.3).
enum DataDestroy {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        let rd = c.x[0], ipa = c.x[1]
        let walk = m.walk(rd, ipa, to: 3)
        let walkFails = walk.level.slt(3), stateFails = !walk.entry.is(.assigned)
        let walkTop = m.walkTop(walk, ipa, readWhen: walkFails || stateFails)
        let other: [Word<M.D>?] = [nil, 0]
        let conditions: [Condition<M.D>] = m.granuleArgument("rd", rd, is: .rd, outputs: other) + [
            Condition("ipa_align", .errorInput, !m.aligned(ipa), outputs: other),
            Condition("ipa_bound", .errorInput, !m.isProtected(rd, ipa), outputs: other),
            Condition("rtt_walk", .errorRtt, walkFails, index: walk.level, outputs: [nil, walkTop]),
            Condition("rtte_state", .errorRtt, stateFails, index: walk.level, outputs: [nil, walkTop]),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }
        let data = walk.entry.addr
        // The weakening keeps the table's reference for the entry (see `rttLeaked`).
        if m.options.contains(.weakenDataDestroyNoRefcountDecrement) { m.setRtt(walk.rtt, .leaked, 1, when: ok) }
        m.setGranuleState(data, .delegated, when: ok)
        m.setGranuleContent(data, 0, when: ok)
        let ripas = ite(walk.entry.ripas == Word(Ripas.ram.rawValue), Word(Ripas.destroyed.rawValue), walk.entry.ripas)
        m.setEntry(walk.rtt, walk.index, RttEntry(state: Word(RttEntryState.unassigned.rawValue), ripas: ripas), when: ok)
        // top is computed after the change, so it skips the entry just made non-live.
        let top = m.skipNonLiveEntries(walk, ipa)
        return Evaluation(conditions, outputs: [data, top])
    }
}
