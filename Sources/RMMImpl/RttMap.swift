// RTT entry commands: RMI_RTT_MAP_UNPROTECTED, RMI_RTT_UNMAP_UNPROTECTED,
// RMI_RTT_READ_ENTRY (TF-RMM runtime/rmi/rtt.c, `map_unmap_ns`, `smc_rtt_read_entry`).

extension RMM {
    /// RmiRttEntryState (B4.4.22).
    public enum RttEntryState: UInt64, Sendable {
        case unassigned = 0, assigned = 1, table = 2
    }

}

extension Core {
    /// `RttLevelIsBlockOrPage`: max(1, SL) <= level <= 3. (TF-RMM compares with 1 only,
    /// reference 9.8.)
    @inline(__always)
    func levelIsBlockOrPage(_ rd: RealmDescriptor, _ level: Int) -> Bool {
        level >= max(S2TT.minBlockLevel, rd.startLevel) && level <= S2TT.pageLevel
    }

    /// `host_ns_s2tte_is_valid`: only the output address (aligned to `level`, below 2^48
    /// without LPA2), MemAttr and S2AP may be set, and MemAttr is not the reserved value.
    /// Covers attr_valid, addr_align and addr_bound.
    func hostNSDescriptorValid(_ desc: UInt64, _ level: Int, lpa2: Bool) -> Bool {
        let oaTop: UInt64 = lpa2 ? 52 : 48
        let oa = ((1 << oaTop) - 1) & ~(S2TT.size(level) - 1)
        if desc & ~(oa | S2TTE.memAttrMask | S2TTE.apMask) != 0 { return false }
        return desc & S2TTE.memAttrMask != S2TTE.memAttrReserved
    }

    /// RMI_RTT_MAP_UNPROTECTED (B4.3.19).
    mutating func smcRttMapUnprotected(_ rdAddr: UInt64, _ ipa: UInt64, _ levelArg: UInt64, _ desc: UInt64) -> UInt64 {
        let level = Core.levelArg(levelArg)
        // level_bound (block or page level; compared with SL once the RD is read).
        if level < S2TT.minBlockLevel || level > S2TT.pageLevel { return RMM.errInput }
        let gRd = findLockGranule(rdAddr, .rd)
        if gRd < 0 { return RMM.errInput }
        let rd = rds[rdSlot(gRd)]
        // attr_valid, addr_align, addr_bound; level_bound; ipa_align; ipa_bound.
        if !hostNSDescriptorValid(desc, level, lpa2: rd.lpa2) || !levelIsBlockOrPage(rd, level)
            || !rd.validMapAddr(ipa, level)
            || (rd.isProtected(ipa) && !bugs.contains(.mapUnprotectedInPar)) {
            unlock(gRd)
            return RMM.errInput
        }
        let w = walk(rd, ipa, to: level)
        unlock(gRd)
        defer { unlock(w.table) }
        // rtt_walk.
        if w.level != level { return RMM.rttError(w.level) }
        // rtte_state.
        let e = entry(w)
        let free = S2TTE.isUnassignedNS(e) || (bugs.contains(.mapUnprotectedInPar) && S2TTE.isUnassigned(e))
        if !free { return RMM.rttError(level) }
        setEntry(w, S2TTE.assignedNS(host: desc, level: level))
        return RMM.success
    }

    /// RMI_RTT_UNMAP_UNPROTECTED (B4.3.22). Output X1 `top`.
    mutating func smcRttUnmapUnprotected(_ rdAddr: UInt64, _ ipa: UInt64, _ levelArg: UInt64, _ out: inout Regs) {
        let level = Core.levelArg(levelArg)
        if level < S2TT.minBlockLevel || level > S2TT.pageLevel { out.x0 = RMM.errInput; return }
        let gRd = findLockGranule(rdAddr, .rd)
        if gRd < 0 { out.x0 = RMM.errInput; return }
        let rd = rds[rdSlot(gRd)]
        if !levelIsBlockOrPage(rd, level) || !rd.validMapAddr(ipa, level) || rd.isProtected(ipa) {
            unlock(gRd)
            out.x0 = RMM.errInput
            return
        }
        let w = walk(rd, ipa, to: level)
        unlock(gRd)
        defer {
            out.x1 = skipNonLive(w, ipa)
            unlock(w.table)
        }
        // rtt_walk, rtte_state.
        if w.level != level || !S2TTE.isAssignedNS(entry(w), w.level) {
            out.x0 = RMM.rttError(w.level)
            return
        }
        setEntry(w, S2TTE.unassignedNS)
        out.x0 = RMM.success
    }

    /// RMI_RTT_READ_ENTRY (B4.3.20). Outputs X1 `walk_level`, X2 `state`, X3 `desc`, X4 `ripas`.
    mutating func smcRttReadEntry(_ rdAddr: UInt64, _ ipa: UInt64, _ levelArg: UInt64, _ out: inout Regs) {
        let level = Core.levelArg(levelArg)
        let gRd = findLockGranule(rdAddr, .rd)
        if gRd < 0 { out.x0 = RMM.errInput; return }
        let rd = rds[rdSlot(gRd)]
        // level_bound (SL <= level <= 3), ipa_align, ipa_bound.
        if level < rd.startLevel || level > S2TT.pageLevel || !rd.validMapAddr(ipa, level) {
            unlock(gRd)
            out.x0 = RMM.errInput
            return
        }
        let w = walk(rd, ipa, to: level)
        unlock(gRd)
        let e = entry(w)
        unlock(w.table)
        let v = RMM.decodeEntry(e, level: w.level)
        out.x0 = RMM.success
        out.x1 = UInt64(bitPattern: Int64(w.level))
        out.x2 = v.state.rmiState.rawValue
        // desc: the address for ASSIGNED (any RIPAS) and TABLE; address, MemAttr and S2AP for
        // ASSIGNED_NS; 0 for the unassigned states.
        switch v.state {
        case .assigned, .table: out.x3 = v.addr
        case .assignedNS: out.x3 = v.addr | v.memAttr << 2 | v.s2ap << 6
        case .unassigned, .unassignedNS: out.x3 = 0
        }
        // ripas: the entry's RIPAS for protected non-TABLE entries, else EMPTY.
        out.x4 = (v.state == .unassigned || v.state == .assigned) ? v.ripas : Ripas.empty
    }
}
