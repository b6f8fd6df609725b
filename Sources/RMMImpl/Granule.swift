// The granule array: one descriptor per 4 KB of managed DRAM, with the granule's state,
// GPT entry, lock and reference count, and the page slot holding its contents (TF-RMM
// `struct granule`, lib/granule). Lookup, locking and refcount helpers follow TF-RMM's
// `find_granule`, `find_lock_granule`, `find_lock_two_granules`,
// `find_lock_unused_granule`, `granule_unlock_transition` and the atomic get/put helpers.

extension RMM {
    /// Granule states (RmmGranuleState, A2.2). UNDELEGATED is TF-RMM's GRANULE_STATE_NS.
    public enum GranuleState: UInt8, Sendable, CaseIterable {
        case undelegated = 0, delegated, rd, rec, recAux, data, rtt
    }

    /// GPT entries (RmmGptEntry, C1.5). `any` is GPT_AAP (accessible from any PAS).
    public enum GPT: UInt8, Sendable, CaseIterable {
        case ns = 0, realm, secure, root, any
    }

    /// Largest reference count a granule can hold (TF-RMM REFCOUNT_MAX, 10 bits).
    static let refcountMax: UInt16 = 1023
}

/// The per-granule descriptor (16 bytes).
struct Granule {
    var state: RMM.GranuleState = .undelegated
    var gpt: RMM.GPT
    var locked = false
    /// Changed since the last reset.
    var touched = false
    /// RD: number of RECs; REC: 1 while running; RTT: TABLE and ASSIGNED entries.
    var refcount: UInt16 = 0
    /// Slot in `RMM.pageMem` holding the contents, or -1 for an all-zero granule.
    var page: Int32 = -1
    /// Slot in `RMM.rds` (RD) or `RMM.recs` (REC), or -1.
    var obj: Int32 = -1

    init(gpt: RMM.GPT) { self.gpt = gpt }
}

extension Core {
    // MARK: Lookup

    /// `find_granule`: the index of the granule at `pa`, or -1 if `pa` is not 4 KB aligned
    /// (gran_align) or not in a DRAM bank the RMM manages (gran_bound).
    @inline(__always)
    func granuleIndex(_ pa: UInt64) -> Int {
        if pa & 0xFFF != 0 { return -1 }
        for b in banks where pa >= b.base && pa < b.end {
            return b.offset + Int(truncatingIfNeeded: (pa - b.base) >> 12)
        }
        return -1
    }

    /// The physical address of granule `g`.
    func granuleAddress(_ g: Int) -> UInt64 {
        for b in banks where g >= b.offset && g < b.offset + Int((b.end - b.base) >> 12) {
            return b.base + UInt64(g - b.offset) << 12
        }
        return 0
    }

    @inline(__always)
    mutating func touch(_ g: Int) {
        if !granules[g].touched {
            granules[g].touched = true
            touched.append(Int32(g))
        }
    }

    // MARK: Locks

    @inline(__always)
    mutating func lock(_ g: Int) {
        if granules[g].locked { lockViolations += 1 }
        granules[g].locked = true
        locksHeld += 1
    }

    @inline(__always)
    mutating func unlock(_ g: Int) {
        if !granules[g].locked { lockViolations += 1 }
        granules[g].locked = false
        locksHeld -= 1
    }

    /// `granule_unlock_transition`: set the new state, then unlock.
    @inline(__always)
    mutating func unlockTransition(_ g: Int, to s: GranuleState) {
        touch(g)
        granules[g].state = s
        unlock(g)
    }

    /// `find_lock_granule`: look up `pa`, lock it, and keep it locked only if it is in
    /// state `s`. Returns the index, or -1 (unaligned, not delegable, or another state).
    @inline(__always)
    mutating func findLockGranule(_ pa: UInt64, _ s: GranuleState) -> Int {
        let g = granuleIndex(pa)
        if g < 0 { return -1 }
        lock(g)
        if granules[g].state != s {
            unlock(g)
            return -1
        }
        return g
    }

    /// Result of `findLockUnusedGranule`.
    enum UnusedLookup {
        case locked(Int)
        /// Unaligned, not delegable, or another state.
        case invalid
        /// Right state, but the refcount is not 0; the granule is not left locked.
        case busy
    }

    /// `find_lock_unused_granule`: as `findLockGranule`, and the refcount must be 0.
    @inline(__always)
    mutating func findLockUnusedGranule(_ pa: UInt64, _ s: GranuleState) -> UnusedLookup {
        let g = findLockGranule(pa, s)
        if g < 0 { return .invalid }
        if granules[g].refcount != 0 {
            unlock(g)
            return .busy
        }
        return .locked(g)
    }

    /// `find_lock_two_granules`: look up both addresses (both must be aligned and delegable,
    /// and different), lock them in address order, and check their states. Returns both
    /// indices locked, or nil with nothing locked.
    @inline(__always)
    mutating func findLockTwoGranules(_ pa1: UInt64, _ s1: GranuleState,
                             _ pa2: UInt64, _ s2: GranuleState) -> (Int, Int)? {
        let g1 = granuleIndex(pa1), g2 = granuleIndex(pa2)
        if g1 < 0 || g2 < 0 || g1 == g2 { return nil }
        // Lock order: lower physical address first.
        let (first, firstState, second, secondState) = pa1 < pa2 ? (g1, s1, g2, s2) : (g2, s2, g1, s1)
        lock(first)
        if granules[first].state != firstState {
            unlock(first)
            return nil
        }
        lock(second)
        if granules[second].state != secondState {
            unlock(second)
            unlock(first)
            return nil
        }
        return (g1, g2)
    }

    // MARK: Reference counts

    @inline(__always)
    mutating func refcountGet(_ g: Int, _ n: UInt16 = 1) {
        touch(g)
        if granules[g].refcount > UInt16.max - n { refcountViolations += 1; return }
        granules[g].refcount += n
        if granules[g].refcount > 512 && granules[g].state == .rtt { refcountViolations += 1 }
    }

    @inline(__always)
    mutating func refcountPut(_ g: Int, _ n: UInt16 = 1) {
        touch(g)
        if granules[g].refcount < n { refcountViolations += 1; granules[g].refcount = 0; return }
        granules[g].refcount -= n
    }

    // MARK: Contents

    /// The page slot of granule `g`, allocating a zero page if it has none.
    @inline(__always)
    mutating func pageBase(_ g: Int) -> Int {
        let p = granules[g].page
        if p >= 0 { return Int(p) << 9 }
        touch(g)
        let slot: Int32
        if let s = freePages.popLast() {
            slot = s
        } else {
            slot = Int32(pageMem.count >> 9)
            pageMem.append(contentsOf: repeatElement(0, count: 512))
        }
        granules[g].page = slot
        return Int(slot) << 9
    }

    /// Word `i` (0..<512) of granule `g`.
    @inline(__always)
    func word(_ g: Int, _ i: Int) -> UInt64 {
        let p = granules[g].page
        return p < 0 ? 0 : pageMem[Int(p) << 9 | i]
    }

    @inline(__always)
    mutating func setWord(_ g: Int, _ i: Int, _ v: UInt64) {
        let p = granules[g].page
        if p < 0 && v == 0 { return }
        pageMem[pageBase(g) | i] = v
    }

    /// Erase the contents of granule `g` (`granule_memzero`).
    @inline(__always)
    mutating func scrub(_ g: Int) {
        let p = granules[g].page
        if p < 0 { return }
        let base = Int(p) << 9
        for i in base ..< base + 512 { pageMem[i] = 0 }
        freePages.append(p)
        granules[g].page = -1
    }

    /// Copy the contents of granule `src` to granule `dst`.
    mutating func copyPage(from src: Int, to dst: Int) {
        if granules[src].page < 0 { scrub(dst); return }
        let d = pageBase(dst), s = Int(granules[src].page) << 9
        pageMem.withUnsafeMutableBufferPointer { m in
            for i in 0 ..< 512 { m[d + i] = m[s + i] }
        }
    }

    /// The digest of granule `g`'s contents: 0 for an all-zero granule, else a hash of its
    /// 512 words (FNV-1a over 64-bit words, then a final mix). Used for RMI_MEASURE_CONTENT
    /// and by `contentDigest(at:)`.
    @inline(__always)
    func digest(_ g: Int) -> UInt64 {
        let p = granules[g].page
        if p < 0 { return 0 }
        let base = Int(p) << 9
        return pageMem.withUnsafeBufferPointer { m in
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            var any: UInt64 = 0
            for i in base ..< base + 512 {
                let w = m[i]
                any |= w
                h = (h ^ w) &* 0x0000_0100_0000_01B3
            }
            return any == 0 ? 0 : Measurement.mix(h) | 1
        }
    }

    // MARK: Granule Protection Table

    /// `GranuleAccessPermitted(pa, PAS_NS)`: GPT_NS or GPT_AAP.
    @inline(__always)
    func nsAccessible(_ g: Int) -> Bool {
        let t = granules[g].gpt
        return t == .ns || t == .any
    }

    /// What the RMM checks before it reads or writes an NS buffer (params, run, src): the
    /// address is a granule of managed DRAM (-1 otherwise), in state UNDELEGATED. The read
    /// itself can still fault (`nsAccessible`).
    @inline(__always)
    func findNSGranule(_ pa: UInt64) -> Int {
        let g = granuleIndex(pa)
        if g < 0 || granules[g].state != .undelegated { return -1 }
        return g
    }
}
