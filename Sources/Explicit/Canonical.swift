import RMISpec

/// A 128-bit fingerprint: two independent 64-bit hashes of a state's canonical encoding.
public struct Fingerprint: Hashable, Sendable {
    public var lo: UInt64
    public var hi: UInt64
}

@inline(__always) func fmix64(_ x: UInt64) -> UInt64 {
    var k = x
    k ^= k >> 33; k &*= 0xFF51_AFD7_ED55_8CCD
    k ^= k >> 33; k &*= 0xC4CE_B9FE_1A85_EC53
    k ^= k >> 33
    return k
}
@inline(__always) func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

/// Two independent 64-bit mixes over a sequence of words (different seeds, multipliers and
/// rotations), fed one word at a time so that callers need not build the sequence.
struct FingerprintHasher {
    var h1: UInt64 = 0x243F_6A88_85A3_08D3, h2: UInt64 = 0x1319_8A2E_0370_7344
    var n: UInt64 = 0
    @inline(__always) mutating func add(_ w: UInt64) {
        h1 = FingerprintHasher.lane1(h1, w)
        h2 = rotl(h2 ^ fmix64(w &* 0x9E37_79B9_7F4A_7C15 &+ 0x082E_FA98_EC4E_6C89), 31) &* 9 &+ 0x3849_5AB5
        n &+= 1
    }
    @inline(__always) static func lane1(_ h: UInt64, _ w: UInt64) -> UInt64 {
        rotl(h ^ fmix64(w ^ 0xA409_3822_299F_31D0), 27) &* 5 &+ 0x52DC_E729
    }
    @inline(__always) var value: Fingerprint {
        Fingerprint(lo: fmix64(h1 ^ n), hi: fmix64(h2 &+ n &* 0x6A09_E667_F3BC_C909))
    }
}

/// `FingerprintHasher(...).value.lo` without the other lane, for keys that use only that.
struct LowHasher {
    var h1: UInt64 = FingerprintHasher().h1
    var n: UInt64 = 0
    @inline(__always) mutating func add(_ w: UInt64) {
        h1 = FingerprintHasher.lane1(h1, w)
        n &+= 1
    }
    @inline(__always) var value: UInt64 { fmix64(h1 ^ n) }
}

/// The fingerprint of a sequence of words.
public func fingerprint(_ words: [UInt64]) -> Fingerprint {
    var h = FingerprintHasher()
    for w in words { h.add(w) }
    return h.value
}

/// Marks a renamed reference in an encoding: no address or value of the scope has bit 63 set.
let refTag: UInt64 = 1 << 63

/// A state restricted to the scope, Granule by Granule ("slots"), in flat arrays that are
/// reused from state to state: each slot's words, and which of those words name another
/// slot (references, renamed by the symmetry).
///
/// What is left out, and why that is sound for the scope's alphabet: NS memory (every
/// action rewrites the whole block the call reads before the call), the data source page
/// (always rewritten with the same token), and the RIM (a measurement: no condition of any
/// command reads it; INV-R7 is still checked on every concrete step the search takes).
///
/// The encoding of a state under an order of its slots (`encode`), its canonical encoding
/// (`canonicalise`) and the work space both need live here too, so that a worker encodes
/// state after state without allocating.
struct SlotEncoder {
    let scope: ExplicitScope
    /// Slot i's words are `words[start[i] ..< start[i + 1]]`, with 0 where a reference is.
    var words: [UInt64] = []
    var start: [Int] = []
    /// Reference r (of slot `refOwner[r]`) is the word at offset `refOffset[r]` in its slot
    /// and names slot `refSlot[r]`; slot i's references are `refStart[i] ..< refStart[i + 1]`.
    var refOffset: [Int] = [], refSlot: [Int] = [], refOwner: [Int] = [], refStart: [Int] = []
    /// The offset of an RD slot's VMID in its words (renamed by the realm symmetry), or -1.
    var vmid: [Int] = []

    // Work space of `encode` and `canonicalise`.
    var pos: [Int] = [], seen: [UInt64] = []
    var out: [UInt64] = [], best: [UInt64] = []
    var k0: [UInt64] = [], key: [UInt64] = [], involved: [Bool] = [], order: [Int] = []
    var referrers: [UInt64] = []

    init(scope: ExplicitScope) { self.scope = scope }

    var count: Int { vmid.count }

    @inline(__always) func slotWords(_ i: Int) -> ArraySlice<UInt64> { words[start[i]..<start[i + 1]] }

    /// Lays out `s` (a state over the scope's pool).
    mutating func load(_ s: PoolState) {
        words.removeAll(keepingCapacity: true)
        start.removeAll(keepingCapacity: true)
        refOffset.removeAll(keepingCapacity: true)
        refSlot.removeAll(keepingCapacity: true)
        refOwner.removeAll(keepingCapacity: true)
        refStart.removeAll(keepingCapacity: true)
        vmid.removeAll(keepingCapacity: true)
        let aux = scope.aux
        let stride = PoolState.stride, recWords = RecField.all.count
        s.withWords { slots, recs in
            for i in 0..<scope.granules {
                let k = i * stride
                let first = words.count
                start.append(first)
                refStart.append(refSlot.count)
                var vmidAt = -1
                let h = slots[k]
                words.append(h & 0xFFFF)
                words.append(slots[k + PoolState.contentWord])
                switch GranuleState(rawValue: h & 0xFF) {
                case .rd where h & PoolState.hasRealm != 0:
                    let r = k + PoolState.realmWords
                    for f in RealmField.allCases where f != .rim {
                        if f == .vmid { vmidAt = words.count - first }
                        if f == .rttBase { ref(slots[r + f.rawValue], i, first) } else { words.append(slots[r + f.rawValue]) }
                    }
                case .rec where h & PoolState.hasRec != 0:
                    // The fields in `RecField.all` order: owner, state, runnable, mpidr, pc,
                    // the GPRs, the aux Granules (the first `aux`), then the rest.
                    let c = i * recWords, auxAt = 5 + RecField.gprCount
                    ref(recs[c], i, first)
                    words.append(contentsOf: recs[(c + 1)..<(c + auxAt)])
                    for j in 0..<aux { ref(recs[c + auxAt + j], i, first) }
                    words.append(contentsOf: recs[(c + auxAt + RecField.auxMax)..<(c + recWords)])
                case .rtt where h & PoolState.hasRtt != 0:
                    let t = k + PoolState.rttWords
                    words.append(slots[t + RttField.level.rawValue])
                    ref(slots[t + RttField.owner.rawValue], i, first)
                    words.append(slots[t + RttField.ipaBase.rawValue])
                    appendEntries(s, slot: i, first)
                default: break
                }
                vmid.append(vmidAt)
            }
        }
        start.append(words.count)
        refStart.append(refSlot.count)
    }

    /// Encodings of RTT entry arrays, run-length (each entry that differs from the one before
    /// it, as a word and its address, a reference when it is a pool address), kept by the
    /// storage of the array encoded, direct-mapped: a successor shares the entry arrays of
    /// its parent's RTTs that the call did not write, so most are encoded once rather than
    /// for every state that holds them. `runArrays` holds each array encoded, so that its
    /// storage is neither freed (and its address reused) nor written while it is cached.
    static let runLines = 64
    var runIds = [UInt](repeating: 0, count: runLines)
    var runArrays = [[SpecState.Entry]](repeating: [], count: runLines)
    var runWords = [[UInt64]](repeating: [], count: runLines)
    /// (offset in the run's words, slot referred to)
    var runRefs = [[(Int, Int)]](repeating: [], count: runLines)

    /// (lo, hi) of a fingerprint of each line's runs and references: a hash of the entries.
    var runHashes = [Fingerprint](repeating: Fingerprint(lo: 0, hi: 0), count: runLines)

    mutating func appendEntries(_ s: PoolState, slot i: Int, _ first: Int) {
        let line = runLine(s, slot: i)
        let base = words.count - first
        words.append(contentsOf: runWords[line])
        for (off, j) in runRefs[line] { refOffset.append(base + off); refSlot.append(j); refOwner.append(i) }
    }

    /// The cache line that holds the run encoding of the entries of `s`'s RTT at slot `i`,
    /// encoded now (from the runs the state keeps) if it is not there.
    mutating func runLine(_ s: PoolState, slot i: Int) -> Int {
        let id = s.withEntries(slot: i) { UInt(bitPattern: $0.baseAddress) }
        let line = Int(truncatingIfNeeded: fmix64(UInt64(id)) >> 58)
        if runIds[line] != id {
            runIds[line] = id
            runArrays[line] = s.entries(slot: i)
            // Filled as locals (appending through the arrays of arrays checks uniqueness at
            // every append).
            var w: [UInt64] = [], refs: [(Int, Int)] = []
            swap(&w, &runWords[line]); swap(&refs, &runRefs[line])
            w.removeAll(keepingCapacity: true)
            refs.removeAll(keepingCapacity: true)
            s.withEntries(slot: i) { b in
                s.withRunStarts(slot: i) { starts in
                    for k16 in starts {
                        let k = Int(k16), e = b[k]
                        w.append(UInt64(k) << 32 | UInt64(e.state) | UInt64(e.ripas) << 8 | UInt64(e.attrs) << 16)
                        if let j = scope.slot(e.addr) {
                            refs.append((w.count, j))
                            w.append(0)
                        } else {
                            w.append(e.addr)
                        }
                    }
                }
            }
            var h = FingerprintHasher()
            for x in w { h.add(x) }
            for (off, j) in refs { h.add(UInt64(off) << 32 | UInt64(j)) }
            runHashes[line] = h.value
            swap(&w, &runWords[line]); swap(&refs, &runRefs[line])
        }
        return line
    }

    /// Appends `x`, a reference when it is a pool address (a 0 in the words).
    @inline(__always) mutating func ref(_ x: UInt64, _ owner: Int, _ first: Int) {
        if let j = scope.slot(x) {
            refOffset.append(words.count - first); refSlot.append(j); refOwner.append(owner)
            words.append(0)
        } else {
            words.append(x)
        }
    }

    /// Writes into `out` the encoding with slot `order[p]` at position p. With `vmids`,
    /// VMIDs are renamed in order of first appearance (the realm symmetry: Realms are
    /// interchangeable up to renaming their VMIDs as well as their Granules).
    mutating func encode(order: [Int], vmids: Bool) {
        let n = count
        if pos.count != n { pos = [Int](repeating: 0, count: n) }
        for (p, i) in order.enumerated() { pos[i] = p }
        out.removeAll(keepingCapacity: true)
        seen.removeAll(keepingCapacity: true)
        for i in order {
            let lo = start[i], hi = start[i + 1]
            out.append(UInt64(hi - lo))
            let at = out.count
            out.append(contentsOf: words[lo..<hi])
            for r in refStart[i]..<refStart[i + 1] { out[at + refOffset[r]] = refTag | UInt64(pos[refSlot[r]]) }
            if vmids, vmid[i] >= 0 {
                let x = words[lo + vmid[i]]
                if let k = seen.firstIndex(of: x) { out[at + vmid[i]] = UInt64(k) } else {
                    out[at + vmid[i]] = UInt64(seen.count)
                    seen.append(x)
                }
            }
        }
    }

    /// Lexicographic order of encodings, shorter first.
    static func less<C: RandomAccessCollection>(_ a: C, _ b: C) -> Bool where C.Element == UInt64 {
        if a.count != b.count { return a.count < b.count }
        for (x, y) in zip(a, b) where x != y { return x < y }
        return false
    }

    /// Leaves in `best` the canonical encoding of the loaded state: the least encoding
    /// (lexicographically) over the renamings of the pool that sort the slots by a
    /// renaming-invariant key; slots with equal keys that neither refer to nor are referred
    /// to by another slot are ordered by their own words (their order does not change the
    /// encoding), the others are tried in every order. Returns false when that enumeration
    /// was too large and a fixed order was used instead (still sound: the result is an
    /// encoding of a renaming of the state).
    ///
    /// With `vmids` (the realm symmetry), VMIDs count as names too: the keys leave them out,
    /// slots that hold one are tried in every order when tied, and each encoding renames
    /// them in order of first appearance; so two states that differ by a renaming of the
    /// pool and a permutation of the VMIDs get the same encoding. That is sound for this
    /// alphabet: REALM_CREATE is tried with every VMID of the scope (0..<realms) and the
    /// commands and properties compare VMIDs only for equality.
    mutating func canonicalise(vmids: Bool) -> Bool {
        let n = count
        // k0: the slot's words with references blanked; key adds the k0 of its referents
        // and the multiset of (k0 of referrer, field) of the slots that refer to it.
        k0.removeAll(keepingCapacity: true)
        involved.removeAll(keepingCapacity: true)
        for i in 0..<n {
            var h = LowHasher()
            var r = refStart[i]
            let rEnd = refStart[i + 1], v = vmids ? vmid[i] : -1
            let lo = start[i]
            for k in 0..<(start[i + 1] - lo) {
                if r < rEnd && refOffset[r] == k { h.add(0xDEAD_BEEF); r += 1 } else if k == v { h.add(0xFEED_FACE) } else { h.add(words[lo + k]) }
            }
            k0.append(h.value)
            involved.append(rEnd > refStart[i] || v >= 0)
        }
        for r in 0..<refSlot.count { involved[refSlot[r]] = true }
        key.removeAll(keepingCapacity: true)
        for i in 0..<n {
            var h = LowHasher()
            h.add(k0[i]); h.add(involved[i] ? 1 : 0)
            for r in refStart[i]..<refStart[i + 1] { h.add(UInt64(refOffset[r])); h.add(k0[refSlot[r]]) }
            h.add(0xFFFF)
            referrers.removeAll(keepingCapacity: true)
            for r in 0..<refSlot.count where refSlot[r] == i { referrers.append(fmix64(k0[refOwner[r]] ^ UInt64(refOffset[r]))) }
            referrers.sort()
            for x in referrers { h.add(x) }
            key.append(h.value)
        }
        var order: [Int] = []
        swap(&order, &self.order)
        defer { swap(&order, &self.order) }
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: 0..<n)
        order.sort { a, b in
            if key[a] != key[b] { return key[a] < key[b] }
            if !involved[a] && !involved[b] { return SlotEncoder.less(slotWords(a), slotWords(b)) }
            return a < b
        }
        // Groups of equal key among involved slots: try every order of each.
        var groups: [Range<Int>] = []
        var p = 0
        var product = 1
        while p < n {
            var q = p + 1
            while q < n && key[order[q]] == key[order[p]] { q += 1 }
            if q - p > 1 && involved[order[p]] {
                groups.append(p..<q)
                for f in 2...(q - p) { product = product.multipliedReportingOverflow(by: f).overflow ? Int.max : product * f }
            }
            p = q
        }
        if groups.isEmpty || product > 5040 {
            encode(order: order, vmids: vmids)
            swap(&out, &best)
            return groups.isEmpty
        }
        best.removeAll(keepingCapacity: true)
        var cur = order
        visit(groups, 0, &cur, vmids: vmids)
        return true
    }

    /// Every order of group `g` and the groups after it, keeping the least encoding in `best`.
    private mutating func visit(_ groups: [Range<Int>], _ g: Int, _ cur: inout [Int], vmids: Bool) {
        if g == groups.count {
            encode(order: cur, vmids: vmids)
            if best.isEmpty || SlotEncoder.less(out, best) { swap(&out, &best) }
            return
        }
        let r = groups[g]
        let members = Array(cur[r])
        for perm in permutations(members) {
            for (k, x) in perm.enumerated() { cur[r.lowerBound + k] = x }
            visit(groups, g + 1, &cur, vmids: vmids)
        }
        for (k, x) in members.enumerated() { cur[r.lowerBound + k] = x }
    }

    /// Fingerprints by a raw hash of the state they were worked out for (`PoolState.rawHash`
    /// of its words, with a hash of each RTT's entries): it covers everything the encoding
    /// reads. Most successors a search computes are states computed before, from another
    /// parent, and are not encoded again.
    var cache = FingerprintCache()
    /// Raw hashes entered in the cache: the collision bound counts them.
    var cacheInserts = 0
    /// The search's table of what every encoder worked out at earlier levels, and this
    /// encoder's entries not yet published to it (`EncoderPool.publish`).
    var shared: SharedFingerprints? = nil
    var unpublished: [(a: UInt64, b: UInt64, fp: Fingerprint, exact: Bool)] = []

    /// The cache's key for `s`: the hash of its words, and of each RTT's entries (by their
    /// run encoding, cached by storage like the encoding itself).
    mutating func cacheKey(_ s: PoolState) -> (UInt64, UInt64) {
        var (a, b) = s.rawHash
        for i in 0..<s.count where s.hasRtt(ExplicitScope.standardBase + UInt64(i) << 12) {
            let t = runHashes[runLine(s, slot: i)]
            a ^= fmix64(t.lo &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
            b ^= fmix64(t.hi ^ UInt64(i) &* 0xC2B2_AE3D_27D4_EB4F)
        }
        return (a, b)
    }

    /// `fingerprint(of:symmetry:vmids:)`, from the cache when `s`'s raw hash is there.
    mutating func cachedFingerprint(of s: PoolState, symmetry: Bool, vmids: Bool) -> (Fingerprint, Bool) {
        var (a, b) = cacheKey(s)
        // One encoder serves one setting in a search; the key tells settings apart anyway.
        if symmetry { a ^= 0x5BD1_E995_27D4_EB2F }
        if vmids { b ^= 0x1656_67C5_9E37_79B9 }
        if let hit = cache.lookup(a, b) { return hit }
        let fp: Fingerprint, exact: Bool
        if let (f, x) = shared?.lookup(a, b) {
            (fp, exact) = (f, x)  // (a key another encoder entered, and counted)
        } else {
            (fp, exact) = fingerprint(of: s, symmetry: symmetry, vmids: vmids)
            cacheInserts += 1
            if shared != nil { unpublished.append((a, b, fp, exact)) }
        }
        cache.insert(a, b, fp, exact: exact)
        return (fp, exact)
    }

    /// The fingerprint of `s`: of its canonical encoding, or with `symmetry` false of its
    /// encoding with the pool in address order; and whether the canonical form was exact.
    mutating func fingerprint(of s: PoolState, symmetry: Bool, vmids: Bool) -> (Fingerprint, Bool) {
        load(s)
        let exact: Bool
        if symmetry {
            exact = canonicalise(vmids: vmids && scope.realms > 1)
        } else {
            if order.count != count { order = Array(0..<count) } else { for i in 0..<count { order[i] = i } }
            encode(order: order, vmids: false)
            swap(&out, &best)
            exact = true
        }
        var h = FingerprintHasher()
        for w in best { h.add(w) }
        return (h.value, exact)
    }

    /// The number of distinct plain encodings of the renamings of the pool applied to the
    /// loaded state: the size of its orbit, N! / |stabiliser|.
    ///
    /// "Free" slots (no reference out, none in) with equal words are interchangeable: every
    /// permutation among them fixes the encoding, and no permutation that fixes it maps a
    /// free slot to a bound one or to a free one with other words. A permutation that fixes
    /// the encoding also maps each bound slot to one with the same words (references are
    /// stored as 0 in a slot's words). So the stabiliser is the product of the free groups'
    /// symmetric groups and the permutations within the groups of equal bound slots that fix
    /// the encoding, which are counted by trying them (there are few: bound slots are RDs,
    /// RTTs, RECs, their aux and mapped DATA Granules, seldom equal).
    mutating func poolOrbitSize() -> Int {
        let n = count
        var bound = [Bool](repeating: false, count: n)
        for r in 0..<refSlot.count { bound[refOwner[r]] = true; bound[refSlot[r]] = true }
        var freeGroups: [ArraySlice<UInt64>: Int] = [:]
        var boundGroups: [ArraySlice<UInt64>: [Int]] = [:]
        for i in 0..<n {
            if bound[i] { boundGroups[slotWords(i), default: []].append(i) } else { freeGroups[slotWords(i), default: 0] += 1 }
        }
        func factorial(_ k: Int) -> Int { k <= 1 ? 1 : (2...k).reduce(1, *) }
        let groups = boundGroups.values.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }
        encode(order: Array(0..<n), vmids: false)
        let identity = out
        var fixing = 0
        var renaming = Array(0..<n)
        func tryRenamings(_ g: Int, _ e: inout SlotEncoder) {
            if g == groups.count {
                e.encode(order: renaming, vmids: false)
                if e.out == identity { fixing += 1 }
                return
            }
            for perm in permutations(groups[g]) {
                for (k, x) in perm.enumerated() { renaming[groups[g][k]] = x }
                tryRenamings(g + 1, &e)
            }
            for x in groups[g] { renaming[x] = x }
        }
        tryRenamings(0, &self)
        let stabiliser = freeGroups.values.reduce(1) { $0 * factorial($1) } * fixing
        return factorial(n) / stabiliser
    }
}

extension ExplicitScope {
    /// The slot of a pool address, or nil.
    @inline(__always) func slot(_ a: UInt64) -> Int? {
        let base = ExplicitScope.standardBase
        guard a >= base, a & 0xFFF == 0 else { return nil }
        let i = (a - base) >> 12
        return i < UInt64(granules) ? Int(i) : nil
    }

    /// `s` over the scope's pool.
    func poolState(_ s: SpecState) -> PoolState { PoolState(s, base: ExplicitScope.standardBase, count: granules) }

    /// The empty state over the scope's pool.
    var initialPoolState: PoolState { PoolState(platform: platform, base: ExplicitScope.standardBase, count: granules) }

    /// The encoding with the pool in address order (no symmetry).
    func plainEncoding(_ s: SpecState) -> [UInt64] {
        var e = SlotEncoder(scope: self)
        e.load(poolState(s))
        e.encode(order: Array(0..<granules), vmids: false)
        return e.out
    }

    /// The canonical encoding (`SlotEncoder.canonicalise`), and whether it is exact.
    func canonicalEncoding(_ s: SpecState, vmids: Bool = true) -> (words: [UInt64], exact: Bool) {
        var e = SlotEncoder(scope: self)
        e.load(poolState(s))
        let exact = e.canonicalise(vmids: vmids && realms > 1)
        return (e.best, exact)
    }

    /// The size of the orbit of `s` (`SlotEncoder.poolOrbitSize`).
    ///
    /// With `vmids` (and more than one Realm), the orbit under renamings of the pool and
    /// permutations of the VMIDs: the pool orbit's size times the number of distinct pool
    /// classes among the VMID permutations of `s` (the pool orbits of those are disjoint or
    /// equal, and all of the same size).
    func orbitSize(_ s: SpecState, vmids: Bool = true) -> Int { orbitSize(poolState(s), vmids: vmids) }

    func orbitSize(_ s: PoolState, vmids: Bool = true) -> Int {
        var e = SlotEncoder(scope: self)
        e.load(s)
        let poolOrbit = e.poolOrbitSize()
        guard vmids && realms > 1 else { return poolOrbit }
        let words = e.words
        var classes = Set<[UInt64]>()
        for sigma in permutations(Array(0..<realms)) {
            e.words = words
            for i in 0..<e.count where e.vmid[i] >= 0 {
                let at = e.start[i] + e.vmid[i]
                if e.words[at] < UInt64(realms) { e.words[at] = UInt64(sigma[Int(e.words[at])]) }
            }
            _ = e.canonicalise(vmids: false)
            classes.insert(e.best)
        }
        return poolOrbit * classes.count
    }
}

func permutations(_ xs: [Int]) -> [[Int]] {
    if xs.count <= 1 { return [xs] }
    var out: [[Int]] = []
    for (i, x) in xs.enumerated() {
        var rest = xs
        rest.remove(at: i)
        for p in permutations(rest) { out.append([x] + p) }
    }
    return out
}

/// A direct-mapped table from a state's raw hash (a, b) to its fingerprint and whether the
/// canonical form was exact: a line is overwritten by the next key that maps to it. It
/// starts small and doubles (keeping its entries) while its inserts reach a quarter of its
/// lines, up to `maxLines`: a search of a few hundred states then neither clears nor faults in
/// the half megabyte a large one uses.
struct FingerprintCache {
    static let minLines = 1 << 10, maxLines = 1 << 14
    /// Per line the key (two words), the fingerprint, and 0 (empty), 1 (inexact) or 2 (exact).
    private var keys: [UInt64] = [], fingerprints: [Fingerprint] = [], state: [UInt8] = []
    private var inserts = 0
    /// Its size now (0 before the first insert).
    var lines: Int { state.count }

    @inline(__always) private static func line(_ a: UInt64, _ b: UInt64, lines: Int) -> Int {
        Int(truncatingIfNeeded: a >> 17 ^ b) & (lines - 1)
    }

    func lookup(_ a: UInt64, _ b: UInt64) -> (Fingerprint, Bool)? {
        if state.isEmpty { return nil }
        let l = Self.line(a, b, lines: state.count)
        guard state[l] != 0, keys[2 * l] == a, keys[2 * l + 1] == b else { return nil }
        return (fingerprints[l], state[l] == 2)
    }

    mutating func insert(_ a: UInt64, _ b: UInt64, _ fp: Fingerprint, exact: Bool) {
        if state.isEmpty {
            resize(Self.minLines)
        } else if 4 * inserts >= state.count && state.count < Self.maxLines {
            resize(2 * state.count)
        }
        inserts += 1
        let l = Self.line(a, b, lines: state.count)
        keys[2 * l] = a; keys[2 * l + 1] = b
        fingerprints[l] = fp
        state[l] = exact ? 2 : 1
    }

    private mutating func resize(_ lines: Int) {
        let (oldKeys, oldFingerprints, oldState) = (keys, fingerprints, state)
        keys = [UInt64](repeating: 0, count: 2 * lines)
        fingerprints = [Fingerprint](repeating: Fingerprint(lo: 0, hi: 0), count: lines)
        state = [UInt8](repeating: 0, count: lines)
        for k in oldState.indices where oldState[k] != 0 {
            let a = oldKeys[2 * k], b = oldKeys[2 * k + 1], l = Self.line(a, b, lines: lines)
            keys[2 * l] = a; keys[2 * l + 1] = b
            fingerprints[l] = oldFingerprints[k]
            state[l] = oldState[k]
        }
    }
}

/// The fingerprint caches of a search's encoders, joined: each encoder's new entries are
/// published at the end of every level (`EncoderPool.publish`), and an encoder that misses
/// in its own cache looks here before encoding the state, so that a state one worker met at
/// an earlier level is not encoded again by another. Written only between levels, when no
/// worker runs, and read-only while a level is expanded.
final class SharedFingerprints: @unchecked Sendable {
    @exclusivity(unchecked) private var cache = FingerprintCache()

    func lookup(_ a: UInt64, _ b: UInt64) -> (Fingerprint, Bool)? { cache.lookup(a, b) }

    /// Enters `e`'s unpublished entries (between levels only).
    func publish(_ e: inout SlotEncoder) {
        for x in e.unpublished { cache.insert(x.a, x.b, x.fp, exact: x.exact) }
        e.unpublished.removeAll(keepingCapacity: true)
    }
}
