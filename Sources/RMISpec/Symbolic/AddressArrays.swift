import SMT

/// The whole abstract state at every physical address, as Z3 arrays indexed by 64-bit
/// addresses: Granule state, GPT and contents, every Realm, REC and RTT field, and the RTT
/// entries (an array of 512-entry rows per entry part). A proof over it is a proof for
/// every memory size of the platform, not for the slots of a `Scope`. The spec's commands
/// run on it unchanged through the `Machine` interface.
///
/// Exact, as `SpecState`: reads and writes of Granules, object fields and single entries;
/// a Granule-state change deletes the objects the Granule no longer holds (their fields
/// read 0 again, its RTT entries too); an entry-range update is a `lambda` over the row.
///
/// Deletion is by generation, not by clearing: per object kind, an array holds the
/// generation of the object at each address, and a Granule-state change away from the kind
/// starts the next one (one store, where clearing took one per field: 41, 17 times over in
/// REALM_DESTROY). Beside each field's values, an array holds the generation each value was
/// written in; a value reads as 0 unless that is the object's generation. The entry rows of
/// an RTT likewise. Every state a step starts from (`initial`, `arbitrary`) has every
/// generation 0, so within one step none wraps, and the state after it reads exactly what
/// `SpecState` reads. That is all a proof needs: properties, lemmas and `equal` look only
/// at reads, and each step of a run can be taken from the state with the same reads and
/// every generation 0.
///
/// Over-approximated (`Record.abstractions`): the searches `firstEntry`, `allEntries`,
/// `countEntries`, `existsRealm` and `existsRec`, and the REC fields no command reads back
/// (`holds(_:on:)`), answer a fresh constant, any value. A
/// command that asks one is then a relation that contains the command (every real outcome
/// is one of its outcomes), so an invariant of the arrays' runs is an invariant of the
/// spec's; a counterexample may be spurious and must be replayed. A property that asks one
/// says nothing over the arrays, and engines refuse it (`Record.abstractions`).
///
/// Properties quantify over `addresses`, here the `probes`: free address variables. A
/// property over them that holds for all their values holds at every address. Likewise,
/// with `entryProbes` (free index variables), `allEntries` is the predicate at those
/// indices: a property that asks it only as "for every entry" then holds for every entry
/// when it holds for all their values.
public struct AddressArrays: Machine {
    public typealias D = Symbolic

    /// The arrays besides Granule state, GPT and contents.
    public enum Field: Hashable, Sendable, CustomStringConvertible {
        case realm(RealmField), rec(RecField), rtt(RttField)
        /// Array(BV64 -> Array(BV64 -> part)): RTT address, then entry index.
        case entry(EntryPart)
        /// Array(BV64 -> BV8): per object kind (RD, REC, RTT), the generation of the object
        /// at each address.
        case generation(GranuleState)
        /// Array(BV64 -> BV8): the generation of its object in which the value of a Realm,
        /// REC or RTT field at each address was written.
        indirect case writtenIn(Field)
        /// Array(BV64 -> BV8): the generation of its RTT in which each row was written.
        case rowGeneration

        public enum EntryPart: Int, CaseIterable, Sendable { case state, ripas, attrs, addr }

        /// Entry state, RIPAS and attributes are 8 bits (`SpecState.Entry` stores UInt8s).
        var width: Int {
            switch self {
            case .entry(let p): p == .addr ? 64 : AddressArrays.entryFieldWidth
            case .generation, .writtenIn, .rowGeneration: AddressArrays.generationWidth
            default: 64
            }
        }
        var isEntry: Bool { if case .entry = self { true } else { false } }
        /// The object kind a field or row belongs to (nil for the generation arrays).
        var kind: GranuleState? {
            switch self {
            case .realm: .rd
            case .rec: .rec
            case .rtt, .entry: .rtt
            case .generation, .writtenIn, .rowGeneration: nil
            }
        }

        public var description: String {
            switch self {
            case .realm(let f): "realm.\(f)"
            case .rec(let f): "rec.\(f.name)"
            case .rtt(let f): "rtt.\(f)"
            case .entry(let p): "entry.\(p)"
            case .generation(let k): "generation.\(k)"
            case .writtenIn(let f): "writtenIn.\(f)"
            case .rowGeneration: "rowGeneration"
            }
        }
    }

    /// What the runs on a state asked and made: the searches the arrays over-approximate,
    /// by name; every address term at which a Granule or object was read or written (in
    /// order, once each); and the definitions of the entry rows an entry-range update made (`row ==
    /// lambda ...`), which an engine must assert with the state. Copies of a state share it;
    /// `observed()` gives a state with a record of its own.
    public final class Record {
        public private(set) var abstractions: Set<String> = []
        public private(set) var addresses: [Term] = []
        public private(set) var definitions: [Term] = []
        /// What the abstracted searches are known to imply at the state's `searchHints`
        /// (true of every search's meaning, so an engine may assert them with the state).
        public private(set) var facts: [Term] = []
        /// Every (RTT, index) pair at which an entry was read, in order, once each.
        public private(set) var entries: [(table: Term, index: Term)] = []
        private var seen: Set<Term> = []
        private var seenEntries: Set<[Term]> = []
        /// While positive, reads and writes are not recorded (`updateStartingRtts`).
        var quiet = 0
        func readEntry(_ t: Term, _ i: Term) { if quiet == 0 && seenEntries.insert([t, i]).inserted { entries.append((t, i)) } }
        func note(_ what: String) { abstractions.insert(what) }
        func read(_ a: Term) { if quiet == 0 && seen.insert(a).inserted { addresses.append(a) } }
        func define(_ t: Term) { definitions.append(t) }
        func fact(_ t: Term) { facts.append(t) }
        /// What the abstracted searches over addresses imply at any address: arrays from
        /// address to Bool, each true everywhere (an engine may assert `select(f, a)` at any
        /// address `a` it names).
        public private(set) var addressFacts: [Term] = []
        func addressFact(_ t: Term) { addressFacts.append(t) }
    }

    /// The arrays of a state not written since it was made: constants (`prefix.field`) or,
    /// for the initial state, all zero. Made on first use, shared by every state derived.
    final class Base {
        let prefix: String?
        var arrays: [Field: Term] = [:]
        var freshCount = 0
        init(prefix: String?) { self.prefix = prefix }
    }

    public let platform: Platform
    public let options: SpecOptions
    /// Array(BV64 -> BV3): `GranuleState` raw values.
    public internal(set) var states: Term
    /// Array(BV64 -> BV3): 0 for the platform's initial GPT of the address, `g + 1` for GPT `g`.
    public internal(set) var gpts: Term
    /// Array(BV64 -> BV64).
    public internal(set) var contents: Term
    /// The fields written since `base`.
    var written: [Field: Term] = [:]
    let base: Base
    var ns: NSMemory
    public var probes: [Term]
    /// The entry indices `allEntries` stands for (none: it is over-approximated).
    public var entryProbes: [Term] = []
    /// Entries at which an over-approximated `allEntries` of their RTT states its predicate
    /// (`Record.facts`): the search stays a fresh constant, which implies the predicate there.
    public var searchHints: [(table: Term, index: Term)] = []
    /// Per searched RTT, the indices at which an over-approximated `allEntries` states its
    /// predicate besides `searchHints` (given the state and the RTT; the entries there are
    /// read and recorded): how an engine names the entries its proof needs from a search.
    public var searchIndexHints: ((AddressArrays, SWord) -> [SWord])?
    public private(set) var record: Record
    let env: SymbolicEnv

    static let width = 3
    static let entryFieldWidth = 8
    /// A step starts at most a few generations per address, far from wrapping.
    static let generationWidth = 8
    /// The kinds of object a Granule holds.
    static let objectKinds: [GranuleState] = [.rd, .rec, .rtt]

    /// The initial state of `platform`: every Granule UNDELEGATED with its initial GPT, zero
    /// contents, no object; NS memory unconstrained. Call inside `Symbolic.withContext`.
    public static func initial(platform: Platform, options: SpecOptions = [], probes: [Term]) -> AddressArrays {
        let env = Symbolic.env, c = env.ctx
        let a64 = c.bvSort(64)
        return AddressArrays(platform: platform, options: options,
                             states: c.constArray(domain: a64, value: env.lit(GranuleState.undelegated.rawValue, width: width)),
                             gpts: c.constArray(domain: a64, value: env.lit(0, width: width)),
                             contents: c.constArray(domain: a64, value: env.lit(0)),
                             base: Base(prefix: nil), ns: .unconstrained(prefix: "arrays.ns"), probes: probes, env: env)
    }

    /// An arbitrary state: every array a constant named `prefix.<array>`; NS memory
    /// unconstrained. Call inside `Symbolic.withContext`.
    public static func arbitrary(platform: Platform, options: SpecOptions = [], prefix: String, probes: [Term]) -> AddressArrays {
        let env = Symbolic.env, c = env.ctx
        let sort3 = c.arraySort(domain: c.bvSort(64), range: c.bvSort(width))
        return AddressArrays(platform: platform, options: options,
                             states: c.const("\(prefix).states", sort3), gpts: c.const("\(prefix).gpts", sort3),
                             contents: c.const("\(prefix).contents", c.arraySort(domain: c.bvSort(64), range: c.bvSort(64))),
                             base: Base(prefix: prefix), ns: .unconstrained(prefix: "\(prefix).ns"), probes: probes, env: env)
    }

    init(platform: Platform, options: SpecOptions, states: Term, gpts: Term, contents: Term, base: Base, ns: NSMemory,
         probes: [Term], env: SymbolicEnv) {
        self.platform = platform; self.options = options
        self.states = states; self.gpts = gpts; self.contents = contents
        self.base = base; self.ns = ns; self.probes = probes; self.record = Record(); self.env = env
    }

    /// The same state with its own record of abstractions (to see what one evaluation asks).
    public func observed() -> AddressArrays {
        var r = self
        r.record = Record()
        return r
    }

    /// The same state with `addresses` = `probes` and `allEntries` at `entries`.
    public func probing(_ probes: [Term], entries: [Term] = []) -> AddressArrays {
        var r = self
        r.probes = probes
        r.entryProbes = entries
        return r
    }

    /// The array of `f`.
    public func array(_ f: Field) -> Term {
        if let t = written[f] { return t }
        if let t = base.arrays[f] { return t }
        let c = env.ctx, a64 = c.bvSort(64)
        let t: Term
        if f.kind == nil {
            t = c.constArray(domain: a64, value: env.lit(0, width: f.width))
        } else if let prefix = base.prefix {
            let range = f.isEntry ? c.arraySort(domain: a64, range: c.bvSort(f.width)) : c.bvSort(f.width)
            t = c.const("\(prefix).\(f)", c.arraySort(domain: a64, range: range))
        } else if f.isEntry {
            t = c.constArray(domain: a64, value: c.constArray(domain: a64, value: env.lit(0, width: f.width)))
        } else {
            t = c.constArray(domain: a64, value: env.lit(0))
        }
        base.arrays[f] = t
        return t
    }

    /// The fields and rows whose reads may differ between `self` and `o`: those written in
    /// either, and every one of a kind whose generations were.
    func writtenFields(_ o: AddressArrays) -> [Field] {
        var fields = Set(written.keys).union(o.written.keys)
        for case .writtenIn(let f) in fields { fields.insert(f) }
        for case .generation(let k) in fields {
            switch k {
            case .rd: fields.formUnion(RealmField.allCases.map { .realm($0) })
            case .rec: fields.formUnion(RecField.all.filter { Self.holds($0, on: platform) }.map { .rec($0) })
            default: fields.formUnion(RttField.allCases.map { .rtt($0) } + Field.EntryPart.allCases.map { .entry($0) })
            }
        }
        if fields.contains(.rowGeneration) { fields.formUnion(Field.EntryPart.allCases.map { .entry($0) }) }
        return fields.filter { $0.kind != nil }.sorted { $0.description < $1.description }
    }

    /// Field `f` (not an entry part) of the object at `a`: its value when it was written in
    /// the object's generation, else 0.
    private func read(_ f: Field, _ a: Term) -> Term {
        let c = env.ctx, x = c.select(array(f), a)
        return Symbolic.ite(current(.writtenIn(f), f.kind!, a), x, env.lit(0))
    }
    /// Whether what generation array `g` holds at `a` is the generation of the `kind` object
    /// at `a` (true while neither was written since every generation was 0).
    private func current(_ g: Field, _ kind: GranuleState, _ a: Term) -> Term {
        if written[g] == nil && written[.generation(kind)] == nil { return env.tru }
        let c = env.ctx
        return Symbolic.eq(c.select(array(g), a), c.select(array(.generation(kind)), a))
    }
    /// Whether the entry rows of RTT `t` were written in its RTT's generation.
    private func rowsCurrent(_ t: Term) -> Term { current(.rowGeneration, .rtt, t) }

    /// Whether `o` (derived from the same state) agrees with this state at address `a` and,
    /// in the RTT entries, at index `i`. For free `a` and `i` it is valid exactly when the
    /// two states are equal, without array equalities (which Z3 rewrote for minutes when an
    /// entry row was a `lambda`).
    public func equal(_ o: AddressArrays, at a: Term, index i: Term) -> Term {
        precondition(base === o.base, "AddressArrays.equal: states of different origins")
        let c = env.ctx
        func at(_ x: Term, _ y: Term) -> Term { env.eqAny(c.select(x, a), c.select(y, a)) }
        var ok = Symbolic.and(at(states, o.states), Symbolic.and(at(gpts, o.gpts), at(contents, o.contents)))
        for f in writtenFields(o) {
            if case .entry(let p) = f {
                let (x, y) = (entry(rows: rows(a), i), o.entry(rows: o.rows(a), i))
                let k = Field.EntryPart.allCases.firstIndex(of: p)!
                ok = Symbolic.and(ok, env.eqAny(parts(x)[k], parts(y)[k]))
            } else {
                ok = Symbolic.and(ok, env.eqAny(read(f, a), o.read(f, a)))
            }
        }
        return ok
    }

    private func store(_ array: Term, _ a: Term, _ v: Term, when w: Term) -> Term {
        if Symbolic.known(w) == false { return array }
        record.read(a)
        return Symbolic.store(array, a, v, when: w)
    }

    private mutating func write(_ f: Field, _ a: Term, _ v: Term, when w: Term) {
        if Symbolic.known(w) == false { return }
        record.read(a)
        written[f] = store(array(f), a, v, when: w)
    }
    /// Writes field `f` (not an entry part) of the object at `a`, in the object's generation.
    private mutating func writeField(_ f: Field, _ a: Term, _ v: Term, when w: Term) {
        write(f, a, v, when: w)
        write(.writtenIn(f), a, env.ctx.select(array(.generation(f.kind!)), a), when: w)
    }

    /// A fresh constant of `width` bits (a Bool for 0) standing for what `what` answers.
    private func abstracted(_ what: String, width: Int) -> Term {
        record.note(what)
        base.freshCount += 1
        let name = "\(base.prefix ?? "arrays").abs\(base.freshCount)"
        return width == 0 ? env.ctx.boolConst(name) : env.ctx.bvConst(name, width: width)
    }
}

extension AddressArrays {
    public func granuleState(_ a: SWord) -> SWord { record.read(a.raw); return SWord(raw: env.zext(env.ctx.select(states, a.raw), Self.width)) }
    public func granuleGPT(_ a: SWord) -> SWord {
        record.read(a.raw)
        let g = env.ctx.select(gpts, a.raw)
        return SWord(raw: Symbolic.ite(env.ctx.eq(g, env.lit(0, width: Self.width)), platform.initialGPT(symbolic: a.raw),
                                       Symbolic.sub(env.zext(g, Self.width), env.lit(1))))
    }
    public func granuleContent(_ a: SWord) -> SWord { record.read(a.raw); return SWord(raw: env.ctx.select(contents, a.raw)) }

    public mutating func setGranuleState(_ a: SWord, _ s: SWord, when: SBit) {
        // SpecState ignores a value that is no GranuleState, and deletes the objects a
        // Granule no longer holds.
        let w = Symbolic.and(when.raw, Symbolic.ult(s.raw, env.lit(UInt64(GranuleState.allCases.count))))
        states = store(states, a.raw, env.low(s.raw, Self.width), when: w)
        for kind in Self.objectKinds {
            let leaves = Symbolic.and(w, Symbolic.not(Symbolic.eq(s.raw, env.lit(kind.rawValue))))
            let g = array(.generation(kind))
            write(.generation(kind), a.raw, env.ctx.bvadd(env.ctx.select(g, a.raw), env.lit(1, width: Self.generationWidth)), when: leaves)
        }
    }
    public mutating func setGranuleGPT(_ a: SWord, _ g: SWord, when: SBit) {
        let w = Symbolic.and(when.raw, Symbolic.ult(g.raw, env.lit(UInt64(GPT.allCases.count))))
        gpts = store(gpts, a.raw, env.low(Symbolic.add(g.raw, env.lit(1)), Self.width), when: w)
    }
    public mutating func setGranuleContent(_ a: SWord, _ c: SWord, when: SBit) {
        contents = store(contents, a.raw, c.raw, when: when.raw)
    }

    public func realm(_ rd: SWord, _ f: RealmField) -> SWord { record.read(rd.raw); return SWord(raw: read(.realm(f), rd.raw)) }
    public mutating func setRealm(_ rd: SWord, _ f: RealmField, _ v: SWord, when: SBit) {
        writeField(.realm(f), rd.raw, v.raw, when: when.raw)
    }
    /// Whether the arrays hold REC field `f`: not the GPRs past X3 (only PSCI_COMPLETE reads
    /// GPRs, X0-X3) nor the aux slots past the platform's RecAuxCount, which no command or
    /// property reads back. Reads of the others answer any value (`abstracted`), writes are
    /// dropped: fewer arrays in every question.
    public static func holds(_ f: RecField, on platform: Platform) -> Bool {
        switch f {
        case .gpr(let i): i < 4
        case .aux(let i): i < Int(platform.recAuxCount)
        default: true
        }
    }

    public func rec(_ r: SWord, _ f: RecField) -> SWord {
        record.read(r.raw)
        guard Self.holds(f, on: platform) else { return SWord(raw: abstracted("REC \(f.name)", width: 64)) }
        return SWord(raw: read(.rec(f), r.raw))
    }
    public mutating func setRec(_ r: SWord, _ f: RecField, _ v: SWord, when: SBit) {
        guard Self.holds(f, on: platform) else { record.read(r.raw); return }
        writeField(.rec(f), r.raw, v.raw, when: when.raw)
    }
    public func rtt(_ t: SWord, _ f: RttField) -> SWord { record.read(t.raw); return SWord(raw: read(.rtt(f), t.raw)) }
    public mutating func setRtt(_ t: SWord, _ f: RttField, _ v: SWord, when: SBit) {
        writeField(.rtt(f), t.raw, v.raw, when: when.raw)
    }

    /// The rows (512 entries) of RTT `t`, one per entry part: all zero when they were
    /// written in an earlier generation of the RTT.
    private func rows(_ t: Term) -> [Term] {
        record.read(t)
        let c = env.ctx, current = rowsCurrent(t)
        return Field.EntryPart.allCases.map { p in
            Symbolic.ite(current, c.select(array(.entry(p)), t),
                         c.constArray(domain: c.bvSort(64), value: env.lit(0, width: Field.entry(p).width)))
        }
    }
    /// Marks the rows of RTT `t` as written in its RTT's generation.
    private mutating func touchRows(_ t: Term, when w: Term) {
        write(.rowGeneration, t, env.ctx.select(array(.generation(.rtt)), t), when: w)
    }
    private func entry(rows r: [Term], _ i: Term) -> RttEntry<Symbolic> {
        let c = env.ctx, w = Self.entryFieldWidth
        return RttEntry(state: SWord(raw: env.zext(c.select(r[0], i), w)), ripas: SWord(raw: env.zext(c.select(r[1], i), w)),
                        addr: SWord(raw: c.select(r[3], i)), attrs: SWord(raw: env.zext(c.select(r[2], i), w)))
    }
    private func parts(_ e: RttEntry<Symbolic>) -> [Term] {
        let w = Self.entryFieldWidth
        return [env.low(e.state.raw, w), env.low(e.ripas.raw, w), env.low(e.attrs.raw, w), e.addr.raw]
    }

    public func entry(_ t: SWord, _ i: SWord) -> RttEntry<Symbolic> {
        record.readEntry(t.raw, i.raw)
        // SpecState reads an index past the table as a zero entry.
        let inside = Symbolic.ult(i.raw, env.lit(Layout.entriesPerRtt))
        let e = entry(rows: rows(t.raw), i.raw)
        return RttEntry.select(SBit(raw: inside), e, RttEntry(state: .lit(0), ripas: .lit(0), addr: .lit(0), attrs: .lit(0)))
    }
    public mutating func setEntry(_ t: SWord, _ i: SWord, _ e: RttEntry<Symbolic>, when: SBit) {
        let w = Symbolic.and(when.raw, Symbolic.ult(i.raw, env.lit(Layout.entriesPerRtt)))
        let r = rows(t.raw), v = parts(e)
        for (k, p) in Field.EntryPart.allCases.enumerated() {
            write(.entry(p), t.raw, env.ctx.store(r[k], i.raw, v[k]), when: w)
        }
        touchRows(t.raw, when: w)
    }
    public mutating func updateEntries(_ t: SWord, from: SWord, to: SWord, when: SBit,
                                       _ f: (SWord, RttEntry<Symbolic>) -> RttEntry<Symbolic>) {
        if Symbolic.known(when.raw) == false { return }
        let r = rows(t.raw)
        let c = env.ctx, a64 = c.bvSort(64)
        for (k, p) in Field.EntryPart.allCases.enumerated() {
            // The new row is a constant defined as the lambda: selects through later writes
            // then meet one term per update, not the whole nest of rows before it.
            base.freshCount += 1
            let row = c.const("\(base.prefix ?? "arrays").row\(base.freshCount)", c.arraySort(domain: a64, range: c.bvSort(Field.entry(p).width)))
            record.define(c.eq(row, c.lambda(over: a64, named: "j") { j in
                let old = entry(rows: r, j)
                let inRange = Symbolic.and(Symbolic.not(Symbolic.ult(j, from.raw)),
                                           Symbolic.and(Symbolic.ult(j, to.raw), Symbolic.ult(j, env.lit(Layout.entriesPerRtt))))
                return Symbolic.ite(inRange, parts(f(SWord(raw: j), old))[k], parts(old)[k])
            }))
            write(.entry(p), t.raw, row, when: when.raw)
        }
        touchRows(t.raw, when: when.raw)
    }
    public func firstEntry(_ t: SWord, from: SWord, where p: (SWord, RttEntry<Symbolic>) -> SBit) -> SWord {
        SWord(raw: abstracted("RTT entry search", width: 64))
    }
    public func allEntries(_ t: SWord, _ p: (SWord, RttEntry<Symbolic>) -> SBit) -> SBit {
        if entryProbes.isEmpty {
            let all = abstracted("RTT entry search", width: 0)
            for h in searchHints {
                let here = Symbolic.and(all, Symbolic.and(Symbolic.eq(h.table, t.raw), Symbolic.ult(h.index, env.lit(Layout.entriesPerRtt))))
                // Read at the hint's own table (equal to `t` where it matters), unrecorded: the
                // engine names the hints' entries itself.
                record.fact(Symbolic.or(Symbolic.not(here), p(SWord(raw: h.index), entry(rows: rows(h.table), h.index)).raw))
            }
            for h in searchIndexHints?(self, t) ?? [] {
                let here = Symbolic.and(all, Symbolic.ult(h.raw, env.lit(Layout.entriesPerRtt)))
                record.fact(Symbolic.or(Symbolic.not(here), p(h, entry(t, h)).raw))
            }
            return SBit(raw: all)
        }
        return entryProbes.reduce(SBit(true)) { all, j in
            all && (SBit(raw: Symbolic.not(Symbolic.ult(j, env.lit(Layout.entriesPerRtt)))) || p(SWord(raw: j), entry(t, SWord(raw: j))))
        }
    }
    public func countEntries(_ t: SWord, _ p: (SWord, RttEntry<Symbolic>) -> SBit) -> SWord {
        SWord(raw: abstracted("RTT entry count", width: 64))
    }

    /// A Realm's starting RTTs, read and written unrecorded: their addresses are not
    /// points of the step. A claim about a starting RTT is asked at a probe, which is then
    /// that RTT, so the lemmas there are already instantiated; at 16 more points each
    /// question of REALM_CREATE carried 29 addresses (and 29² pairs).
    public func allStartingRtts(base: SWord, count: SWord, _ p: (SWord) -> SBit) -> SBit {
        record.quiet += 1
        defer { record.quiet -= 1 }
        return allStartingRttsOneByOne(base: base, count: count, p)
    }
    public mutating func updateStartingRtts(base: SWord, count: SWord, when: SBit,
                                            _ body: (inout AddressArrays, SWord, SWord, SBit) -> Void) {
        record.quiet += 1
        defer { record.quiet -= 1 }
        updateStartingRttsOneByOne(base: base, count: count, when: when, body)
    }

    public var addresses: [SWord] { probes.map { SWord(raw: $0) } }
    public func existsRealm(where p: (SWord) -> SBit) -> SBit { exists(.rd, "Realm search", p) }
    public func existsRec(where p: (SWord) -> SBit) -> SBit { exists(.rec, "REC search", p) }
    /// A search for a Granule of `kind` that satisfies `p`: a fresh constant, true wherever
    /// such a Granule is (`Record.addressFacts`: REALM_CREATE's `vmid_valid` then sees the
    /// VMID of every RD the engine names). `p` reads unrecorded, at a bound address, and
    /// must ask no search itself (its facts would name the bound address).
    private func exists(_ kind: GranuleState, _ what: String, _ p: (SWord) -> SBit) -> SBit {
        let found = abstracted(what, width: 0)
        let c = env.ctx
        record.quiet += 1
        defer { record.quiet -= 1 }
        record.addressFact(c.lambda(over: c.bvSort(64), named: "x") { x in
            Symbolic.or(Symbolic.not(Symbolic.and(granuleIs(SWord(raw: x), kind).raw, p(SWord(raw: x)).raw)), found)
        })
        return SBit(raw: found)
    }

    public func nsRead(_ a: SWord) -> SWord { SWord(raw: ns.read(a.raw, env: env)) }
    public mutating func nsWrite(_ a: SWord, _ v: SWord, when: SBit) { ns.write(a.raw, v.raw, when: when.raw) }
}

extension RMISpec {
    /// `cmd` run on the address arrays with argument terms `args` and, for REC_ENTER, the
    /// Realm's action: its success term and the next state (unchanged when a condition fails).
    public static func arrayStep(_ cmd: RMICommand, _ s: AddressArrays, args: [Term],
                                 realm: RealmAction<Symbolic>? = nil) -> (success: Term, next: AddressArrays) {
        precondition(Symbolic.env === s.env, "arrayStep: the state belongs to another context than Symbolic.withContext's")
        var m = s
        let e = evaluate(cmd, &m, Call(args.map { SWord(raw: $0) }, realm: realm ?? RealmAction(kind: 0)))
        return (symbolicConditions(cmd, e, options: s.options).success, m)
    }

    /// The `rec_exit` event on the address arrays (as `symbolicRecExit`): whether it is a
    /// move (neither malformation condition holds) and the next state.
    public static func arrayRecExit(_ s: AddressArrays, rec: Term, realm: RealmAction<Symbolic>) -> (success: Term, next: AddressArrays) {
        var m = s
        let e = RecEnter.exitRunning(&m, rec: SWord(raw: rec), action: realm)
        return (symbolicConditions(.recEnter, e, options: s.options).success, m)
    }
}
