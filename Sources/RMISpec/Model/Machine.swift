/// Fields of a Realm (A2.1, C1.16), held in its RD Granule.
public enum RealmField: Int, CaseIterable, Sendable {
    case state, ipaWidth, levelStart, numStart, rttBase, lpa2, hashAlgo, vmid, rpv, rim, recIndex, numRecs
}

/// Fields of a REC (A2.3, C1.19), held in its REC Granule.
public enum RecField: Hashable, Sendable {
    case owner, state, runnable, mpidr, pc
    case gpr(Int)            // X0..X30 of the Realm
    case aux(Int)            // aux Granule addresses, the first RecAuxCount valid
    case psciPending, emulatableAbort
    case ripasAddr, ripasTop, ripasValue, ripasDestroyed, ripasResponse
    case hostCallPending
    /// RmiRecExitReason of the last exit, plus one; 0 before the first entry.
    case lastExit
    /// Ghost: the `run_ptr` of the REC_ENTER that is running this REC.
    case runPtr

    public static let gprCount = 31
    public static let auxMax = 16

    /// Every field, in a fixed order.
    public static let all: [RecField] = [.owner, .state, .runnable, .mpidr, .pc]
        + (0..<gprCount).map { .gpr($0) } + (0..<auxMax).map { .aux($0) }
        + [.psciPending, .emulatableAbort, .ripasAddr, .ripasTop, .ripasValue, .ripasDestroyed, .ripasResponse,
           .hostCallPending, .lastExit, .runPtr]

    public var name: String {
        switch self {
        case .gpr(let i): "gprs[\(i)]"
        case .aux(let i): "aux[\(i)]"
        default: "\(self)"
        }
    }
}

/// Ghost fields of an RTT Granule: what TF-RMM keeps implicitly by position in the tree.
/// `leaked` is 1 once DATA_DESTROY cleared an entry of the table under
/// `weaken-data-destroy-no-refcount-decrement` (the reference TF-RMM's refcount keeps for
/// it); always 0 otherwise.
public enum RttField: Int, CaseIterable, Sendable {
    case level, owner, ipaBase, leaked
}

/// One RTT entry (C1.29): state, RIPAS, output address and the Host-controlled attributes
/// of an ASSIGNED_NS entry (descriptor bits MemAttr[4:2] and S2AP[7:6]).
public struct RttEntry<D: Domain> {
    public var state: Word<D>
    public var ripas: Word<D>
    public var addr: Word<D>
    public var attrs: Word<D>
    @inlinable public init(state: Word<D>, ripas: Word<D> = 0, addr: Word<D> = 0, attrs: Word<D> = 0) {
        self.state = state; self.ripas = ripas; self.addr = addr; self.attrs = attrs
    }
    @inlinable public func `is`(_ s: RttEntryState) -> Bit<D> { state == Word(s.rawValue) }
    /// Live entries (A5.5.8): ASSIGNED, ASSIGNED_NS or TABLE.
    public var isLive: Bit<D> { self.is(.assigned) || self.is(.assignedNS) || self.is(.table) }
    public static func select(_ c: Bit<D>, _ a: RttEntry<D>, _ b: RttEntry<D>) -> RttEntry<D> {
        RttEntry(state: ite(c, a.state, b.state), ripas: ite(c, a.ripas, b.ripas),
                 addr: ite(c, a.addr, b.addr), attrs: ite(c, a.attrs, b.attrs))
    }
}

/// The state-access interface the specification is written against.
///
/// The concrete state (`SpecState`) and the symbolic scope state implement it. Reads of an
/// object field at an address that holds no such object return 0; writes are guarded by
/// `when` so that the same code serves both readings. Entry-range operations take a
/// predicate or a transformer closure, which the concrete back-end runs per entry.
public protocol Machine {
    associatedtype D: Domain
    var platform: Platform { get }
    var options: SpecOptions { get }

    func granuleState(_ a: Word<D>) -> Word<D>
    func granuleGPT(_ a: Word<D>) -> Word<D>
    /// A digest of the Granule's contents; 0 is all-zero memory.
    func granuleContent(_ a: Word<D>) -> Word<D>
    mutating func setGranuleState(_ a: Word<D>, _ s: Word<D>, when: Bit<D>)
    mutating func setGranuleGPT(_ a: Word<D>, _ g: Word<D>, when: Bit<D>)
    mutating func setGranuleContent(_ a: Word<D>, _ c: Word<D>, when: Bit<D>)

    func realm(_ rd: Word<D>, _ f: RealmField) -> Word<D>
    mutating func setRealm(_ rd: Word<D>, _ f: RealmField, _ v: Word<D>, when: Bit<D>)
    func rec(_ r: Word<D>, _ f: RecField) -> Word<D>
    mutating func setRec(_ r: Word<D>, _ f: RecField, _ v: Word<D>, when: Bit<D>)
    func rtt(_ t: Word<D>, _ f: RttField) -> Word<D>
    mutating func setRtt(_ t: Word<D>, _ f: RttField, _ v: Word<D>, when: Bit<D>)

    func entry(_ t: Word<D>, _ i: Word<D>) -> RttEntry<D>
    mutating func setEntry(_ t: Word<D>, _ i: Word<D>, _ e: RttEntry<D>, when: Bit<D>)
    /// Replaces every entry `i` in `[from, to)` of RTT `t` by `f(i, entry)`.
    mutating func updateEntries(_ t: Word<D>, from: Word<D>, to: Word<D>, when: Bit<D>,
                                _ f: (Word<D>, RttEntry<D>) -> RttEntry<D>)
    /// The first index `i >= from` of RTT `t` whose entry satisfies `p`, or 512.
    func firstEntry(_ t: Word<D>, from: Word<D>, where p: (Word<D>, RttEntry<D>) -> Bit<D>) -> Word<D>
    /// Whether every entry of RTT `t` satisfies `p`.
    func allEntries(_ t: Word<D>, _ p: (Word<D>, RttEntry<D>) -> Bit<D>) -> Bit<D>
    /// How many entries of RTT `t` satisfy `p`.
    func countEntries(_ t: Word<D>, _ p: (Word<D>, RttEntry<D>) -> Bit<D>) -> Word<D>
    /// `firstEntry`, `allEntries` and `countEntries` for a predicate of the entry alone (not
    /// of its index). Equal entries then get the same answer, so a concrete state asks `p`
    /// once per run of equal entries (an RTT holds a few runs); the default asks the indexed
    /// form, which gives the symbolic faces the same terms as before.
    func firstEntry(_ t: Word<D>, from: Word<D>, whereEntry p: (RttEntry<D>) -> Bit<D>) -> Word<D>
    func everyEntry(_ t: Word<D>, _ p: (RttEntry<D>) -> Bit<D>) -> Bit<D>
    func countEntries(_ t: Word<D>, matching p: (RttEntry<D>) -> Bit<D>) -> Word<D>
    /// `allEntries(t, p)` for a `p` whose indices that hold form one interval for each entry
    /// (all, none, one index, those up to a bound or past it): a state that keeps the runs of
    /// equal entries of its tables (`PoolState`) asks `p` only at the two ends of each run.
    /// The default asks every index (so `SpecState` checks what `PoolState` assumes).
    func allEntriesOnIntervals(_ t: Word<D>, _ p: (Word<D>, RttEntry<D>) -> Bit<D>) -> Bit<D>
    /// Whether `p(i, old, new)` holds for every entry `i` of RTT `t`, where `old` is the entry
    /// in `pre` and `new` the entry here. `p` must hold whenever `old` and `new` are equal, so
    /// a back-end may skip unchanged entries (the default implementation does not).
    func allEntryChanges(_ t: Word<D>, since pre: Self, _ p: (Word<D>, RttEntry<D>, RttEntry<D>) -> Bit<D>) -> Bit<D>

    /// Every address whose Granule may differ from its initial state (the concrete state:
    /// the Granules it stores; a bounded scope: its slots). Properties quantify over these.
    var addresses: [Word<D>] { get }
    /// The addresses a step from `pre` to this state quantifies over: each of `addresses`
    /// here and in `pre`, possibly some more than once (the default: these, then `pre`'s).
    func stepAddresses(since pre: Self) -> [Word<D>]

    /// Whether `p(t)` holds of every starting RTT `t` of a Realm whose `count` starting RTTs
    /// begin at `base` (`startingRtt(_:base:count:)`).
    func allStartingRtts(base: Word<D>, count: Word<D>, _ p: (Word<D>) -> Bit<D>) -> Bit<D>
    /// Runs `body(&state, i, t, make)` for each possible starting RTT `t = base + i * 4K`
    /// (`i < 16`), with `make` = `when` and `i < count`. `body` reads and writes the state
    /// only at Granule `t`, and only under `make`.
    mutating func updateStartingRtts(base: Word<D>, count: Word<D>, when: Bit<D>,
                                     _ body: (inout Self, Word<D>, Word<D>, Bit<D>) -> Void)

    /// Whether some Granule in state RD satisfies `p` (given its address).
    func existsRealm(where p: (Word<D>) -> Bit<D>) -> Bit<D>
    /// Whether some Granule in state REC satisfies `p` (given its address).
    func existsRec(where p: (Word<D>) -> Bit<D>) -> Bit<D>

    /// Non-secure memory the Host writes and commands read (parameter blocks, REC run).
    func nsRead(_ a: Word<D>) -> Word<D>
    mutating func nsWrite(_ a: Word<D>, _ v: Word<D>, when: Bit<D>)
}

extension Machine {
    public func stepAddresses(since pre: Self) -> [Word<D>] { addresses + pre.addresses }
    public func firstEntry(_ t: Word<D>, from: Word<D>, whereEntry p: (RttEntry<D>) -> Bit<D>) -> Word<D> {
        firstEntry(t, from: from) { _, e in p(e) }
    }
    public func everyEntry(_ t: Word<D>, _ p: (RttEntry<D>) -> Bit<D>) -> Bit<D> { allEntries(t) { _, e in p(e) } }
    public func countEntries(_ t: Word<D>, matching p: (RttEntry<D>) -> Bit<D>) -> Word<D> { countEntries(t) { _, e in p(e) } }
    public func allEntriesOnIntervals(_ t: Word<D>, _ p: (Word<D>, RttEntry<D>) -> Bit<D>) -> Bit<D> { allEntries(t, p) }
    public func allEntryChanges(_ t: Word<D>, since pre: Self, _ p: (Word<D>, RttEntry<D>, RttEntry<D>) -> Bit<D>) -> Bit<D> {
        allEntries(t) { i, e in p(i, pre.entry(t, i), e) }
    }
}

extension Machine {
    public typealias W = Word<D>
    public typealias B = Bit<D>

    /// `PaIsDelegable(addr)`.
    public func isDelegable(_ a: Word<D>) -> Bit<D> {
        platform.delegable.reduce(Bit(false)) { acc, r in acc || (a >= Word(r.base) && (a - Word(r.base)) < Word(r.size)) }
    }
    public func granuleIs(_ a: Word<D>, _ s: GranuleState) -> Bit<D> { granuleState(a) == Word(s.rawValue) }
    public mutating func setGranuleState(_ a: Word<D>, _ s: GranuleState, when: Bit<D>) {
        setGranuleState(a, Word(s.rawValue), when: when)
    }
    /// `GranuleAccessPermitted(addr, PAS_NS)`: GPT_NS or GPT_AAP.
    public func nsAccessible(_ a: Word<D>) -> Bit<D> {
        let g = granuleGPT(a)
        return g == Word(GPT.ns.rawValue) || g == Word(GPT.aap.rawValue)
    }

    /// Whether the Host can write the Granule at `a`: memory outside the delegable ranges
    /// (device memory), or a Granule that is UNDELEGATED with a GPT entry that grants the NS
    /// PAS access. Any other write faults (a Granule Protection Fault) and changes nothing.
    public func hostMayWrite(_ a: Word<D>) -> Bit<D> {
        !isDelegable(a) || (granuleIs(a, .undelegated) && nsAccessible(a))
    }

    /// Another agent's move (A2.2.3.1): the GPT entry of an UNDELEGATED Granule changes to
    /// `g`, any value but GPT_REALM (only the RMM grants the Realm PAS). Makes the change
    /// when it is such a move, and returns whether it is.
    public mutating func otherAgentSetsGPT(_ a: Word<D>, _ g: Word<D>) -> Bit<D> {
        let allowed = [GPT.ns, .secure, .root, .aap].reduce(Bit<D>(false)) { $0 || g == Word($1.rawValue) }
        let applies = allowed && granuleIs(a, .undelegated)
        setGranuleGPT(a, g, when: applies)
        return applies
    }
}
