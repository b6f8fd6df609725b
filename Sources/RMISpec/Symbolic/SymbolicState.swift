import SMT

/// The symbolic state: the abstract state of `SpecState`, restricted to a `Scope`, as Z3
/// terms. Every RMI command runs on it unchanged through the `Machine` interface.
///
/// Encoding (scalar, quantifier-free, QF_BV-friendly — z3-notes §8):
/// * **Granule slots.** Slot `i` is the Granule at `Scope.slotAddress(i)`. Per slot: state
///   and GPT as 3-bit vectors, content as 64 bits, and the objects a Granule can hold — Realm
///   (all `RealmField`s), REC (all `RecField`s: 31 GPRs and 16 aux), RTT (ghost fields, the
///   tracked entries, the rest summary) — each with a Bool "present" bit. Present mirrors
///   `SpecState`'s dictionaries: a field write creates the object, a Granule-state change to
///   another state deletes it. Invariant: an absent object's fields are all 0 (`fresh`
///   normalises, every write keeps it), so reads need no guard.
/// * **Addresses that are not slots** read as `SpecState` reads a Granule it does not store:
///   UNDELEGATED, the platform's initial GPT, content 0, no objects. Writes there are
///   ignored; one that `SpecState` would record (a changed Granule, any object field) sets
///   the sticky `outOfScope` flag.
/// * **RTT entries.** Indices `0..<scope.entries` are tracked one by one (8-bit state, RIPAS
///   and attributes — `SpecState` stores these as UInt8 — and a 64-bit address). The other
///   indices share a *rest summary*: uniform state, RIPAS and attributes and the address
///   `base + i * stride`, the stride 0 or an RTT level size (`restStrides`: REALM_CREATE's
///   zero addresses, a block split into pages). The stride is a 3-bit code, so an address
///   read is a multiplexer of constant shifts, not a 64-bit multiplier (which made a
///   DATA_CREATE query from an unconstrained state 3x slower). The summary stays exact: an
///   entry-range update that would make the rest non-uniform, or a single-entry write at an
///   untracked index that breaks the pattern, sets `outOfScope`; predicates over the rest
///   (`firstEntry`, `allEntries`) are evaluated once when their result provably does not
///   depend on the index, else at every untracked index (see `EntryRanges.swift`). The rest
///   is never TABLE or ASSIGNED (`restEntryStates`), so predicates about those entries, the
///   ones that read addresses, fold to one value for the whole rest.
/// * **existsRealm / existsRec** iterate the slots guarded by the present bits — what
///   `SpecState` iterates (its dictionaries' keys). Every command writes an object's fields
///   together with the Granule-state change, so present ⇔ Granule state RD / REC in the
///   states the spec reaches; the bits keep the encoding exact even for states where not.
/// * **NS memory**: see `NSMemory`.
/// * **Bounds.** More Realms or RECs than the scope allows is out of scope too;
///   `RMISpec.symbolicStep` folds that into `outOfScope` after each step.
///
/// Engines should assert `!outOfScope` on every state of a run they report: a run that
/// leaves the scope is not a run of `SpecState`.
public struct SymbolicState: Machine {
    public typealias D = Symbolic

    /// One RTT entry as stored.
    public struct StoredEntry {
        /// 8-bit state, RIPAS and attributes; 64-bit address.
        public var state: Term, ripas: Term, attrs: Term, addr: Term
    }

    /// The untracked entries `scope.entries..<512` of one RTT: 8-bit state, RIPAS and
    /// attributes shared by all of them, and entry `i`'s address
    /// `base + i * restStrides[strideCode]` (`strideCode`: 3 bits, valid values 0...5).
    public struct RestSummary {
        public var state: Term, ripas: Term, attrs: Term, base: Term, strideCode: Term
    }

    /// The address strides a rest summary can have: 0 and `RttLevelSize(level)` for levels
    /// 3, 2, 1, 0, -1. A state whose untracked entries step by anything else does not fit.
    public static let restStrides: [UInt64] = [0, 1 << 12, 1 << 21, 1 << 30, 1 << 39, 1 << 48]
    static let strideCodeWidth = 3

    /// One Granule slot and the objects it can hold.
    public struct GranuleSlot {
        public let address: UInt64
        /// `GranuleState` (3 bits) and `GPT` (3 bits); 64-bit content digest.
        public var state: Term, gpt: Term, content: Term
        public var realmPresent: Term
        /// Indexed by `RealmField.rawValue`.
        public var realm: [Term]
        public var recPresent: Term
        /// Indexed by `SymbolicState.recIndex(_:)`.
        public var rec: [Term]
        public var rttPresent: Term
        /// Indexed by `RttField.rawValue`.
        public var rtt: [Term]
        public var entries: [StoredEntry]
        public var rest: RestSummary
    }

    public let scope: Scope
    public let options: SpecOptions
    public let platform: Platform
    public internal(set) var slots: [GranuleSlot]
    public internal(set) var ns: NSMemory
    /// Sticky: the run did something the scope cannot represent (see the type's notes).
    public internal(set) var outOfScope: Term
    /// Keeps the context's literal table alive while the state is (see `Symbolic`).
    let env: SymbolicEnv

    static let stateWidth = 3, gptWidth = 3, entryFieldWidth = 8
    static let realmFieldCount = RealmField.allCases.count
    static let recFieldCount = 5 + RecField.gprCount + RecField.auxMax + 10

    /// The position of a REC field in `GranuleSlot.rec`.
    public static func recIndex(_ f: RecField) -> Int {
        switch f {
        case .owner: 0
        case .state: 1
        case .runnable: 2
        case .mpidr: 3
        case .pc: 4
        case .gpr(let i):
            { precondition(i >= 0 && i < RecField.gprCount, "RecField.gpr(\(i)) out of range"); return 5 + i }()
        case .aux(let i):
            { precondition(i >= 0 && i < RecField.auxMax, "RecField.aux(\(i)) out of range"); return 5 + RecField.gprCount + i }()
        case .psciPending: 52
        case .emulatableAbort: 53
        case .ripasAddr: 54
        case .ripasTop: 55
        case .ripasValue: 56
        case .ripasDestroyed: 57
        case .ripasResponse: 58
        case .hostCallPending: 59
        case .lastExit: 60
        case .runPtr: 61
        }
    }

    /// Every `RecField`, in `recIndex` order.
    public static let allRecFields: [RecField] = {
        var f: [RecField] = [.owner, .state, .runnable, .mpidr, .pc]
        f += (0..<RecField.gprCount).map { .gpr($0) }
        f += (0..<RecField.auxMax).map { .aux($0) }
        f += [.psciPending, .emulatableAbort, .ripasAddr, .ripasTop, .ripasValue, .ripasDestroyed,
              .ripasResponse, .hostCallPending, .lastExit, .runPtr]
        precondition(f.count == recFieldCount && f.enumerated().allSatisfy { recIndex($0.element) == $0.offset })
        return f
    }()

    init(scope: Scope, options: SpecOptions, slots: [GranuleSlot], ns: NSMemory, env: SymbolicEnv) {
        self.scope = scope
        self.options = options
        self.platform = scope.platform
        self.slots = slots
        self.ns = ns
        self.outOfScope = env.fls
        self.env = env
    }

    init(copying s: SymbolicState, options: SpecOptions) {
        scope = s.scope
        self.options = options
        platform = s.platform
        slots = s.slots
        ns = s.ns
        outOfScope = s.outOfScope
        env = s.env
    }

    // MARK: term helpers

    typealias S = Symbolic
    var tracked: Int { scope.entries }
    var hasRest: Bool { UInt64(scope.entries) < Layout.entriesPerRtt }
    func lit(_ v: UInt64) -> Term { env.lit(v) }
    func lit8(_ v: UInt64) -> Term { env.lit(v, width: Self.entryFieldWidth) }
    func isKnownFalse(_ b: Term) -> Bool { S.known(b) == false }

    mutating func flag(_ b: Term) { outOfScope = S.or(outOfScope, b) }

    /// The slots address `a` may name, each with the condition that it does.
    func matches(_ a: Term) -> [(Int, Term)] {
        if env.fold, let x = env.value(a) {
            return scope.slot(at: x).map { [($0, env.tru)] } ?? []
        }
        return slots.indices.map { ($0, S.eq(a, lit(slots[$0].address))) }
    }

    /// Whether `a` is a slot address.
    func isSlot(_ a: Term) -> Term {
        if env.fold, let x = env.value(a) { return S.constant(scope.slot(at: x) != nil) }
        let off = S.sub(a, lit(Scope.slotBase))
        return S.and(S.ult(off, lit(UInt64(scope.granules) * Layout.granuleSize)),
                     S.eq(S.and(a, lit(Layout.granuleSize - 1)), lit(0)))
    }

    /// The value `f(slot)` of the slot at `a`, or `d` when `a` is no slot.
    func select(_ a: Term, default d: Term, _ f: (GranuleSlot) -> Term) -> Term {
        var r = d
        for (i, g) in matches(a).reversed() { r = S.ite(g, f(slots[i]), r) }
        return r
    }

    /// `PlatformInitialGPT(a)`.
    func initialGPT(_ a: Term) -> Term { platform.initialGPT(symbolic: a) }

    func zeroStored() -> StoredEntry {
        StoredEntry(state: lit8(0), ripas: lit8(0), attrs: lit8(0), addr: lit(0))
    }
    func zeroRest() -> RestSummary {
        RestSummary(state: lit8(0), ripas: lit8(0), attrs: lit8(0), base: lit(0), strideCode: strideCode(0))
    }
    func word(_ e: StoredEntry) -> RttEntry<Symbolic> {
        let w = Self.entryFieldWidth
        return RttEntry(state: SWord(raw: env.zext(e.state, w)), ripas: SWord(raw: env.zext(e.ripas, w)),
                        addr: SWord(raw: e.addr), attrs: SWord(raw: env.zext(e.attrs, w)))
    }
    /// What `SpecState` stores for an entry: the low 8 bits of state, RIPAS and attributes.
    func stored(_ e: RttEntry<Symbolic>) -> StoredEntry {
        let w = Self.entryFieldWidth
        return StoredEntry(state: env.low(e.state.raw, w), ripas: env.low(e.ripas.raw, w),
                           attrs: env.low(e.attrs.raw, w), addr: e.addr.raw)
    }
    func select(_ c: Term, _ a: StoredEntry, _ b: StoredEntry) -> StoredEntry {
        StoredEntry(state: S.ite(c, a.state, b.state), ripas: S.ite(c, a.ripas, b.ripas),
                    attrs: S.ite(c, a.attrs, b.attrs), addr: S.ite(c, a.addr, b.addr))
    }
    func equal(_ a: StoredEntry, _ b: StoredEntry) -> Term {
        S.and(S.and(env.eqAny(a.state, b.state), env.eqAny(a.ripas, b.ripas)),
              S.and(env.eqAny(a.attrs, b.attrs), S.eq(a.addr, b.addr)))
    }
    /// Untracked entry `i` (only meaningful for `tracked <= i < 512`).
    func restStored(_ r: RestSummary, _ i: Term) -> StoredEntry {
        // `i & 511` is `i` on the range: `i * stride` is `(i & 511) << log2(stride)`.
        let i9 = S.and(i, lit(Layout.entriesPerRtt - 1))
        var offset = lit(0)
        if env.fold, let code = env.value(r.strideCode) {
            if code > 0 && Int(code) < Self.restStrides.count {
                offset = S.shl(i9, lit(UInt64(Self.restStrides[Int(code)].trailingZeroBitCount)))
            }
        } else {
            for code in (1..<Self.restStrides.count).reversed() {
                let shifted = S.shl(i9, lit(UInt64(Self.restStrides[code].trailingZeroBitCount)))
                offset = S.ite(env.eqAny(r.strideCode, strideCode(code)), shifted, offset)
            }
        }
        return StoredEntry(state: r.state, ripas: r.ripas, attrs: r.attrs, addr: S.add(r.base, offset))
    }
    func strideCode(_ k: Int) -> Term { env.lit(UInt64(k), width: Self.strideCodeWidth) }
    /// The code of a 64-bit stride term, and whether it is one of `restStrides`.
    func strideCode(of stride: Term) -> (code: Term, valid: Term) {
        var code = strideCode(0), valid = S.eq(stride, lit(0))
        for k in (1..<Self.restStrides.count).reversed() {
            let hit = S.eq(stride, lit(Self.restStrides[k]))
            code = S.ite(hit, strideCode(k), code)
            valid = S.or(valid, hit)
        }
        return (code, valid)
    }

    // MARK: object deletion (a Granule leaving RD / REC / RTT)

    mutating func clearRealm(_ i: Int, _ c: Term) {
        if isKnownFalse(c) { return }
        slots[i].realmPresent = S.and(slots[i].realmPresent, S.not(c))
        slots[i].realm = slots[i].realm.map { S.ite(c, lit(0), $0) }
    }
    mutating func clearRec(_ i: Int, _ c: Term) {
        if isKnownFalse(c) { return }
        slots[i].recPresent = S.and(slots[i].recPresent, S.not(c))
        slots[i].rec = slots[i].rec.map { S.ite(c, lit(0), $0) }
    }
    mutating func clearRtt(_ i: Int, _ c: Term) {
        if isKnownFalse(c) { return }
        slots[i].rttPresent = S.and(slots[i].rttPresent, S.not(c))
        slots[i].rtt = slots[i].rtt.map { S.ite(c, lit(0), $0) }
        let z = zeroStored()
        slots[i].entries = slots[i].entries.map { select(c, z, $0) }
        let r = slots[i].rest, zr = zeroRest()
        slots[i].rest = RestSummary(state: S.ite(c, zr.state, r.state), ripas: S.ite(c, zr.ripas, r.ripas),
                                    attrs: S.ite(c, zr.attrs, r.attrs), base: S.ite(c, zr.base, r.base),
                                    strideCode: S.ite(c, zr.strideCode, r.strideCode))
    }

    // MARK: bounds

    /// Whether more Realms or RECs are present than the scope allows.
    public var boundsExceeded: Term {
        func count(_ bits: [Term]) -> Term {
            bits.reduce(lit(0)) { S.add($0, S.ite($1, lit(1), lit(0))) }
        }
        return S.or(S.ult(lit(UInt64(scope.realms)), count(slots.map(\.realmPresent))),
                    S.ult(lit(UInt64(scope.recs)), count(slots.map(\.recPresent))))
    }

    /// Havoc of NS memory: the Host may write anything there between two calls. The new
    /// contents are unconstrained (fresh constants named `prefix.nsK`).
    public mutating func havocNS(prefix: String) {
        ns = NSMemory.unconstrained(prefix: prefix)
    }
}

// MARK: - Machine

extension SymbolicState {
    public func granuleState(_ a: SWord) -> SWord {
        SWord(raw: select(a.raw, default: lit(GranuleState.undelegated.rawValue)) { env.zext($0.state, Self.stateWidth) })
    }
    public func granuleGPT(_ a: SWord) -> SWord {
        SWord(raw: select(a.raw, default: initialGPT(a.raw)) { env.zext($0.gpt, Self.gptWidth) })
    }
    public func granuleContent(_ a: SWord) -> SWord {
        SWord(raw: select(a.raw, default: lit(0)) { $0.content })
    }

    public mutating func setGranuleState(_ a: SWord, _ s: SWord, when: SBit) {
        // SpecState ignores a value that is no GranuleState.
        let w = S.and(when.raw, S.ult(s.raw, lit(UInt64(GranuleState.allCases.count))))
        if isKnownFalse(w) { return }
        let s3 = env.low(s.raw, Self.stateWidth)
        for (i, m) in matches(a.raw) {
            let g = S.and(w, m)
            if isKnownFalse(g) { continue }
            slots[i].state = S.ite(g, s3, slots[i].state)
            clearRealm(i, S.and(g, S.not(S.eq(s.raw, lit(GranuleState.rd.rawValue)))))
            clearRec(i, S.and(g, S.not(S.eq(s.raw, lit(GranuleState.rec.rawValue)))))
            clearRtt(i, S.and(g, S.not(S.eq(s.raw, lit(GranuleState.rtt.rawValue)))))
        }
        flag(S.and(S.and(w, S.not(isSlot(a.raw))), S.not(S.eq(s.raw, lit(GranuleState.undelegated.rawValue)))))
    }

    public mutating func setGranuleGPT(_ a: SWord, _ g: SWord, when: SBit) {
        let w = S.and(when.raw, S.ult(g.raw, lit(UInt64(GPT.allCases.count))))
        if isKnownFalse(w) { return }
        let g3 = env.low(g.raw, Self.gptWidth)
        for (i, m) in matches(a.raw) {
            let c = S.and(w, m)
            if isKnownFalse(c) { continue }
            slots[i].gpt = S.ite(c, g3, slots[i].gpt)
        }
        flag(S.and(S.and(w, S.not(isSlot(a.raw))), S.not(S.eq(g.raw, initialGPT(a.raw)))))
    }

    public mutating func setGranuleContent(_ a: SWord, _ c: SWord, when: SBit) {
        if isKnownFalse(when.raw) { return }
        for (i, m) in matches(a.raw) {
            let g = S.and(when.raw, m)
            if isKnownFalse(g) { continue }
            slots[i].content = S.ite(g, c.raw, slots[i].content)
        }
        flag(S.and(S.and(when.raw, S.not(isSlot(a.raw))), S.not(S.eq(c.raw, lit(0)))))
    }

    public func realm(_ rd: SWord, _ f: RealmField) -> SWord {
        SWord(raw: select(rd.raw, default: lit(0)) { $0.realm[f.rawValue] })
    }
    public mutating func setRealm(_ rd: SWord, _ f: RealmField, _ v: SWord, when: SBit) {
        if isKnownFalse(when.raw) { return }
        for (i, m) in matches(rd.raw) {
            let g = S.and(when.raw, m)
            if isKnownFalse(g) { continue }
            slots[i].realmPresent = S.or(slots[i].realmPresent, g)
            slots[i].realm[f.rawValue] = S.ite(g, v.raw, slots[i].realm[f.rawValue])
        }
        flag(S.and(when.raw, S.not(isSlot(rd.raw))))
    }

    public func rec(_ r: SWord, _ f: RecField) -> SWord {
        let k = Self.recIndex(f)
        return SWord(raw: select(r.raw, default: lit(0)) { $0.rec[k] })
    }
    public mutating func setRec(_ r: SWord, _ f: RecField, _ v: SWord, when: SBit) {
        if isKnownFalse(when.raw) { return }
        let k = Self.recIndex(f)
        for (i, m) in matches(r.raw) {
            let g = S.and(when.raw, m)
            if isKnownFalse(g) { continue }
            slots[i].recPresent = S.or(slots[i].recPresent, g)
            slots[i].rec[k] = S.ite(g, v.raw, slots[i].rec[k])
        }
        flag(S.and(when.raw, S.not(isSlot(r.raw))))
    }

    public func rtt(_ t: SWord, _ f: RttField) -> SWord {
        SWord(raw: select(t.raw, default: lit(0)) { $0.rtt[f.rawValue] })
    }
    public mutating func setRtt(_ t: SWord, _ f: RttField, _ v: SWord, when: SBit) {
        if isKnownFalse(when.raw) { return }
        for (i, m) in matches(t.raw) {
            let g = S.and(when.raw, m)
            if isKnownFalse(g) { continue }
            slots[i].rttPresent = S.or(slots[i].rttPresent, g)
            slots[i].rtt[f.rawValue] = S.ite(g, v.raw, slots[i].rtt[f.rawValue])
        }
        flag(S.and(when.raw, S.not(isSlot(t.raw))))
    }

    /// The slots: every Granule that can differ from its initial state.
    public var addresses: [SWord] { slots.map { SWord(raw: lit($0.address)) } }

    public func existsRealm(where p: (SWord) -> SBit) -> SBit {
        var acc = env.fls
        for s in slots where !isKnownFalse(s.realmPresent) {
            acc = S.or(acc, S.and(s.realmPresent, p(SWord(raw: lit(s.address))).raw))
        }
        return SBit(raw: acc)
    }
    public func existsRec(where p: (SWord) -> SBit) -> SBit {
        var acc = env.fls
        for s in slots where !isKnownFalse(s.recPresent) {
            acc = S.or(acc, S.and(s.recPresent, p(SWord(raw: lit(s.address))).raw))
        }
        return SBit(raw: acc)
    }

    public func nsRead(_ a: SWord) -> SWord { SWord(raw: ns.read(a.raw, env: env)) }
    public mutating func nsWrite(_ a: SWord, _ v: SWord, when: SBit) { ns.write(a.raw, v.raw, when: when.raw) }
}
