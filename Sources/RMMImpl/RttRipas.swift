// RIPAS commands: RMI_RTT_INIT_RIPAS and RMI_RTT_SET_RIPAS (TF-RMM runtime/rmi/rtt.c).
// Both act on a run of entries of the one RTT where the walk of `base` to level 3 stopped,
// from `base`'s entry up to `walk_top` (exclusive), and return `out_top` = walk_top.

extension Core {
    /// The end of the run of entries of walk `w`'s RTT starting at `base`'s entry for which
    /// `takes` holds: the IPA of the first entry that does not qualify, capped at `top` and at
    /// the end of the RTT, aligned down to the level (`RttSkipEntriesWithRipas`).
    @inline(__always)
    func runTop(_ w: Walk, base: UInt64, top: UInt64, _ takes: (UInt64) -> Bool) -> UInt64 {
        let size = S2TT.size(w.level)
        let n = S2TT.entries(w.level)
        var addr = base & ~(size - 1)
        var i = w.index
        while i < n && addr &+ size <= top && takes(word(w.table, i)) {
            addr &+= size
            i += 1
        }
        return addr
    }

    /// RMI_RTT_INIT_RIPAS (B4.3.18). Output X1 `out_top`.
    mutating func smcRttInitRipas(_ rdAddr: UInt64, _ base: UInt64, _ top: UInt64, _ out: inout Regs) {
        // size_valid.
        if top <= base { out.x0 = RMM.errInput; return }
        let gRd = findLockGranule(rdAddr, .rd)
        if gRd < 0 { out.x0 = RMM.errInput; return }
        let s = rdSlot(gRd)
        let rd = rds[s]
        defer { unlock(gRd) }
        // top_bound: the last granule of the range is Protected (top - 4K wraps for top < 4K).
        if !rd.isProtected(top &- 0x1000) { out.x0 = RMM.errInput; return }
        // realm_state.
        if rd.state != .new { out.x0 = RMM.errRealm; return }
        let w = walk(rd, base, to: S2TT.pageLevel)
        defer { unlock(w.table) }
        // base_align: the entry at base must not start below base.
        if !S2TT.isAligned(base, w.level) { out.x0 = RMM.rttError(w.level); return }
        // rtte_state.
        if !S2TTE.isUnassigned(entry(w)) { out.x0 = RMM.rttError(w.level); return }
        // top_gran_align.
        if top & 0xFFF != 0 { out.x0 = RMM.errInput; return }
        // The run: UNASSIGNED entries, whatever their RIPAS (DESTROYED ones too, as the spec
        // says; TF-RMM stops at those, reference 9.9). ASSIGNED entries end it (A5.3.5).
        let walkTop = runTop(w, base: base, top: top) { S2TTE.isUnassigned($0) }
        // no_progress.
        if walkTop == base { out.x0 = RMM.rttError(w.level); return }
        let size = S2TT.size(w.level)
        var addr = base
        var i = w.index
        var rim = rds[s].rim
        while addr < walkTop {
            setWord(w.table, i, S2TTE.unassigned(Ripas.ram))
            let entryTop = min(addr &+ size, top)
            rim = Measurement.extendRipas(rim, base: addr, top: entryTop)
            if recordsMeasurementLog { rds[s].rimLog.append(.ripas(base: addr, top: entryTop)) }
            addr &+= size
            i += 1
        }
        rds[s].rim = rim
        out.x0 = RMM.success
        out.x1 = walkTop
    }

    /// RMI_RTT_SET_RIPAS (B4.3.21). Output X1 `out_top`.
    mutating func smcRttSetRipas(_ rdAddr: UInt64, _ recAddr: UInt64, _ base: UInt64, _ top: UInt64, _ out: inout Regs) {
        // size_valid.
        if top <= base { out.x0 = RMM.errInput; return }
        // rd_* and rec_align/bound/gran_state, locked in address order.
        guard let (gRd, gRec) = findLockTwoGranules(rdAddr, .rd, recAddr, .rec) else {
            out.x0 = RMM.errInput
            return
        }
        defer {
            unlock(gRec)
            unlock(gRd)
        }
        // rec_state.
        if granules[gRec].refcount != 0 { out.x0 = RMM.errRec; return }
        let cs = recSlot(gRec)
        // rec_owner.
        if recs[cs].owner != rdAddr { out.x0 = RMM.errRec; return }
        // base_bound, top_bound: the next chunk of the Realm's pending request.
        if base != recs[cs].ripasAddr || top > recs[cs].ripasTop { out.x0 = RMM.errInput; return }
        let rd = rds[rdSlot(gRd)]
        let value = recs[cs].ripasValue
        let changeDestroyed = recs[cs].ripasChangeDestroyed
        let w = walk(rd, base, to: S2TT.pageLevel)
        defer { unlock(w.table) }
        let first = entry(w)
        // The spec exempts base_align and no_progress when the entry at base already has the
        // requested RIPAS (TF-RMM does not, reference 9.10).
        let exempt = S2TTE.hasRipas(first, w.level) && S2TTE.ripas(first) == value
        // base_align.
        if !S2TT.isAligned(base, w.level) && !exempt { out.x0 = RMM.rttError(w.level); return }
        // top_gran_align (missing in TF-RMM at the tag, reference 9.1).
        if top & 0xFFF != 0 { out.x0 = RMM.errInput; return }
        // The run: entries with a RIPAS; DESTROYED ones only with CHANGE_DESTROYED.
        let level = w.level
        let walkTop = runTop(w, base: base, top: top) {
            S2TTE.hasRipas($0, level) && (changeDestroyed || S2TTE.ripas($0) != Ripas.destroyed)
        }
        // no_progress.
        if walkTop == base && !exempt { out.x0 = RMM.rttError(w.level); return }
        let size = S2TT.size(w.level)
        var addr = base & ~(size - 1)
        var i = w.index
        while addr < walkTop && walkTop > base {
            setWord(w.table, i, S2TTE.withRipas(word(w.table, i), value, w.level))
            addr &+= size
            i += 1
        }
        // With the exemption and a base inside a larger entry, walk_top can be at or below
        // base (reference Q3); the spec's out_top = walk_top is kept.
        recs[cs].ripasAddr = walkTop
        out.x0 = RMM.success
        out.x1 = walkTop
    }
}
