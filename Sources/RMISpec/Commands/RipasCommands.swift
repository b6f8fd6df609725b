// RIPAS commands: RMI_RTT_INIT_RIPAS (B4.3.18) and RMI_RTT_SET_RIPAS (B4.3.21); reference
// 5.21 and 5.22. Both work on the run of entries of one RTT that starts at the entry the
// walk to level 3 stopped at: [base, walk_top).

extension RttEntry {
    /// RIPAS is defined for protected non-TABLE entries only (C1.29).
    fileprivate var carriesRipas: Bit<D> { self.is(.unassigned) || self.is(.assigned) }
    fileprivate func withRipas(_ r: Word<D>) -> RttEntry<D> {
        RttEntry(state: state, ripas: r, addr: addr, attrs: attrs)
    }
}

extension Machine {
    /// The number of entries of the walk's RTT in `[base, walkTop)`, counted from the entry
    /// that holds `base` (`walkTop` is aligned to the walk level); 0 when `walkTop <= base`.
    fileprivate func entriesBelow(_ w: Walk<D>, base: W, walkTop: W) -> W {
        ite(walkTop > base, (walkTop - base.alignedDown(to: levelSize(w.level))) >> levelShift(w.level), 0)
    }
}

/// RMI_RTT_INIT_RIPAS (B4.3.18). Output: `out_top`.
enum RttInitRipas {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        typealias W = Word<M.D>
        let rd = c.x[0], base = c.x[1], top = c.x[2]
        let walk = m.walk(rd, base, to: 3)
        let destroyed = W(Ripas.destroyed.rawValue)
        let stopAtDestroyed = Bit<M.D>(m.options.contains(.tfrmmInitRipasStopsAtDestroyed))
        // Project decision (reference 9.9, A5.3.5 "HIPAS is UNASSIGNED"): walk_top is the first
        // entry at or after base that is not UNASSIGNED (this covers the spec's stop at TABLE
        // and keeps the command off ASSIGNED entries, and NS entries, which have no RIPAS),
        // capped at top and aligned down to the walk level. UNASSIGNED entries with RIPAS
        // DESTROYED become RAM like EMPTY ones (spec); with tfrmmInitRipasStopsAtDestroyed
        // they stop the run, as TF-RMM does.
        let walkTop = m.skipEntriesWithRipas(walk, base: base, top: top) { e in
            !e.is(.unassigned) || (stopAtDestroyed && e.ripas == destroyed)
        }
        let conditions: [Condition<M.D>] = m.granuleArgument("rd", rd, is: .rd) + [
            Condition("size_valid", .errorInput, top <= base),
            // AddrIsProtected(top - 4K) with 64-bit arithmetic: a top below 4K (top == 0 also
            // fails size_valid) wraps to the top of the address space and fails here too.
            Condition("top_bound", .errorInput, !m.isProtected(rd, top - W(Layout.granuleSize))),
            Condition("realm_state", .errorRealm, !m.realmIs(rd, .new)),
            // An unaligned base is an RTT error in the spec (TF-RMM: INPUT, reference 9.11).
            Condition("base_align", .errorRtt, !m.levelAligned(base, walk.level), index: walk.level),
            Condition("rtte_state", .errorRtt, !walk.entry.is(.unassigned), index: walk.level),
            Condition("top_gran_align", .errorInput, !m.aligned(top)),
            Condition("no_progress", .errorRtt, base == walkTop, index: walk.level),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions, outputs: [0]) }

        // Every entry in [base, walk_top) gets RIPAS RAM; all of them are UNASSIGNED. Each
        // entry is checked again as it is written (the same meaning): where the search for
        // walk_top is abstracted (the address arrays), the write then still never gives a
        // TABLE or ASSIGNED entry a RIPAS (INV-T7).
        let size = m.levelSize(walk.level)
        let count = m.entriesBelow(walk, base: base, walkTop: walkTop)
        m.updateEntries(walk.rtt, from: walk.index, to: walk.index + count, when: ok) { _, e in
            RttEntry.select(e.is(.unassigned), e.withRipas(W(Ripas.ram.rawValue)), e)
        }
        // The RIM is extended once per entry (A7.1.2, descriptor type 2), in address order,
        // with [entry base, min(entry top, top)). The loop is unrolled over the at most 512
        // entries; concretely it stops after `count`.
        var rim = m.realm(rd, .rim)
        for k in 0..<Int(Layout.entriesPerRtt) {
            let active = ok && W(UInt64(k)) < count
            if active.isFalse { break }
            let entryBase = base + W(UInt64(k)) * size
            rim = ite(active, m.measure(rim, [2, entryBase, W.min(entryBase + size, top)]), rim)
        }
        m.setRealm(rd, .rim, rim, when: ok)
        return Evaluation(conditions, outputs: [walkTop])
    }
}

/// RMI_RTT_SET_RIPAS (B4.3.21). Output: `out_top`.
enum RttSetRipas {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        typealias W = Word<M.D>
        let rd = c.x[0], recPtr = c.x[1], base = c.x[2], top = c.x[3]
        let walk = m.walk(rd, base, to: 3)
        let value = m.rec(recPtr, .ripasValue)
        // RsiRipasChangeFlags: CHANGE_DESTROYED is 1 (TF-RMM treats every other value as
        // NO_CHANGE_DESTROYED, reference Q4).
        let changeDestroyed = m.rec(recPtr, .ripasDestroyed) == 1
        let destroyed = W(Ripas.destroyed.rawValue)
        // RttSkipEntriesWithRipas(..., rec.ripas_destroyed != CHANGE_DESTROYED): the run ends
        // at the first entry without RIPAS (TABLE; also UNASSIGNED_NS / ASSIGNED_NS, which the
        // protected range of a request never reaches, INV-C5) and, unless CHANGE_DESTROYED, at
        // the first entry with RIPAS DESTROYED.
        let walkTop = m.skipEntriesWithRipas(walk, base: base, top: top) { e in
            !e.carriesRipas || (!changeDestroyed && e.ripas == destroyed)
        }
        // `ripas` (context, before): the RIPAS of the entry at base. The exemption of
        // base_align and no_progress when it already is the requested value is the spec's;
        // TF-RMM has none (reference 9.10, tfrmmSetRipasNoExemption).
        let exempt = walk.entry.carriesRipas && walk.entry.ripas == value
            && !Bit<M.D>(m.options.contains(.tfrmmSetRipasNoExemption))
        var conditions = m.granuleArgument("rd", rd, is: .rd) + m.granuleArgument("rec", recPtr, is: .rec, stateLabel: "rec_gran_state")
        conditions += [
            Condition("rec_state", .errorRec, m.rec(recPtr, .state) == W(RecState.running.rawValue)),
            Condition("rec_owner", .errorRec, m.rec(recPtr, .owner) != rd),
            Condition("size_valid", .errorInput, top <= base),
            Condition("base_bound", .errorInput, base != m.rec(recPtr, .ripasAddr)),
            Condition("top_bound", .errorInput, top > m.rec(recPtr, .ripasTop)),
            Condition("base_align", .errorRtt, !m.levelAligned(base, walk.level) && !exempt, index: walk.level),
            Condition("top_gran_align", .errorInput, !m.aligned(top)),
            Condition("no_progress", .errorRtt, base == walkTop && !exempt, index: walk.level),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions, outputs: [0]) }

        // Entries in [base, walk_top) get the requested RIPAS; their HIPAS is unchanged. As in
        // RTT_INIT_RIPAS, each entry is checked again as it is written (all of them carry a
        // RIPAS: the same meaning).
        let count = m.entriesBelow(walk, base: base, walkTop: walkTop)
        m.updateEntries(walk.rtt, from: walk.index, to: walk.index + count, when: ok) { _, e in
            RttEntry.select(e.carriesRipas, e.withRipas(value), e)
        }
        // rec.ripas_addr = out_top = MinAddress(top, walk_top) = walk_top (walk_top <= top).
        // With the exemption and a base inside a larger block, walk_top can be <= base
        // (reference Q3); the spec's literal result is kept.
        m.setRec(recPtr, .ripasAddr, walkTop, when: ok)
        return Evaluation(conditions, outputs: [walkTop])
    }
}
