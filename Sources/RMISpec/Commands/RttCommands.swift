// RTT structure and NS-mapping commands (B4.3.15-B4.3.22 of the spec; reference 5.15-5.20).
//
// Entries are kept in a canonical form so that two states are equal exactly when the spec
// says they are: fields an entry state does not define are 0 (RIPAS of NS and TABLE
// entries, address of UNASSIGNED* entries, attributes of everything but ASSIGNED_NS).

extension RttEntry {
    fileprivate static func canonical(state s: RttEntryState, ripas: Word<D> = 0, addr: Word<D> = 0,
                                      attrs: Word<D> = 0) -> RttEntry<D> {
        RttEntry(state: Word(s.rawValue), ripas: ripas, addr: addr, attrs: attrs)
    }
    /// RIPAS is defined for protected non-TABLE entries only (C1.29).
    fileprivate var hasRipas: Bit<D> { self.is(.unassigned) || self.is(.assigned) }
}

extension Machine {
    /// Whether the walk of RTT_DESTROY / RTT_FOLD reached the child RTT: a TABLE entry at
    /// level - 1, for an IPA inside the Realm's IPA space.
    ///
    /// Decision: rtt_live and rtt_homo are ordered only after rd_bound / rd_state, not after
    /// level_bound, ipa_bound, rtt_walk or rtte_state, so read literally they could also fire
    /// (a) on Rtt(walk.rtte.addr) of an entry that is not TABLE, e.g. an ASSIGNED_NS entry
    /// whose Host-chosen PA is a live RTT, and (b) for an IPA >= 2^w, which the spec never
    /// walks (A5.5.10) but `Machine.walk` would start in the Granule at rtt_base + k * 4K
    /// for some k >= rtt_num_start, possibly another RTT. Both are read as "no child RTT".
    fileprivate func reachedChild(_ walk: Walk<D>, rd: W, ipa: W, level: W) -> B {
        walk.level == level - 1 && walk.entry.is(.table) && ipaInRange(rd, ipa)
    }

    /// `RttIsHomogeneous` / `RttFold` (A5.5.6) of RTT `t` at level `level`: whether the
    /// RTT folds, and the parent entry it folds into.
    fileprivate func rttFold(_ t: W, level: W) -> (homogeneous: B, folded: RttEntry<D>) {
        let first = entry(t, 0)
        let size = levelSize(level)
        // ASSIGNED and ASSIGNED_NS blocks exist only at levels 1 and 2, so only a child at
        // level 2 or 3 can fold into one.
        let blockChild = level == 2 || level == 3
        let firstAligned = first.addr.isAligned(to: levelSize(level - 1))
        // Each search is also said of entry 0, which it covers: the same meaning, but a
        // back-end that answers the search with any value (the address arrays) still knows
        // the entry the parent's is made from.
        let unassigned = first.is(.unassigned) && everyEntry(t) { e in e.is(.unassigned) && e.ripas == first.ripas }
        let unassignedNS = first.is(.unassignedNS) && everyEntry(t) { e in e.is(.unassignedNS) }
        let assigned = blockChild && firstAligned && first.is(.assigned) && allEntries(t) { i, e in
            e.is(.assigned) && e.ripas == first.ripas && e.addr == first.addr + i * size
        }
        let assignedNS = blockChild && firstAligned && first.is(.assignedNS) && allEntries(t) { i, e in
            e.is(.assignedNS) && e.attrs == first.attrs && e.addr == first.addr + i * size
        }
        let folded = RttEntry<D>(state: first.state,
                                 ripas: ite(unassigned || assigned, first.ripas, 0),
                                 addr: ite(assigned || assignedNS, first.addr, 0),
                                 attrs: ite(assignedNS, first.attrs, 0))
        return (unassigned || unassignedNS || assigned || assignedNS, folded)
    }
}

/// The conditions RTT_CREATE, RTT_DESTROY and RTT_FOLD share (items 1-6 of each): RD, level
/// of a non-starting RTT, `ipa` aligned to what the parent entry covers and inside the
/// Realm's IPA space. `outputs` are the failure outputs the command defines for them.
private func structureInputConditions<M: Machine>(_ m: M, rd: Word<M.D>, ipa: Word<M.D>, level: Word<M.D>,
                                                  outputs: [Word<M.D>?] = []) -> [Condition<M.D>] {
    m.granuleArgument("rd", rd, is: .rd, outputs: outputs) + [
        Condition("level_bound", .errorInput, !m.levelIsNonStarting(rd, level), outputs: outputs),
        Condition("ipa_align", .errorInput, !m.levelAligned(ipa, level - 1), outputs: outputs),
        Condition("ipa_bound", .errorInput, !m.ipaInRange(rd, ipa), outputs: outputs),
    ]
}

/// RMI_RTT_CREATE (B4.3.15).
enum RttCreate {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        typealias W = Word<M.D>
        let rd = c.x[0], rtt = c.x[1], ipa = c.x[2], level = c.x[3]
        let walk = m.walk(rd, ipa, to: level - 1)
        let unfold = walk.entry
        let lpa2 = m.realm(rd, .lpa2) != 0
        var conditions = structureInputConditions(m, rd: rd, ipa: ipa, level: level)
        conditions += m.granuleArgument("rtt", rtt, is: .delegated) + [
            Condition("rtt_bound2", .errorInput, !lpa2 && rtt >= W(1 << 48)),
            Condition("rtt_walk", .errorRtt, walk.level.slt(level - 1), index: walk.level),
            Condition("rtte_state", .errorRtt, unfold.is(.table), index: walk.level),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }

        m.setGranuleState(rtt, .rtt, when: ok)
        m.setRtt(rtt, .level, level, when: ok)
        m.setRtt(rtt, .owner, rd, when: ok)
        m.setRtt(rtt, .ipaBase, ipa.alignedDown(to: m.levelSize(level - 1)), when: ok)
        // Unfolding (A5.5.7): every child entry has the parent's state and RIPAS; a block
        // parent (ASSIGNED / ASSIGNED_NS) becomes contiguous entries of Size(level) with its
        // attributes. ASSIGNED parents need DATA, which only DATA_CREATE makes.
        let size = m.levelSize(level)
        let block = unfold.is(.assigned) || unfold.is(.assignedNS)
        m.updateEntries(rtt, from: 0, to: 512, when: ok) { i, _ in
            RttEntry(state: unfold.state,
                     ripas: ite(unfold.hasRipas, unfold.ripas, 0),
                     addr: ite(block, unfold.addr + i * size, 0),
                     attrs: ite(unfold.is(.assignedNS), unfold.attrs, 0))
        }
        m.setEntry(walk.rtt, walk.index, .canonical(state: .table, addr: rtt), when: ok)
        return Evaluation(conditions)
    }
}

/// RMI_RTT_DESTROY (B4.3.16). Outputs: `rtt`, `top`.
enum RttDestroy {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        typealias W = Word<M.D>
        let rd = c.x[0], ipa = c.x[1], level = c.x[2]
        let walk = m.walk(rd, ipa, to: level - 1)
        let walkFails = walk.level.slt(level - 1), stateFails = !walk.entry.is(.table)
        let walkTop = m.walkTop(walk, ipa, readWhen: walkFails || stateFails)
        let child = walk.entry.addr
        // `rtt` is undefined on every failure; `top` is 0 when the walk was not performed.
        var conditions = structureInputConditions(m, rd: rd, ipa: ipa, level: level, outputs: [nil, W(0)])
        conditions += [
            Condition("rtt_walk", .errorRtt, walkFails, index: walk.level, outputs: [nil, walkTop]),
            Condition("rtte_state", .errorRtt, stateFails, index: walk.level, outputs: [nil, walkTop]),
            // Decision: "the child RTT" exists only when the walk reached a TABLE entry at
            // level - 1 for an IPA inside the Realm (see reachedChild).
            Condition("rtt_live", .errorRtt, both(m.reachedChild(walk, rd: rd, ipa: ipa, level: level)) { m.rttIsLive(child) },
                      index: level, outputs: [nil, ipa]),
        ]
        conditions = m.weakened(conditions, .weakenRttDestroyLiveTable, drop: "rtt_live")
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions, outputs: [0, 0]) }

        // Reference section 9: the parent entry of a protected IPA becomes UNASSIGNED with
        // RIPAS DESTROYED; for an unprotected IPA it becomes UNASSIGNED_NS (as TF-RMM; the
        // spec's literal UNASSIGNED/DESTROYED there would break INV-T3). ASSIGNED_NS entries
        // of the child are dropped with it.
        let parent = RttEntry<M.D>.select(m.isProtected(rd, ipa),
                                          .canonical(state: .unassigned, ripas: W(Ripas.destroyed.rawValue)),
                                          .canonical(state: .unassignedNS))
        m.setEntry(walk.rtt, walk.index, parent, when: ok)
        m.setGranuleState(child, .delegated, when: ok)
        m.setGranuleContent(child, 0, when: ok)
        // walk_top is taken after the change (the parent entry is no longer live).
        let top = m.skipNonLiveEntries(walk, ipa)
        return Evaluation(conditions, outputs: [child, top])
    }
}

/// RMI_RTT_FOLD (B4.3.17). Output: `rtt`.
enum RttFold {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        let rd = c.x[0], ipa = c.x[1], level = c.x[2]
        let walk = m.walk(rd, ipa, to: level - 1)
        let child = walk.entry.addr
        let reached = m.reachedChild(walk, rd: rd, ipa: ipa, level: level)
        // When the walk did not reach a child some earlier condition fails and the fold is
        // not used: skip computing it (a concrete fast path; the symbolic reading computes it).
        let fold = reached.isFalse ? (homogeneous: Bit<M.D>(false), folded: RttEntry<M.D>(state: 0))
            : m.rttFold(child, level: level)
        var conditions = structureInputConditions(m, rd: rd, ipa: ipa, level: level)
        conditions += [
            Condition("rtt_walk", .errorRtt, walk.level.slt(level - 1), index: walk.level),
            Condition("rtte_state", .errorRtt, !walk.entry.is(.table), index: walk.level),
            // The spec's index (RTT, level), not TF-RMM's (RTT, level - 1) for some level-1
            // children (reference 9.7). Only a child the walk reached is tested (reachedChild).
            // A table with a leaked reference (a weakening) does not fold either: TF-RMM folds
            // only at refcount 0 (unassigned) or 512 (assigned).
            Condition("rtt_homo", .errorRtt, reached && (!fold.homogeneous || m.rttLeaked(child)), index: level),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions, outputs: [0]) }

        m.setEntry(walk.rtt, walk.index, fold.folded, when: ok)
        m.setGranuleState(child, .delegated, when: ok)
        m.setGranuleContent(child, 0, when: ok)
        return Evaluation(conditions, outputs: [child])
    }
}

/// The Host-controlled fields of an RTT entry descriptor (A5.5.11, `RttEntryFromDescriptor`).
///
/// Decision (the spec's attr_valid / addr_align / addr_bound split is informal; TF-RMM
/// checks all three with one mask): the output-address field is desc[51:12];
/// * attr_valid: a bit outside desc[51:12] | MemAttr[4:2] | S2AP[7:6] is set, or MemAttr is
///   the reserved 0b100. It does not depend on the level or the Realm;
/// * addr_align: the address (desc[51:12]) is not aligned to Size(level);
/// * addr_bound: the Realm has no LPA2 and the address is >= 2^48 (desc[51:48] nonzero).
/// So every label can fail alone. (With LPA2 TF-RMM takes OA[51:50] from desc[9:8]; LPA2
/// Realms do not exist on the modelled platforms, so that encoding is not modelled.)
fileprivate struct UnprotectedDescriptor<D: Domain> {
    static var addrMask: UInt64 { 0x000F_FFFF_FFFF_F000 }
    let raw: Word<D>
    var addr: Word<D> { raw & Word(Self.addrMask) }
    var attrs: Word<D> { raw & Word(Layout.descAttrMask) }
    var attrValid: Bit<D> {
        (raw & ~Word(Self.addrMask | Layout.descAttrMask)) == 0
            && (raw & Word(Layout.descMemAttrMask)) != Word(Layout.descMemAttrReserved)
    }
}

/// The level, IPA and Realm conditions MAP/UNMAP_UNPROTECTED share.
private func unprotectedIpaConditions<M: Machine>(_ m: M, rd: Word<M.D>, ipa: Word<M.D>, level: Word<M.D>,
                                                  outputs: [Word<M.D>?] = []) -> [Condition<M.D>] {
    [
        Condition("ipa_align", .errorInput, !m.levelAligned(ipa, level), outputs: outputs),
        Condition("ipa_bound", .errorInput,
                  !m.ipaInRange(rd, ipa) || (m.isProtected(rd, ipa) && Bit(!m.options.contains(.weakenMapUnprotectedInPar))),
                  outputs: outputs),
    ]
}

private func rdConditions<M: Machine>(_ m: M, _ rd: Word<M.D>, outputs: [Word<M.D>?] = []) -> [Condition<M.D>] {
    m.granuleArgument("rd", rd, is: .rd, outputs: outputs).array
}

/// RMI_RTT_MAP_UNPROTECTED (B4.3.19).
enum RttMapUnprotected {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        typealias W = Word<M.D>
        let rd = c.x[0], ipa = c.x[1], level = c.x[2]
        let desc = UnprotectedDescriptor(raw: c.x[3])
        let walk = m.walk(rd, ipa, to: level)
        let lpa2 = m.realm(rd, .lpa2) != 0
        // The weakening maps at a Protected IPA too, over its UNASSIGNED entry.
        let inPar = Bit<M.D>(m.options.contains(.weakenMapUnprotectedInPar))
        var conditions: [Condition<M.D>] = []
        conditions.reserveCapacity(16)
        conditions.append(Condition("attr_valid", .errorInput, !desc.attrValid))
        conditions += m.granuleArgument("rd", rd, is: .rd)
        conditions += [
            // RttLevelIsBlockOrPage: max(1, SL) <= level <= 3 (reference section 9; TF-RMM
            // does not compare with SL, 9.8).
            Condition("level_bound", .errorInput, !m.levelIsBlockOrPage(rd, level)),
            Condition("addr_align", .errorInput, !m.levelAligned(desc.addr, level)),
            Condition("addr_bound", .errorInput, !lpa2 && desc.addr >= W(1 << 48)),
        ]
        conditions += unprotectedIpaConditions(m, rd: rd, ipa: ipa, level: level)
        conditions += [
            Condition("rtt_walk", .errorRtt, walk.level.slt(level), index: walk.level),
            Condition("rtte_state", .errorRtt,
                      !walk.entry.is(.unassignedNS) && !(inPar && walk.entry.is(.unassigned)), index: walk.level),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }
        m.setEntry(walk.rtt, walk.index, .canonical(state: .assignedNS, addr: desc.addr, attrs: desc.attrs), when: ok)
        return Evaluation(conditions)
    }
}

/// RMI_RTT_UNMAP_UNPROTECTED (B4.3.22). Output: `top`.
enum RttUnmapUnprotected {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        typealias W = Word<M.D>
        let rd = c.x[0], ipa = c.x[1], level = c.x[2]
        let walk = m.walk(rd, ipa, to: level)
        let walkFails = walk.level.slt(level), stateFails = !walk.entry.is(.assignedNS)
        let walkTop = m.walkTop(walk, ipa, readWhen: walkFails || stateFails)
        // top = 0 when the walk was not performed (outcome table of B4.3.22).
        let zero: [W?] = [W(0)]
        var conditions = rdConditions(m, rd, outputs: zero)
        conditions.append(Condition("level_bound", .errorInput, !m.levelIsBlockOrPage(rd, level), outputs: zero))
        conditions += unprotectedIpaConditions(m, rd: rd, ipa: ipa, level: level, outputs: zero)
        conditions += [
            Condition("rtt_walk", .errorRtt, walkFails, index: walk.level, outputs: [walkTop]),
            Condition("rtte_state", .errorRtt, stateFails, index: walk.level, outputs: [walkTop]),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions, outputs: [0]) }
        m.setEntry(walk.rtt, walk.index, .canonical(state: .unassignedNS), when: ok)
        // walk_top after the change.
        return Evaluation(conditions, outputs: [m.skipNonLiveEntries(walk, ipa)])
    }
}

/// RMI_RTT_READ_ENTRY (B4.3.20). Outputs: `walk_level`, `state`, `desc`, `ripas`.
enum RttReadEntry {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        typealias W = Word<M.D>
        let rd = c.x[0], ipa = c.x[1], level = c.x[2]
        var conditions = rdConditions(m, rd)
        conditions += [
            Condition("level_bound", .errorInput, !m.levelValid(rd, level)),
            Condition("ipa_align", .errorInput, !m.levelAligned(ipa, level)),
            Condition("ipa_bound", .errorInput, !m.ipaInRange(rd, ipa)),
        ]
        let walk = m.walk(rd, ipa, to: level)
        let e = walk.entry
        // RmiRttEntryState: UNASSIGNED* -> 0, ASSIGNED* -> 1, TABLE -> 2.
        let state: W = ite(e.is(.table), W(RttEntryState.table.rmiValue),
                           ite(e.is(.assigned) || e.is(.assignedNS), W(RttEntryState.assigned.rmiValue),
                               W(RttEntryState.unassigned.rmiValue)))
        // Reference 9.4: TF-RMM at the tag reports desc = 0 for ASSIGNED with RIPAS DESTROYED.
        let hideAddr = Bit<M.D>(m.options.contains(.tfrmmReadEntryDestroyedDesc))
            && e.is(.assigned) && e.ripas == W(Ripas.destroyed.rawValue)
        let desc: W = ite(e.is(.assignedNS), e.addr | e.attrs,
                          ite((e.is(.assigned) && !hideAddr) || e.is(.table), e.addr, 0))
        // NS states and TABLE (spec silent; TF-RMM) report RMI_EMPTY.
        let ripas: W = ite(e.hasRipas, e.ripas, W(Ripas.empty.rawValue))
        // walk_level -1 (LPA2) comes back as 0xFFFF_FFFF_FFFF_FFFF, as TF-RMM (reference Q1).
        return Evaluation(conditions, outputs: [walk.level, state, desc, ripas])
    }
}
