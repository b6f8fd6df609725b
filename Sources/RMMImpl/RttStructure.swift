// RTT structure commands: RMI_RTT_CREATE, RMI_RTT_DESTROY, RMI_RTT_FOLD (TF-RMM
// runtime/rmi/rtt.c). Each takes the level of the child RTT: SL < level <= 3, with `ipa`
// aligned to what the parent entry covers, Size(level - 1).

extension Core {
    /// `validate_rtt_structure_cmds`: level_bound, ipa_align, ipa_bound.
    @inline(__always)
    func validStructureArgs(_ rd: RealmDescriptor, _ ipa: UInt64, _ level: Int) -> Bool {
        level > rd.startLevel && level <= S2TT.pageLevel && rd.validMapAddr(ipa, level - 1)
    }

    /// What RTT_DESTROY and RTT_FOLD do first: lock the RD, check level_bound, ipa_align and
    /// ipa_bound (INPUT), and walk to level - 1. Returns nil (with X0 set) on an input error;
    /// otherwise the RD is unlocked again and the walk's table is locked for the caller.
    mutating func beginStructureCall(_ rdAddr: UInt64, _ ipa: UInt64, _ levelArg: UInt64,
                                     _ out: inout Regs) -> (RealmDescriptor, Int, Walk)? {
        let level = Core.levelArg(levelArg)
        let gRd = findLockGranule(rdAddr, .rd)
        if gRd < 0 { out.x0 = RMM.errInput; return nil }
        let rd = rds[rdSlot(gRd)]
        if !validStructureArgs(rd, ipa, level) {
            unlock(gRd)
            out.x0 = RMM.errInput
            return nil
        }
        let w = walk(rd, ipa, to: level - 1)
        unlock(gRd)
        return (rd, level, w)
    }

    /// The RTT level argument (an Int64 in X-register form), clamped so that out-of-range
    /// values stay out of range.
    @inline(__always)
    static func levelArg(_ x: UInt64) -> Int {
        let l = Int64(bitPattern: x)
        return l < -8 ? -8 : (l > 8 ? 8 : Int(l))
    }

    /// RMI_RTT_CREATE (B4.3.15).
    mutating func smcRttCreate(_ rdAddr: UInt64, _ rttAddr: UInt64, _ ipa: UInt64, _ levelArg: UInt64) -> UInt64 {
        let level = Core.levelArg(levelArg)
        // rtt_align/bound/state and rd_align/bound/state, locked in address order.
        guard let (gRtt, gRd) = findLockTwoGranules(rttAddr, .delegated, rdAddr, .rd) else { return RMM.errInput }
        let rd = rds[rdSlot(gRd)]
        // level_bound, ipa_align, ipa_bound; rtt_bound2.
        if !validStructureArgs(rd, ipa, level) || (!rd.lpa2 && rttAddr >= 1 << 48) {
            unlock(gRd)
            unlock(gRtt)
            return RMM.errInput
        }
        // Lock order RD -> RTT root; the RD is not needed once the walk holds the root.
        let w = walk(rd, ipa, to: level - 1)
        unlock(gRd)
        defer { unlock(w.table) }
        // rtt_walk.
        if w.level != level - 1 {
            unlock(gRtt)
            return RMM.rttError(w.level)
        }
        let parent = entry(w)
        // rtte_state: there is an RTT here already.
        if S2TTE.isTable(parent, w.level) {
            unlock(gRtt)
            return RMM.rttError(w.level)
        }
        unfold(parent, into: gRtt, level: level)
        if S2TTE.isAssigned(parent, w.level) {
            // A block's reference in the parent becomes the table's; the child holds 512.
            refcountGet(gRtt, 512)
        } else {
            refcountGet(w.table)
        }
        setEntry(w, S2TTE.table(rttAddr))
        unlockTransition(gRtt, to: .rtt)
        return RMM.success
    }

    /// RMI_RTT_DESTROY (B4.3.16). Outputs X1 `rtt`, X2 `top`.
    mutating func smcRttDestroy(_ rdAddr: UInt64, _ ipa: UInt64, _ levelArg: UInt64, _ out: inout Regs) {
        guard let (rd, level, w) = beginStructureCall(rdAddr, ipa, levelArg, &out) else { return }
        defer { unlock(w.table) }
        let parent = entry(w)
        // rtt_walk, rtte_state: top skips the non-live entries after ipa.
        if w.level != level - 1 || !S2TTE.isTable(parent, w.level) {
            out.x0 = RMM.rttError(w.level)
            out.x2 = skipNonLive(w, ipa)
            return
        }
        let childAddr = S2TTE.pa(parent)
        let gChild = granuleIndex(childAddr)
        if gChild < 0 {
            // Only a corrupted table gets here.
            out.x0 = RMM.rttError(level)
            out.x2 = ipa
            return
        }
        lock(gChild)
        // rtt_live: a child with an ASSIGNED or TABLE entry cannot be destroyed.
        if granules[gChild].refcount != 0 && !bugs.contains(.rttDestroyLiveTable) {
            unlock(gChild)
            out.x0 = RMM.rttError(level)
            out.x2 = ipa
            return
        }
        // The parent entry: UNASSIGNED/DESTROYED for a Protected IPA, UNASSIGNED_NS else.
        setEntry(w, rd.isProtected(ipa) ? S2TTE.unassigned(Ripas.destroyed) : S2TTE.unassignedNS)
        refcountPut(w.table)
        unlockTransition(gChild, to: .delegated)
        out.x0 = RMM.success
        out.x1 = childAddr
        out.x2 = skipNonLive(w, ipa)
    }

    /// RMI_RTT_FOLD (B4.3.17). Output X1 `rtt`.
    mutating func smcRttFold(_ rdAddr: UInt64, _ ipa: UInt64, _ levelArg: UInt64, _ out: inout Regs) {
        guard let (_, level, w) = beginStructureCall(rdAddr, ipa, levelArg, &out) else { return }
        defer { unlock(w.table) }
        // rtt_walk.
        if w.level != level - 1 { out.x0 = RMM.rttError(w.level); return }
        let parent = entry(w)
        // rtte_state.
        if !S2TTE.isTable(parent, w.level) { out.x0 = RMM.rttError(w.level); return }
        let childAddr = S2TTE.pa(parent)
        let gChild = granuleIndex(childAddr)
        if gChild < 0 { out.x0 = RMM.rttError(level); return }
        lock(gChild)
        let rc = granules[gChild].refcount
        // rtt_homo (the spec's index is the child's level, also for level-1 children).
        guard let folded = foldedEntry(gChild, level: level, refcount: rc) else {
            unlock(gChild)
            out.x0 = RMM.rttError(level)
            return
        }
        if rc == 512 {
            // The child's 512 references become the parent's one block reference.
            refcountPut(gChild, 512)
        } else {
            refcountPut(w.table)
        }
        setEntry(w, folded)
        unlockTransition(gChild, to: .delegated)
        out.x0 = RMM.success
        out.x1 = childAddr
    }
}
