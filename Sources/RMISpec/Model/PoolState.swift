#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The spec's concrete state when every object lives in a fixed pool of consecutive
/// Granules (an explicit search's scope), stored flat: what `SpecState` holds, in arrays
/// indexed by a Granule's position in the pool instead of maps keyed by its address.
///
/// The same commands and properties run on it (it is a `Machine`), and `specState` gives
/// the `SpecState` it stands for. A copy is a few retains and a read an index; a search
/// copies and reads states far more often than it writes them. Granules outside the pool
/// keep their state, GPT entry and content (the Host's data source page); a Realm, REC or
/// RTT outside the pool is a precondition failure, since a search that reached one would
/// have left its scope.
public struct PoolState: Sendable {
    /// What every state of a pool shares: one reference in each copy.
    final class Shape: Sendable {
        let platform: Platform
        let options: SpecOptions
        let base: UInt64
        let count: Int
        /// Each pool Granule's header in the initial state.
        let initialHeaders: [UInt64]
        init(platform: Platform, options: SpecOptions, base: UInt64, count: Int) {
            self.platform = platform; self.options = options; self.base = base; self.count = count
            initialHeaders = (0..<UInt64(count)).map {
                GranuleState.undelegated.rawValue | platform.initialGPT(base + $0 << 12).rawValue << 8
            }
        }
    }

    /// The state itself, in one box: a copy of the state is then two retains (the box and
    /// the shape), a read a load, and a write copies the box only when the state is shared.
    final class Storage: @unchecked Sendable {
        /// `count * stride` slot words, then `pinWords` a slot: where its entries and run
        /// starts are (`pinned`).
        let words: UnsafeMutablePointer<UInt64>
        let size: Int
        // Only mutated through a PoolState that holds the box uniquely.
        @exclusivity(unchecked) var entries: [[SpecState.Entry]]
        /// For each RTT, where its runs of equal entries start (`EntryTableState.forEachRun`),
        /// kept with every write of its entries: the state properties scan each table many
        /// times per state, and found the runs anew each time.
        @exclusivity(unchecked) var runs: [[UInt16]]
        @exclusivity(unchecked) var outside: [(UInt64, UInt64, UInt64)] = []
        @exclusivity(unchecked) var ns = AddrMap<UInt64>()
        /// `rawHash`.
        @exclusivity(unchecked) var raw: (UInt64, UInt64) = (0, 0)
        /// `count * recWords` REC words: apart from the slot words, so that a write that
        /// copies the state for the others (most do) does not copy these (the largest part).
        @exclusivity(unchecked) var recs: [UInt64]
        /// Zero words (`from` nil) or a copy of `from`'s (and of where its arrays are: the
        /// copy holds the same arrays).
        init(size: Int, recs: [UInt64], entries: [[SpecState.Entry]], runs: [[UInt16]], from: UnsafePointer<UInt64>? = nil) {
            self.size = size
            let all = size + PoolState.pinWords * entries.count
            words = .allocate(capacity: all)
            if let from { words.initialize(from: from, count: all) } else { words.initialize(repeating: 0, count: all) }
            self.recs = recs
            self.entries = entries
            self.runs = runs
        }
        deinit { words.deallocate() }
        func copy() -> Storage {
            let c = Storage(size: size, recs: recs, entries: entries, runs: runs, from: words)
            c.outside = outside; c.ns = ns; c.raw = raw
            return c
        }
    }

    let shape: Shape
    private var store: Storage

    public var platform: Platform { shape.platform }
    public var options: SpecOptions { shape.options }
    /// The pool: `count` Granules from `base`.
    public var base: UInt64 { shape.base }
    public var count: Int { shape.count }

    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&store) { store = store.copy() }
        return store
    }

    /// Slot word `k`: `stride` per pool Granule, the header (its state, GPT entry and which
    /// objects it stores), the content, the Realm's fields and the RTT's fields (zero where
    /// the object is not stored). The RECs' words are apart (`recValue`).
    @inline(__always) func word(_ k: Int) -> UInt64 { store.words[k] }
    @inline(__always) mutating func setWord(_ k: Int, _ v: UInt64) {
        let old = store.words[k]
        if old != v {
            let s = unique()
            s.words[k] = v
            PoolState.mix(&s.raw, UInt64(k), old)
            PoolState.mix(&s.raw, UInt64(k), v)
        }
    }

    /// A 128-bit hash of the pool's words (`word`, `recValue`; not of RTT entries, NS memory or
    /// Granules outside the pool), kept up to date by every write: states with the same
    /// words have equal hashes, and two that differ share one with probability about
    /// 2^-128. The XOR of a pseudo-random value for each (position, value) pair that is not
    /// zero, so a write updates it with two of them (Zobrist hashing).
    public var rawHash: (UInt64, UInt64) { store.raw }

    /// `rawHash` worked out from scratch (tests compare it with the kept one).
    public var rawHashAfresh: (UInt64, UInt64) {
        var h: (UInt64, UInt64) = (0, 0)
        for k in 0..<store.size { PoolState.mix(&h, UInt64(k), store.words[k]) }
        for (k, v) in store.recs.enumerated() { PoolState.mix(&h, UInt64(store.size + k), v) }
        return h
    }

    @inline(__always) static func fmix(_ x: UInt64) -> UInt64 {
        var k = x
        k ^= k >> 33; k &*= 0xFF51_AFD7_ED55_8CCD
        k ^= k >> 33; k &*= 0xC4CE_B9FE_1A85_EC53
        k ^= k >> 33
        return k
    }
    /// XORs into `h` what value `v` at position `k` adds (nothing for 0).
    @inline(__always) static func mix(_ h: inout (UInt64, UInt64), _ k: UInt64, _ v: UInt64) {
        if v == 0 { return }
        h.0 ^= fmix(v ^ fmix(k &+ 0x243F_6A88_85A3_08D3))
        h.1 ^= fmix((v << 29 | v >> 35) &+ fmix(k ^ 0x1319_8A2E_0370_7344))
    }
    /// Word `j` of the REC at pool position `i`.
    @inline(__always) func recValue(_ i: Int, _ j: Int) -> UInt64 { store.recs[i * PoolState.recWords + j] }
    @inline(__always) mutating func setRecValue(_ i: Int, _ j: Int, _ v: UInt64) {
        let k = i * PoolState.recWords + j, old = store.recs[k]
        if old != v {
            let s = unique()
            s.recs[k] = v
            PoolState.mix(&s.raw, UInt64(s.size + k), old)
            PoolState.mix(&s.raw, UInt64(s.size + k), v)
        }
    }

    /// Runs `body` on the slot words (`word`) and the REC words (`recValue`).
    public func withWords<R>(_ body: (_ slots: UnsafeBufferPointer<UInt64>, _ recs: UnsafeBufferPointer<UInt64>) -> R) -> R {
        let n = count * PoolState.stride
        return store.recs.withUnsafeBufferPointer { body(UnsafeBufferPointer(start: store.words, count: n), $0) }
    }
    /// The entries of the RTT at pool position `i` (empty where there is no RTT).
    public func entries(slot i: Int) -> [SpecState.Entry] { store.entries[i] }

    /// Where slot `i`'s entries and run starts are, and how many: two words after the slot
    /// words, noted by `pin` at every write of either array. Reading the arrays through
    /// these counts no references: the arrays are shared by the many states that did not
    /// write them, on both workers' threads, where every count kept in them was written by
    /// both cores. (Addresses of the storage of arrays this box holds, not written while it
    /// holds them: a write of an array makes it unique first, and `pin` notes the result.)
    /// A word holds an address (below 2^48) and a count (above): two words a slot keep the
    /// box's words of 6 Granules within one of the allocator's small blocks.
    static let pinWords = 2
    @inline(__always) private func pinned(_ i: Int) -> (UnsafeBufferPointer<SpecState.Entry>, UnsafeBufferPointer<UInt16>) {
        let p = store.words + store.size + PoolState.pinWords * i
        @inline(__always) func unpack<T>(_ w: UInt64) -> UnsafeBufferPointer<T> {
            UnsafeBufferPointer(start: UnsafePointer(bitPattern: UInt(w & (1 << 48 - 1))), count: Int(w >> 48))
        }
        return (unpack(p[0]), unpack(p[1]))
    }
    /// Notes where slot `i`'s arrays are now (after a write of either).
    private mutating func pin(_ i: Int) {
        let s = unique(), p = s.words + s.size + PoolState.pinWords * i
        func pack<T>(_ b: UnsafeBufferPointer<T>) -> UInt64 {
            let a = UInt64(UInt(bitPattern: b.baseAddress))
            precondition(a < 1 << 48 && b.count < 1 << 16, "an array's address or count does not fit a pin")
            return a | UInt64(b.count) << 48
        }
        p[0] = s.entries[i].withUnsafeBufferPointer(pack)
        p[1] = s.runs[i].withUnsafeBufferPointer(pack)
    }
    /// Runs `body` on slot `i`'s entries (none when the slot holds no RTT).
    @inline(__always)
    public func withEntries<R>(slot i: Int, _ body: (UnsafeBufferPointer<SpecState.Entry>) -> R) -> R {
        body(pinned(i).0)
    }
    /// Whether every slot's pinned arrays are its arrays (tests).
    public var pinsAreCurrent: Bool {
        (0..<count).allSatisfy { i in
            let (e, r) = pinned(i)
            func same<T>(_ a: [T], _ p: UnsafeBufferPointer<T>) -> Bool {
                a.withUnsafeBufferPointer { $0.count == p.count && ($0.isEmpty || $0.baseAddress == p.baseAddress) }
            }
            return same(store.entries[i], e) && same(store.runs[i], r)
        }
    }
    var entries: [[SpecState.Entry]] {
        _read { yield store.entries }
        _modify { let s = unique(); yield &s.entries }
    }
    var runs: [[UInt16]] {
        _read { yield store.runs }
        _modify { let s = unique(); yield &s.runs }
    }
    /// Runs `body` on where the runs of equal entries of slot `i`'s RTT start (none when the
    /// slot holds no RTT).
    public func withRunStarts<R>(slot i: Int, _ body: (UnsafeBufferPointer<UInt16>) -> R) -> R {
        body(pinned(i).1)
    }
    /// Finds the runs of slot `i`'s entries again, after a write of them.
    mutating func refreshRuns(_ i: Int) {
        var r: [UInt16] = []
        entries[i].withUnsafeBufferPointer { b in
            _ = PoolState.forEachRun(b, from: 0) { k, _ in r.append(UInt16(k)); return true }
        }
        runs[i] = r
        pin(i)
    }
    /// `refreshRuns(i)` after a write of entry `at` alone: only whether runs start at `at`
    /// and at `at + 1` can have changed.
    mutating func refreshRuns(_ i: Int, around at: Int) {
        let n = Int(Layout.entriesPerRtt)
        let (startsAt, startsAfter) = entries[i].withUnsafeBufferPointer { b in
            (at == 0 || b[at] != b[at - 1], at + 1 < n && b[at + 1] != b[at])
        }
        var r: [UInt16] = []
        r.reserveCapacity(runs[i].count + 2)
        for x in runs[i] {
            let p = Int(x)
            if p == at || p == at + 1 { continue }
            if p > at + 1 && (startsAt || startsAfter) && r.last.map({ Int($0) < at }) ?? true {
                if startsAt { r.append(UInt16(at)) }
                if startsAfter { r.append(UInt16(at + 1)) }
            }
            r.append(x)
        }
        if r.last.map({ Int($0) < at }) ?? true {
            if startsAt { r.append(UInt16(at)) }
            if startsAfter { r.append(UInt16(at + 1)) }
        }
        runs[i] = r
        pin(i)
    }
    /// Whether every RTT's kept runs are those of its entries (tests).
    public var runsAreCurrent: Bool {
        (0..<count).allSatisfy { i in
            var r: [UInt16] = []
            entries[i].withUnsafeBufferPointer { b in
                _ = PoolState.forEachRun(b, from: 0) { k, _ in r.append(UInt16(k)); return true }
            }
            return runs[i] == r
        }
    }
    /// Granules outside the pool that differ from their initial state, in address order:
    /// (address, state | GPT << 8, content).
    var outside: [(UInt64, UInt64, UInt64)] {
        _read { yield store.outside }
        _modify { let s = unique(); yield &s.outside }
    }
    var ns: AddrMap<UInt64> {
        _read { yield store.ns }
        _modify { let s = unique(); yield &s.ns }
    }

    public static let stride = 18
    public static let headerWord = 0, contentWord = 1, realmWords = 2, rttWords = 14
    public static let hasRealm: UInt64 = 1 << 16, hasRec: UInt64 = 1 << 17, hasRtt: UInt64 = 1 << 18
    static let recWords = RecField.all.count

    /// Every Granule UNDELEGATED, no object.
    public init(platform: Platform = .standard, options: SpecOptions = [], base: UInt64, count: Int) {
        shape = Shape(platform: platform, options: options, base: base, count: count)
        store = Storage(size: count * PoolState.stride, recs: [UInt64](repeating: 0, count: count * PoolState.recWords),
                        entries: [[SpecState.Entry]](repeating: [], count: count), runs: [[UInt16]](repeating: [], count: count))
        for i in 0..<count { setWord(i * PoolState.stride, shape.initialHeaders[i]) }
    }

    /// `s` over the pool; every object of `s` must be in it.
    public init(_ s: SpecState, base: UInt64, count: Int) {
        self.init(platform: s.platform, options: s.options, base: base, count: count)
        for (a, g) in s.granules.sorted(by: { $0.key < $1.key }) {
            let w = CWord(a)
            setGranuleState(w, CWord(g.state.rawValue), when: true)
            setGranuleGPT(w, CWord(g.gpt.rawValue), when: true)
            setGranuleContent(w, CWord(g.content), when: true)
        }
        for (a, r) in s.realms { for f in RealmField.allCases { setRealm(CWord(a), f, CWord(r.fields[f.rawValue]), when: true) } }
        for (a, _) in s.recs { for f in RecField.all { setRec(CWord(a), f, s.rec(CWord(a), f), when: true) } }
        for (a, t) in s.rtts {
            for f in RttField.allCases { setRtt(CWord(a), f, s.rtt(CWord(a), f), when: true) }
            let i = slotOrTrap(a, "an RTT")
            entries[i] = t.entries
            refreshRuns(i)
        }
        for (a, v) in s.ns { ns[a] = v }
    }

    /// The `SpecState` this state stands for.
    public var specState: SpecState {
        var s = SpecState(platform: platform, options: options)
        for a in addresses {
            s.setGranuleState(a, granuleState(a), when: true)
            s.setGranuleGPT(a, granuleGPT(a), when: true)
            s.setGranuleContent(a, granuleContent(a), when: true)
        }
        for i in 0..<count {
            let a = CWord(base + UInt64(i) << 12), h = header(i)
            if h & PoolState.hasRealm != 0 { for f in RealmField.allCases { s.setRealm(a, f, realm(a, f), when: true) } }
            if h & PoolState.hasRec != 0 { for f in RecField.all { s.setRec(a, f, rec(a, f), when: true) } }
            if h & PoolState.hasRtt != 0 {
                for f in RttField.allCases { s.setRtt(a, f, rtt(a, f), when: true) }
                s.updateEntries(a, from: 0, to: CWord(Layout.entriesPerRtt), when: true) { i, _ in entry(a, i) }
            }
        }
        for (a, v) in ns { s.nsWrite(CWord(a), CWord(v), when: true) }
        return s
    }

    /// The pool position of `a`, or nil.
    @inline(__always) public func slot(_ a: UInt64) -> Int? {
        guard a >= base, a & 0xFFF == 0 else { return nil }
        let i = (a &- base) >> 12
        return i < UInt64(count) ? Int(i) : nil
    }

    func slotOrTrap(_ a: UInt64, _ what: String) -> Int {
        guard let i = slot(a) else {
            preconditionFailure("PoolState: \(what) at 0x\(String(a, radix: 16)), outside the pool of \(count) Granules from 0x\(String(base, radix: 16))")
        }
        return i
    }

    @inline(__always) func header(_ i: Int) -> UInt64 { word(i * PoolState.stride) }

    /// Whether Granule `a` holds a Realm (a REC, an RTT): the objects `SpecState` stores.
    public func hasRealm(_ a: UInt64) -> Bool { slot(a).map { header($0) & PoolState.hasRealm != 0 } ?? false }
    public func hasRec(_ a: UInt64) -> Bool { slot(a).map { header($0) & PoolState.hasRec != 0 } ?? false }
    public func hasRtt(_ a: UInt64) -> Bool { slot(a).map { header($0) & PoolState.hasRtt != 0 } ?? false }

    /// The (state | GPT << 8, content) of a Granule outside the pool.
    func outsideGranule(_ a: UInt64) -> (UInt64, UInt64) {
        for (k, h, c) in outside where k == a { return (h, c) }
        return (GranuleState.undelegated.rawValue | platform.initialGPT(a).rawValue << 8, 0)
    }

    mutating func setOutside(_ a: UInt64, _ f: (inout UInt64, inout UInt64) -> Void) {
        let (h0, c0) = outsideGranule(a)
        var (h, c) = (h0, c0)
        f(&h, &c)
        if h == h0 && c == c0 { return }
        let isInitial = h == GranuleState.undelegated.rawValue | platform.initialGPT(a).rawValue << 8 && c == 0
        if let k = outside.firstIndex(where: { $0.0 == a }) {
            if isInitial { outside.remove(at: k) } else { outside[k] = (a, h, c) }
        } else if !isInitial {
            outside.append((a, h, c))
            outside.sort { $0.0 < $1.0 }
        }
    }

    /// Whether the Granules (state, GPT entry, content) are the same in the two states.
    public func sameGranules(as o: PoolState) -> Bool {
        if store !== o.store {
            for i in 0..<count {
                let k = i * PoolState.stride
                if word(k) & 0xFFFF != o.word(k) & 0xFFFF || word(k + 1) != o.word(k + 1) { return false }
            }
        }
        return outsideEqual(o)
    }
    func outsideEqual(_ o: PoolState) -> Bool {
        outside.count == o.outside.count && zip(outside, o.outside).allSatisfy { $0 == $1 }
    }
    /// Whether the same Granules hold a Realm, with the same fields, in the two states.
    public func sameRealms(as o: PoolState) -> Bool { sameWords(o, flag: PoolState.hasRealm, PoolState.realmWords, 12) }
    /// Whether the same Granules hold an RTT, with the same fields and entries.
    public func sameRtts(as o: PoolState) -> Bool {
        store === o.store || (sameWords(o, flag: PoolState.hasRtt, PoolState.rttWords, 4) && entries == o.entries)
    }
    /// Whether the same Granules hold a REC, with the same fields.
    public func sameRecs(as o: PoolState) -> Bool {
        if store === o.store { return true }
        for i in 0..<count where header(i) & PoolState.hasRec != o.header(i) & PoolState.hasRec { return false }
        return store.recs == o.store.recs
    }
    func sameWords(_ o: PoolState, flag: UInt64, _ from: Int, _ n: Int) -> Bool {
        if store === o.store { return true }
        for i in 0..<count {
            let k = i * PoolState.stride
            if word(k) & flag != o.word(k) & flag { return false }
            for j in (k + from)..<(k + from + n) where word(j) != o.word(j) { return false }
        }
        return true
    }

    /// Applies one Host write to NS memory (`TraceRunner.apply`).
    public mutating func apply(_ w: HostWrite) { applyHostWrite(w) }
}

extension PoolState: Equatable {
    public static func == (a: PoolState, b: PoolState) -> Bool {
        if a.store === b.store && a.shape === b.shape { return true }
        return a.count == b.count && memcmp(a.store.words, b.store.words, a.store.size * 8) == 0 && a.store.recs == b.store.recs
            && a.entries == b.entries && a.outsideEqual(b) && a.ns == b.ns
            && a.base == b.base && a.count == b.count && a.platform == b.platform && a.options == b.options
    }
}

extension PoolState: Machine {
    public typealias D = Concrete

    @inline(__always)
    public func granuleState(_ a: CWord) -> CWord {
        if let i = slot(a.raw) { return CWord(header(i) & 0xFF) }
        return CWord(outsideGranule(a.raw).0 & 0xFF)
    }
    @inline(__always)
    public func granuleGPT(_ a: CWord) -> CWord {
        if let i = slot(a.raw) { return CWord(header(i) >> 8 & 0xFF) }
        return CWord(outsideGranule(a.raw).0 >> 8 & 0xFF)
    }
    @inline(__always)
    public func granuleContent(_ a: CWord) -> CWord {
        if let i = slot(a.raw) { return CWord(word(i * PoolState.stride + PoolState.contentWord)) }
        return CWord(outsideGranule(a.raw).1)
    }

    public mutating func setGranuleState(_ a: CWord, _ s: CWord, when: CBit) {
        guard when.raw, let new = GranuleState(rawValue: s.raw) else { return }
        guard let i = slot(a.raw) else {
            setOutside(a.raw) { h, _ in h = h & ~0xFF | new.rawValue }
            return
        }
        let k = i * PoolState.stride
        var h = word(k) & ~0xFF | new.rawValue
        // An object lives in its Granule only while the Granule is in the object's state.
        if new != .rd && h & PoolState.hasRealm != 0 {
            h &= ~PoolState.hasRealm
            for j in 0..<12 { setWord(k + PoolState.realmWords + j, 0) }
        }
        if new != .rec && h & PoolState.hasRec != 0 {
            h &= ~PoolState.hasRec
            for j in 0..<PoolState.recWords { setRecValue(i, j, 0) }
        }
        if new != .rtt && h & PoolState.hasRtt != 0 {
            h &= ~PoolState.hasRtt
            for j in 0..<4 { setWord(k + PoolState.rttWords + j, 0) }
            entries[i] = []
            runs[i] = []
            pin(i)
        }
        setWord(k, h)
    }
    public mutating func setGranuleGPT(_ a: CWord, _ g: CWord, when: CBit) {
        guard when.raw, let new = GPT(rawValue: g.raw) else { return }
        guard let i = slot(a.raw) else {
            setOutside(a.raw) { h, _ in h = h & ~0xFF00 | new.rawValue << 8 }
            return
        }
        setWord(i * PoolState.stride, header(i) & ~0xFF00 | new.rawValue << 8)
    }
    public mutating func setGranuleContent(_ a: CWord, _ c: CWord, when: CBit) {
        guard when.raw else { return }
        guard let i = slot(a.raw) else {
            setOutside(a.raw) { _, x in x = c.raw }
            return
        }
        setWord(i * PoolState.stride + PoolState.contentWord, c.raw)
    }

    @inline(__always)
    public func realm(_ rd: CWord, _ f: RealmField) -> CWord {
        guard let i = slot(rd.raw) else { return 0 }
        return CWord(word(i * PoolState.stride + PoolState.realmWords + f.rawValue))
    }
    public mutating func setRealm(_ rd: CWord, _ f: RealmField, _ v: CWord, when: CBit) {
        guard when.raw else { return }
        let k = slotOrTrap(rd.raw, "a Realm") * PoolState.stride
        setWord(k, word(k) | PoolState.hasRealm)
        setWord(k + PoolState.realmWords + f.rawValue, v.raw)
    }

    @inline(__always)
    static func offset(_ f: RecField) -> Int {
        switch f {
        case .owner: return 0
        case .state: return 1
        case .runnable: return 2
        case .mpidr: return 3
        case .pc: return 4
        case .gpr(let i):
            precondition(i >= 0 && i < RecField.gprCount, "REC field gprs[\(i)]")
            return 5 + i
        case .aux(let i):
            precondition(i >= 0 && i < RecField.auxMax, "REC field aux[\(i)]")
            return 5 + RecField.gprCount + i
        case .psciPending: return 52
        case .emulatableAbort: return 53
        case .ripasAddr: return 54
        case .ripasTop: return 55
        case .ripasValue: return 56
        case .ripasDestroyed: return 57
        case .ripasResponse: return 58
        case .hostCallPending: return 59
        case .lastExit: return 60
        case .runPtr: return 61
        }
    }
    @inline(__always)
    public func rec(_ r: CWord, _ f: RecField) -> CWord {
        guard let i = slot(r.raw) else { return 0 }
        return CWord(recValue(i, PoolState.offset(f)))
    }
    public mutating func setRec(_ r: CWord, _ f: RecField, _ v: CWord, when: CBit) {
        guard when.raw else { return }
        let i = slotOrTrap(r.raw, "a REC")
        setWord(i * PoolState.stride, header(i) | PoolState.hasRec)
        setRecValue(i, PoolState.offset(f), v.raw)
    }

    @inline(__always)
    public func rtt(_ t: CWord, _ f: RttField) -> CWord {
        guard let i = slot(t.raw) else { return 0 }
        return CWord(word(i * PoolState.stride + PoolState.rttWords + f.rawValue))
    }
    /// The pool position of RTT `t`, made an RTT (with every entry zero) if it was not one.
    mutating func makeRtt(_ t: UInt64) -> Int {
        let i = slotOrTrap(t, "an RTT"), k = i * PoolState.stride
        if word(k) & PoolState.hasRtt == 0 {
            setWord(k, word(k) | PoolState.hasRtt)
            entries[i] = SpecState.zeroEntries
            runs[i] = [0]
            pin(i)
        }
        return i
    }
    public mutating func setRtt(_ t: CWord, _ f: RttField, _ v: CWord, when: CBit) {
        guard when.raw else { return }
        let i = makeRtt(t.raw)
        setWord(i * PoolState.stride + PoolState.rttWords + f.rawValue, v.raw)
    }

    @inline(__always)
    public func withEntries<R>(_ t: CWord, _ body: (UnsafeBufferPointer<SpecState.Entry>) -> R) -> R {
        if let i = slot(t.raw), header(i) & PoolState.hasRtt != 0 { return body(pinned(i).0) }
        return SpecState.zeroEntries.withUnsafeBufferPointer(body)
    }

    @inline(__always)
    public func entry(_ t: CWord, _ i: CWord) -> RttEntry<Concrete> {
        guard i.raw < Layout.entriesPerRtt else { return SpecState.word(.zero) }
        return withEntries(t) { SpecState.word($0[Int(i.raw)]) }
    }
    public mutating func setEntry(_ t: CWord, _ i: CWord, _ e: RttEntry<Concrete>, when: CBit) {
        guard when.raw, i.raw < Layout.entriesPerRtt else { return }
        let k = makeRtt(t.raw)
        let at = Int(i.raw)
        entries[k][at] = SpecState.stored(e)
        refreshRuns(k, around: at)
    }
    public mutating func updateEntries(_ t: CWord, from: CWord, to: CWord, when: CBit,
                                       _ f: (CWord, RttEntry<Concrete>) -> RttEntry<Concrete>) {
        guard when.raw else { return }
        let lo = min(from.raw, Layout.entriesPerRtt), hi = min(to.raw, Layout.entriesPerRtt)
        guard lo < hi else { return }
        let k = makeRtt(t.raw)
        entries[k].withUnsafeMutableBufferPointer { SpecState.update($0, Int(lo)..<Int(hi), f) }
        refreshRuns(k)
    }

    /// `Machine.allEntriesOnIntervals`: `p` at the ends of each run of equal entries.
    @inline(__always)
    public func allEntriesOnIntervals(_ t: CWord, _ p: (CWord, RttEntry<Concrete>) -> CBit) -> CBit {
        CBit(forEachRun(t, from: 0) { b, k, end in
            let e = SpecState.word(b[k])
            return p(CWord(UInt64(k)), e).raw && (end - 1 == k || p(CWord(UInt64(end - 1)), e).raw)
        })
    }

    /// `EntryTableState.forEachRun` from the kept runs.
    @inline(__always)
    public func forEachRun(_ t: CWord, from start: Int, _ body: (UnsafeBufferPointer<SpecState.Entry>, Int, Int) -> Bool) -> Bool {
        guard let i = slot(t.raw), header(i) & PoolState.hasRtt != 0 else {
            return SpecState.zeroEntries.withUnsafeBufferPointer { b in start >= b.count || body(b, start, b.count) }
        }
        let (b, r) = pinned(i)
        let n = b.count
        var j = 0
        while j + 1 < r.count && Int(r[j + 1]) <= start { j += 1 }
        var k = start
        while k < n {
            let end = j + 1 < r.count ? Int(r[j + 1]) : n
            if !body(b, k, end) { return false }
            k = end
            j += 1
        }
        return true
    }
    /// Whether the Granule at pool position `i` differs from its initial state.
    @inline(__always) func isStored(_ i: Int) -> Bool {
        let k = i * PoolState.stride
        return word(k) & 0xFFFF != shape.initialHeaders[i] || word(k + PoolState.contentWord) != 0
    }

    /// The Granules that differ from their initial state, in address order.
    public var addresses: [CWord] {
        // The pool's in order, merged with those outside it (kept in address order).
        var a: [CWord] = []
        a.reserveCapacity(count + outside.count)
        var o = 0
        for i in 0..<count where isStored(i) {
            let x = base + UInt64(i) << 12
            while o < outside.count && outside[o].0 < x { a.append(CWord(outside[o].0)); o += 1 }
            a.append(CWord(x))
        }
        while o < outside.count { a.append(CWord(outside[o].0)); o += 1 }
        return a
    }
    public func stepAddresses(since pre: PoolState) -> [CWord] {
        var a = addresses
        for i in 0..<count where !isStored(i) && pre.isStored(i) { a.append(CWord(base + UInt64(i) << 12)) }
        for (k, _, _) in pre.outside where !outside.contains(where: { $0.0 == k }) { a.append(CWord(k)) }
        return a
    }

    /// The level at which the walk of `ipa` in Realm `rd` stops (looking down to level 3).
    /// (A method of the concrete type, so that the walk is specialised here: called from
    /// another module through a protocol extension, it ran unspecialised.)
    public func walkLevel(_ rd: UInt64, _ ipa: UInt64) -> Int64 {
        Int64(bitPattern: walk(CWord(rd), CWord(ipa), to: 3).level.raw)
    }

    public func existsRealm(where p: (CWord) -> CBit) -> CBit {
        for i in 0..<count where header(i) & PoolState.hasRealm != 0 && p(CWord(base + UInt64(i) << 12)).raw { return true }
        return false
    }
    public func existsRec(where p: (CWord) -> CBit) -> CBit {
        for i in 0..<count where header(i) & PoolState.hasRec != 0 && p(CWord(base + UInt64(i) << 12)).raw { return true }
        return false
    }

    public func nsRead(_ a: CWord) -> CWord { CWord(ns.withValue(a.raw) { $0 } ?? 0) }
    public mutating func nsWrite(_ a: CWord, _ v: CWord, when: CBit) {
        // The Host writes whole blocks, mostly the words they already hold: those change
        // nothing, and are not writes that would copy a shared state.
        guard when.raw, nsRead(a).raw != v.raw else { return }
        ns[a.raw] = v.raw == 0 ? nil : v.raw
    }
}
