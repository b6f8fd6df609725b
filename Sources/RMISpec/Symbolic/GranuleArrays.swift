import SMT

/// The Granule part of the abstract state at every physical address: Granule state, GPT and
/// contents as Z3 arrays indexed by 64-bit addresses, so that a proof over it is a proof for
/// every memory size of the platform, not for the slots of a `Scope`. The spec's commands
/// run on it unchanged through the `Machine` interface.
///
/// It holds no Realm, REC or RTT object. Reads of their fields give 0 and `existsRealm` /
/// `existsRec` false, which is what `SpecState` answers for a state without objects; a
/// command that would write an object or iterate RTT entries is recorded in `unsupported`
/// while its terms are built, and engines must refuse it (then the arrays would not be the
/// state). So it serves the commands that touch only Granules: GRANULE_DELEGATE and
/// GRANULE_UNDELEGATE, RMI_VERSION, RMI_FEATURES.
///
/// Properties quantify over `addresses`, here the `probes`: free address variables. A
/// property over them that holds for all their values holds at every address.
public struct GranuleArrays: Machine {
    public typealias D = Symbolic

    /// What a run asked of the interface that the arrays do not hold, by name; and whether
    /// it read objects at all (exact, they are absent, but a property that does is about
    /// objects these runs never make).
    public final class Unsupported {
        public private(set) var used: Set<String> = []
        public internal(set) var readsObjects = false
        func note(_ what: String) { used.insert(what) }
    }

    public let platform: Platform
    public let options: SpecOptions
    /// Array(BV64 -> BV3): `GranuleState` raw values.
    public internal(set) var states: Term
    /// Array(BV64 -> BV3): 0 for the platform's initial GPT of the address, `g + 1` for GPT `g`.
    public internal(set) var gpts: Term
    /// Array(BV64 -> BV64).
    public internal(set) var contents: Term
    var ns: NSMemory
    public var probes: [Term]
    public let unsupported: Unsupported
    let env: SymbolicEnv

    static let width = 3

    /// The arrays, in the order `with(arrays:)` takes them.
    public var arrays: [Term] { [states, gpts, contents] }

    /// The initial state of `platform`: every Granule UNDELEGATED with its initial GPT, zero
    /// contents; NS memory unconstrained (the Host writes it before every call). Call inside
    /// `Symbolic.withContext`.
    public static func initial(platform: Platform, options: SpecOptions = [], probes: [Term]) -> GranuleArrays {
        let env = Symbolic.env, c = env.ctx
        let a64 = c.bvSort(64)
        return GranuleArrays(platform: platform, options: options,
                             states: c.constArray(domain: a64, value: env.lit(GranuleState.undelegated.rawValue, width: width)),
                             gpts: c.constArray(domain: a64, value: env.lit(0, width: width)),
                             contents: c.constArray(domain: a64, value: env.lit(0)),
                             ns: .unconstrained(prefix: "arrays"), probes: probes, unsupported: Unsupported(), env: env)
    }

    /// The same state with other arrays (e.g. variables of a Horn clause) and a fresh record of
    /// what is unsupported; NS memory unconstrained, named `prefix.nsK`.
    public func with(arrays a: [Term], prefix: String) -> GranuleArrays {
        precondition(a.count == 3, "GranuleArrays.with(arrays:): three arrays")
        return GranuleArrays(platform: platform, options: options, states: a[0], gpts: a[1], contents: a[2],
                             ns: .unconstrained(prefix: prefix), probes: probes, unsupported: Unsupported(), env: env)
    }

    init(platform: Platform, options: SpecOptions, states: Term, gpts: Term, contents: Term, ns: NSMemory,
         probes: [Term], unsupported: Unsupported, env: SymbolicEnv) {
        self.platform = platform; self.options = options
        self.states = states; self.gpts = gpts; self.contents = contents
        self.ns = ns; self.probes = probes; self.unsupported = unsupported; self.env = env
    }

    /// Whether every array is the same as in `o` (extensional equality).
    public func equal(_ o: GranuleArrays) -> Term {
        let c = env.ctx
        return c.and(c.eq(states, o.states), c.eq(gpts, o.gpts), c.eq(contents, o.contents))
    }

    /// `sel` on `c` or `a` (the same shape).
    public static func select(_ c: Term, _ a: GranuleArrays, _ b: GranuleArrays) -> GranuleArrays {
        var r = b
        r.states = Symbolic.ite(c, a.states, b.states)
        r.gpts = Symbolic.ite(c, a.gpts, b.gpts)
        r.contents = Symbolic.ite(c, a.contents, b.contents)
        return r
    }

    private func store(_ array: Term, _ a: Term, _ v: Term, when w: Term) -> Term {
        Symbolic.store(array, a, v, when: w)
    }
}

extension Machine where D == Symbolic {
    /// The Host's move on an array state: it writes `value` to the Granule at `addr` (4 KB
    /// aligned) if it may (`Machine.hostMayWrite`), as between two calls. One Granule per move.
    public mutating func hostWrite(_ addr: Term, _ value: Term) {
        let a = SWord(raw: addr)
        setGranuleContent(a, SWord(raw: value), when: hostMayWrite(a) && (a & Word(Layout.granuleSize - 1)) == 0)
    }
}

extension Symbolic {
    /// `array` with `a` set to `v` when `w` holds (itself when `w` is known false).
    static func store(_ array: Term, _ a: Term, _ v: Term, when w: Term) -> Term {
        if known(w) == false { return array }
        return ite(w, env.ctx.store(array, a, v), array)
    }
}

extension GranuleArrays {
    public func granuleState(_ a: SWord) -> SWord { SWord(raw: env.zext(env.ctx.select(states, a.raw), Self.width)) }
    public func granuleGPT(_ a: SWord) -> SWord {
        let g = env.ctx.select(gpts, a.raw)
        return SWord(raw: Symbolic.ite(env.ctx.eq(g, env.lit(0, width: Self.width)), platform.initialGPT(symbolic: a.raw),
                                       Symbolic.sub(env.zext(g, Self.width), env.lit(1))))
    }
    public func granuleContent(_ a: SWord) -> SWord { SWord(raw: env.ctx.select(contents, a.raw)) }

    public mutating func setGranuleState(_ a: SWord, _ s: SWord, when: SBit) {
        // SpecState ignores a value that is no GranuleState; with no objects, none to delete.
        let w = Symbolic.and(when.raw, Symbolic.ult(s.raw, env.lit(UInt64(GranuleState.allCases.count))))
        states = store(states, a.raw, env.low(s.raw, Self.width), when: w)
    }
    public mutating func setGranuleGPT(_ a: SWord, _ g: SWord, when: SBit) {
        let w = Symbolic.and(when.raw, Symbolic.ult(g.raw, env.lit(UInt64(GPT.allCases.count))))
        gpts = store(gpts, a.raw, env.low(Symbolic.add(g.raw, env.lit(1)), Self.width), when: w)
    }
    public mutating func setGranuleContent(_ a: SWord, _ c: SWord, when: SBit) {
        contents = store(contents, a.raw, c.raw, when: when.raw)
    }

    public func realm(_ rd: SWord, _ f: RealmField) -> SWord { noteRead() }
    public mutating func setRealm(_ rd: SWord, _ f: RealmField, _ v: SWord, when: SBit) { noteWrite("Realm", when) }
    public func rec(_ r: SWord, _ f: RecField) -> SWord { noteRead() }
    public mutating func setRec(_ r: SWord, _ f: RecField, _ v: SWord, when: SBit) { noteWrite("REC", when) }
    public func rtt(_ t: SWord, _ f: RttField) -> SWord { noteRead() }
    public mutating func setRtt(_ t: SWord, _ f: RttField, _ v: SWord, when: SBit) { noteWrite("RTT", when) }

    public func entry(_ t: SWord, _ i: SWord) -> RttEntry<Symbolic> {
        RttEntry(state: noteRead(), ripas: .lit(0), addr: .lit(0), attrs: .lit(0))
    }
    public mutating func setEntry(_ t: SWord, _ i: SWord, _ e: RttEntry<Symbolic>, when: SBit) { noteWrite("RTT entries", when) }
    public mutating func updateEntries(_ t: SWord, from: SWord, to: SWord, when: SBit,
                                       _ f: (SWord, RttEntry<Symbolic>) -> RttEntry<Symbolic>) {
        noteWrite("RTT entries", when)
    }
    public func firstEntry(_ t: SWord, from: SWord, where p: (SWord, RttEntry<Symbolic>) -> SBit) -> SWord {
        unsupported.note("RTT entry search")
        return .lit(Layout.entriesPerRtt)
    }
    public func allEntries(_ t: SWord, _ p: (SWord, RttEntry<Symbolic>) -> SBit) -> SBit {
        unsupported.note("RTT entry search")
        return SBit(raw: env.tru)
    }
    public func countEntries(_ t: SWord, _ p: (SWord, RttEntry<Symbolic>) -> SBit) -> SWord {
        unsupported.note("RTT entry search")
        return .lit(0)
    }

    public var addresses: [SWord] { probes.map { SWord(raw: $0) } }
    public func existsRealm(where p: (SWord) -> SBit) -> SBit { _ = noteRead(); return SBit(raw: env.fls) }
    public func existsRec(where p: (SWord) -> SBit) -> SBit { _ = noteRead(); return SBit(raw: env.fls) }

    public func nsRead(_ a: SWord) -> SWord { SWord(raw: ns.read(a.raw, env: env)) }
    public mutating func nsWrite(_ a: SWord, _ v: SWord, when: SBit) { ns.write(a.raw, v.raw, when: when.raw) }

    /// A field of an absent object: 0.
    private func noteRead() -> SWord {
        unsupported.readsObjects = true
        return .lit(0)
    }

    private func noteWrite(_ what: String, _ when: SBit) {
        if Symbolic.known(when.raw) != false { unsupported.note("\(what) objects") }
    }
}

extension Platform {
    /// `PlatformInitialGPT(a)` for an address term: GPT_SECURE inside a Secure range, else
    /// GPT_NS.
    func initialGPT(symbolic a: Term) -> Term {
        typealias S = Symbolic
        if Symbolic.folding, let x = S.env.value(a) { return S.lit(initialGPT(x).rawValue) }
        var secure = S.lit(false)
        for r in self.secure {
            secure = S.or(secure, S.and(S.not(S.ult(a, S.lit(r.base))), S.ult(S.sub(a, S.lit(r.base)), S.lit(r.size))))
        }
        return S.ite(secure, S.lit(GPT.secure.rawValue), S.lit(GPT.ns.rawValue))
    }
}
