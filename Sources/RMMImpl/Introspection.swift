// What the environment can do besides RMI calls (Host accesses to NS memory, other agents
// changing an UNDELEGATED granule's GPT entry), and read-only views of the RMM's state for
// an abstraction function.

/// One granule as the abstraction sees it.
public struct GranuleInfo: Sendable, Hashable {
    public var address: UInt64
    public var state: RMM.GranuleState
    public var gpt: RMM.GPT
    /// RD: number of RECs; REC: 1 while running; RTT: TABLE and ASSIGNED entries; else 0.
    public var refcount: Int
    /// 0 if every word of the granule is 0, else a hash of its words. Contents of granules
    /// in states other than UNDELEGATED and DATA are the RMM's own (RTTs) or stale (a
    /// DELEGATED granule is scrubbed before anyone can see it again), so an abstraction
    /// should only look at it for UNDELEGATED and DATA granules.
    public var contentDigest: UInt64
}

/// An RTT entry, decoded.
public struct RttEntryView: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case unassigned, assigned, unassignedNS, assignedNS, table

        /// RmiRttEntryState as RTT_READ_ENTRY reports it.
        public var rmiState: RMM.RttEntryState {
            switch self {
            case .unassigned, .unassignedNS: .unassigned
            case .assigned, .assignedNS: .assigned
            case .table: .table
            }
        }
    }
    public var state: State
    /// RMI RIPAS (0 EMPTY, 1 RAM, 2 DESTROYED) for UNASSIGNED and ASSIGNED; 0 otherwise.
    public var ripas: UInt64
    /// Output address: DATA (ASSIGNED), the Host's PA (ASSIGNED_NS), the next RTT (TABLE); 0
    /// otherwise.
    public var addr: UInt64
    /// MemAttr[2:0] and S2AP[1:0] of an ASSIGNED_NS entry; 0 otherwise.
    public var memAttr: UInt64
    public var s2ap: UInt64
}

/// An RTT of a Realm's tree.
public struct RttNode: Sendable, Hashable {
    public var address: UInt64
    public var level: Int
    /// The first IPA the RTT covers.
    public var ipaBase: UInt64
    /// The 512 raw descriptors.
    public var entries: [UInt64]
}

extension RMM {
    /// Whether `vmid` is in use by some Realm.
    public func vmidInUse(_ vmid: UInt64) -> Bool { core.vmidInUse(vmid) }

    // MARK: Environment

    /// The Host writes a 64-bit word at `pa` (8-byte aligned). Allowed for NS-accessible
    /// DRAM granules (state UNDELEGATED, GPT NS or any) and for device memory; returns false
    /// (a Granule Protection Fault or an external abort) otherwise.
    @discardableResult
    public func hostWrite(_ pa: UInt64, _ value: UInt64) -> Bool { core.hostWrite(pa, value) }

    /// The Host reads the 64-bit word at `pa`; nil if the access faults (see `hostWrite`).
    public func hostRead(_ pa: UInt64) -> UInt64? { core.hostRead(pa) }

    /// Another agent (EL3 on behalf of the Secure world, Root) changes the GPT entry of an
    /// UNDELEGATED granule. Only UNDELEGATED granules may change, never to GPT_REALM
    /// (A2.2.3.1); returns false for any other request.
    @discardableResult
    public func setGPT(_ pa: UInt64, _ gpt: GPT) -> Bool {
        let g = core.granuleIndex(pa)
        guard g >= 0, gpt != .realm, core.granules[g].state == .undelegated else { return false }
        core.touch(g)
        core.granules[g].gpt = gpt
        return true
    }

    // MARK: Views

    /// The granule at `pa`, or nil if `pa` is not a granule of managed DRAM.
    public func inspectGranule(_ pa: UInt64) -> GranuleInfo? {
        let g = core.granuleIndex(pa)
        guard g >= 0 else { return nil }
        let x = core.granules[g]
        return GranuleInfo(address: pa, state: x.state, gpt: x.gpt, refcount: Int(x.refcount), contentDigest: core.digest(g))
    }

    /// The 64-bit word at `pa` in memory, whatever the granule's state: a view for an
    /// abstraction function, not an access the Host could make (use `hostRead` for that).
    /// nil if `pa` is not in managed DRAM.
    public func inspectWord(_ pa: UInt64) -> UInt64? {
        let g = core.granuleIndex(pa & ~0xFFF)
        return g < 0 ? nil : core.word(g, Int(pa & 0xFFF) >> 3)
    }

    /// The content digest of the granule at `pa` (see `GranuleInfo.contentDigest`).
    public func contentDigest(at pa: UInt64) -> UInt64? {
        let g = core.granuleIndex(pa)
        return g < 0 ? nil : core.digest(g)
    }

    /// Addresses of every granule that may differ from its state at boot (state, GPT,
    /// refcount or contents); all others are UNDELEGATED with their boot GPT and zero.
    public var touchedGranules: [UInt64] { core.touched.map { core.granuleAddress(Int($0)) } }

    /// The Realm Descriptor in the RD granule at `pa`.
    public func rd(at pa: UInt64) -> RealmDescriptor? {
        let g = core.granuleIndex(pa)
        guard g >= 0, core.granules[g].state == .rd, core.granules[g].obj >= 0 else { return nil }
        var d = core.rds[core.rdSlot(g)]
        d.numRecs = UInt64(core.granules[g].refcount)
        return d
    }

    /// The REC in the REC granule at `pa`.
    public func rec(at pa: UInt64) -> RecInfo? {
        let g = core.granuleIndex(pa)
        guard g >= 0, core.granules[g].state == .rec, core.granules[g].obj >= 0 else { return nil }
        var r = core.recs[core.recSlot(g)]
        r.running = core.granules[g].refcount != 0
        return r
    }

    /// The 512 descriptors of the RTT granule at `pa`.
    public func rttEntries(at pa: UInt64) -> [UInt64]? {
        let g = core.granuleIndex(pa)
        guard g >= 0, core.granules[g].state == .rtt else { return nil }
        return (0 ..< 512).map { core.word(g, $0) }
    }

    /// Decodes a descriptor of an RTT at `level`.
    public static func decodeEntry(_ d: UInt64, level: Int) -> RttEntryView {
        if S2TTE.isTable(d, level) {
            return RttEntryView(state: .table, ripas: 0, addr: S2TTE.pa(d), memAttr: 0, s2ap: 0)
        }
        if S2TTE.isAssignedNS(d, level) {
            return RttEntryView(state: .assignedNS, ripas: 0, addr: S2TTE.pa(d),
                                memAttr: (d & S2TTE.memAttrMask) >> 2, s2ap: (d & S2TTE.apMask) >> 6)
        }
        if S2TTE.isAssigned(d, level) {
            return RttEntryView(state: .assigned, ripas: S2TTE.ripas(d), addr: S2TTE.pa(d), memAttr: 0, s2ap: 0)
        }
        if S2TTE.isUnassignedNS(d) {
            return RttEntryView(state: .unassignedNS, ripas: 0, addr: 0, memAttr: 0, s2ap: 0)
        }
        // UNASSIGNED (and, in a corrupted table only, anything undecodable).
        return RttEntryView(state: .unassigned, ripas: S2TTE.ripas(d) & 3, addr: 0, memAttr: 0, s2ap: 0)
    }

    /// Every RTT of the Realm whose RD is at `pa`, starting RTTs first, then depth-first in
    /// IPA order: what a walk from the RD reaches.
    public func realmRtts(rd pa: UInt64) -> [RttNode] {
        guard let d = rd(at: pa) else { return [] }
        var out: [RttNode] = []
        var visited = Set<Int>()
        func visit(_ tpa: UInt64, level: Int, ipaBase: UInt64) {
            let g = core.granuleIndex(tpa)
            guard g >= 0, level <= S2TT.pageLevel, visited.insert(g).inserted else { return }
            let entries = (0 ..< 512).map { core.word(g, $0) }
            out.append(RttNode(address: tpa, level: level, ipaBase: ipaBase, entries: entries))
            guard level < S2TT.pageLevel else { return }
            for (i, e) in entries.enumerated() where S2TTE.isTable(e, level) {
                visit(S2TTE.pa(e), level: level + 1, ipaBase: ipaBase &+ UInt64(i) &* S2TT.size(level))
            }
        }
        let span = UInt64(S2TT.entries(d.startLevel)) &* S2TT.size(d.startLevel)
        for k in 0 ..< d.numStartRtts {
            visit(d.rttBase &+ UInt64(k) << 12, level: d.startLevel, ipaBase: UInt64(k) &* span)
        }
        return out
    }

    /// The RTT entry a walk of `ipa` to `level` reaches in the Realm at `rd`, and the level
    /// where the walk stopped (nil if `rd` is not an RD or `ipa` is outside the IPA space).
    public func readEntry(rd pa: UInt64, ipa: UInt64, level: Int = 3) -> (level: Int, entry: RttEntryView)? {
        guard let d = rd(at: pa), ipa < d.ipaSize else { return nil }
        let w = core.walk(d, ipa, to: level)
        let e = core.entry(w)
        core.unlock(w.table)
        return (w.level, RMM.decodeEntry(e, level: w.level))
    }
}

extension RMM {
    /// The 512 words of the NS-accessible granule at `pa` (as `hostRead` would read them),
    /// or nil if the Host cannot access it.
    public func hostPage(_ pa: UInt64) -> [UInt64]? {
        let g = core.granuleIndex(pa)
        guard g >= 0, core.granules[g].state == .undelegated, core.nsAccessible(g) else { return nil }
        return (0 ..< 512).map { core.word(g, $0) }
    }

    /// A copy of the whole RMM state (memory, objects, diagnostics, guest, pending behaviour).
    /// Cheap to take: the storage is shared until one side changes.
    public struct Snapshot {
        let core: Core
    }

    public func snapshot() -> Snapshot { Snapshot(core: core) }

    /// Go back to a state taken with `snapshot()` of an RMM with the same platform and bugs.
    public func restore(_ s: Snapshot) {
        precondition(s.core.platform == core.platform && s.core.bugs == core.bugs, "snapshot of another RMM")
        core = s.core
    }
}

extension Core {
    // The Host's accesses, as one access to `core` each. Both are `mutating` so that the
    // class accesses `core` in place: a non-mutating call on the class's stored property
    // copies the whole state first.
    mutating func hostWrite(_ pa: UInt64, _ value: UInt64) -> Bool {
        if pa & 7 != 0 { return false }
        let g = granuleIndex(pa & ~0xFFF)
        if g < 0 {
            guard platform.isDevice(pa) else { return false }
            deviceMem[pa] = value == 0 ? nil : value
            return true
        }
        guard granules[g].state == .undelegated && nsAccessible(g) else { return false }
        setWord(g, Int(pa & 0xFFF) >> 3, value)
        return true
    }

    mutating func hostRead(_ pa: UInt64) -> UInt64? {
        if pa & 7 != 0 { return nil }
        let g = granuleIndex(pa & ~0xFFF)
        if g < 0 {
            guard platform.isDevice(pa) else { return nil }
            return deviceMem[pa] ?? 0
        }
        guard granules[g].state == .undelegated && nsAccessible(g) else { return nil }
        return word(g, Int(pa & 0xFFF) >> 3)
    }
}
