// Stage-2 translation tables (RTTs): geometry, the descriptor encoding, the walk, and the
// table-wide operations (unfold on RTT_CREATE, homogeneity on RTT_FOLD, skipping non-live
// entries). The encoding follows TF-RMM's (s2tt_pvt_defs.h), i.e. reference 3.4:
//
// | entry                          | [1:0]          | HIPAS [4:2] | RIPAS [6:5] | NS [55] |
// |--------------------------------|----------------|-------------|-------------|---------|
// | unassigned empty/ram/destroyed | 0 (invalid)    | 0           | 0 / 1 / 2   | 0       |
// | assigned empty / destroyed     | 0 (invalid)    | 1           | 0 / 2       | 0       |
// | assigned ram                   | 3 page (L3), 1 block (L1-2): Normal WB, RW, AF, IS  | 0 |
// | unassigned_ns                  | 0              | 0           | -           | 1       |
// | assigned_ns                    | 3 / 1: Host MemAttr[4:2], S2AP[7:6]; AF, XN added    | 1 |
// | table                          | 3 at level < 3, next-level RTT address                 |
//
// The output address is kept in bits 51:12 (LPA2's OA[51:50]-in-bits-9:8 form is not used;
// a PA above 2^48 is only accepted for LPA2 Realms).

/// RTT geometry for the 4 KB granule.
enum S2TT {
    static let pageLevel = 3
    /// Smallest level that can hold a block (ASSIGNED / ASSIGNED_NS) entry.
    static let minBlockLevel = 1

    /// Bits of IPA below an entry at `level`.
    @inline(__always) static func shift(_ level: Int) -> UInt64 { UInt64(12 + 9 * (3 - level)) }
    /// `Size(level)`: the IPA range one entry at `level` covers.
    @inline(__always) static func size(_ level: Int) -> UInt64 { 1 << shift(level) }
    /// The index of `ipa`'s entry in its RTT at `level`.
    @inline(__always) static func index(_ ipa: UInt64, _ level: Int) -> Int {
        Int(truncatingIfNeeded: (ipa >> shift(level)) & 511)
    }
    /// Entries a table at `level` has (the LPA2 level -1 table has 16).
    @inline(__always) static func entries(_ level: Int) -> Int { level < 0 ? 16 : 512 }
    @inline(__always) static func isAligned(_ a: UInt64, _ level: Int) -> Bool { a & (size(level) - 1) == 0 }
}

/// RIPAS values (RmiRipas).
enum Ripas {
    static let empty: UInt64 = 0, ram: UInt64 = 1, destroyed: UInt64 = 2
}

/// The stage-2 descriptor encoding.
enum S2TTE {
    static let typeMask: UInt64 = 3
    static let typeInvalid: UInt64 = 0, typeBlock: UInt64 = 1, typePageOrTable: UInt64 = 3
    static let hipasMask: UInt64 = 7 << 2, hipasAssigned: UInt64 = 1 << 2
    static let ripasShift: UInt64 = 5, ripasMask: UInt64 = 3 << 5
    static let ns: UInt64 = 1 << 55
    static let af: UInt64 = 1 << 10
    static let xn: UInt64 = 2 << 53
    static let memAttrMask: UInt64 = 7 << 2
    static let memAttrNormalWB: UInt64 = (1 << 4) | (2 << 2)
    /// MemAttr 0b100 (with FWB) is reserved.
    static let memAttrReserved: UInt64 = 1 << 4
    static let apMask: UInt64 = 3 << 6, apRW: UInt64 = 3 << 6
    static let shInner: UInt64 = 3 << 8
    /// Attributes of an assigned RAM mapping.
    static let ramAttrs: UInt64 = memAttrNormalWB | apRW | af | shInner
    /// Output address bits 51:12.
    static let oaMask: UInt64 = 0x000F_FFFF_FFFF_F000

    // MARK: Construction

    @inline(__always) static func unassigned(_ ripas: UInt64) -> UInt64 { ripas << ripasShift }
    static let unassignedNS: UInt64 = ns
    /// An ASSIGNED entry mapping `pa` at `level` with `ripas`; only RAM is a valid mapping.
    @inline(__always) static func assigned(_ pa: UInt64, ripas: UInt64, level: Int) -> UInt64 {
        if ripas == Ripas.ram { return pa | ramAttrs | (level == S2TT.pageLevel ? typePageOrTable : typeBlock) }
        return pa | hipasAssigned | ripas << ripasShift
    }
    /// An ASSIGNED_NS entry from the Host's descriptor (address, MemAttr, S2AP).
    @inline(__always) static func assignedNS(host desc: UInt64, level: Int) -> UInt64 {
        (desc & (oaMask | memAttrMask | apMask)) | af | xn | ns
            | (level == S2TT.pageLevel ? typePageOrTable : typeBlock)
    }
    @inline(__always) static func table(_ pa: UInt64) -> UInt64 { pa | typePageOrTable }

    // MARK: Decoding (total functions: any 64-bit value decodes to something)

    @inline(__always) static func isInvalid(_ d: UInt64) -> Bool { d & typeMask == typeInvalid }
    @inline(__always) static func isTable(_ d: UInt64, _ level: Int) -> Bool {
        level < S2TT.pageLevel && d & typeMask == typePageOrTable
    }
    /// A valid page (level 3) or block (levels 1-2) descriptor.
    @inline(__always) static func isMapping(_ d: UInt64, _ level: Int) -> Bool {
        let t = d & typeMask
        return level == S2TT.pageLevel ? t == typePageOrTable : (level >= S2TT.minBlockLevel && t == typeBlock)
    }
    @inline(__always) static func isUnassigned(_ d: UInt64) -> Bool {
        isInvalid(d) && d & ns == 0 && d & hipasMask == 0
    }
    @inline(__always) static func isUnassignedNS(_ d: UInt64) -> Bool {
        isInvalid(d) && d & ns != 0 && d & hipasMask == 0
    }
    @inline(__always) static func isAssigned(_ d: UInt64, _ level: Int) -> Bool {
        if d & ns != 0 { return false }
        return isInvalid(d) ? d & hipasMask == hipasAssigned : isMapping(d, level)
    }
    @inline(__always) static func isAssignedNS(_ d: UInt64, _ level: Int) -> Bool {
        d & ns != 0 && isMapping(d, level)
    }
    /// Entries with a RIPAS: protected UNASSIGNED or ASSIGNED.
    @inline(__always) static func hasRipas(_ d: UInt64, _ level: Int) -> Bool {
        isUnassigned(d) || isAssigned(d, level)
    }
    /// The RIPAS of a protected entry (assigned RAM mappings are RAM).
    @inline(__always) static func ripas(_ d: UInt64) -> UInt64 {
        isInvalid(d) ? (d & ripasMask) >> ripasShift : Ripas.ram
    }
    @inline(__always) static func pa(_ d: UInt64) -> UInt64 { d & oaMask }
    /// `s2tte_is_live`: ASSIGNED, ASSIGNED_NS or TABLE.
    @inline(__always) static func isLive(_ d: UInt64, _ level: Int) -> Bool {
        isTable(d, level) || isAssigned(d, level) || isAssignedNS(d, level)
    }
    /// The same entry with another RIPAS (for UNASSIGNED and ASSIGNED entries).
    @inline(__always) static func withRipas(_ d: UInt64, _ r: UInt64, _ level: Int) -> UInt64 {
        isUnassigned(d) ? unassigned(r) : assigned(pa(d), ripas: r, level: level)
    }
}

/// Where a walk stopped: the level, the RTT granule there (left locked) and the index of
/// the entry for the walked address in it.
struct Walk {
    var level: Int
    var table: Int
    var index: Int
}

extension Core {
    @inline(__always) func entry(_ w: Walk) -> UInt64 { word(w.table, w.index) }
    @inline(__always) mutating func setEntry(_ w: Walk, _ d: UInt64) { setWord(w.table, w.index, d) }

    /// `s2tt_walk_lock_unlock`: from the starting RTT that covers `ipa`, descend while the
    /// entry is a TABLE and `target` is not reached, locking each child before unlocking its
    /// parent. The RTT where the walk stops is returned locked. `ipa` must be below 2^w.
    mutating func walk(_ rd: RealmDescriptor, _ ipa: UInt64, to target: Int) -> Walk {
        var level = rd.startLevel
        let k = ipa >> (S2TT.shift(level) + 9)
        var g = granuleIndex(rd.rttBase &+ (k << 12))
        if g < 0 { g = rd.rttGranule }
        lock(g)
        while true {
            let i = S2TT.index(ipa, level)
            if level >= target { return Walk(level: level, table: g, index: i) }
            let d = word(g, i)
            if !S2TTE.isTable(d, level) { return Walk(level: level, table: g, index: i) }
            let child = granuleIndex(S2TTE.pa(d))
            // Only a corrupted table (a named deviation) points outside DRAM or to itself.
            if child < 0 || child == g { return Walk(level: level, table: g, index: i) }
            lock(child)
            unlock(g)
            g = child
            level += 1
        }
    }

    /// `s2tt_skip_non_live_entries`: if the walked entry is live, `ipa`; else the IPA of the
    /// next live entry of the same RTT, or the IPA just past the RTT, aligned to the level.
    func skipNonLive(_ w: Walk, _ ipa: UInt64) -> UInt64 {
        if S2TTE.isLive(entry(w), w.level) { return ipa }
        let size = S2TT.size(w.level)
        let n = S2TT.entries(w.level)
        var i = w.index + 1
        // `word(w.table, i)` for each i, with the table's page looked up once.
        let p = granules[w.table].page
        if p < 0 {
            while i < n && !S2TTE.isLive(0, w.level) { i += 1 }
        } else {
            let base = Int(p) << 9
            pageMem.withUnsafeBufferPointer { m in
                while i < n && !S2TTE.isLive(m[base | i], w.level) { i += 1 }
            }
        }
        return (ipa & ~(size - 1)) &+ UInt64(i - w.index) &* size
    }

    /// Fill RTT `child` at `level` by unfolding `parent`, an entry one level up
    /// (`s2tt_init_*`): every entry copies the parent's state and RIPAS; a block parent
    /// becomes contiguous entries of Size(level) with its attributes.
    mutating func unfold(_ parent: UInt64, into child: Int, level: Int) {
        let base = pageBase(child)
        let parentLevel = level - 1
        if S2TTE.isAssigned(parent, parentLevel) {
            let r = S2TTE.ripas(parent)
            let step = S2TT.size(level)
            var pa = S2TTE.pa(parent)
            for i in 0 ..< 512 {
                pageMem[base + i] = S2TTE.assigned(pa, ripas: r, level: level)
                pa &+= step
            }
        } else if S2TTE.isAssignedNS(parent, parentLevel) {
            let step = S2TT.size(level)
            var pa = S2TTE.pa(parent)
            for i in 0 ..< 512 {
                pageMem[base + i] = S2TTE.assignedNS(host: (parent & ~S2TTE.oaMask) | pa, level: level)
                pa &+= step
            }
        } else {
            // UNASSIGNED (with its RIPAS) or UNASSIGNED_NS: the same invalid descriptor.
            for i in 0 ..< 512 { pageMem[base + i] = parent }
        }
    }

    /// `RttFold` (A5.5.6) of RTT `child` at `level` with refcount `rc`, decided by refcount
    /// first as TF-RMM does: the parent entry it folds into, or nil if it is not homogeneous.
    func foldedEntry(_ child: Int, level: Int, refcount rc: UInt16) -> UInt64? {
        let first = word(child, 0)
        let parentLevel = level - 1
        if rc == 0 {
            if S2TTE.isUnassigned(first) || S2TTE.isUnassignedNS(first) {
                // All UNASSIGNED with the same RIPAS, or all UNASSIGNED_NS.
                for i in 1 ..< 512 where word(child, i) != first { return nil }
                return first
            }
            // All ASSIGNED_NS, contiguous from an address aligned to the parent level, with
            // the same attributes; such blocks exist only at levels 1 and 2.
            guard S2TTE.isAssignedNS(first, level), parentLevel >= S2TT.minBlockLevel,
                  S2TT.isAligned(S2TTE.pa(first), parentLevel) else { return nil }
            let attrs = first & ~S2TTE.oaMask
            let step = S2TT.size(level)
            var pa = S2TTE.pa(first)
            for i in 1 ..< 512 {
                pa &+= step
                let d = word(child, i)
                if !S2TTE.isAssignedNS(d, level) || d & ~S2TTE.oaMask != attrs || S2TTE.pa(d) != pa { return nil }
            }
            return S2TTE.assignedNS(host: first, level: parentLevel)
        }
        if rc == 512 {
            // All ASSIGNED with the same RIPAS, contiguous from an aligned address.
            guard S2TTE.isAssigned(first, level), parentLevel >= S2TT.minBlockLevel,
                  S2TT.isAligned(S2TTE.pa(first), parentLevel) else { return nil }
            let r = S2TTE.ripas(first)
            let step = S2TT.size(level)
            var pa = S2TTE.pa(first)
            for i in 1 ..< 512 {
                pa &+= step
                let d = word(child, i)
                if !S2TTE.isAssigned(d, level) || S2TTE.ripas(d) != r || S2TTE.pa(d) != pa { return nil }
            }
            return S2TTE.assigned(S2TTE.pa(first), ripas: r, level: parentLevel)
        }
        return nil
    }
}
