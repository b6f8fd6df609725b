// Realms: the Realm Descriptor stored in the RD granule, RmiRealmParams and their
// validation, the VMID bitmap, and RMI_REALM_CREATE / ACTIVATE / DESTROY and
// RMI_REC_AUX_COUNT (TF-RMM runtime/rmi/realm.c, lib/arch/src/vmid.c).

extension RMM {
    /// Realm states (RmmRealmState); TF-RMM encodes them 0, 1, 2.
    public enum RealmState: UInt8, Sendable, CaseIterable {
        case new = 0, active, systemOff
    }
}

/// The Realm Descriptor, as stored in an RD granule.
public struct RealmDescriptor: Sendable, Hashable {
    /// Physical address of the RD granule.
    public internal(set) var address: UInt64
    public internal(set) var state: RMM.RealmState
    /// IPA width `w` (= s2sz).
    public internal(set) var ipaWidth: Int
    /// RTT starting level `SL`.
    public internal(set) var startLevel: Int
    /// Number of concatenated starting RTTs.
    public internal(set) var numStartRtts: Int
    /// Physical address of the first starting RTT.
    public internal(set) var rttBase: UInt64
    public internal(set) var lpa2: Bool
    /// RmiHashAlgorithm: 0 SHA-256, 1 SHA-512.
    public internal(set) var hashAlgo: UInt64
    public internal(set) var vmid: UInt64
    /// Realm Personalization Value (512 bits, little-endian words).
    public internal(set) var rpv: [UInt64]
    /// Index of the next REC to create (TF-RMM `rec_count`; the spec's `rec_index`).
    public internal(set) var recIndex: UInt64
    /// Number of RECs the Realm owns (the RD granule's refcount; filled in by `rd(at:)`).
    public internal(set) var numRecs: UInt64
    /// measurements[0], the RIM (RMMImpl's hash chain, see Measurement.swift).
    public internal(set) var rim: UInt64
    /// measurements[1...4], the REMs (only the Realm extends them, through RSI; always 0 here).
    public internal(set) var rems: [UInt64]
    /// Every RIM extension in order, if `RMM.recordsMeasurementLog` was on.
    public internal(set) var rimLog: [MeasurementEvent]
    /// RecAuxCount for this Realm.
    public internal(set) var numRecAux: Int
    /// RmiRealmFlags as the Host gave them.
    public internal(set) var flags: UInt64
    public internal(set) var sveVL: UInt64
    public internal(set) var numBPs: UInt64
    public internal(set) var numWPs: UInt64
    public internal(set) var pmuNumCtrs: UInt64

    /// Granule index of the first starting RTT.
    var rttGranule: Int

    public var sveEnabled: Bool { flags & 2 != 0 }
    public var pmuEnabled: Bool { flags & 4 != 0 }
    /// `2^(w-1)`: the first Unprotected IPA.
    public var parSize: UInt64 { 1 << UInt64(ipaWidth - 1) }
    /// `2^w`.
    public var ipaSize: UInt64 { 1 << UInt64(ipaWidth) }
    /// `AddrIsProtected`.
    @inline(__always) func isProtected(_ ipa: UInt64) -> Bool { ipa < parSize }
    /// `ipa < 2^w` and aligned to Size(level) (`validate_map_addr`).
    @inline(__always) func validMapAddr(_ ipa: UInt64, _ level: Int) -> Bool {
        ipa < ipaSize && S2TT.isAligned(ipa, level)
    }
}

/// RmiRealmParams (B4.4.12) as read from the Host's page. The UInt8 fields are the low byte
/// of their 8-byte slot, vmid the low 16 bits, rtt_num_start the low 32 bits.
struct RealmParams {
    static let flags = 0x000, s2sz = 0x008, sveVL = 0x010, numBPs = 0x018, numWPs = 0x020
    static let pmuNumCtrs = 0x028, hashAlgo = 0x030, rpv = 0x400, vmid = 0x800
    static let rttBase = 0x808, rttLevelStart = 0x810, rttNumStart = 0x818

    var flags, s2sz, sveVL, numBPs, numWPs, pmuNumCtrs, hashAlgo, vmid, rttBase, rttNumStart: UInt64
    var rttLevelStart: Int64
    var rpv: [UInt64]

    var lpa2: Bool { flags & 1 != 0 }
    var sve: Bool { flags & 2 != 0 }
    var pmu: Bool { flags & 4 != 0 }
}

extension Core {
    func readRealmParams(_ g: Int) -> RealmParams {
        func w(_ off: Int) -> UInt64 { word(g, off >> 3) }
        return RealmParams(
            flags: w(RealmParams.flags), s2sz: w(RealmParams.s2sz) & 0xFF, sveVL: w(RealmParams.sveVL) & 0xFF,
            numBPs: w(RealmParams.numBPs) & 0xFF, numWPs: w(RealmParams.numWPs) & 0xFF,
            pmuNumCtrs: w(RealmParams.pmuNumCtrs) & 0xFF, hashAlgo: w(RealmParams.hashAlgo) & 0xFF,
            vmid: w(RealmParams.vmid) & 0xFFFF, rttBase: w(RealmParams.rttBase),
            rttNumStart: w(RealmParams.rttNumStart) & 0xFFFF_FFFF,
            rttLevelStart: Int64(bitPattern: w(RealmParams.rttLevelStart)),
            rpv: (0 ..< 8).map { w(RealmParams.rpv + 8 * $0) })
    }

    /// `validate_ipa_bits_and_sl` + `s2_inconsistent_sl`: is (w, SL) a valid stage-2
    /// configuration for a Realm with or without LPA2 on this platform?
    func validIpaBitsAndSL(_ w: UInt64, _ sl: Int64, lpa2: Bool) -> Bool {
        if w < 32 || w > (lpa2 ? 52 : 48) { return false }
        if sl < (lpa2 ? -1 : 0) || sl > 3 { return false }
        // SL 0 (and -1) resolve more IPA bits than a PA width below 44 allows.
        if sl <= 0 && platform.paWidth < 44 { return false }
        let levels = UInt64(3 - sl)
        let minBits = levels * 9 + 12 + 1
        var maxBits = minBits + (sl == -1 ? 3 : 8)
        // Up to 16 concatenated starting tables.
        if sl > 0 || (sl == 0 && lpa2) { maxBits += 4 }
        return w >= minBits && w <= maxBits
    }

    /// `s2_num_root_rtts`: concatenated starting RTTs needed for w bits at SL.
    func numRootRtts(_ w: UInt64, _ sl: Int64) -> UInt64 {
        let bits = UInt64(3 - sl) * 9 + 12 + 9
        return w > bits ? 1 << (w - bits) : 1
    }

    /// `validate_realm_params`, in TF-RMM's order; reserves the VMID as its last step.
    mutating func validateRealmParams(_ p: RealmParams) -> Bool {
        let f = features
        if p.lpa2 && !f.lpa2 { return false }
        if p.s2sz < 32 || p.s2sz > f.s2sz || (p.s2sz > 48 && !p.lpa2) { return false }
        if p.numBPs == 0 || p.numBPs > f.numBPs || p.numWPs == 0 || p.numWPs > f.numWPs { return false }
        if p.sve && (!f.sveEnabled || p.sveVL > f.sveVL) { return false }
        if p.pmu && (!f.pmuEnabled || p.pmuNumCtrs > f.pmuNumCtrs || (p.pmuNumCtrs == 0 && !platform.featHpmn0)) {
            return false
        }
        if !validIpaBitsAndSL(p.s2sz, p.rttLevelStart, lpa2: p.lpa2) { return false }
        if numRootRtts(p.s2sz, p.rttLevelStart) != p.rttNumStart { return false }
        switch p.hashAlgo {
        case 0: if !f.sha256 { return false }
        case 1: if !f.sha512 { return false }
        default: return false
        }
        return vmidReserve(p.vmid)
    }

    // MARK: VMIDs

    mutating func vmidReserve(_ v: UInt64) -> Bool {
        if v >= 1 << UInt64(platform.vmidBits) { return false }
        let i = Int(v >> 6), bit: UInt64 = 1 << (v & 63)
        if vmidBitmap[i] & bit != 0 { return false }
        vmidBitmap[i] |= bit
        return true
    }

    mutating func vmidFree(_ v: UInt64) {
        let i = Int(v >> 6), bit: UInt64 = 1 << (v & 63)
        vmidBitmap[i] &= ~bit
    }

    /// Whether `vmid` is in use by some Realm.
    func vmidInUse(_ vmid: UInt64) -> Bool {
        vmid < 1 << 16 && vmidBitmap[Int(vmid >> 6)] & (1 << (vmid & 63)) != 0
    }

    // MARK: Object slots

    @inline(__always) func rdSlot(_ g: Int) -> Int { Int(granules[g].obj) }

    mutating func allocRd(_ d: RealmDescriptor) -> Int32 {
        if let s = freeRds.popLast() { rds[Int(s)] = d; return s }
        rds.append(d)
        return Int32(rds.count - 1)
    }

    // MARK: Commands

    /// RMI_REALM_CREATE (B4.3.10).
    mutating func smcRealmCreate(_ rdAddr: UInt64, _ paramsAddr: UInt64) -> UInt64 {
        // params_align, params_bound, params_pas (state), then the read (GPF: params_pas).
        let gp = findNSGranule(paramsAddr)
        if gp < 0 || !nsAccessible(gp) { return RMM.errInput }
        let p = readRealmParams(gp)
        // params_valid, params_supp, rtt_num_level, vmid_valid.
        if !validateRealmParams(p) { return RMM.errInput }
        // From here the VMID is reserved.
        let n = p.rttNumStart
        let span = n << 12
        // alias: rd is one of the starting RTTs.
        if rdAddr >= p.rttBase && rdAddr - p.rttBase < span {
            vmidFree(p.vmid)
            return RMM.errInput
        }
        // rtt_align: rtt_base aligned to rtt_num_start * 4 KB (a spec condition TF-RMM
        // checks only as 4 KB alignment).
        if p.rttBase & (span - 1) != 0 {
            vmidFree(p.vmid)
            return RMM.errInput
        }
        // rd_align/bound/state and rtt_state: lock rd and the starting RTTs in address
        // order (rd first if it is below rtt_base), each DELEGATED.
        var locked: [Int] = []
        locked.reserveCapacity(Int(n) + 1)
        func release() { for g in locked.reversed() { unlock(g) } }
        var gRd = -1
        if rdAddr < p.rttBase {
            gRd = findLockGranule(rdAddr, .delegated)
            if gRd < 0 { vmidFree(p.vmid); return RMM.errInput }
            locked.append(gRd)
        }
        var rtts: [Int] = []
        for i in 0 ..< n {
            let g = findLockGranule(p.rttBase + i << 12, .delegated)
            if g < 0 { release(); vmidFree(p.vmid); return RMM.errInput }
            locked.append(g)
            rtts.append(g)
        }
        if gRd < 0 {
            gRd = findLockGranule(rdAddr, .delegated)
            if gRd < 0 { release(); vmidFree(p.vmid); return RMM.errInput }
            locked.append(gRd)
        }

        // Success: build the RD in its granule.
        let sl = Int(p.rttLevelStart)
        var rd = RealmDescriptor(
            address: rdAddr, state: .new, ipaWidth: Int(p.s2sz), startLevel: sl, numStartRtts: Int(n),
            rttBase: p.rttBase, lpa2: p.lpa2, hashAlgo: p.hashAlgo, vmid: p.vmid, rpv: p.rpv, recIndex: 0,
            numRecs: 0, rim: 0, rems: [0, 0, 0, 0], rimLog: [], numRecAux: platform.recAuxCount, flags: p.flags,
            sveVL: p.sve ? p.sveVL : 0, numBPs: p.numBPs, numWPs: p.numWPs,
            pmuNumCtrs: p.pmu ? p.pmuNumCtrs : 0, rttGranule: rtts[0])
        rd.rim = Measurement.initial(hashAlgo: p.hashAlgo, p.flags, p.s2sz, p.sveVL, p.numBPs, p.numWPs,
                                     p.pmuNumCtrs, p.hashAlgo)
        if recordsMeasurementLog {
            rd.rimLog.append(.realmParams(flags: p.flags, s2sz: p.s2sz, sveVL: p.sveVL, numBPs: p.numBPs,
                                          numWPs: p.numWPs, pmuNumCtrs: p.pmuNumCtrs, hashAlgo: p.hashAlgo))
        }
        touch(gRd)
        granules[gRd].obj = allocRd(rd)

        // Starting RTTs: protected entries UNASSIGNED/EMPTY, all others UNASSIGNED_NS.
        let size = S2TT.size(sl)
        let par = rd.parSize
        for (t, g) in rtts.enumerated() {
            let base = pageBase(g)
            let entries = S2TT.entries(sl)
            for j in 0 ..< 512 {
                let ipa = UInt64(t * 512 + j) &* size
                pageMem[base + j] = j >= entries ? 0 : (ipa < par ? S2TTE.unassigned(Ripas.empty) : S2TTE.unassignedNS)
            }
            granules[g].refcount = 0
        }

        unlockTransition(gRd, to: .rd)
        for g in rtts { unlockTransition(g, to: .rtt) }
        return RMM.success
    }

    /// RMI_REALM_ACTIVATE (B4.3.9).
    mutating func smcRealmActivate(_ rdAddr: UInt64) -> UInt64 {
        let g = findLockGranule(rdAddr, .rd)
        if g < 0 { return RMM.errInput }
        let s = rdSlot(g)
        let ret: UInt64
        if rds[s].state == .new {
            rds[s].state = .active
            ret = RMM.success
        } else {
            ret = RMM.errRealm
        }
        unlock(g)
        return ret
    }

    /// RMI_REALM_DESTROY (B4.3.11).
    mutating func smcRealmDestroy(_ rdAddr: UInt64) -> UInt64 {
        let g = findLockGranule(rdAddr, .rd)
        if g < 0 { return RMM.errInput }
        // realm_live (RECs): the RD's refcount counts the Realm's RECs.
        if granules[g].refcount != 0 && !bugs.contains(.realmDestroyWithRecs) {
            unlock(g)
            return RMM.errRealm
        }
        let s = rdSlot(g)
        let rd = rds[s]
        // realm_live (RTTs): a starting RTT with a TABLE or ASSIGNED entry. Lock order RD -> RTT.
        var live: UInt64 = 0
        for i in 0 ..< rd.numStartRtts {
            let t = granuleIndex(rd.rttBase + UInt64(i) << 12)
            if t < 0 { continue }
            lock(t)
            live += UInt64(granules[t].refcount)
            unlock(t)
        }
        if live != 0 {
            unlock(g)
            return RMM.errRealm
        }
        vmidFree(rd.vmid)
        for i in 0 ..< rd.numStartRtts {
            let t = granuleIndex(rd.rttBase + UInt64(i) << 12)
            if t < 0 { continue }
            lock(t)
            unlockTransition(t, to: .delegated)
        }
        freeRds.append(granules[g].obj)
        granules[g].obj = -1
        unlockTransition(g, to: .delegated)
        return RMM.success
    }

    /// RMI_REC_AUX_COUNT (B4.3.14).
    mutating func smcRecAuxCount(_ rdAddr: UInt64, _ out: inout Regs) {
        let g = findLockGranule(rdAddr, .rd)
        if g < 0 { out.x0 = RMM.errInput; return }
        out.x1 = UInt64(rds[rdSlot(g)].numRecAux)
        unlock(g)
        out.x0 = RMM.success
    }
}
