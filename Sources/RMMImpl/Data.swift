// DATA granules: RMI_DATA_CREATE, RMI_DATA_CREATE_UNKNOWN and RMI_DATA_DESTROY (TF-RMM
// runtime/rmi/rtt.c, `data_create`, `smc_data_destroy`).

extension Core {
    /// RMI_DATA_CREATE (B4.3.1): `src` given. RMI_DATA_CREATE_UNKNOWN (B4.3.2): `src` nil.
    mutating func dataCreate(_ rdAddr: UInt64, _ dataAddr: UInt64, _ ipa: UInt64, src gSrc: Int?, flags: UInt64) -> UInt64 {
        // data_align/bound/state and rd_align/bound/state, locked in address order.
        guard let (gData, gRd) = findLockTwoGranules(dataAddr, .delegated, rdAddr, .rd) else { return RMM.errInput }
        func done(_ code: UInt64) -> UInt64 {
            unlock(gRd)
            unlock(gData)
            return code
        }
        let rd = rds[rdSlot(gRd)]
        // realm_state (DATA_CREATE only): the spec orders it only after rd_*.
        if gSrc != nil && rd.state != .new { return done(RMM.errRealm) }
        let walkFirst = bugs.contains(.dataCreateWalkBeforeIpaBound)
        // ipa_bound: Protected IPA.
        if !walkFirst && !rd.isProtected(ipa) { return done(RMM.errInput) }
        // ipa_align (and the IPA space, which the walk needs).
        if !rd.validMapAddr(ipa, S2TT.pageLevel) { return done(RMM.errInput) }
        // data_bound2: without LPA2 the PA must fit in 48 bits.
        if !rd.lpa2 && dataAddr >= 1 << 48 { return done(RMM.errInput) }

        let w = walk(rd, ipa, to: S2TT.pageLevel)
        func fail(_ code: UInt64) -> UInt64 {
            unlock(w.table)
            return done(code)
        }
        // rtt_walk.
        if w.level != S2TT.pageLevel { return fail(RMM.rttError(w.level)) }
        // rtte_state: UNASSIGNED, whatever its RIPAS.
        let e = entry(w)
        if !S2TTE.isUnassigned(e) { return fail(RMM.rttError(S2TT.pageLevel)) }
        if walkFirst && !rd.isProtected(ipa) { return fail(RMM.errInput) }

        let s = rdSlot(gRd)
        if let src = gSrc {
            // Copy the Host's page (the read was checked to be NS-accessible) and measure it.
            copyPage(from: src, to: gData)
            let measured = flags & 1 != 0 ? digest(gData) : 0
            rds[s].rim = Measurement.extendData(rds[s].rim, ipa: ipa, flags: flags, digest: measured)
            if recordsMeasurementLog {
                rds[s].rimLog.append(.data(ipa: ipa, flags: flags, contentDigest: measured))
            }
            // An assigned RAM page, whatever the RIPAS was.
            setEntry(w, S2TTE.assigned(dataAddr, ripas: Ripas.ram, level: S2TT.pageLevel))
        } else {
            // Unknown contents: never another owner's data.
            scrub(gData)
            setEntry(w, S2TTE.assigned(dataAddr, ripas: S2TTE.ripas(e), level: S2TT.pageLevel))
        }
        refcountGet(w.table)
        unlock(w.table)
        unlock(gRd)
        unlockTransition(gData, to: .data)
        return RMM.success
    }

    /// RMI_DATA_CREATE (B4.3.1).
    mutating func smcDataCreate(_ rd: UInt64, _ data: UInt64, _ ipa: UInt64, _ src: UInt64, _ flags: UInt64) -> UInt64 {
        // src_align, src_bound, src_pas (state UNDELEGATED, and the read must not fault).
        let gSrc = findNSGranule(src)
        if gSrc < 0 || !nsAccessible(gSrc) { return RMM.errInput }
        return dataCreate(rd, data, ipa, src: gSrc, flags: flags)
    }

    /// RMI_DATA_DESTROY (B4.3.3). Outputs X1 `data`, X2 `top`.
    mutating func smcDataDestroy(_ rdAddr: UInt64, _ ipa: UInt64, _ out: inout Regs) {
        let gRd = findLockGranule(rdAddr, .rd)
        if gRd < 0 { out.x0 = RMM.errInput; return }
        let rd = rds[rdSlot(gRd)]
        // ipa_bound, ipa_align.
        if !rd.isProtected(ipa) || !rd.validMapAddr(ipa, S2TT.pageLevel) {
            unlock(gRd)
            out.x0 = RMM.errInput
            return
        }
        let w = walk(rd, ipa, to: S2TT.pageLevel)
        unlock(gRd)
        defer {
            out.x2 = skipNonLive(w, ipa)
            unlock(w.table)
        }
        // rtt_walk.
        if w.level != S2TT.pageLevel { out.x0 = RMM.rttError(w.level); return }
        // rtte_state: ASSIGNED (any RIPAS).
        let e = entry(w)
        if !S2TTE.isAssigned(e, w.level) { out.x0 = RMM.rttError(S2TT.pageLevel); return }
        let dataAddr = S2TTE.pa(e)
        // RAM becomes DESTROYED; EMPTY and DESTROYED stay.
        let r = S2TTE.ripas(e)
        setEntry(w, S2TTE.unassigned(r == Ripas.ram ? Ripas.destroyed : r))
        if !bugs.contains(.dataDestroyNoRefcountDecrement) { refcountPut(w.table) }
        // The DATA granule back to DELEGATED. (Its contents are scrubbed before anyone else
        // can see them: on GRANULE_UNDELEGATE, or DATA_CREATE_UNKNOWN / DATA_CREATE reuse.)
        let gData = findLockGranule(dataAddr, .data)
        if gData >= 0 { unlockTransition(gData, to: .delegated) }
        out.x0 = RMM.success
        out.x1 = dataAddr
    }
}
