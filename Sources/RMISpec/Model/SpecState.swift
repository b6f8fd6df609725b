#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The abstract state of section 3 of the reference, on real 64-bit addresses.
///
/// Only Granules that differ from their initial state are stored, so a state is small and
/// two states are equal exactly when they agree on every Granule.
public struct SpecState: Hashable, Sendable {
    public struct Granule: Hashable, Sendable {
        public var state: GranuleState
        public var gpt: GPT
        public var content: UInt64
    }

    public struct Realm: Hashable, Sendable {
        public var fields = [UInt64](repeating: 0, count: RealmField.allCases.count)
    }

    public struct Rec: Hashable, Sendable {
        public var owner: UInt64 = 0, state: UInt64 = 0, runnable: UInt64 = 0, mpidr: UInt64 = 0, pc: UInt64 = 0
        public var gprs = [UInt64](repeating: 0, count: RecField.gprCount)
        public var aux = [UInt64](repeating: 0, count: RecField.auxMax)
        public var psciPending: UInt64 = 0, emulatableAbort: UInt64 = 0
        public var ripasAddr: UInt64 = 0, ripasTop: UInt64 = 0, ripasValue: UInt64 = 0
        public var ripasDestroyed: UInt64 = 0, ripasResponse: UInt64 = 0
        public var hostCallPending: UInt64 = 0, lastExit: UInt64 = 0, runPtr: UInt64 = 0

        subscript(f: RecField) -> UInt64 {
            get {
                switch f {
                case .owner: owner
                case .state: state
                case .runnable: runnable
                case .mpidr: mpidr
                case .pc: pc
                case .gpr(let i): gprs[i]
                case .aux(let i): aux[i]
                case .psciPending: psciPending
                case .emulatableAbort: emulatableAbort
                case .ripasAddr: ripasAddr
                case .ripasTop: ripasTop
                case .ripasValue: ripasValue
                case .ripasDestroyed: ripasDestroyed
                case .ripasResponse: ripasResponse
                case .hostCallPending: hostCallPending
                case .lastExit: lastExit
                case .runPtr: runPtr
                }
            }
            set {
                switch f {
                case .owner: owner = newValue
                case .state: state = newValue
                case .runnable: runnable = newValue
                case .mpidr: mpidr = newValue
                case .pc: pc = newValue
                case .gpr(let i): gprs[i] = newValue
                case .aux(let i): aux[i] = newValue
                case .psciPending: psciPending = newValue
                case .emulatableAbort: emulatableAbort = newValue
                case .ripasAddr: ripasAddr = newValue
                case .ripasTop: ripasTop = newValue
                case .ripasValue: ripasValue = newValue
                case .ripasDestroyed: ripasDestroyed = newValue
                case .ripasResponse: ripasResponse = newValue
                case .hostCallPending: hostCallPending = newValue
                case .lastExit: lastExit = newValue
                case .runPtr: runPtr = newValue
                }
            }
        }
    }

    /// One RTT entry, stored compactly.
    public struct Entry: Hashable, Sendable {
        public var state: UInt8
        public var ripas: UInt8
        public var attrs: UInt8
        public var addr: UInt64
        public static let zero = Entry(state: 0, ripas: 0, attrs: 0, addr: 0)
        public var entryState: RttEntryState { RttEntryState(rawValue: UInt64(state)) ?? .unassigned }
        public var ripasValue: Ripas { Ripas(rawValue: UInt64(ripas)) ?? .empty }
    }

    public struct Rtt: Hashable, Sendable {
        public var level: UInt64 = 0, owner: UInt64 = 0, ipaBase: UInt64 = 0
        /// See `RttField.leaked`.
        public var leaked: UInt64 = 0
        public var entries = [Entry](repeating: .zero, count: Int(Layout.entriesPerRtt))
    }

    public let platform: Platform
    public let options: SpecOptions

    /// The five maps, in one box: a copy of the state (every step result holds one) is
    /// then one retain, and a write copies the box only when the state is shared.
    final class Maps: @unchecked Sendable {
        // Only mutated through a SpecState that holds the box uniquely.
        @exclusivity(unchecked) var granules = AddrMap<Granule>()
        @exclusivity(unchecked) var realms = AddrMap<Realm>()
        @exclusivity(unchecked) var recs = AddrMap<Rec>()
        @exclusivity(unchecked) var rtts = AddrMap<Rtt>()
        @exclusivity(unchecked) var ns = AddrMap<UInt64>()
        init() {}
        func copy() -> Maps {
            let m = Maps()
            m.granules = granules; m.realms = realms; m.recs = recs; m.rtts = rtts; m.ns = ns
            return m
        }
    }
    private var maps = Maps()

    private mutating func uniqueMaps() -> Maps {
        if !isKnownUniquelyReferenced(&maps) { maps = maps.copy() }
        return maps
    }

    public private(set) var granules: AddrMap<Granule> {
        _read { yield maps.granules }
        _modify { let m = uniqueMaps(); yield &m.granules }
    }
    public private(set) var realms: AddrMap<Realm> {
        _read { yield maps.realms }
        _modify { let m = uniqueMaps(); yield &m.realms }
    }
    public private(set) var recs: AddrMap<Rec> {
        _read { yield maps.recs }
        _modify { let m = uniqueMaps(); yield &m.recs }
    }
    public private(set) var rtts: AddrMap<Rtt> {
        _read { yield maps.rtts }
        _modify { let m = uniqueMaps(); yield &m.rtts }
    }
    public private(set) var ns: AddrMap<UInt64> {
        _read { yield maps.ns }
        _modify { let m = uniqueMaps(); yield &m.ns }
    }

    public static func == (a: SpecState, b: SpecState) -> Bool {
        a.platform == b.platform && a.options == b.options
            && (a.maps === b.maps || (a.granules == b.granules && a.realms == b.realms && a.recs == b.recs
                                      && a.rtts == b.rtts && a.ns == b.ns))
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(platform); hasher.combine(options)
        hasher.combine(granules); hasher.combine(realms); hasher.combine(recs); hasher.combine(rtts); hasher.combine(ns)
    }

    /// All Granules UNDELEGATED, no Realm.
    public init(platform: Platform = .standard, options: SpecOptions = []) {
        self.platform = platform
        self.options = options
    }

    /// The same state read under other options (a deliberately weakened spec, say).
    public func with(options o: SpecOptions) -> SpecState {
        var s = SpecState(platform: platform, options: o)
        s.granules = granules; s.realms = realms; s.recs = recs; s.rtts = rtts; s.ns = ns
        return s
    }

    /// The same state with every RTT's ghost `leaked` mark at 0: what a weakened state
    /// shows through the commands of the spec without that weakening, which ignore the mark.
    public func forgettingLeaks() -> SpecState {
        var s = self
        for (a, t) in rtts where t.leaked != 0 { s.setRtt(CWord(a), .leaked, 0, when: true) }
        return s
    }

    public func granule(_ a: UInt64) -> Granule {
        granules.withValue(a) { $0 } ?? Granule(state: .undelegated, gpt: platform.initialGPT(a), content: 0)
    }

    private mutating func updateGranule(_ a: UInt64, _ f: (inout Granule) -> Void) {
        var g = granule(a)
        f(&g)
        if g.state == .undelegated && g.gpt == platform.initialGPT(a) && g.content == 0 {
            granules[a] = nil
        } else {
            granules[a] = g
        }
    }

    /// The Granules that are not UNDELEGATED, in address order.
    public var delegatedGranules: [(UInt64, Granule)] {
        granules.filter { $0.value.state != .undelegated }.sorted { $0.key < $1.key }
    }
}

extension SpecState: CustomStringConvertible {
    /// A one-line summary; `diff` and the ITF export give the detail.
    public var description: String {
        let counts = Dictionary(grouping: granules.values, by: \.state).mapValues(\.count)
        let parts = GranuleState.allCases.compactMap { st in counts[st].map { "\($0) \(st.specName)" } }
        return "SpecState(\(parts.isEmpty ? "all UNDELEGATED" : parts.joined(separator: ", ")), \(realms.count) realm(s), \(recs.count) rec(s), \(rtts.count) rtt(s))"
    }
}

extension SpecState: Machine {
    public typealias D = Concrete

    // A Granule that is not stored is UNDELEGATED with content 0 (`granule`): those two
    // reads need not work out its initial GPT entry.
    public func granuleState(_ a: CWord) -> CWord {
        CWord(granules.withValue(a.raw) { $0.state.rawValue } ?? GranuleState.undelegated.rawValue)
    }
    public func granuleGPT(_ a: CWord) -> CWord { CWord(granule(a.raw).gpt.rawValue) }
    public func granuleContent(_ a: CWord) -> CWord { CWord(granules.withValue(a.raw) { $0.content } ?? 0) }

    public mutating func setGranuleState(_ a: CWord, _ s: CWord, when: CBit) {
        guard when.raw, let new = GranuleState(rawValue: s.raw) else { return }
        updateGranule(a.raw) { $0.state = new }
        // An object lives in its Granule only while the Granule is in the object's state.
        // (Looked up first: removing writes, which is dearer, and there is mostly nothing.)
        if new != .rd, realms.contains(a.raw) { realms[a.raw] = nil }
        if new != .rec, recs.contains(a.raw) { recs[a.raw] = nil }
        if new != .rtt, rtts.contains(a.raw) { rtts[a.raw] = nil }
    }
    public mutating func setGranuleGPT(_ a: CWord, _ g: CWord, when: CBit) {
        guard when.raw, let new = GPT(rawValue: g.raw) else { return }
        updateGranule(a.raw) { $0.gpt = new }
    }
    public mutating func setGranuleContent(_ a: CWord, _ c: CWord, when: CBit) {
        guard when.raw else { return }
        updateGranule(a.raw) { $0.content = c.raw }
    }

    public func realm(_ rd: CWord, _ f: RealmField) -> CWord { CWord(realms.withValue(rd.raw) { $0.fields[f.rawValue] } ?? 0) }
    public mutating func setRealm(_ rd: CWord, _ f: RealmField, _ v: CWord, when: CBit) {
        guard when.raw else { return }
        realms[rd.raw, default: Realm()].fields[f.rawValue] = v.raw
    }
    public func rec(_ r: CWord, _ f: RecField) -> CWord { CWord(recs.withValue(r.raw) { $0[f] } ?? 0) }
    public mutating func setRec(_ r: CWord, _ f: RecField, _ v: CWord, when: CBit) {
        guard when.raw else { return }
        recs[r.raw, default: Rec()][f] = v.raw
    }
    public func rtt(_ t: CWord, _ f: RttField) -> CWord {
        CWord(rtts.withValue(t.raw) { r in
            switch f {
            case .level: r.level
            case .owner: r.owner
            case .ipaBase: r.ipaBase
            case .leaked: r.leaked
            }
        } ?? 0)
    }
    public mutating func setRtt(_ t: CWord, _ f: RttField, _ v: CWord, when: CBit) {
        guard when.raw else { return }
        switch f {
        case .level: rtts[t.raw, default: Rtt()].level = v.raw
        case .owner: rtts[t.raw, default: Rtt()].owner = v.raw
        case .ipaBase: rtts[t.raw, default: Rtt()].ipaBase = v.raw
        case .leaked: rtts[t.raw, default: Rtt()].leaked = v.raw
        }
    }

    static func word(_ e: Entry) -> RttEntry<Concrete> {
        RttEntry(state: CWord(UInt64(e.state)), ripas: CWord(UInt64(e.ripas)), addr: CWord(e.addr), attrs: CWord(UInt64(e.attrs)))
    }
    static func stored(_ e: RttEntry<Concrete>) -> Entry {
        Entry(state: UInt8(truncatingIfNeeded: e.state.raw), ripas: UInt8(truncatingIfNeeded: e.ripas.raw),
              attrs: UInt8(truncatingIfNeeded: e.attrs.raw), addr: e.addr.raw)
    }

    public func entry(_ t: CWord, _ i: CWord) -> RttEntry<Concrete> {
        guard i.raw < Layout.entriesPerRtt else { return SpecState.word(.zero) }
        return SpecState.word(rtts.withValue(t.raw) { $0.entries[Int(i.raw)] } ?? .zero)
    }
    public mutating func setEntry(_ t: CWord, _ i: CWord, _ e: RttEntry<Concrete>, when: CBit) {
        guard when.raw, i.raw < Layout.entriesPerRtt else { return }
        rtts[t.raw, default: Rtt()].entries[Int(i.raw)] = SpecState.stored(e)
    }
    public mutating func updateEntries(_ t: CWord, from: CWord, to: CWord, when: CBit,
                                       _ f: (CWord, RttEntry<Concrete>) -> RttEntry<Concrete>) {
        guard when.raw else { return }
        let lo = min(from.raw, Layout.entriesPerRtt), hi = min(to.raw, Layout.entriesPerRtt)
        guard lo < hi else { return }
        // In place: a copy of the table would make the write copy its 512 entries.
        rtts[t.raw, default: Rtt()].entries.withUnsafeMutableBufferPointer { SpecState.update($0, Int(lo)..<Int(hi), f) }
    }

    @inline(__always)
    public func withEntries<R>(_ t: CWord, _ body: (UnsafeBufferPointer<Entry>) -> R) -> R {
        rtts.withValue(t.raw) { $0.entries.withUnsafeBufferPointer(body) }
            ?? SpecState.zeroEntries.withUnsafeBufferPointer(body)
    }
    static let zeroEntries = [Entry](repeating: .zero, count: Int(Layout.entriesPerRtt))

    // The update of a table's storage, for `SpecState` and `PoolState`.
    @inline(__always)
    static func update(_ b: UnsafeMutableBufferPointer<Entry>, _ r: Range<Int>, _ f: (CWord, RttEntry<Concrete>) -> RttEntry<Concrete>) {
        for i in r { b[i] = stored(f(CWord(UInt64(i)), word(b[i]))) }
    }
    /// The Granules that differ from their initial state, in address order. (One array,
    /// sorted in place: properties ask for it once or twice per state and step.)
    public var addresses: [CWord] {
        var a: [CWord] = []
        a.reserveCapacity(granules.count)
        for (k, _) in granules { a.append(CWord(k)) }
        a.sort { $0.raw < $1.raw }
        return a
    }

    /// Each address of the two states once, in no particular order (the step properties'
    /// quantifiers give the same answer whatever the order and however often an address comes).
    public func stepAddresses(since pre: SpecState) -> [CWord] {
        var a: [CWord] = []
        a.reserveCapacity(granules.count + pre.granules.count)
        for (k, _) in granules { a.append(CWord(k)) }
        for (k, _) in pre.granules where !granules.contains(k) { a.append(CWord(k)) }
        return a
    }

    public func existsRealm(where p: (CWord) -> CBit) -> CBit {
        CBit(realms.contains { p(CWord($0.key)).raw })
    }
    public func existsRec(where p: (CWord) -> CBit) -> CBit {
        CBit(recs.contains { p(CWord($0.key)).raw })
    }

    public func nsRead(_ a: CWord) -> CWord { CWord(ns.withValue(a.raw) { $0 } ?? 0) }
    public mutating func nsWrite(_ a: CWord, _ v: CWord, when: CBit) {
        guard when.raw else { return }
        ns[a.raw] = v.raw == 0 ? nil : v.raw
    }
}

extension SpecState.Entry {
    /// Whether the `count` entries from `a` and from `b` are the same bytes (padding
    /// included, which may differ between equal entries): true implies they are equal
    /// entries; false says nothing. A fast first pass over runs of entries that are mostly
    /// equal: the C library's `memcmp` uses the widest vector instructions the machine has.
    @inlinable
    public static func sameBytes(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, count: Int) -> Bool {
        memcmp(a, b, count * MemoryLayout<Self>.stride) == 0
    }
}
