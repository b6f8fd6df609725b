import Foundation
import RMISpec
import SMT
import Synchronization

/// Induction (k = 1) over `AddressArrays`: the whole abstract state at every address, so a
/// proof holds for any memory size, with every command of the alphabet and the events.
///
/// A target is stated at one address, a free probe `b`: it must be a property that holds in
/// a state exactly when it holds at each address on its own (`unsupported` checks it), and
/// ask no search the arrays over-approximate. The lemmas are such properties and the
/// `EncodingLemma`s, assumed in the pre-state at the addresses and RTT entries the step and
/// the target read or write (instances of "for all": sound). For each move (a command with
/// any arguments and Realm action, another agent's GPT change, the Host writing a Granule,
/// the exit of a running REC) the solver is asked for such a pre-state and a step that
/// breaks the target at `b`; none for every move, and the initial state satisfying it, is a
/// proof, once every lemma it may use is proved the same way (Houdini, in `prove`). The
/// moves over-approximate the spec where the arrays do, which keeps the proof sound and may
/// only add counterexamples to induction (UNKNOWN, never a pass).
public struct EveryAddressProver: Sendable {
    public var settings: SymbolicSettings
    /// The lemmas assumed in every pre-state (default: every property the arrays state).
    public var lemmas: [Invariant]?
    /// How deep the BMC of each target's cover target looks (over the settings' scope).
    public var coverDepth: Int
    /// The encoding lemmas (`EncodingLemma`) that join the pool.
    public var encodingLemmas: [EncodingLemma]
    /// The resource count of a question asked with part of the pool in the move's solver
    /// (`someLemmasRlimit`; a test makes it tiny to send every such question to the lean
    /// solver).
    var partialRlimit = EveryAddressProver.someLemmasRlimit

    public init(settings: SymbolicSettings, lemmas: [Invariant]? = nil, coverDepth: Int = 3,
                encodingLemmas: [EncodingLemma]? = nil) {
        self.settings = settings
        self.lemmas = lemmas
        self.coverDepth = coverDepth
        self.encodingLemmas = encodingLemmas ?? EncodingLemma.defaultPool(for: settings.commands)
    }

    /// The encoding lemmas named by their `EncodingLemma` raw values (any case); `none` alone
    /// names no lemma. Throws `UnsupportedByEncoding` for a name that is not one.
    public static func encodingLemmas(named names: [String]) throws -> [EncodingLemma] {
        if names.map({ $0.lowercased() }) == ["none"] { return [] }
        var out: [EncodingLemma] = []
        for n in names {
            guard let l = EncodingLemma(rawValue: n.uppercased()) else {
                let known = EncodingLemma.allCases.map(\.rawValue).joined(separator: ", ")
                throw UnsupportedByEncoding(message: "unknown encoding lemma '\(n)' (known: \(known), or none)")
            }
            if !out.contains(l) { out.append(l) }
        }
        return out
    }

    /// How much work (Z3's resource count) a question asked with part of the lemma pool may
    /// take before it is asked with the whole pool (ENTRY-ASSIGNED-DATA at RTT_CREATE:
    /// unknown after 300 s with the lemma alone, UNSAT in 1.3 s with the pool). A count, not
    /// a time, so that which questions are asked does not depend on the machine's load:
    /// 20 M is 7–20 s on this 2-core machine.
    static let someLemmasRlimit: UInt64 = 20_000_000

    /// Why a property cannot be stated over the arrays, or nil when it can.
    public static func unsupported(_ p: Invariant, options: SpecOptions = []) -> String? {
        analyse(p, options: options).why
    }

    /// Whether a property the arrays state is stated per RTT entry too (its `allEntries`
    /// read at a free entry index, `AddressArrays.entryProbes`).
    public static func statedPerEntry(_ p: Invariant, options: SpecOptions = []) -> Bool {
        analyse(p, options: options).perEntry
    }

    /// How many addresses a property the arrays state is stated over at once: 1, or 2 for
    /// one stated per pair of addresses (INV-G4: a Granule and whatever could name it).
    public static func arity(_ p: Invariant, options: SpecOptions = []) -> Int {
        analyse(p, options: options).arity
    }

    /// A property is stated one address at a time when it holds at two addresses exactly
    /// when it holds at each; per pair, when it holds at three exactly when it holds at
    /// each two of them, all three different (an `always` property only; the engine states
    /// it for two different addresses). One that searches RTT entries is
    /// stated one entry at a time too when, with its entry searches at two free indices, it
    /// holds exactly when it holds at each (so every such search is "for every entry",
    /// never "for some").
    private static func analyse(_ p: Invariant, options: SpecOptions) -> (why: String?, perEntry: Bool, arity: Int) {
        let key = "\(p.rawValue) \(options.rawValue)"
        if let known = analyses.withLock({ $0[key] }) { return known }
        let result = analyseAfresh(p, options: options)
        analyses.withLock { $0[key] = result }
        return result
    }
    /// `analyse`'s answers: each asks Z3 up to five questions, and the engine, the CLI and
    /// the plan runner ask for each property several times.
    private static let analyses = Mutex<[String: (why: String?, perEntry: Bool, arity: Int)]>([:])

    private static func analyseAfresh(_ p: Invariant, options: SpecOptions) -> (why: String?, perEntry: Bool, arity: Int) {
        let ctx = Context()
        return Symbolic.withContext(ctx) { () -> (String?, Bool, Int) in
            guard p.kind == .always || p.kind == .step else { return ("\(p.rawValue) is a \(p.kind.rawValue) property", false, 1) }
            let m = AddressArrays.arbitrary(platform: .standard, options: options, prefix: "u", probes: [])
            let (v, w) = (Symbolic.variable("u.v"), Symbolic.variable("u.w"))
            let (j, k) = (Symbolic.variable("u.j"), Symbolic.variable("u.k"))
            func eval(_ probes: [Term], _ entries: [Term]) -> (Term, Set<String>) {
                let t = m.probing(probes, entries: entries).observed()
                let value: Term
                switch p.kind {
                case .step:
                    var post = t
                    post.setGranuleContent(SWord(raw: Symbolic.variable("u.a")), SWord(raw: Symbolic.variable("u.c")),
                                           when: SBit(raw: Symbolic.boolVariable("u.writes")))
                    value = p.holds(on: StepView(pre: t, post: post, command: .granuleDelegate, args: [SWord(raw: v)],
                                                 succeeded: SBit(raw: Symbolic.boolVariable("u.ok")),
                                                 unchanged: SBit(raw: Symbolic.boolVariable("u.same")))).raw
                default:
                    value = p.holds(in: t).raw
                }
                return (value, t.record.abstractions)
            }
            let perEntry = eval([v], []).1.contains("RTT entry search")
            let es = perEntry ? [j] : []
            let u = Symbolic.variable("u.u"), x = Symbolic.variable("u.x")
            let (one, used1) = eval([v], es), (two, used2) = eval([v, w], es), (other, _) = eval([w], es)
            let (three, used3) = eval([v, w, u], es)
            let used = used1.union(used2).union(used3)
            if !used.isEmpty {
                return ("\(p.rawValue) asks \(used.sorted().joined(separator: ", ")), which the arrays over-approximate", perEntry, 1)
            }
            func valid(_ t: Term) -> Bool {
                let solver = Solver(ctx)
                try? solver.assert(ctx.not(t))
                return (try? solver.check()) == .unsat
            }
            // Per address: at two addresses exactly when at each; per pair: at three exactly
            // when at each two (counts and searches over other addresses are neither).
            let arity: Int
            if valid(ctx.eq(two, ctx.and(one, other))) {
                arity = 1
            } else if p.kind == .always, valid(ctx.implies(ctx.distinct([v, w, u]), ctx.eq(three, ctx.and([two, eval([v, u], es).0, eval([w, u], es).0])))) {
                arity = 2
            } else if p.kind == .always, !support(of: p).isEmpty,
                      support(of: p).contains(where: { $0.witness != nil })
                        || !perEntry && valid(ctx.implies(ctx.distinct([v, w, u, x]),
                                             ctx.eq(eval([v, w, u, x], []).0, ctx.and([three, eval([v, w, x], []).0, eval([v, u, x], []).0, eval([w, u, x], []).0])))) {
                // Per triple (INV-R2), or what witnesses give (INV-C2's count, INV-G3's
                // searches), which the engine does not state at once: proved through lemmas
                // that imply it (`implied`, asked by `run`: INV-G3's question takes half a
                // minute, and this analysis runs for every property a command names).
                return (nil, perEntry, 3)
            } else {
                return ("\(p.rawValue) relates more than two addresses at once (a count or a search over addresses), which a statement per address or per pair cannot express", perEntry, 1)
            }
            if perEntry {
                let probes = arity == 1 ? [v] : [v, w]
                let (both, _) = eval(probes, [j, k]), (atJ, _) = eval(probes, [j]), (atK, _) = eval(probes, [k])
                if !valid(ctx.eq(both, ctx.and(atJ, atK))) {
                    return ("\(p.rawValue) searches RTT entries for some entry (or counts them), which a per-entry statement cannot express", perEntry, arity)
                }
            }
            return (nil, perEntry, arity)
        }
    }

    /// The encoding lemmas through which an INV-* that relates more than two addresses at
    /// once is proved, or none. The engine states claims at one address or two; such an
    /// INV-* is PROVED when each of these lemmas is, once `run` has checked that they imply
    /// it (`implied`):
    /// - INV-R2 (a Realm and two of its RECs): it holds at four addresses exactly when at
    ///   each three, and the lemmas imply it at any three;
    /// - INV-C2 (a count over every REC): REC-AUX-OWNER says that each REC's term of the
    ///   count is 1 at the Granule's owner (a ghost) and 0 at every other address, so the sum
    ///   over any memory is 1; checked on every memory of three addresses;
    /// - INV-G3 (searches for a REC and an RTT entry): REC-AUX-OWNER and DATA-COVERED name
    ///   them, REC-RANK and RTT-LEVEL say their owners are RDs; checked likewise.
    public static func support(of p: Invariant) -> [EncodingLemma] {
        switch p {
        case .r2: [.recCountBelowIndex, .recIndexBelow, .recIndexDistinct]
        case .c2: [.recAuxOwner]
        case .g3: [.recRank, .rttLevel, .recAuxOwner, .dataCovered]
        default: []
        }
    }

    /// Whether `prove --every-address` proves `p` without being told: every property the
    /// arrays state but those stated per pair (INV-R3's question at GRANULE_DELEGATE alone
    /// was not answered in 15 minutes) and INV-G3 (`implied` takes half a minute for it, and
    /// its ghost's moves at RTT_FOLD and RTT_CREATE have not been run yet).
    public static func provedByDefault(_ p: Invariant, options: SpecOptions = []) -> Bool {
        unsupported(p, options: options) == nil && arity(p, options: options) != 2 && p != .g3
    }

    /// `implied(p, by: support(of: p))`, asked once per process.
    static func impliedOnce(_ p: Invariant, options: SpecOptions) -> Bool {
        let key = "\(p.rawValue) \(options.rawValue)"
        if let known = impliedAnswers.withLock({ $0[key] }) { return known }
        let answer = implied(p, by: support(of: p), options: options)
        impliedAnswers.withLock { $0[key] = answer }
        return answer
    }
    private static let impliedAnswers = Mutex<[String: Bool]>([:])

    /// `lemmas` and the lemmas of each property of `properties` stated through lemmas: such
    /// an INV-* joins the pool as its `support`.
    public static func encodingPool(_ lemmas: [EncodingLemma], for properties: [Invariant]) -> [EncodingLemma] {
        var pool = lemmas
        for p in properties { for l in support(of: p) where !pool.contains(l) { pool.append(l) } }
        return pool
    }

    /// Whether `lemmas` (stated at one address or two, none over RTT entries) imply `p` at
    /// any three different addresses of any state, with any ghosts: each lemma at every one
    /// of them or every two (both orders for one that is not symmetric, and one twice), `p`
    /// on the three. With witnesses (`EncodingLemma.witness`), on every memory of three
    /// addresses: each address's witnesses are among them, and an RTT's entries are those
    /// the entry witnesses name. (Different addresses: INV-R2 read at the same REC twice
    /// asks it to differ from itself.)
    static func implied(_ p: Invariant, by lemmas: [EncodingLemma], options: SpecOptions = []) -> Bool {
        let ctx = Context()
        return Symbolic.withContext(ctx) { () -> Bool in
            let m = AddressArrays.arbitrary(platform: .standard, options: options, prefix: "i", probes: [])
            let g = Ghosts(prefix: "i")
            let witnesses = lemmas.compactMap(\.witness)
            let points = ["i.v", "i.w", "i.u"].map { Symbolic.variable($0) }
            let solver = Solver(ctx)
            for w in witnesses {
                for q in points { try? solver.assert(ctx.or(points.map { ctx.eq(ctx.select(g[keyPath: w], q), $0) })) }
            }
            // The RTTs' entries are those a witness names: entries elsewhere are not there.
            let entries = lemmas.compactMap(\.entryWitness).flatMap { w in points.map { ctx.select(g[keyPath: w], $0) } }
            for l in lemmas {
                precondition(!l.overEntries, "\(l.rawValue) is stated over RTT entries")
                for (i, q) in points.enumerated() {
                    if l.arity == 1 { try? solver.assert(l.holds(in: m, at: [q], entries: [], ghosts: g)); continue }
                    for (k, r) in points.enumerated() where !l.symmetric || i <= k {
                        try? solver.assert(l.holds(in: m, at: [q, r], entries: [], ghosts: g))
                    }
                }
            }
            try? solver.assert(ctx.distinct(points))
            try? solver.assert(ctx.not(p.holds(in: m.probing(points, entries: entries)).raw))
            return (try? solver.check()) == .unsat
        }
    }

    /// Lemmas the INV-* need over the arrays that no INV-* states one address or entry at a
    /// time (INV-C2 and INV-T5 count): stated for every pair of addresses or every (RTT,
    /// index), proved with the other lemmas, and assumed where each step reads.
    public enum EncodingLemma: String, CaseIterable, Sendable {
        /// The aux Granules of two RECs are different Granules.
        case recAuxDisjoint = "REC-AUX-DISJOINT"
        /// The aux Granules of a REC are REC_AUX Granules (INV-C1's aux half: C1 also says
        /// the owner is an RD, which REALM_DESTROY keeps only by counting RECs).
        case recAuxState = "REC-AUX-STATE"
        /// The starting RTTs of a Realm are RTT Granules it owns, of its starting level, the
        /// i-th mapping the IPAs from i * 512 * RttLevelSize(level) (INV-R3's first half; R3
        /// searches TABLE entries too). Stated for a pair: an RD and an address.
        case startingRtts = "REALM-STARTING-RTTS"
        /// An ASSIGNED entry of an RTT names a DATA Granule (its first, for a block).
        case assignedNamesData = "ENTRY-ASSIGNED-DATA"
        /// No two ASSIGNED entries of RTTs name the same Granule (as ENTRY-ASSIGNED-DISJOINT,
        /// the entries of a Granule that is no RTT, which no command reads, are left out).
        case assignedUnique = "ENTRY-ASSIGNED-UNIQUE"
        /// ASSIGNED entries are in RTTs of level 3: no block. Only RTT_FOLD makes one, so it
        /// joins the default pool only when RTT_FOLD is not in the alphabet
        /// (`defaultPool(for:)`); where it holds it is far cheaper than the two block lemmas.
        case assignedAtLevel3 = "ENTRY-ASSIGNED-LEVEL-3"
        /// Every Granule an ASSIGNED entry of an RTT covers is DATA: the addresses 4K apart
        /// from the entry's address to RttLevelSize(level) past it (modulo 2^64). A page
        /// covers its own Granule; a block (RTT_FOLD makes one of 512 entries, RTT_CREATE
        /// splits it again) covers every Granule of its entries. Stated for an address and an
        /// entry.
        case assignedBlock = "ENTRY-ASSIGNED-BLOCK"
        /// Two ASSIGNED entries of RTTs cover no Granule in common: neither's address lies in
        /// what the other covers (so DATA_DESTROY's page is in no block).
        case assignedDisjoint = "ENTRY-ASSIGNED-DISJOINT"
        /// A TABLE entry of an RTT names an RTT one level down with the same owner (INV-T2's
        /// first half), so a walk's level is the level of the RTT it stops in.
        case tableNamesChild = "ENTRY-TABLE-CHILD"
        /// No two TABLE entries of RTTs name the same Granule (INV-T1's "exactly one").
        case tableUnique = "ENTRY-TABLE-UNIQUE"
        /// No TABLE entry of an RTT names a starting RTT of a Realm (INV-R3's second half).
        /// Stated for an RD and an entry.
        case tableNotStarting = "ENTRY-TABLE-NOT-STARTING"
        /// A Realm's state is NEW, ACTIVE or SYSTEM_OFF and a REC's `runnable` flag 0 or 1:
        /// the fields' types, which 64-bit words do not give. Without it a Realm in some
        /// fourth state passes REC_ENTER's `realm_new` and `system_off`, and a PSCI
        /// SYSTEM_OFF exit moves it back to SYSTEM_OFF (INV-R6's counterexample to induction
        /// at REC_ENTER); and a REC with `runnable` 2 is entered and runs while INV-C3 says a
        /// running REC's flag is 1. Also a REC's `ripas_value` is EMPTY or RAM (REC_CREATE
        /// writes 0, a RIPAS_CHANGE exit only a value the Realm may request): without it
        /// RTT_SET_RIPAS gives entries a RIPAS that is none of the three (INV-T7). And a
        /// Granule that is not UNDELEGATED is at a 4K-aligned address (every command checks
        /// its Granule arguments' alignment): else REALM_CREATE makes a starting range that
        /// holds a DELEGATED Granule at an address between two starting RTTs (INV-G4).
        case fieldValues = "FIELD-VALUES"
        /// A REC's owner is an RD, and the REC's rank (a ghost: a number the proof gives each
        /// REC, `EveryAddressProver.ghostStep`) is below its Realm's `num_recs`. It stands in
        /// for INV-R1's count, which no address states: with REC-RANK-DISTINCT it says a
        /// Realm with `num_recs` 0 owns no REC, so REALM_DESTROY (whose `realm_live` reads
        /// the count) leaves no REC with a destroyed owner (INV-C1, C3, C4, C5).
        case recRank = "REC-RANK"
        /// Two RECs of the same Realm have different ranks.
        case recRankDistinct = "REC-RANK-DISTINCT"
        /// A REC waiting for PSCI_COMPLETE is runnable: only a CPU_ON or AFFINITY_INFO exit
        /// of a running REC sets `psci_pending`, and REC_ENTER refuses the REC until it is
        /// cleared. Without it PSCI_COMPLETE's CPU_ON powers on a REC that is itself
        /// waiting, overwriting the registers INV-C4 reads.
        case psciPendingRunnable = "REC-PSCI-PENDING-RUNNABLE"
        /// An RTT's owner is an RD, its level is between the Realm's starting level and 3
        /// (the starting level at least -1), and an RTT of the starting level is one of the
        /// Realm's starting RTTs. Without it an RTT outlives its Realm's REALM_DESTROY, and
        /// INV-T3 reads the IPA width of no Realm.
        case rttLevel = "RTT-LEVEL"
        /// A Realm's IPA width, starting level and number of starting RTTs are a valid RTT
        /// configuration (REALM_CREATE's `rtt_num_level`): so every IPA of the Realm's space
        /// has a starting RTT, and a walk starts in one. And its `rtt_base` is 4K-aligned
        /// (`rtt_align`), so every Granule in its starting range is a starting RTT.
        case realmGeometry = "REALM-GEOMETRY"
        /// An RTT below its Realm's starting level hangs from its parent: the parent (a ghost
        /// of the proof with the entry's index, written by RTT_CREATE: `ghostStep`) is an RTT
        /// of the same Realm one level up whose entry there is TABLE and names it (INV-T1's
        /// first half, without its walk); and its root (the starting RTT and entry its
        /// branch hangs from) is its parent's, or its parent and that entry one level below
        /// the starting level.
        case rttParent = "RTT-PARENT"
        /// The root of an RTT below the starting level is a starting RTT of its Realm whose
        /// entry there is TABLE: so REALM_DESTROY's `realm_live` sees a TABLE entry while the
        /// Realm owns any RTT but its starting ones.
        case rttRoot = "RTT-ROOT"
        /// A Realm's `num_recs` is at most its `rec_index` (INV-R2's first part): REC_CREATE
        /// raises both, REC_DESTROY lowers the count only.
        case recCountBelowIndex = "REALM-REC-COUNT"
        /// A REC's index (RecIndex of its MPIDR) is below its Realm's `rec_index` (INV-R2's
        /// second part): REC_CREATE takes the index `rec_index` names, then raises it.
        case recIndexBelow = "REC-INDEX-BELOW"
        /// Two RECs of the same Realm have different indices (INV-R2's third part).
        case recIndexDistinct = "REC-INDEX-DISTINCT"
        /// A REC_AUX Granule has an owner (a ghost, written by REC_CREATE: `ghostStep`): the
        /// aux slots of a REC that name the Granule number 1 at its owner and 0 at every other
        /// address. Stated for the Granule and any address. INV-C2 counts those slots over
        /// every address (`Machine.auxSlots`), so it is then 1.
        case recAuxOwner = "REC-AUX-OWNER"
        /// A DATA Granule is covered by an ASSIGNED entry of an RTT: the entry (a ghost, an RTT
        /// and an index, written by DATA_CREATE and moved by RTT_FOLD and by RTT_CREATE's
        /// unfold: `ghostStep`) is ASSIGNED and the Granule lies 4K-aligned from the entry's
        /// address on, within RttLevelSize(level). INV-G3's DATA half searches for it.
        case dataCovered = "DATA-COVERED"

        /// Whether it is stated over (RTT, index) pairs rather than addresses.
        var overEntries: Bool {
            ![.recAuxDisjoint, .recAuxState, .startingRtts, .fieldValues, .recRank, .recRankDistinct, .psciPendingRunnable, .realmGeometry,
              .rttLevel, .rttParent, .rttRoot, .recCountBelowIndex, .recIndexBelow, .recIndexDistinct, .recAuxOwner, .dataCovered].contains(self)
        }
        /// Whether it is stated for an address and an entry.
        var mixed: Bool { self == .tableNotStarting || self == .assignedBlock }
        /// How many addresses or pairs it is stated over.
        var arity: Int {
            [.assignedNamesData, .assignedBlock, .recAuxState, .assignedAtLevel3, .tableNamesChild, .tableNotStarting, .fieldValues, .recRank,
             .psciPendingRunnable, .realmGeometry, .rttLevel, .rttParent, .rttRoot, .recCountBelowIndex, .recIndexBelow, .dataCovered].contains(self) ? 1 : 2
        }
        /// Whether it says the same of (x, y) as of (y, x) (then one order is instantiated).
        var symmetric: Bool { self != .startingRtts && self != .recAuxOwner }
        /// The ghost that names, for an address, the address the lemma says something is
        /// found at (`implied` checks such a lemma on memories that hold that address), and
        /// the ghost that names the entry there.
        var witness: KeyPath<Ghosts, Term>? {
            switch self {
            case .recAuxOwner: \.auxOwner
            case .dataCovered: \.dataTable
            default: nil
            }
        }
        var entryWitness: KeyPath<Ghosts, Term>? { self == .dataCovered ? \.dataIndex : nil }

        /// The pool when none is named: every lemma, but ENTRY-ASSIGNED-LEVEL-3 when RTT_FOLD,
        /// which makes blocks and so breaks it at once, is in the alphabet.
        public static func defaultPool(for commands: [RMICommand]) -> [EncodingLemma] {
            allCases.filter { ($0 != .assignedAtLevel3 || !commands.contains(.rttFold)) && !supportOnly.contains($0) }
        }

        /// The lemmas that only an INV-* stated through them needs (`EveryAddressProver.support`):
        /// they join the pool with that INV-* as a target.
        static let supportOnly: [EncodingLemma] = [.recCountBelowIndex, .recIndexBelow, .recIndexDistinct, .recAuxOwner, .dataCovered]

        /// Which starting RTT of `r` the address `t` would be, `(t - rtt_base) / 4K`, and
        /// whether `r` is an RD and `t` one of its starting RTTs (`Machine.startingRtt`: with
        /// the commands' 16 cases, 16 adders per instance, the questions with the RTT lemmas
        /// at every point and entry were not answered in minutes).
        static func startingIndex(_ m: AddressArrays, _ t: SWord, of r: SWord) -> (index: SWord, isStarting: Term) {
            let (i, starting) = AddressArrays.startingRtt(t, base: m.realm(r, .rttBase), count: m.realm(r, .numStart))
            return (i, Symbolic.and(m.granuleIs(r, .rd).raw, starting.raw))
        }

        /// Whether the lemma holds in `m` at addresses `a` and entries `e`; `ghosts` are the
        /// proof's ghost arrays of `m` (read only by the REC-RANK and RTT lemmas).
        func holds(in m: AddressArrays, at a: [Term], entries e: [(table: Term, index: Term)], ghosts: Ghosts? = nil) -> Term {
            typealias S = Symbolic
            func startingIndex(_ t: SWord, of r: SWord) -> (index: SWord, isStarting: Term) { Self.startingIndex(m, t, of: r) }
            func isStartingRtt(_ t: SWord, of r: SWord) -> Term { startingIndex(t, of: r).isStarting }
            /// Whether `p.table` is an RTT and its entry `p.index` is in state `s`, and the address
            /// the entry names. (The entry lemmas say nothing of the rows of a Granule that is
            /// no RTT, which no command reads.)
            func entry(_ p: (table: Term, index: Term), _ s: RttEntryState) -> (Term, Term) {
                let x = m.entry(SWord(raw: p.table), SWord(raw: p.index))
                let isS = S.and(S.ult(p.index, S.lit(Layout.entriesPerRtt)), x.is(s).raw)
                return (S.and(isS, m.granuleIs(SWord(raw: p.table), .rtt).raw), x.addr.raw)
            }
            switch self {
            case .recAuxDisjoint:
                let (r, q) = (SWord(raw: a[0]), SWord(raw: a[1]))
                var apart = S.lit(true)
                for i in 0..<Int(m.platform.recAuxCount) {
                    for k in 0..<Int(m.platform.recAuxCount) {
                        apart = S.and(apart, S.not(S.eq(m.rec(r, .aux(i)).raw, m.rec(q, .aux(k)).raw)))
                    }
                }
                let both = S.and(S.and(m.granuleIs(r, .rec).raw, m.granuleIs(q, .rec).raw), S.not(S.eq(a[0], a[1])))
                return S.or(S.not(both), apart)
            case .recAuxState:
                let c = SWord(raw: a[0])
                var aux = S.lit(true)
                for i in 0..<Int(m.platform.recAuxCount) { aux = S.and(aux, m.granuleIs(m.rec(c, .aux(i)), .recAux).raw) }
                return S.or(S.not(m.granuleIs(c, .rec).raw), aux)
            case .fieldValues:
                let x = SWord(raw: a[0])
                let state = [RealmState.new, .active, .systemOff].reduce(S.lit(false)) { S.or($0, m.realmIs(x, $1).raw) }
                let rec = m.rec(x, .runnable) <= SWord.lit(1) && m.rec(x, .ripasValue) <= SWord.lit(Ripas.ram.rawValue)
                let maxRecs = (UInt64(1) << m.platform.features.maxRecsOrder) - 1
                let realm = S.and(state, (m.realm(x, .numRecs) <= SWord.lit(maxRecs)).raw)
                let placed = S.or(m.granuleIs(x, .undelegated).raw, m.aligned(x).raw)
                return S.and(S.and(S.or(S.not(m.granuleIs(x, .rd).raw), realm), S.or(S.not(m.granuleIs(x, .rec).raw), rec.raw)), placed)
            case .recRank:
                let c = SWord(raw: a[0]), owner = m.rec(c, .owner)
                let ranked = m.granuleIs(owner, .rd) && SWord(raw: S.context.select(ghosts!.rank, c.raw)) < m.realm(owner, .numRecs)
                return S.or(S.not(m.granuleIs(c, .rec).raw), ranked.raw)
            case .recRankDistinct:
                let (c, d) = (SWord(raw: a[0]), SWord(raw: a[1]))
                let both = m.granuleIs(c, .rec) && m.granuleIs(d, .rec) && c != d && m.rec(c, .owner) == m.rec(d, .owner)
                return S.or(S.not(both.raw), S.not(S.eq(S.context.select(ghosts!.rank, a[0]), S.context.select(ghosts!.rank, a[1]))))
            case .psciPendingRunnable:
                let c = SWord(raw: a[0])
                let waiting = m.granuleIs(c, .rec) && m.rec(c, .psciPending) != SWord.lit(0)
                return S.or(S.not(waiting.raw), m.recIsRunnable(c).raw)
            case .realmGeometry:
                let r = SWord(raw: a[0])
                let valid = m.rttConfigIsValid(w: m.realm(r, .ipaWidth), sl: m.realm(r, .levelStart), n: m.realm(r, .numStart),
                                               lpa2: m.realm(r, .lpa2) != SWord.lit(0))
                // REALM_CREATE's `rtt_align`, the 4K half: the starting RTTs are the Granules
                // of [rtt_base, rtt_base + rtt_num_start * 4K) (INV-G4's range).
                return S.or(S.not(m.granuleIs(r, .rd).raw), (valid && m.aligned(m.realm(r, .rttBase))).raw)
            case .rttLevel:
                let t = SWord(raw: a[0]), owner = m.rtt(t, .owner), level = m.rtt(t, .level), sl = m.realm(owner, .levelStart)
                // Levels -1 (LPA2) to 3: an RTT is at most four levels below its root.
                let ranged = m.granuleIs(owner, .rd) && !level.slt(sl) && !SWord.lit(3).slt(level) && !sl.slt(SWord.lit(UInt64(bitPattern: -1)))
                let starting = S.or(S.not((level == sl).raw), isStartingRtt(t, of: owner))
                return S.or(S.not(m.granuleIs(t, .rtt).raw), S.and(ranged.raw, starting))
            case .rttParent:
                let g = ghosts!, t = SWord(raw: a[0]), owner = m.rtt(t, .owner), level = m.rtt(t, .level), sl = m.realm(owner, .levelStart)
                func read(_ array: Term, _ x: SWord) -> SWord { SWord(raw: S.context.select(array, x.raw)) }
                let parent = read(g.parent, t), index = read(g.index, t)
                let x = m.entry(parent, index)
                let hangs = m.granuleIs(parent, .rtt) && m.rtt(parent, .owner) == owner && m.rtt(parent, .level) + 1 == level
                    && index < SWord.lit(Layout.entriesPerRtt) && x.is(.table) && x.addr == t
                let top = m.rtt(parent, .level) == sl
                let root = ite(top, read(g.root, t) == parent && read(g.rootIndex, t) == index,
                               read(g.root, t) == read(g.root, parent) && read(g.rootIndex, t) == read(g.rootIndex, parent))
                return S.or(S.not((m.granuleIs(t, .rtt) && level != sl).raw), (hangs && root).raw)
            case .rttRoot:
                let g = ghosts!, t = SWord(raw: a[0]), owner = m.rtt(t, .owner)
                let root = SWord(raw: S.context.select(g.root, t.raw)), index = SWord(raw: S.context.select(g.rootIndex, t.raw))
                let hangs = index < SWord.lit(Layout.entriesPerRtt) && m.entry(root, index).is(.table)
                let below = m.granuleIs(t, .rtt) && m.rtt(t, .level) != m.realm(owner, .levelStart)
                return S.or(S.not(below.raw), S.and(isStartingRtt(root, of: owner), hangs.raw))
            case .recCountBelowIndex:
                let r = SWord(raw: a[0])
                return S.or(S.not(m.granuleIs(r, .rd).raw), (m.realm(r, .numRecs) <= m.realm(r, .recIndex)).raw)
            case .recIndexBelow:
                let c = SWord(raw: a[0])
                return S.or(S.not(m.granuleIs(c, .rec).raw), (m.recIndex(m.rec(c, .mpidr)) < m.realm(m.rec(c, .owner), .recIndex)).raw)
            case .recIndexDistinct:
                let (c, d) = (SWord(raw: a[0]), SWord(raw: a[1]))
                let both = m.granuleIs(c, .rec) && m.granuleIs(d, .rec) && c != d && m.rec(c, .owner) == m.rec(d, .owner)
                return S.or(S.not(both.raw), (m.recIndex(m.rec(c, .mpidr)) != m.recIndex(m.rec(d, .mpidr))).raw)
            case .recAuxOwner:
                let (x, c) = (SWord(raw: a[0]), SWord(raw: a[1]))
                let owner = SWord(raw: S.context.select(ghosts!.auxOwner, x.raw))
                return S.or(S.not(m.granuleIs(x, .recAux).raw), (m.auxSlots(of: c, naming: x) == ite(c == owner, SWord.lit(1), SWord.lit(0))).raw)
            case .dataCovered:
                let x = SWord(raw: a[0])
                let t = SWord(raw: S.context.select(ghosts!.dataTable, x.raw)), i = SWord(raw: S.context.select(ghosts!.dataIndex, x.raw))
                let e = m.entry(t, i), offset = x - e.addr
                let covered = m.granuleIs(t, .rtt) && i < SWord.lit(Layout.entriesPerRtt) && e.is(.assigned) && e.addr <= x
                    && (offset & SWord.lit(0xFFF)) == SWord.lit(0) && offset < m.levelSize(m.rtt(t, .level))
                return S.or(S.not(m.granuleIs(x, .data).raw), covered.raw)
            case .startingRtts:
                let (r, t) = (SWord(raw: a[0]), SWord(raw: a[1]))
                let (i, starting) = startingIndex(t, of: r)
                let sl = m.realm(r, .levelStart)
                let owned = m.granuleIs(t, .rtt) && m.rtt(t, .owner) == r && m.rtt(t, .level) == sl
                // Starting RTT i maps the IPAs from i * 512 * RttLevelSize(sl), as REALM_CREATE
                // made it (a shift: 512 * RttLevelSize(sl) is 2^(levelShift(sl) + 9)).
                let mapped = m.rtt(t, .ipaBase) == i << (m.levelShift(sl) + SWord.lit(9))
                return S.or(S.not(starting), S.and(owned.raw, mapped.raw))
            case .assignedNamesData:
                let (x, addr) = entry(e[0], .assigned)
                return S.or(S.not(x), m.granuleIs(SWord(raw: addr), .data).raw)
            case .assignedUnique, .tableUnique:
                let s: RttEntryState = self == .assignedUnique ? .assigned : .table
                let (x, p) = entry(e[0], s), (y, q) = entry(e[1], s)
                let same = S.and(S.eq(e[0].table, e[1].table), S.eq(e[0].index, e[1].index))
                return S.or(S.not(S.and(S.and(x, y), S.eq(p, q))), same)
            case .tableNotStarting:
                let (x, c) = entry(e[0], .table)
                return S.or(S.not(x), S.not(isStartingRtt(SWord(raw: c), of: SWord(raw: a[0]))))
            case .assignedBlock:
                let (x, start) = entry(e[0], .assigned)
                let q = SWord(raw: a[0]), size = m.levelSize(m.rtt(SWord(raw: e[0].table), .level))
                // The Granules from the entry's address on, whether or not that is aligned.
                let offset = q - SWord(raw: start)
                let covered = (offset & SWord.lit(0xFFF)) == SWord.lit(0) && offset < size
                return S.or(S.not(S.and(x, covered.raw)), m.granuleIs(q, .data).raw)
            case .assignedDisjoint:
                let (x, p) = entry(e[0], .assigned), (y, q) = entry(e[1], .assigned)
                let same = S.and(S.eq(e[0].table, e[1].table), S.eq(e[0].index, e[1].index))
                let (a1, a2) = (SWord(raw: p), SWord(raw: q))
                let s1 = m.levelSize(m.rtt(SWord(raw: e[0].table), .level)), s2 = m.levelSize(m.rtt(SWord(raw: e[1].table), .level))
                let apart = !(a2 - a1 < s1) && !(a1 - a2 < s2)
                return S.or(S.or(S.not(S.and(x, y)), same), apart.raw)
            case .assignedAtLevel3:
                let (x, _) = entry(e[0], .assigned)
                return S.or(S.not(x), S.eq(m.rtt(SWord(raw: e[0].table), .level).raw, S.lit(3)))
            case .tableNamesChild:
                let (x, c) = entry(e[0], .table)
                let (t, child) = (SWord(raw: e[0].table), SWord(raw: c))
                let ok = m.granuleIs(child, .rtt) && m.rtt(child, .level) == m.rtt(t, .level) + 1
                    && m.rtt(child, .owner) == m.rtt(t, .owner)
                return S.or(S.not(x), ok.raw)
            }
        }
    }

    /// What a round proves: an INV-* or an encoding lemma.
    enum Claim: Hashable {
        case invariant(Invariant), encoding(EncodingLemma)
        var name: String {
            switch self {
            case .invariant(let p): p.rawValue
            case .encoding(let l): l.rawValue
            }
        }
        var isStep: Bool { if case .invariant(let p) = self { p.kind == .step } else { false } }
    }

    public struct Report: Sendable {
        public var outcomes: [PropertyOutcome]
        public var seconds: Double
        /// Per target, the first move that broke it (with the model's values at the probe).
        public var ctis: [String: String]
        /// How many questions the lean solver answered after the move's solver gave up.
        public var leanAnswers = 0
        /// Per target, its counterexample to induction as lines: the call's arguments, then
        /// what the pre-state holds at the probe and at each argument address.
        public var ctiStates: [String: [String]] = [:]
    }

    public func run(token: CancellationToken = CancellationToken()) throws -> Report {
        settings.startBudget(token)
        let targets = settings.properties.filter { $0.kind == .always || $0.kind == .step }
        let s = settings
        let refused = targets.compactMap { p in Self.unsupported(p, options: s.specOptions).map { (p, $0) } }
        if let (_, why) = refused.first {
            throw UnsupportedByEncoding(message: "--every-address: \(why)")
        }
        // The default pool: the invariants stated one address at a time (those stated per
        // entry or per pair join as targets or when named). A target is always a lemma of its own.
        var invariants = lemmas ?? Invariant.specProperties.filter {
            $0.kind == .always && Self.unsupported($0, options: s.specOptions) == nil && !Self.statedPerEntry($0, options: s.specOptions)
                && Self.arity($0, options: s.specOptions) == 1
        }
        for p in targets where !invariants.contains(p) { invariants.append(p) }
        if let (p, why) = invariants.lazy.compactMap({ p in Self.unsupported(p, options: s.specOptions).map { (p, $0) } }).first {
            throw UnsupportedByEncoding(message: "--every-address: the lemma \(p.rawValue): \(why)")
        }
        for p in invariants where Self.arity(p, options: s.specOptions) == 3 {
            guard Self.impliedOnce(p, options: s.specOptions) else {
                throw UnsupportedByEncoding(message: "--every-address: \(p.rawValue)'s lemmas (\(Self.support(of: p).map(\.rawValue).joined(separator: ", "))) do not imply it")
            }
        }
        let encoding = Self.encodingPool(encodingLemmas, for: invariants)
        invariants.removeAll { Self.arity($0, options: s.specOptions) == 3 }
        let pool = invariants.filter { $0.kind == .always }.map { Claim.invariant($0) } + encoding.map { Claim.encoding($0) }
        let t0 = Date()
        let me = self
        var (outcomes, ctis, ctiStates, leanAnswers) = try runZ3Blocking(token: token) { token in try me.prove(token, targets: targets, pool: pool) }
        let seconds = Date().timeIntervalSince(t0)
        if settings.covers {
            var c = settings
            c.covers = true
            let base = try BoundedModelChecker(settings: c, depth: coverDepth).run(token: token)
            for i in outcomes.indices { outcomes[i].cover = base.outcomes.first { $0.target == outcomes[i].target }?.cover }
        }
        return Report(outcomes: outcomes, seconds: seconds, ctis: ctis, leanAnswers: leanAnswers, ctiStates: ctiStates)
    }

    /// The proof's ghost arrays, over addresses: what no spec state holds but the
    /// induction needs named (the encoding lemmas REC-RANK, REC-RANK-DISTINCT, RTT-PARENT
    /// and RTT-ROOT).
    struct Ghosts {
        /// A REC's rank among its Realm's RECs.
        var rank: Term
        /// An RTT's parent RTT, and the index of the parent's entry that names it.
        var parent: Term
        var index: Term
        /// The starting RTT an RTT's branch hangs from, and the index of its entry there.
        var root: Term
        var rootIndex: Term
        /// A REC_AUX Granule's REC.
        var auxOwner: Term
        /// The RTT and index of the ASSIGNED entry that covers a DATA Granule.
        var dataTable: Term
        var dataIndex: Term

        /// Fresh ghost arrays named `prefix.rank` and so on.
        init(prefix: String) {
            let ctx = Symbolic.context, words = ctx.arraySort(indexWidth: 64, valueWidth: 64)
            (rank, parent, index) = (ctx.const("\(prefix).rank", words), ctx.const("\(prefix).parent", words), ctx.const("\(prefix).index", words))
            (root, rootIndex, auxOwner) = (ctx.const("\(prefix).root", words), ctx.const("\(prefix).rootIndex", words), ctx.const("\(prefix).auxOwner", words))
            (dataTable, dataIndex) = (ctx.const("\(prefix).dataTable", words), ctx.const("\(prefix).dataIndex", words))
        }
    }

    /// The ghosts after a step of `command` from `from` to `to` whose success is `success`.
    /// REC_CREATE ranks its new REC `num_recs` (before the count goes up) and makes it the
    /// owner of its aux Granules; REC_DESTROY moves
    /// every REC of the same Realm ranked above the destroyed one down by one, so the ranks
    /// of a Realm's RECs stay distinct and below its count. RTT_CREATE records where its
    /// child hangs (the RTT and index its walk stopped at) and the root of its branch (its
    /// parent's, or that entry when the parent is a starting RTT). Every other move keeps
    /// them.
    static func ghostStep(_ command: RMICommand?, from: AddressArrays, to: AddressArrays, args: [Term], success: Term, ghosts g: Ghosts) -> Ghosts {
        typealias S = Symbolic
        let ctx = S.context
        var next = g
        switch command {
        case .recCreate?:
            let (rd, rec) = (SWord(raw: args[0]), args[1])
            next.rank = S.ite(success, ctx.store(g.rank, rec, from.realm(rd, .numRecs).raw), g.rank)
            let aux = (0..<Int(from.platform.recAuxCount)).map { to.rec(SWord(raw: rec), .aux($0)).raw }
            next.auxOwner = S.ite(success, aux.reduce(g.auxOwner) { ctx.store($0, $1, rec) }, g.auxOwner)
        case .recDestroy?:
            let rec = SWord(raw: args[0])
            let owner = from.rec(rec, .owner), k = ctx.select(g.rank, rec.raw)
            // Read through a copy: the lambda's bound address is no address of the step.
            let unread = from.observed()
            let shifted = ctx.lambda(over: ctx.bvSort(64), named: "x") { x in
                let r = ctx.select(g.rank, x)
                let above = S.and(S.eq(unread.rec(SWord(raw: x), .owner).raw, owner.raw), S.ult(k, r))
                return S.ite(above, S.sub(r, S.lit(1)), r)
            }
            next.rank = S.ite(success, shifted, g.rank)
        case .dataCreate?, .dataCreateUnknown?:
            let (rd, data, ipa) = (SWord(raw: args[0]), args[1], SWord(raw: args[2]))
            let walk = from.walk(rd, ipa, to: SWord.lit(3))
            next.dataTable = S.ite(success, ctx.store(g.dataTable, data, walk.rtt.raw), g.dataTable)
            next.dataIndex = S.ite(success, ctx.store(g.dataIndex, data, walk.index.raw), g.dataIndex)
        case .rttFold?:
            // The child's entries become one block at the entry that named the child.
            let (rd, ipa, level) = (SWord(raw: args[0]), SWord(raw: args[1]), SWord(raw: args[2]))
            let walk = from.walk(rd, ipa, to: level - 1), child = walk.entry.addr.raw
            next.dataTable = S.ite(success, ctx.lambda(over: ctx.bvSort(64), named: "x") { x in
                let t = ctx.select(g.dataTable, x)
                return S.ite(S.eq(t, child), walk.rtt.raw, t)
            }, g.dataTable)
            next.dataIndex = S.ite(success, ctx.lambda(over: ctx.bvSort(64), named: "x") { x in
                S.ite(S.eq(ctx.select(g.dataTable, x), child), walk.index.raw, ctx.select(g.dataIndex, x))
            }, g.dataIndex)
        case .rttCreate?:
            let (rd, child, ipa, level) = (SWord(raw: args[0]), args[1], SWord(raw: args[2]), SWord(raw: args[3]))
            let walk = from.walk(rd, ipa, to: level - 1)
            let top = (walk.level == from.realm(rd, .levelStart)).raw
            // Unfolding a block: what it covered is covered by the child's entry there.
            let block = walk.entry.addr, shift = from.levelShift(level)
            func unfolded(_ x: Term) -> Term {
                S.and(S.eq(ctx.select(g.dataTable, x), walk.rtt.raw), S.eq(ctx.select(g.dataIndex, x), walk.index.raw))
            }
            next.dataTable = S.ite(success, ctx.lambda(over: ctx.bvSort(64), named: "x") { x in
                S.ite(unfolded(x), child, ctx.select(g.dataTable, x))
            }, g.dataTable)
            next.dataIndex = S.ite(success, ctx.lambda(over: ctx.bvSort(64), named: "x") { x in
                S.ite(unfolded(x), ((SWord(raw: x) - block) >> shift).raw, ctx.select(g.dataIndex, x))
            }, g.dataIndex)
            func set(_ array: Term, _ v: Term) -> Term { S.ite(success, ctx.store(array, child, v), array) }
            next.parent = set(g.parent, walk.rtt.raw)
            next.index = set(g.index, walk.index.raw)
            next.root = set(g.root, S.ite(top, walk.rtt.raw, ctx.select(g.root, walk.rtt.raw)))
            next.rootIndex = set(g.rootIndex, S.ite(top, walk.index.raw, ctx.select(g.rootIndex, walk.rtt.raw)))
        default:
            break
        }
        return next
    }

    /// The moves, each a name, a guard and a next state; step properties see the command.
    struct Move {
        var name: String
        var command: RMICommand?
        var args: [Term]
        var guarded: Term
        var success: Term
        var next: AddressArrays
        /// The addresses the move read.
        var reads: [Term]
        /// The definitions the move made (`AddressArrays.Record.definitions`).
        var definitions: [Term] = []
        /// The (RTT, index) pairs the move read.
        var entries: [(table: Term, index: Term)] = []
        /// The ghosts after the move (`ghostStep`).
        var ghosts: Ghosts
        /// What the move's abstracted searches imply at the search hints (`Record.facts`).
        var facts: [Term] = []
        /// What its searches over addresses imply at any address (`Record.addressFacts`).
        var addressFacts: [Term] = []
    }

    /// What `model` says of the pre-state `m` at `addresses` (each once; arguments only where
    /// the Granule is not UNDELEGATED): the Granule's state and the fields of the object it
    /// holds, and at the probe entry `j` of an RTT.
    static func describe(_ model: Model, _ m: AddressArrays, at addresses: [(name: String, term: Term)], entry j: Term) -> [String] {
        func hex(_ t: Term) -> String { (try? model.bvValue(t)).map { "0x" + String($0, radix: 16) } ?? "?" }
        var lines: [String] = [], seen = Set<UInt64>()
        for (name, a) in addresses {
            guard let at = try? model.bvValue(a), seen.insert(at).inserted else { continue }
            let x = SWord(raw: a)
            let raw = (try? model.bvValue(m.granuleState(x).raw)) ?? 0
            let state = GranuleState(rawValue: raw)
            // An argument that names no Granule in use is most likely no address at all.
            if name != "probe" && state == .undelegated { continue }
            var fields: [String] = []
            switch state {
            case .rd?: fields = RealmField.allCases.filter { $0 != .rim }.map { "\($0)=\(hex(m.realm(x, $0).raw))" }
            case .rec?: fields = RecField.all.filter { AddressArrays.holds($0, on: m.platform) }.map { "\($0.name)=\(hex(m.rec(x, $0).raw))" }
            case .rtt?:
                fields = RttField.allCases.map { "\($0)=\(hex(m.rtt(x, $0).raw))" }
                let e = m.entry(x, SWord(raw: j))
                fields.append("entry[\(hex(j))]=(state \(hex(e.state.raw)), ripas \(hex(e.ripas.raw)), addr \(hex(e.addr.raw)))")
            default: break
            }
            lines.append("\(name) 0x\(String(at, radix: 16)): \(state?.specName ?? "state \(raw)")\(fields.isEmpty ? "" : " " + fields.joined(separator: " "))")
        }
        return lines
    }

    private func prove(_ token: CancellationToken, targets: [Invariant], pool: [Claim]) throws -> ([PropertyOutcome], [String: String], [String: [String]], Int) {
        let ctx = Context(cancellation: token)
        let s = settings
        return try Symbolic.withContext(ctx) {
            typealias S = Symbolic
            let b = S.variable("ea.b")
            let j = S.variable("ea.j")
            let initial = AddressArrays.initial(platform: .standard, options: s.specOptions, probes: [b])
            let pre = AddressArrays.arbitrary(platform: .standard, options: s.specOptions, prefix: "ea", probes: [b])
            let args = (1...5).map { S.variable("ea.x\($0)") }
            let realmKind = S.variable("ea.realm")
            let action = RealmAction<Symbolic>(kind: SWord(raw: realmKind), args: (0..<4).map { SWord(raw: S.variable("ea.a\($0)")) })
            let actionOK = S.ult(realmKind, S.lit(UInt64(RealmActionKind.allCases.count)))
            let ghosts = Ghosts(prefix: "ea")
            // Where RTT-PARENT and RTT-ROOT are followed: the probe's RTT ancestors (three
            // levels up: an RTT destroyed above the probe's parent is found through them) and
            // the entries that name each, and the probe's root entry. There the moves'
            // entry searches state their predicates (`AddressArrays.searchHints`).
            var chain: [Term] = [], chainEntries: [(table: Term, index: Term)] = []
            if pool.contains(.encoding(.rttParent)) || pool.contains(.encoding(.rttRoot)) {
                chainEntries.append((ctx.select(ghosts.root, b), ctx.select(ghosts.rootIndex, b)))
                var x = b
                for _ in 0..<3 {
                    let up = ctx.select(ghosts.parent, x)
                    chainEntries.append((up, ctx.select(ghosts.index, x)))
                    chain.append(up)
                    x = up
                }
            }
            // Where REC-AUX-OWNER is followed: the probe's REC.
            if pool.contains(.encoding(.recAuxOwner)) { chain.append(ctx.select(ghosts.auxOwner, b)) }
            // Where DATA-COVERED is followed: the RTT and entry that cover the probe.
            if pool.contains(.encoding(.dataCovered)) {
                chain.append(ctx.select(ghosts.dataTable, b))
                chainEntries.append((ctx.select(ghosts.dataTable, b), ctx.select(ghosts.dataIndex, b)))
            }

            let b2 = S.variable("ea.b2"), j2 = S.variable("ea.j2")
            let probes: [(table: Term, index: Term)] = [(b, j), (b2, j2)]
            // RTT_FOLD's search "every entry of the child is ASSIGNED, contiguous from entry 0"
            // is stated at the child's entries that cover the probe address and the probe
            // entries' addresses: the block it makes covers those only through them
            // (ENTRY-ASSIGNED-BLOCK and ENTRY-ASSIGNED-DISJOINT).
            let blocks = pool.contains(.encoding(.assignedBlock)) || pool.contains(.encoding(.assignedDisjoint))
            let coveringEntries: (AddressArrays, SWord) -> [SWord] = { m, t in
                let first = m.entry(t, SWord.lit(0)).addr, shift = m.levelShift(m.rtt(t, .level))
                return ([SWord(raw: b)] + probes.map { m.entry(SWord(raw: $0.table), SWord(raw: $0.index)).addr }).map { ($0 - first) >> shift }
            }

            // Each move runs on its own record of the addresses it reads.
            var moves: [Move] = []
            for c in s.commands {
                var from = pre.observed()
                from.searchHints = chainEntries
                if c == .rttFold && blocks { from.searchIndexHints = coveringEntries }
                let (success, next) = RMISpec.arrayStep(c, from, args: args, realm: c == .recEnter ? action : nil)
                let after = Self.ghostStep(c, from: from, to: next, args: args, success: success, ghosts: ghosts)
                moves.append(Move(name: c.rawValue, command: c, args: args, guarded: c == .recEnter ? actionOK : S.lit(true),
                                  success: success, next: next, reads: from.record.addresses, definitions: from.record.definitions,
                                  entries: from.record.entries, ghosts: after, facts: from.record.facts,
                                  addressFacts: from.record.addressFacts))
            }
            if s.gptEvents {
                var m = pre.observed()
                let applies = m.otherAgentSetsGPT(SWord(raw: args[0]), SWord(raw: args[1])).raw
                moves.append(Move(name: "GPT change", command: nil, args: args, guarded: applies, success: S.lit(true), next: m,
                                  reads: m.record.addresses, ghosts: ghosts))
            }
            var w = pre.observed()
            w.hostWrite(args[0], args[1])
            moves.append(Move(name: "Host write", command: nil, args: args, guarded: S.lit(true), success: S.lit(true), next: w,
                              reads: w.record.addresses, ghosts: ghosts))
            if s.recExitEvents {
                let from = pre.observed()
                let (ok, next) = RMISpec.arrayRecExit(from, rec: args[0], realm: action)
                moves.append(Move(name: "REC exit", command: .recEnter, args: [args[0], from.rec(SWord(raw: args[0]), .runPtr).raw],
                                  guarded: S.and(ok, actionOK), success: ok, next: next, reads: from.record.addresses,
                                  definitions: from.record.definitions, entries: from.record.entries, ghosts: ghosts))
            }

            var seconds: [Claim: Double] = [:]
            /// Per claim, the lemmas its counterexamples asked for so far (kept from move to move).
            var helpers: [Claim: Set<Claim>] = [:]
            var ctis: [String: String] = [:]
            var ctiStates: [String: [String]] = [:]
            var leanAnswers = 0
            // One round: every property of `checked` at the initial state and after every
            // move, with `pool` assumed in the pre-state. Returns the ones not proved.
            let perEntry = Set((targets + pool.compactMap { if case .invariant(let p) = $0 { p } else { nil } })
                .filter { Self.statedPerEntry($0, options: s.specOptions) })
            let pairwise = Set((targets + pool.compactMap { if case .invariant(let p) = $0 { p } else { nil } })
                .filter { Self.arity($0, options: s.specOptions) == 2 })
            /// `c` on `m` at the probe (an entry lemma at the probe pairs; an INV-* stated per
            /// entry at the probe's entry `j`; one stated per pair at the probe and `b2`).
            func holds(_ c: Claim, _ m: AddressArrays, ghosts: Ghosts, view: StepView<AddressArrays>?) -> Term {
                switch c {
                case .invariant(let p) where perEntry.contains(p):
                    if pairwise.contains(p) { return S.or(S.eq(b, b2), p.holds(in: m.probing([b, b2], entries: [j])).raw) }
                    guard p.kind == .step, let v = view else { return p.holds(in: m.probing([b], entries: [j])).raw }
                    return p.holds(on: StepView(pre: v.pre.probing([b], entries: [j]), post: v.post.probing([b], entries: [j]),
                                                command: v.command, args: v.args, succeeded: v.succeeded, unchanged: v.unchanged)).raw
                case .invariant(let p) where pairwise.contains(p): return S.or(S.eq(b, b2), p.holds(in: m.probing([b, b2])).raw)
                case .invariant(let p): return p.kind == .step ? p.holds(on: view!).raw : p.holds(in: m).raw
                case .encoding(let l) where l.mixed: return l.holds(in: m, at: [b], entries: [probes[1]])
                case .encoding(let l): return l.holds(in: m, at: [b, b2], entries: Array(probes.prefix(l.arity)), ghosts: ghosts)
                }
            }
            func readsEntries(_ c: Claim) -> Bool {
                switch c {
                case .encoding(let l): l.overEntries
                case .invariant(let p): perEntry.contains(p)
                }
            }
            func round(_ checked: [Claim], pool: [Claim]) throws -> [Claim: PropertyVerdict] {
                var verdicts: [Claim: PropertyVerdict] = [:]
                for c in checked where !c.isStep {
                    let base = Solver(ctx)
                    try base.assert(ctx.not(holds(c, initial, ghosts: ghosts, view: nil)))
                    switch try base.check() {
                    case .unsat: break
                    case .sat: verdicts[c] = .unknown(reason: "the initial state breaks \(c.name) at some address")
                    case .unknown(let why): verdicts[c] = .unknown(reason: "the solver gave up on the initial state: \(why)")
                    }
                }
                for m in moves {
                    let open = checked.filter { verdicts[$0] == nil && (!$0.isStep || m.command != nil) }
                    if open.isEmpty { continue }
                    // The claims at the probe after the move, on a state that records where
                    // they read.
                    let post = m.next.observed()
                    var broken: [Claim: Term] = [:]
                    for c in open {
                        let view = m.command.map {
                            StepView(pre: pre, post: post, command: $0, args: m.args.map { SWord(raw: $0) },
                                     succeeded: SBit(raw: m.success), unchanged: SBit(raw: pre.equal(m.next, at: b, index: j)))
                        }
                        broken[c] = ctx.not(holds(c, post, ghosts: m.ghosts, view: view))
                    }
                    // The lemmas at the probes and wherever the move and the claims read:
                    // instances of "at every address" and "at every entry", so assuming them
                    // is sound.
                    var seen = Set<Term>()
                    let points = ([b] + m.reads + post.record.addresses + chain).filter { seen.insert($0).inserted }
                    var seenPairs = Set<[Term]>()
                    let pairs = (probes + m.entries + post.record.entries + chainEntries).filter { seenPairs.insert([$0.table, $0.index]).inserted }
                    let solver = Solver(ctx)
                    try solver.setSeed(s.seed)
                    if let r = s.rlimit { try solver.setRlimit(r) }
                    // What the move's searches imply, at the probes and wherever it and the
                    // claims read.
                    let facts = m.facts + points.flatMap { q in m.addressFacts.map { ctx.select($0, q) } }
                    try solver.assert(m.guarded)
                    for f in facts { try solver.assert(f) }
                    // Each lemma's instances behind a literal of its own: a claim is asked with
                    // the lemmas its counterexamples ask for (as `InductionProver` chooses
                    // them), not with the whole pool, whose instances slow every question.
                    let plain = pre.observed()
                    var instances: [Claim: [Term]] = [:]
                    var literal: [Claim: Term] = [:]
                    for l in pool {
                        var xs: [Term] = []
                        switch l {
                        case .invariant(let p) where pairwise.contains(p):
                            // Each two points, with the indices of the entries read in either
                            // (past the table, where "every entry" says nothing, if none).
                            for (x, q) in points.enumerated() {
                                for r in points[(x + 1)...] {
                                    var at: [Term] = pairs.filter { $0.table == q || $0.table == r }.map(\.index)
                                    if at.isEmpty { at = [S.lit(Layout.entriesPerRtt)] }
                                    xs.append(S.or(S.eq(q, r), p.holds(in: plain.probing([q, r], entries: perEntry.contains(p) ? at : [])).raw))
                                }
                            }
                        case .invariant(let p) where perEntry.contains(p):
                            xs = pairs.map { p.holds(in: plain.probing([$0.table], entries: [$0.index])).raw }
                        case .invariant(let p):
                            xs = points.map { p.holds(in: plain.probing([$0])).raw }
                        case .encoding(let e) where e.mixed:
                            for q in points { for p in pairs { xs.append(e.holds(in: plain, at: [q], entries: [p])) } }
                        case .encoding(let e) where !e.overEntries && e.arity == 1:
                            xs = points.map { e.holds(in: plain, at: [$0], entries: [], ghosts: ghosts) }
                        case .encoding(let e) where !e.overEntries:
                            for (x, q) in points.enumerated() {
                                for (y, r) in points.enumerated() where e.symmetric ? x < y : x != y {
                                    xs.append(e.holds(in: plain, at: [q, r], entries: [], ghosts: ghosts))
                                }
                            }
                        case .encoding(let e) where e.arity == 1:
                            xs = pairs.map { e.holds(in: plain, at: [], entries: [$0]) }
                        case .encoding(let e):
                            for (x, q) in pairs.enumerated() { for r in pairs[(x + 1)...] { xs.append(e.holds(in: plain, at: [], entries: [q, r])) } }
                        }
                        let a = ctx.boolConst("ea.lemma.\(l.name).\(m.name)")
                        try solver.assert(ctx.implies(a, ctx.and(xs)))
                        instances[l] = xs
                        literal[l] = a
                    }
                    /// Claim `c` after move `m` in a solver of its own that holds only the
                    /// instances of `chosen` (asserted outright), each with the short time; a
                    /// model that breaks lemmas outside `chosen` adds them and asks again. The
                    /// move's solver holds every lemma's instances behind literals, and some
                    /// questions that need few lemmas are lost in them (INV-C4 at the REC exit:
                    /// given up on there, then not answered in 8 minutes with the whole pool;
                    /// UNSAT in 2.9 s with itself alone). UNSAT here rests on fewer hypotheses
                    /// than the pool, so it is a proof as well.
                    func askLean(_ c: Claim, chosen: inout Set<Claim>, move m: Move, definitions: Bool) throws -> (answer: CheckResult, model: Model?) {
                        let lean = Solver(ctx)
                        try lean.setSeed(s.seed)
                        try lean.setRlimit(min(Self.someLemmasRlimit, s.rlimit ?? .max))
                        try lean.setTimeout(ms: s.timeoutMs ?? .max)
                        try lean.assert(m.guarded)
                        for f in facts { try lean.assert(f) }
                        if definitions { for d in m.definitions { try lean.assert(d) } }
                        try lean.assert(broken[c]!)
                        var held = Set<Claim>()
                        while true {
                            for l in pool where chosen.contains(l) && !held.contains(l) {
                                for x in instances[l]! { try lean.assert(x) }
                                held.insert(l)
                            }
                            let r = try lean.check()
                            guard case .sat = r else { return (r, nil) }
                            let model = try lean.model()
                            let violated = pool.filter { l in
                                !chosen.contains(l) && instances[l]!.contains { (try? model.boolValue($0)) == false }
                            }
                            if violated.isEmpty { return (r, model) }
                            chosen.formUnion(violated)
                        }
                    }
                    // The entry rows' definitions only for the entry lemmas: the other claims
                    // do not read entries, and leaving the definitions out (the rows are then
                    // any rows, a weaker question) spares the solver their lambdas.
                    var defined = false
                    for c in open.sorted(by: { !readsEntries($0) && readsEntries($1) }) {
                        if readsEntries(c) && !defined {
                            for d in m.definitions { try solver.assert(d) }
                            defined = true
                        }
                        let t1 = Date()
                        try solver.push()
                        try solver.assert(broken[c]!)
                        var chosen = Set(pool.filter { $0 == c || helpers[c, default: []].contains($0) })
                        var answer: CheckResult
                        var leanModel: Model?
                        var leanTried = false, byLean = false
                        asking: while true {
                            // A question with some of the lemmas gets a short time: when the
                            // solver gives up on it, it is asked in a lean solver, then once
                            // more with all of them (more assumptions often make it UNSAT at
                            // once) and the full time.
                            let some = chosen.count < pool.count
                            try solver.setRlimit(some ? min(partialRlimit, s.rlimit ?? .max) : s.rlimit ?? 0)
                            try solver.setTimeout(ms: s.timeoutMs ?? .max)
                            answer = try solver.check(assumptions: pool.filter { chosen.contains($0) }.map { literal[$0]! })
                            if case .unknown = answer, some, !token.isCancelled {
                                if !leanTried {
                                    leanTried = true
                                    let lean = try askLean(c, chosen: &chosen, move: m, definitions: defined)
                                    switch lean.answer {
                                    case .unsat, .sat:
                                        answer = lean.answer
                                        leanModel = lean.model
                                        leanAnswers += 1
                                        byLean = true
                                        break asking
                                    case .unknown: break
                                    }
                                }
                                chosen = Set(pool)
                                continue
                            }
                            guard case .sat = answer, chosen.count < pool.count else { break }
                            let model = try solver.model()
                            let violated = pool.filter { l in
                                !chosen.contains(l) && instances[l]!.contains { (try? model.boolValue($0)) == false }
                            }
                            if violated.isEmpty { break }
                            chosen.formUnion(violated)
                        }
                        helpers[c, default: []].formUnion(chosen)
                        let dt = Date().timeIntervalSince(t1)
                        seconds[c, default: 0] += dt
                        s.progress?("every-address: \(c.name) \(m.name): \(answer) in \(String(format: "%.2f", dt)) s (\(chosen.count) lemmas at \(points.count) addresses, \(pairs.count) entries\(byLean ? "; lean solver" : ""))")
                        switch answer {
                        case .unsat: break
                        case .sat:
                            let model = try leanModel ?? solver.model()
                            let at = (try? model.bvValue(b)).map { "0x" + String($0, radix: 16) } ?? "?"
                            ctis[c.name] = "\(m.name) at address \(at)"
                            let registers = m.command.map { cmd in m.args.prefix(cmd == .recEnter && m.name != cmd.rawValue ? 1 : cmd.inputs.count) } ?? m.args.prefix(2)
                            let second: [(String, Term)] = { if case .invariant(let p) = c, pairwise.contains(p) { [("probe 2", b2)] } else { [] } }()
                            let named = [("probe", b)] + second + registers.enumerated().map { ("x\($0.offset + 1)", $0.element) }
                            ctiStates[c.name] = ["\(m.name) with " + registers.enumerated().map { "x\($0.offset + 1)=" + ((try? model.bvValue($0.element)).map { "0x" + String($0, radix: 16) } ?? "?") }.joined(separator: " ")]
                                + Self.describe(model, pre.observed(), at: named, entry: j)
                            verdicts[c] = .unknown(reason: "counterexample to induction: \(m.name) breaks it at address \(at) from a state in which \(pool.isEmpty ? "no lemma is assumed" : pool.map(\.name).joined(separator: ", ") + " hold where it reads"); unreachable, or a real violation that BMC would find")
                        case .unknown(let why):
                            verdicts[c] = .unknown(reason: "the solver gave up on \(m.name): \(why)")
                        }
                        try solver.pop()
                    }
                }
                return verdicts
            }

            // Houdini: a lemma that is not proved itself leaves the pool, and what it helped
            // prove is asked again without it, until every lemma left is proved with the
            // others (then their conjunction is inductive, and so are the proofs that use it).
            // A claim not proved with more lemmas is not proved with fewer.
            var pool = pool
            var verdicts: [Claim: PropertyVerdict] = [:]
            // An INV-* stated through lemmas (`support`) is no claim of its own: its lemmas are
            // in the pool.
            let goals = targets.filter { Self.arity($0, options: s.specOptions) != 3 }.map { Claim.invariant($0) }
            while true {
                let checked = (goals + pool.filter { !goals.contains($0) }).filter { verdicts[$0] == nil }
                let failed = try round(checked, pool: pool)
                verdicts.merge(failed) { a, _ in a }
                let dropped = pool.filter { failed[$0] != nil }
                if dropped.isEmpty { break }
                s.progress?("every-address: \(dropped.map(\.name).joined(separator: ", ")) not proved; asking again without \(dropped.count == 1 ? "it" : "them")")
                pool.removeAll { failed[$0] != nil }
            }
            var outcomes: [PropertyOutcome] = []
            for p in targets {
                let parts = goals.contains(.invariant(p)) ? [] : Self.support(of: p).map { Claim.encoding($0) }
                let lemmaNames = pool.filter { $0 != .invariant(p) && !parts.contains($0) }.map(\.name)
                let time = parts.isEmpty ? seconds[.invariant(p)] ?? 0 : parts.reduce(0) { $0 + (seconds[$1] ?? 0) }
                var method = "1-induction over every address in \(String(format: "%.1f", time)) s"
                    + (lemmaNames.isEmpty ? "" : ", with \(lemmaNames.joined(separator: ", ")) as lemmas (each proved with the others) where each step reads")
                var verdict = verdicts[.invariant(p)]
                if !parts.isEmpty {
                    let how = Self.support(of: p).contains { $0.witness != nil }
                        ? "which imply it on every memory of three addresses that holds its witnesses (checked), and so at any size (each count and search is decided at the witnesses)"
                        : "which imply it at any three addresses (checked)"
                    method = "its lemmas \(parts.map(\.name).joined(separator: ", ")), \(how), each proved by " + method
                    if let (l, v) = parts.lazy.compactMap({ l in verdicts[l].map { (l, $0) } }).first {
                        let why = if case .unknown(let reason) = v { reason } else { "\(v)" }
                        verdict = .unknown(reason: "\(l.name), one of the lemmas that imply it, is not proved: \(why)")
                    }
                }
                outcomes.append(PropertyOutcome(target: CheckTarget(p), verdict: verdict ?? .proved(
                    method: method,
                    coverage: "every address of the standard platform (all state as arrays over 2^64 addresses: any memory size), runs of \(s.commands.count == RMICommand.allCases.count ? "all 23 commands" : s.commands.map(\.rawValue).joined(separator: ", "))\(s.gptEvents ? ", GPT changes" : "")\(s.recExitEvents ? ", REC exits" : ""), Host writes; RTT entry, Realm and REC searches over-approximated")))
            }
            return (outcomes, ctis, ctiStates, leanAnswers)
        }
    }
}
