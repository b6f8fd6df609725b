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

/// Two independent 64-bit mixes over the words (different seeds, multipliers and rotations).
public func fingerprint(_ words: [UInt64]) -> Fingerprint {
    var h1: UInt64 = 0x243F_6A88_85A3_08D3, h2: UInt64 = 0x1319_8A2E_0370_7344
    for w in words {
        h1 = rotl(h1 ^ fmix64(w ^ 0xA409_3822_299F_31D0), 27) &* 5 &+ 0x52DC_E729
        h2 = rotl(h2 ^ fmix64(w &* 0x9E37_79B9_7F4A_7C15 &+ 0x082E_FA98_EC4E_6C89), 31) &* 9 &+ 0x3849_5AB5
    }
    let n = UInt64(words.count)
    return Fingerprint(lo: fmix64(h1 ^ n), hi: fmix64(h2 &+ n &* 0x6A09_E667_F3BC_C909))
}

/// A state restricted to the scope, Granule by Granule ("slots"): each slot's words, and
/// which of those words name another slot (references, renamed by the symmetry).
///
/// What is left out, and why that is sound for the scope's alphabet: NS memory (every
/// action rewrites the whole block the call reads before the call), the data source page
/// (always rewritten with the same token), and the RIM (a measurement: no condition of any
/// command reads it; INV-R7 is still checked on every concrete step the search takes).
struct SlotView {
    var words: [UInt64] = []
    /// (index in `words`, slot referred to)
    var refs: [(Int, Int)] = []
    /// The index in `words` of the slot's VMID (an RD's), renamed by the realm symmetry.
    var vmid: Int? = nil
}

/// Marks a renamed reference in an encoding: no address or value of the scope has bit 63 set.
let refTag: UInt64 = 1 << 63

extension ExplicitScope {
    /// The slot of a pool address, or nil.
    @inline(__always) func slot(_ a: UInt64) -> Int? {
        let base = ExplicitScope.standardBase
        guard a >= base, a & 0xFFF == 0 else { return nil }
        let i = (a - base) >> 12
        return i < UInt64(granules) ? Int(i) : nil
    }

    func slotViews(_ s: SpecState) -> [SlotView] {
        let pool = self.pool
        var views = [SlotView](repeating: SlotView(), count: pool.count)
        for (i, a) in pool.enumerated() {
            var v = SlotView()
            let g = s.granule(a)
            v.words.append(g.state.rawValue | g.gpt.rawValue << 8)
            v.words.append(g.content)
            func ref(_ x: UInt64) {
                if let j = slot(x) { v.refs.append((v.words.count, j)); v.words.append(0) } else { v.words.append(x) }
            }
            switch g.state {
            case .rd:
                if let r = s.realms[a] {
                    for f in RealmField.allCases where f != .rim {
                        if f == .vmid { v.vmid = v.words.count }
                        if f == .rttBase { ref(r.fields[f.rawValue]) } else { v.words.append(r.fields[f.rawValue]) }
                    }
                }
            case .rec:
                if let c = s.recs[a] {
                    ref(c.owner)
                    v.words += [c.state, c.runnable, c.mpidr, c.pc]
                    v.words += c.gprs
                    for k in 0..<aux { ref(c.aux[k]) }
                    v.words += [c.psciPending, c.emulatableAbort, c.ripasAddr, c.ripasTop, c.ripasValue, c.ripasDestroyed,
                                c.ripasResponse, c.hostCallPending, c.lastExit, c.runPtr]
                }
            case .rtt:
                if let t = s.rtts[a] {
                    v.words.append(t.level)
                    ref(t.owner)
                    v.words.append(t.ipaBase)
                    // Run-length: each entry that differs from the one before it.
                    var prev = SpecState.Entry.zero
                    prev.state = 0xFF
                    for (k, e) in t.entries.enumerated() where e != prev {
                        v.words.append(UInt64(k) << 32 | UInt64(e.state) | UInt64(e.ripas) << 8 | UInt64(e.attrs) << 16)
                        ref(e.addr)
                        prev = e
                    }
                }
            default: break
            }
            views[i] = v
        }
        return views
    }

    /// The encoding of a state with slot `order[p]` at position p. With `vmids`, VMIDs are
    /// renamed in order of first appearance (the realm symmetry: Realms are interchangeable
    /// up to renaming their VMIDs as well as their Granules).
    func encode(_ views: [SlotView], order: [Int], vmids: Bool = false) -> [UInt64] {
        var pos = [Int](repeating: 0, count: order.count)
        for (p, i) in order.enumerated() { pos[i] = p }
        var out: [UInt64] = []
        out.reserveCapacity(views.reduce(0) { $0 + $1.words.count + 1 })
        var seen: [UInt64] = []
        for i in order {
            let v = views[i]
            let start = out.count
            out.append(UInt64(v.words.count))
            out += v.words
            for (k, j) in v.refs { out[start + 1 + k] = refTag | UInt64(pos[j]) }
            if vmids, let k = v.vmid {
                let x = v.words[k]
                if let n = seen.firstIndex(of: x) { out[start + 1 + k] = UInt64(n) } else {
                    out[start + 1 + k] = UInt64(seen.count)
                    seen.append(x)
                }
            }
        }
        return out
    }

    /// The encoding with the pool in address order (no symmetry).
    func plainEncoding(_ s: SpecState) -> [UInt64] {
        encode(slotViews(s), order: Array(0..<granules))
    }

    /// The canonical encoding: the least encoding (lexicographically) over the renamings
    /// of the pool that sort the slots by a renaming-invariant key; slots with equal keys
    /// that neither refer to nor are referred to by another slot are ordered by their own
    /// words (their order does not change the encoding), the others are tried in every
    /// order. `exact` is false when that enumeration was too large and a fixed order was
    /// used instead (still sound: the result is an encoding of a renaming of the state).
    ///
    /// With `vmids` (the realm symmetry), VMIDs count as names too: the keys leave them out,
    /// slots that hold one are tried in every order when tied, and each encoding renames
    /// them in order of first appearance; so two states that differ by a renaming of the
    /// pool and a permutation of the VMIDs get the same encoding. That is sound for this
    /// alphabet: REALM_CREATE is tried with every VMID of the scope (0..<realms) and the
    /// commands and properties compare VMIDs only for equality.
    func canonicalEncoding(_ s: SpecState, vmids: Bool = true) -> (words: [UInt64], exact: Bool) {
        canonical(slotViews(s), vmids: vmids && realms > 1)
    }

    func canonical(_ views: [SlotView], vmids: Bool) -> (words: [UInt64], exact: Bool) {
        let n = views.count
        // k0: the slot's words with references blanked; k1 adds the k0 of its referents
        // and the multiset of (k0 of referrer, field) of the slots that refer to it.
        var k0 = [UInt64](repeating: 0, count: n)
        for i in 0..<n {
            var w = views[i].words
            for (k, _) in views[i].refs { w[k] = 0xDEAD_BEEF }
            if vmids, let k = views[i].vmid { w[k] = 0xFEED_FACE }
            k0[i] = fingerprint(w).lo
        }
        var referrers = [[UInt64]](repeating: [], count: n)
        var involved = [Bool](repeating: false, count: n)
        for i in 0..<n {
            for (k, j) in views[i].refs {
                referrers[j].append(fmix64(k0[i] ^ UInt64(k)))
                involved[i] = true; involved[j] = true
            }
            if vmids && views[i].vmid != nil { involved[i] = true }
        }
        var key = [UInt64](repeating: 0, count: n)
        for i in 0..<n {
            var w: [UInt64] = [k0[i], involved[i] ? 1 : 0]
            for (k, j) in views[i].refs { w.append(UInt64(k)); w.append(k0[j]) }
            w.append(0xFFFF)
            w += referrers[i].sorted()
            key[i] = fingerprint(w).lo
        }
        let lessWords: ([UInt64], [UInt64]) -> Bool = { a, b in
            if a.count != b.count { return a.count < b.count }
            for (x, y) in zip(a, b) where x != y { return x < y }
            return false
        }
        var order = Array(0..<n)
        order.sort { a, b in
            if key[a] != key[b] { return key[a] < key[b] }
            if !involved[a] && !involved[b] { return lessWords(views[a].words, views[b].words) }
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
        if groups.isEmpty { return (encode(views, order: order, vmids: vmids), true) }
        if product > 5040 { return (encode(views, order: order, vmids: vmids), false) }
        var best: [UInt64]? = nil
        func visit(_ g: Int, _ cur: inout [Int]) {
            if g == groups.count {
                let e = encode(views, order: cur, vmids: vmids)
                if best == nil || lessWords(e, best!) { best = e }
                return
            }
            let r = groups[g]
            let members = Array(cur[r])
            for perm in permutations(members) {
                for (k, x) in perm.enumerated() { cur[r.lowerBound + k] = x }
                visit(g + 1, &cur)
            }
            for (k, x) in members.enumerated() { cur[r.lowerBound + k] = x }
        }
        var cur = order
        visit(0, &cur)
        return (best!, true)
    }

    /// The number of distinct plain encodings of the renamings of the pool applied to `s`:
    /// the size of its orbit, N! / |stabiliser|.
    ///
    /// "Free" slots (no reference out, none in) with equal words are interchangeable: every
    /// permutation among them fixes the encoding, and no permutation that fixes it maps a
    /// free slot to a bound one or to a free one with other words. A permutation that fixes
    /// the encoding also maps each bound slot to one with the same words (references are
    /// stored as 0 in a view's words). So the stabiliser is the product of the free groups'
    /// symmetric groups and the permutations within the groups of equal bound slots that fix
    /// the encoding, which are counted by trying them (there are few: bound slots are RDs,
    /// RTTs, RECs, their aux and mapped DATA Granules, seldom equal).
    ///
    /// With `vmids` (and more than one Realm), the orbit under renamings of the pool and
    /// permutations of the VMIDs: the pool orbit's size times the number of distinct pool
    /// classes among the VMID permutations of `s` (the pool orbits of those are disjoint or
    /// equal, and all of the same size).
    func orbitSize(_ s: SpecState, vmids: Bool = true) -> Int {
        let views = slotViews(s)
        let poolOrbit = orbitSize(views)
        guard vmids && realms > 1 else { return poolOrbit }
        var classes = Set<[UInt64]>()
        for sigma in permutations(Array(0..<realms)) {
            var w = views
            for i in w.indices {
                if let k = w[i].vmid, w[i].words[k] < UInt64(realms) { w[i].words[k] = UInt64(sigma[Int(w[i].words[k])]) }
            }
            classes.insert(canonical(w, vmids: false).words)
        }
        return poolOrbit * classes.count
    }

    func orbitSize(_ views: [SlotView]) -> Int {
        let n = views.count
        var bound = [Bool](repeating: false, count: n)
        for (i, v) in views.enumerated() where !v.refs.isEmpty {
            bound[i] = true
            for (_, j) in v.refs { bound[j] = true }
        }
        var freeGroups: [[UInt64]: Int] = [:]
        var boundGroups: [[UInt64]: [Int]] = [:]
        for i in 0..<n {
            if bound[i] { boundGroups[views[i].words, default: []].append(i) } else { freeGroups[views[i].words, default: 0] += 1 }
        }
        func factorial(_ k: Int) -> Int { k <= 1 ? 1 : (2...k).reduce(1, *) }
        let groups = boundGroups.values.filter { $0.count > 1 }
        let identity = encode(views, order: Array(0..<n))
        var fixing = 0
        var order = Array(0..<n)
        func visit(_ g: Int) {
            if g == groups.count {
                if encode(views, order: order) == identity { fixing += 1 }
                return
            }
            for perm in permutations(groups[g]) {
                for (k, x) in perm.enumerated() { order[groups[g][k]] = x }
                visit(g + 1)
            }
            for x in groups[g] { order[x] = x }
        }
        visit(0)
        let stabiliser = freeGroups.values.reduce(1) { $0 * factorial($1) } * fixing
        return factorial(n) / stabiliser
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
