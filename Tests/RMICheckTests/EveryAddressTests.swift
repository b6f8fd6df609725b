import Testing
import Foundation
import RMISpec
import SMT
@testable import RMICheck

/// Induction over `AddressArrays`: the whole state at every address, so a proof holds for
/// any memory size; Realm and REC objects included.
@Suite struct EveryAddressTests {
    func verdict(_ r: EveryAddressProver.Report, _ p: Invariant) -> PropertyVerdict? {
        r.outcomes.first { $0.target.name == p.rawValue }?.verdict
    }
    /// The default encoding lemmas (so none that only a property proved through lemmas
    /// needs) but those about RTT levels, parents and blocks, which alphabets
    /// without RTT_CREATE, RTT_DESTROY, RTT_FOLD and REALM_DESTROY do not need and whose
    /// instances make each of their questions several times bigger (ENTRY-ASSIGNED-LEVEL-3
    /// stands for the block lemmas where RTT_FOLD is left out). REALM-GEOMETRY stays: the
    /// entry lemmas speak of RTTs, and only it makes a walk start in one.
    static let withoutRttShape = EveryAddressProver.EncodingLemma.defaultPool(for: []).filter {
        ![.rttLevel, .rttParent, .rttRoot, .assignedBlock, .assignedDisjoint].contains($0)
    }

    /// With REC_CREATE and REC_DESTROY (which delegate and wipe aux Granules) beside the
    /// Granule commands: the delegation invariants and INV-C1 hold at every address.
    @Test func granuleSafetyIsProvedAtEveryAddressWithRecs() throws {
        let props: [Invariant] = [.g1, .g2, .g5, .c1, .l2, .l4]
        var s = try settings("granules=3,realms=1,recs=1,entries=1", [.granuleDelegate, .granuleUndelegate, .recCreate, .recDestroy], props)
        s.covers = false
        s.recExitEvents = false
        let r = try EveryAddressProver(settings: s, lemmas: [.g1, .g2, .g5, .c1], encodingLemmas: Self.withoutRttShape).run()
        for p in props {
            guard case .proved(let method, let coverage)? = verdict(r, p) else {
                Issue.record("\(p.rawValue): \(String(describing: verdict(r, p)))"); continue
            }
            #expect(method.contains("1-induction over every address") && coverage.contains("any memory size"))
        }
    }

    /// DATA_DESTROY delegates the Granule its RTT entry names. Without the entry lemmas that
    /// can be any Granule: INV-G1 has a counterexample to induction there and leaves the
    /// lemma pool, and INV-L2, proved without it, does not name it. With them, INV-G1 is
    /// proved and names the lemma it rests on.
    @Test func entryLemmasCarryDataDestroyAndUnprovedLemmasLeaveThePool() throws {
        var s = try settings("granules=3,realms=1,recs=1,entries=1", [.granuleDelegate, .granuleUndelegate, .dataDestroy], [.g1, .l2])
        s.covers = false
        s.recExitEvents = false
        var bare = EveryAddressProver(settings: s, lemmas: [.g1, .g2])
        bare.encodingLemmas = []
        let r = try bare.run()
        guard case .unknown(let why)? = verdict(r, .g1) else { Issue.record("\(String(describing: verdict(r, .g1)))"); return }
        #expect(why.contains("counterexample to induction: RMI_DATA_DESTROY"))
        #expect(r.ctis["INV-G1"]?.hasPrefix("RMI_DATA_DESTROY") == true)
        guard case .proved(let method, _)? = verdict(r, .l2) else { Issue.record("\(String(describing: verdict(r, .l2)))"); return }
        #expect(!method.contains("INV-G1"))

        let full = try EveryAddressProver(settings: s, lemmas: [.g1, .g2], encodingLemmas: Self.withoutRttShape).run()
        guard case .proved(let withEntries, _)? = verdict(full, .g1) else { Issue.record("\(String(describing: verdict(full, .g1)))"); return }
        #expect(withEntries.contains("ENTRY-ASSIGNED-DATA"))
    }

    /// REALM_DESTROY delegates the RD and its starting RTTs. Without a lemma that says those
    /// are RTT Granules of the Realm, they could be UNDELEGATED Granules of any GPT, and
    /// INV-G1 has a counterexample to induction there; REALM-STARTING-RTTS (proved with
    /// the others) closes it, and the proof names it.
    @Test func realmDestroyDelegatesOnlyItsStartingRtts() throws {
        try expectG1NeedsEncodingLemmas(at: .realmDestroy, [.startingRtts], invariants: [.g1, .g2])
    }

    /// RTT_DESTROY delegates the RTT the TABLE entry at the end of its walk names. The
    /// TABLE-entry lemmas (that RTT is an RTT; no other TABLE entry names it; no TABLE entry
    /// names a starting RTT, so the walk starts in RTTs) make INV-G1 proved with RTT_DESTROY
    /// in the alphabet; without them its CTI is at RTT_DESTROY.
    @Test func rttDestroyDelegatesOnlyTheRttItsTableEntryNames() throws {
        try expectG1NeedsEncodingLemmas(at: .rttDestroy, [.startingRtts, .tableNamesChild, .tableUnique, .tableNotStarting],
                                        invariants: [.g1, .g2, .r4])
    }

    /// REC_ENTER turns off a Realm whose REC asks for PSCI SYSTEM_OFF, after checking that
    /// the Realm is neither NEW nor SYSTEM_OFF. In 64-bit words a Realm may be in a fourth
    /// state, from which that move goes backwards: INV-R6 has a counterexample to induction
    /// at REC_ENTER unless FIELD-VALUES says a Realm's state is one of the three.
    @Test func recEnterMovesRealmsForwardGivenTheirStateIsOneOfThree() throws {
        var s = try settings("granules=3,realms=1,recs=1,entries=1", [.recEnter], [.r6])
        s.covers = false
        s.gptEvents = false
        s.recExitEvents = false
        try expect(.r6, provedBy: EveryAddressProver(settings: s, lemmas: [], encodingLemmas: [.fieldValues]),
                   needing: [.fieldValues], brokenBy: .recEnter)
    }

    /// `p` is proved by `prover`, whose verdict names each of `lemmas`; without them (the
    /// rest of its encoding lemmas kept) it has a counterexample to induction at `command`.
    @discardableResult
    func expect(_ p: Invariant, provedBy prover: EveryAddressProver, needing lemmas: [EveryAddressProver.EncodingLemma],
                brokenBy command: RMICommand) throws -> EveryAddressProver.Report? {
        var prover = prover
        let r = try prover.run()
        guard case .proved(let method, _)? = verdict(r, p) else { Issue.record("\(p.rawValue): \(String(describing: verdict(r, p)))"); return nil }
        for l in lemmas { #expect(method.contains(l.rawValue)) }
        prover.encodingLemmas.removeAll { lemmas.contains($0) }
        let without = try prover.run()
        guard case .unknown? = verdict(without, p) else { Issue.record("\(p.rawValue) without \(lemmas): \(String(describing: verdict(without, p)))"); return nil }
        #expect(without.ctis[p.rawValue]?.hasPrefix(command.rawValue) == true)
        #expect(without.ctiStates[p.rawValue]?.first?.hasPrefix(command.rawValue) == true)
        return without
    }

    /// The lemmas name a Realm's starting RTTs by their offset from `rtt_base`: the same
    /// Granules as the commands' enumeration `rtt_base + i * 4K`, `i < rtt_num_start` (at
    /// most 16), for every address, base and count, and the same number `i`.
    @Test func startingRttsAreNamedByTheirOffsetFromTheBase() throws {
        let ctx = Context()
        try Symbolic.withContext(ctx) { () throws -> Void in
            let m = AddressArrays.arbitrary(platform: .standard, prefix: "s", probes: [])
            let t = SWord(raw: Symbolic.variable("s.t")), r = SWord(raw: Symbolic.variable("s.r"))
            let (i, starting) = EveryAddressProver.EncodingLemma.startingIndex(m, t, of: r)
            var enumerated = Symbolic.lit(false), numbered = Symbolic.lit(true)
            AddressArrays.forEachStartingRtt(m.realm(r, .numStart)) { k, exists in
                let here = (exists && t == m.realm(r, .rttBase) + SWord.lit(UInt64(k)) * AddressArrays.granule).raw
                enumerated = Symbolic.or(enumerated, here)
                numbered = Symbolic.and(numbered, Symbolic.or(Symbolic.not(here), (i == SWord.lit(UInt64(k))).raw))
            }
            enumerated = Symbolic.and(m.granuleIs(r, .rd).raw, enumerated)
            let solver = Solver(ctx)
            try solver.assert(Symbolic.not(Symbolic.and(Symbolic.eq(starting, enumerated), numbered)))
            #expect(try solver.check() == .unsat)
        }
    }

    /// ENTRY-ASSIGNED-LEVEL-3 (no blocks) joins the default pool only when RTT_FOLD, the
    /// command that makes blocks, is left out; the block lemmas are in it either way.
    @Test func theDefaultPoolLeavesOutNoBlocksWhenRttFoldMakesThem() throws {
        typealias L = EveryAddressProver.EncodingLemma
        let withFold = L.defaultPool(for: RMICommand.allCases), without = L.defaultPool(for: [.dataCreate, .dataDestroy])
        #expect(!withFold.contains(.assignedAtLevel3) && without.contains(.assignedAtLevel3))
        #expect(withFold.contains(.assignedBlock) && without.contains(.assignedDisjoint)
                && withFold.count == L.allCases.count - 1 - L.supportOnly.count)
        let s = try settings("granules=2,realms=0,recs=0,entries=1", [.rttFold], [.g1])
        #expect(!EveryAddressProver(settings: s).encodingLemmas.contains(.assignedAtLevel3))
    }

    /// ENTRY-ASSIGNED-BLOCK: an ASSIGNED entry of a level-2 RTT covers the 512 Granules from
    /// its address on (each is DATA), and nothing past them. ENTRY-ASSIGNED-DISJOINT: no
    /// level-3 page lies inside that block, one just past it may.
    @Test func blocksCoverTheirGranulesAndHoldNoPage() throws {
        let ctx = Context()
        try Symbolic.withContext(ctx) { () throws -> Void in
            typealias L = EveryAddressProver.EncodingLemma
            let m = AddressArrays.arbitrary(platform: .standard, prefix: "k", probes: [])
            let (t, u, i, k) = (Symbolic.variable("k.t"), Symbolic.variable("k.u"), Symbolic.variable("k.i"), Symbolic.variable("k.k"))
            let block = SWord.lit(0x8020_0000)
            func rtt(_ x: Term, level: UInt64, entry: Term, naming a: SWord) -> [Term] {
                let e = m.entry(SWord(raw: x), SWord(raw: entry))
                return [m.granuleIs(SWord(raw: x), .rtt).raw, (m.rtt(SWord(raw: x), .level) == SWord.lit(level)).raw,
                        Symbolic.ult(entry, Symbolic.lit(512)), e.is(.assigned).raw, (e.addr == a).raw]
            }
            func sat(_ facts: [Term]) throws -> Bool {
                let solver = Solver(ctx)
                for f in facts { try solver.assert(f) }
                return try solver.check() == .sat
            }
            let inBlock = rtt(t, level: 2, entry: i, naming: block)
            func covered(_ q: SWord) -> [Term] {
                inBlock + [L.assignedBlock.holds(in: m, at: [q.raw], entries: [(t, i)]), Symbolic.not(m.granuleIs(q, .data).raw)]
            }
            #expect(try !sat(covered(block)))
            #expect(try !sat(covered(block + SWord.lit(0x1F_F000))))
            #expect(try sat(covered(block + SWord.lit(0x20_0000))))
            #expect(try sat(covered(block + SWord.lit(0x800))))

            func page(at a: SWord) throws -> Bool {
                try sat(inBlock + rtt(u, level: 3, entry: k, naming: a)
                        + [L.assignedDisjoint.holds(in: m, at: [], entries: [(t, i), (u, k)])])
            }
            #expect(try !page(at: block + SWord.lit(0x1F_F000)))
            #expect(try page(at: block + SWord.lit(0x20_0000)))
            #expect(try page(at: block - SWord.lit(0x1000)))
        }
    }

    /// RTT_SET_RIPAS writes the RIPAS a REC's RIPAS_CHANGE exit asked for. FIELD-VALUES says
    /// that value is EMPTY or RAM (it excludes a REC whose `ripas_value` is DESTROYED), is
    /// proved at the REC exit that writes it, and with it INV-T7 is proved at RTT_SET_RIPAS.
    @Test func rttSetRipasWritesOnlyRipasARealmMayRequest() throws {
        let ctx = Context()
        try Symbolic.withContext(ctx) { () throws -> Void in
            let m = AddressArrays.arbitrary(platform: .standard, prefix: "f", probes: [])
            let x = SWord(raw: Symbolic.variable("f.x"))
            let solver = Solver(ctx)
            try solver.assert(EveryAddressProver.EncodingLemma.fieldValues.holds(in: m, at: [x.raw], entries: []))
            try solver.assert(m.granuleIs(x, .rec).raw)
            try solver.assert((m.rec(x, .ripasValue) == SWord.lit(Ripas.destroyed.rawValue)).raw)
            #expect(try solver.check() == .unsat)
        }

        var s = try settings("granules=3,realms=1,recs=1,entries=1", [.rttSetRipas], [.t7])
        s.covers = false
        s.gptEvents = false
        s.timeoutMs = 120_000
        let r = try EveryAddressProver(settings: s, lemmas: [.t7], encodingLemmas: [.fieldValues]).run()
        guard case .proved(let method, _)? = verdict(r, .t7) else { Issue.record("INV-T7: \(String(describing: verdict(r, .t7)))"); return }
        #expect(method.contains("FIELD-VALUES"))
    }

    /// The REC ranks stand in for INV-R1's count: REC_CREATE and REC_DESTROY keep them below
    /// `num_recs` and distinct within a Realm (REC-RANK and REC-RANK-DISTINCT stay in the
    /// pool, proved with INV-C1), and a Realm whose count is 0 owns no REC.
    @Test func recRanksKeepRecsBelowTheirRealmsCount() throws {
        let method = try provedByTheRecCommands(.c1)
        #expect(method?.contains("REC-RANK,") == true && method?.contains("REC-RANK-DISTINCT") == true)

        let ctx = Context()
        try Symbolic.withContext(ctx) { () throws -> Void in
            let m = AddressArrays.arbitrary(platform: .standard, prefix: "k", probes: [])
            let c = SWord(raw: Symbolic.variable("k.c"))
            let solver = Solver(ctx)
            try solver.assert(EveryAddressProver.EncodingLemma.recRank.holds(in: m, at: [c.raw], entries: [], ghosts: .init(prefix: "k")))
            try solver.assert(m.granuleIs(c, .rec).raw)
            try solver.assert((m.realm(m.rec(c, .owner), .numRecs) == SWord.lit(0)).raw)
            #expect(try solver.check() == .unsat)
        }
    }

    /// INV-R2 relates a Realm and two of its RECs. It is proved through three lemmas, each at
    /// one address or two, that imply it at any three (each of them is needed), and REC_CREATE
    /// and REC_DESTROY keep them.
    @Test func recIndicesAreProvedThroughTheLemmasThatImplyThem() throws {
        #expect(EveryAddressProver.unsupported(.r2) == nil && EveryAddressProver.arity(.r2) == 3)
        let support = EveryAddressProver.support(of: .r2)
        #expect(support == [.recCountBelowIndex, .recIndexBelow, .recIndexDistinct])
        #expect(EveryAddressProver.implied(.r2, by: support))
        for l in support { #expect(!EveryAddressProver.implied(.r2, by: support.filter { $0 != l }), "without \(l.rawValue)") }
        #expect(!EveryAddressProver.EncodingLemma.defaultPool(for: RMICommand.allCases).contains(.recIndexBelow))

        let method = try provedByTheRecCommands(.r2)
        #expect(method?.contains("its lemmas REALM-REC-COUNT, REC-INDEX-BELOW, REC-INDEX-DISTINCT, which imply it at any three addresses") == true)
    }

    /// How `p` is proved for REC_CREATE and REC_DESTROY with INV-C1 and the REC lemmas as the
    /// pool, or nil (recorded as an issue) when it is not.
    func provedByTheRecCommands(_ p: Invariant) throws -> String? {
        var s = try settings("granules=3,realms=1,recs=1,entries=1", [.recCreate, .recDestroy], [p])
        s.covers = false
        s.gptEvents = false
        s.recExitEvents = false
        let r = try EveryAddressProver(settings: s, lemmas: [.c1],
                                       encodingLemmas: [.recRank, .recRankDistinct, .fieldValues, .recAuxState, .recAuxDisjoint]).run()
        guard case .proved(let method, _)? = verdict(r, p) else { Issue.record("\(p.rawValue): \(String(describing: verdict(r, p)))"); return nil }
        return method
    }

    /// INV-C2 counts the aux slots, over every REC, that name a REC_AUX Granule. REC-AUX-OWNER
    /// gives the Granule an owner (a ghost REC_CREATE writes) and says each REC's part of the
    /// count is 1 there and 0 elsewhere, so the count is 1 in any memory: checked on every
    /// memory of three addresses, and kept by REC_CREATE and REC_DESTROY.
    @Test func auxGranulesAreCountedThroughTheirOwner() throws {
        #expect(EveryAddressProver.unsupported(.c2) == nil && EveryAddressProver.arity(.c2) == 3)
        #expect(EveryAddressProver.support(of: .c2) == [.recAuxOwner])
        #expect(EveryAddressProver.implied(.c2, by: [.recAuxOwner]))
        #expect(!EveryAddressProver.implied(.c2, by: [.recAuxDisjoint]))

        let method = try provedByTheRecCommands(.c2)
        #expect(method?.contains("its lemmas REC-AUX-OWNER, which imply it on every memory of three addresses") == true)
    }

    /// INV-G3 asks, for a REC_AUX Granule, for some REC that holds it, and for a DATA Granule,
    /// for some RTT entry that covers it. REC-AUX-OWNER and DATA-COVERED name them (ghosts),
    /// REC-RANK and RTT-LEVEL say their owners are RDs: together they imply G3 on every
    /// memory of three addresses whose RTTs hold the entries the ghosts name (half a minute).
    @Test func ownersAndCoveringEntriesImplyTheSearchesOfG3() throws {
        #expect(EveryAddressProver.unsupported(.g3) == nil && EveryAddressProver.arity(.g3) == 3)
        #expect(!EveryAddressProver.provedByDefault(.g3) && EveryAddressProver.provedByDefault(.c2) && !EveryAddressProver.provedByDefault(.r3))
        let support = EveryAddressProver.support(of: .g3)
        #expect(EveryAddressProver.implied(.g3, by: support))
        for l in support { #expect(!EveryAddressProver.implied(.g3, by: support.filter { $0 != l }), "without \(l.rawValue)") }
    }

    /// DATA_CREATE and DATA_DESTROY keep DATA-COVERED, and INV-G3 is proved through it (about
    /// 6 minutes in a release build).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RMI_CHECK_SLOW_TESTS"] == "1"))
    func dataCommandsKeepTheCoveringEntries() throws {
        var s = try settings("granules=3,realms=1,recs=1,entries=1", [.dataCreate, .dataDestroy], [.g3])
        s.covers = false
        s.gptEvents = false
        s.recExitEvents = false
        let r = try EveryAddressProver(settings: s, lemmas: [.g1, .g2], encodingLemmas: Self.withoutRttShape).run()
        guard case .proved(let method, _)? = verdict(r, .g3) else { Issue.record("INV-G3: \(String(describing: verdict(r, .g3)))"); return }
        #expect(method.contains("DATA-COVERED"))
    }

    /// PSCI_COMPLETE's CPU_ON writes the registers of a target that is not runnable. A REC
    /// waiting for PSCI_COMPLETE is runnable (REC-PSCI-PENDING-RUNNABLE, proved at the REC
    /// exit with INV-C3), so the registers INV-C4 reads are never those; without the lemma
    /// INV-C4 has a counterexample to induction at PSCI_COMPLETE.
    @Test func psciCompletePowersOnNoRecThatIsWaiting() throws {
        var s = try settings("granules=3,realms=1,recs=1,entries=1", [.psciComplete], [.c4])
        s.covers = false
        s.gptEvents = false
        let without = try expect(.c4, provedBy: EveryAddressProver(settings: s, lemmas: [.c4, .c3], encodingLemmas: [.psciPendingRunnable]),
                                 needing: [.psciPendingRunnable], brokenBy: .psciComplete)
        // The counterexample shows the cause: at the probe, a REC waiting and not runnable.
        let probe = without?.ctiStates["INV-C4"]?.first { $0.hasPrefix("probe ") } ?? ""
        #expect(probe.contains(": REC ") && probe.contains("runnable=0x0 ") && !probe.contains("psciPending=0x0 "))
    }

    /// INV-T3 reads the IPA width of an RTT's owner. GRANULE_DELEGATE can turn any
    /// UNDELEGATED Granule into a DELEGATED one, so an RTT whose owner is no RD breaks T3
    /// there; RTT-LEVEL (an RTT's owner is an RD, its level within the Realm's) excludes it.
    @Test func rttsBelongToRealmsWhenGranulesAreDelegated() throws {
        var s = try settings("granules=3,realms=1,recs=1,entries=1", [.granuleDelegate], [.t3])
        s.covers = false
        s.gptEvents = false
        s.recExitEvents = false
        try expect(.t3, provedBy: EveryAddressProver(settings: s, lemmas: [.t3], encodingLemmas: [.rttLevel, .realmGeometry]),
                   needing: [.rttLevel], brokenBy: .granuleDelegate)
    }

    /// REALM_DESTROY checks `num_recs`, not the RECs: without the ranks, a REC of the
    /// destroyed Realm is left with an owner that is no RD, a counterexample to induction for
    /// INV-C3 (a running REC's Realm is ACTIVE or SYSTEM_OFF). 66 s in release, so behind
    /// RMI_CHECK_SLOW_TESTS.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RMI_CHECK_SLOW_TESTS"] == "1"))
    func realmDestroyLeavesNoRecGivenTheRanks() throws {
        var s = try settings("granules=3,realms=1,recs=1,entries=1", [.realmDestroy], [.c3])
        s.covers = false
        s.gptEvents = false
        try expect(.c3, provedBy: EveryAddressProver(settings: s, lemmas: [.c3], encodingLemmas: [.recRank, .recRankDistinct, .startingRtts, .fieldValues]),
                   needing: [.recRank, .recRankDistinct], brokenBy: .realmDestroy)
    }

    /// With the Granule commands and `command`: INV-G1 is proved with `lemmas` (and
    /// `invariants`) and names each of them; without them its CTI is at `command`.
    func expectG1NeedsEncodingLemmas(at command: RMICommand, _ lemmas: [EveryAddressProver.EncodingLemma],
                                     invariants: [Invariant]) throws {
        var s = try settings("granules=3,realms=1,recs=1,entries=1", [.granuleDelegate, .granuleUndelegate, command], [.g1])
        s.covers = false
        s.recExitEvents = false
        try expect(.g1, provedBy: EveryAddressProver(settings: s, lemmas: invariants, encodingLemmas: lemmas), needing: lemmas, brokenBy: command)
    }

    /// A question the move's solver gives up on with part of the pool goes to a lean solver
    /// that holds only those lemmas. With the move's partial questions cut at once, every
    /// verdict comes from there: the Granule invariants are still proved, and the weakened
    /// UNDELEGATE still breaks INV-L2 (a counterexample to induction, never a proof).
    @Test func questionsTheMovesSolverGivesUpOnAreAnsweredByALeanSolver() throws {
        var s = try settings("granules=2,realms=0,recs=0,entries=1", [.granuleDelegate, .granuleUndelegate], [.g1, .g2, .l2])
        s.covers = false
        var prover = EveryAddressProver(settings: s, lemmas: [.g1, .g2], encodingLemmas: [.recAuxState])
        prover.partialRlimit = 1
        let r = try prover.run()
        for p in [Invariant.g1, .g2, .l2] {
            guard case .proved? = verdict(r, p) else { Issue.record("\(p.rawValue): \(String(describing: verdict(r, p)))"); continue }
        }
        #expect(r.leanAnswers > 0)

        prover.settings.specOptions = [.weakenUndelegateAnyState]
        let weak = try prover.run()
        guard case .unknown? = verdict(weak, .l2) else { Issue.record("INV-L2 proved for the weakened spec"); return }
        #expect(weak.ctis["INV-L2"]?.hasPrefix(RMICommand.granuleUndelegate.rawValue) == true)
        #expect(weak.leanAnswers > 0)
    }

    /// UNDELEGATE weakened to succeed in any state breaks INV-L2: never proved over the
    /// arrays, while the spec's UNDELEGATE is.
    @Test func aWeakenedUndelegateIsNotProved() throws {
        var weak = try settings("granules=2,realms=0,recs=0,entries=1", [.granuleDelegate, .granuleUndelegate], [.l2],
                                options: [.weakenUndelegateAnyState])
        weak.covers = false
        guard case .unknown(let why)? = verdict(try EveryAddressProver(settings: weak, lemmas: [.g1, .g2], encodingLemmas: Self.withoutRttShape).run(), .l2) else {
            Issue.record("INV-L2 proved for the weakened spec"); return
        }
        #expect(why.contains("RMI_GRANULE_UNDELEGATE"))
        var spec = weak
        spec.specOptions = []
        guard case .proved? = verdict(try EveryAddressProver(settings: spec, lemmas: [.g1, .g2], encodingLemmas: Self.withoutRttShape).run(), .l2) else {
            Issue.record("INV-L2 not proved for the spec"); return
        }
    }

    /// What neither one address nor a pair can state (counts, searches over other
    /// addresses) and what asks an over-approximated search (an RTT entry count) is refused
    /// as input; the properties that ask "every entry" are stated one entry at a time, and
    /// those that relate two addresses (INV-R5's two RDs, INV-G4's Granule and whatever
    /// could name it, INV-T1's RTT and INV-R3's RD and the entries of another) per pair.
    @Test func propertiesTheArraysCannotStateAreRefused() throws {
        #expect(EveryAddressProver.unsupported(.g1) == nil && EveryAddressProver.unsupported(.c1) == nil)
        #expect(!EveryAddressProver.statedPerEntry(.g1) && EveryAddressProver.arity(.g1) == 1)
        for p in [Invariant.t2, .t3, .t4, .t7, .l3] {
            #expect(EveryAddressProver.unsupported(p) == nil && EveryAddressProver.statedPerEntry(p), "\(p.rawValue)")
            #expect(EveryAddressProver.arity(p) == 1, "\(p.rawValue)")
        }
        #expect(EveryAddressProver.unsupported(.r5) == nil && EveryAddressProver.arity(.r5) == 2 && !EveryAddressProver.statedPerEntry(.r5))
        for p in [Invariant.g4, .t1, .r3] {
            #expect(EveryAddressProver.unsupported(p) == nil && EveryAddressProver.arity(p) == 2 && EveryAddressProver.statedPerEntry(p), "\(p.rawValue)")
        }
        // A count over every REC, and "some REC holds it in its aux list": more than two.
        for p in [Invariant.r1] {
            #expect(EveryAddressProver.unsupported(p)?.contains("more than two addresses") == true, "\(p.rawValue)")
        }
        #expect(EveryAddressProver.unsupported(.t5)?.contains("RTT entry count") == true)
        let s = try settings("granules=2,realms=0,recs=0,entries=1", [.granuleDelegate], [.r1])
        #expect(throws: UnsupportedByEncoding.self) { try EveryAddressProver(settings: s).run() }
    }

    /// A search for an RD (or REC) over the arrays is a fresh constant, but true wherever
    /// such a Granule satisfies the predicate (`Record.addressFacts`, asserted by the engine
    /// at the addresses it names): REALM_CREATE's `vmid_valid` then sees the VMID of every
    /// RD named. Elsewhere it says nothing, and the predicate's reads are no reads of the step.
    @Test func realmSearchesHoldWhereARealmSatisfiesThem() throws {
        let ctx = Context()
        try Symbolic.withContext(ctx) { () throws -> Void in
            let (q, v) = (SWord(raw: Symbolic.variable("q")), SWord(raw: Symbolic.variable("v")))
            let m = AddressArrays.arbitrary(platform: .standard, prefix: "x", probes: []).observed()
            let found = m.existsRealm { r in m.realm(r, .vmid) == v }.raw
            #expect(m.record.addresses.isEmpty && m.record.abstractions.contains("Realm search"))
            func sat(_ extra: [Term]) throws -> Bool {
                let solver = Solver(ctx)
                for f in m.record.addressFacts.map({ ctx.select($0, q.raw) }) + extra { try solver.assert(f) }
                return try solver.check() == .sat
            }
            let vmidThere = [m.granuleIs(q, .rd).raw, (m.realm(q, .vmid) == v).raw]
            #expect(try !sat(vmidThere + [Symbolic.not(found)]))
            #expect(try sat(vmidThere + [found]))
            #expect(try sat([Symbolic.not(m.granuleIs(q, .rd).raw), Symbolic.not(found)]))
        }
    }

    /// INV-G4 says a DELEGATED Granule lies in no Realm's starting range [rtt_base,
    /// rtt_base + rtt_num_start * 4K). GRANULE_DELEGATE keeps it because every Granule of
    /// that range is a starting RTT: REALM-GEOMETRY says `rtt_base` is 4K-aligned
    /// (REALM_CREATE's `rtt_align`). Without it, an aligned Granule between two starting
    /// RTTs of a Realm with an unaligned base is delegated into the range.
    @Test func delegatedGranulesLieInNoStartingRange() throws {
        var s = try settings("granules=3,realms=1,recs=0,entries=1", [.granuleDelegate], [.g4])
        s.covers = false
        s.recExitEvents = false
        s.gptEvents = false
        try expect(.g4, provedBy: EveryAddressProver(settings: s, lemmas: [.r4], encodingLemmas: [.recAuxState, .assignedNamesData, .tableNamesChild, .startingRtts, .realmGeometry]),
                   needing: [.realmGeometry], brokenBy: .granuleDelegate)
    }

    /// INV-R5 (live Realms have distinct VMIDs) is stated for two different addresses, and
    /// REALM_CREATE keeps it through its VMID search. Asked at the same address twice, an
    /// RD would break it with itself.
    @Test func realmCreateKeepsVmidsDistinct() throws {
        var s = try settings("granules=3,realms=1,recs=0,entries=1", [.realmCreate], [.r5])
        s.covers = false
        s.gptEvents = false
        s.recExitEvents = false
        let r = try EveryAddressProver(settings: s, lemmas: [], encodingLemmas: []).run()
        guard case .proved? = verdict(r, .r5) else { Issue.record("INV-R5: \(String(describing: verdict(r, .r5)))"); return }
    }

    /// With entry probes, `allEntries` is its predicate at those indices: for a table with
    /// one ASSIGNED entry (index 5), "every entry is not ASSIGNED" fails at the probe exactly
    /// when the probe is 5 (or, as an index past the table, never).
    @Test func entrySearchesAreTheirPredicateAtTheEntryProbes() throws {
        let ctx = Context()
        try Symbolic.withContext(ctx) { () throws -> Void in
            let (t, j) = (Symbolic.variable("t"), Symbolic.variable("j"))
            var m = AddressArrays.initial(platform: .standard, probes: [t])
            m.setEntry(SWord(raw: t), .lit(5), RttEntry(state: .lit(UInt64(RttEntryState.assigned.rawValue)), ripas: .lit(0),
                                                        addr: .lit(0x8000_0000), attrs: .lit(0)), when: SBit(true))
            let noneAssigned = m.probing([t], entries: [j]).allEntries(SWord(raw: t)) { _, e in !e.is(.assigned) }.raw
            func sat(_ extra: Term) throws -> Bool {
                let solver = Solver(ctx)
                try solver.assert(ctx.not(noneAssigned))
                try solver.assert(extra)
                return try solver.check() == .sat
            }
            #expect(try sat(Symbolic.eq(j, Symbolic.lit(5))))
            #expect(try !sat(Symbolic.not(Symbolic.eq(j, Symbolic.lit(5)))))
            // Without probes it is a search the arrays over-approximate.
            let bare = m.observed()
            _ = bare.allEntries(SWord(raw: t)) { _, e in !e.is(.assigned) }
            #expect(bare.record.abstractions.contains("RTT entry search"))
        }
    }

    /// An over-approximated search still states its predicate at the entries an engine
    /// names: the fixed `searchHints` of the searched RTT and the `searchIndexHints` it
    /// computes from the RTT (RTT_FOLD's entries that cover the probes), each read and
    /// recorded. A search that holds is then its predicate there; elsewhere it says nothing.
    @Test func searchesStateTheirPredicateAtTheHints() throws {
        let ctx = Context()
        try Symbolic.withContext(ctx) { () throws -> Void in
            let (t, h, k) = (SWord(raw: Symbolic.variable("t")), SWord(raw: Symbolic.variable("h")), SWord(raw: Symbolic.variable("k")))
            var m = AddressArrays.arbitrary(platform: .standard, prefix: "h", probes: []).observed()
            m.searchIndexHints = { _, table in [table.raw == t.raw ? h : k] }
            let all = m.allEntries(t) { _, e in e.is(.assigned) }.raw
            #expect(m.record.entries.contains { $0.table == t.raw && $0.index == h.raw })
            func sat(_ extra: [Term]) throws -> Bool {
                let solver = Solver(ctx)
                for f in m.record.facts + [all] + extra { try solver.assert(f) }
                return try solver.check() == .sat
            }
            let unassignedAt = { (i: SWord) in Symbolic.not(m.entry(t, i).is(.assigned).raw) }
            #expect(try !sat([Symbolic.ult(h.raw, Symbolic.lit(512)), unassignedAt(h)]))
            #expect(try sat([Symbolic.ult(h.raw, Symbolic.lit(512)), unassignedAt(k), Symbolic.not(Symbolic.eq(h.raw, k.raw))]))
            // Past the table's 512 entries a hint says nothing.
            #expect(try sat([Symbolic.eq(h.raw, Symbolic.lit(512)), unassignedAt(h)]))
        }
    }

    /// RTT_FOLD makes the parent entry from the child's entry 0. Over the arrays its
    /// homogeneity searches answer any value, yet a child whose entry 0 is TABLE never folds:
    /// the fold says its searches of entry 0 outright (else INV-T2 and T4 have
    /// counterexamples to induction at RTT_FOLD, a TABLE or a level-0 block made from it).
    @Test func rttFoldKnowsTheFirstEntryOfTheChild() throws {
        let ctx = Context()
        try Symbolic.withContext(ctx) { () throws -> Void in
            typealias S = Symbolic
            let x = S.variable("x")
            let pre = AddressArrays.arbitrary(platform: .standard, prefix: "pre", probes: [x])
            let args = (1...5).map { S.variable("arg\($0)") }
            let (success, next) = RMISpec.arrayStep(.rttFold, pre.observed(), args: args)
            func folds(entry0 state: RttEntryState) throws -> Bool {
                let solver = Solver(ctx)
                try solver.assert(success)
                try solver.assert(pre.granuleIs(SWord(raw: x), .rtt).raw)
                try solver.assert(next.granuleIs(SWord(raw: x), .delegated).raw)
                try solver.assert(S.eq(pre.entry(SWord(raw: x), .lit(0)).state.raw, S.lit(UInt64(state.rawValue))))
                return try solver.check() == .sat
            }
            #expect(try folds(entry0: .unassigned))
            #expect(try folds(entry0: .assigned))
            #expect(try !folds(entry0: .table))
        }
    }

    /// INV-T3 and INV-T7, stated at a free entry of a free RTT, are proved for
    /// RTT_MAP_UNPROTECTED; weakened to map an Unprotected entry in the protected half,
    /// RTT_MAP_UNPROTECTED gives INV-T3 a counterexample to induction.
    @Test func entryInvariantsAreProvedOneEntryAtATime() throws {
        var s = try settings("granules=2,realms=0,recs=0,entries=1", [.rttMapUnprotected], [.t3, .t7])
        s.covers = false
        s.recExitEvents = false
        s.gptEvents = false
        let spec = try EveryAddressProver(settings: s, lemmas: [.t3, .t7], encodingLemmas: []).run()
        for p in [Invariant.t3, .t7] {
            guard case .proved(let method, _)? = verdict(spec, p) else { Issue.record("\(p.rawValue): \(String(describing: verdict(spec, p)))"); continue }
            #expect(method.contains("1-induction over every address"))
        }
        s.specOptions = [.weakenMapUnprotectedInPar]
        s.properties = [.t3]
        let weak = try EveryAddressProver(settings: s, lemmas: [.t3], encodingLemmas: []).run()
        guard case .unknown? = verdict(weak, .t3) else { Issue.record("INV-T3 proved for the weakened spec"); return }
        #expect(weak.ctis["INV-T3"]?.hasPrefix("RMI_RTT_MAP_UNPROTECTED") == true)
    }

    /// Over the arrays the search for RTT_INIT_RIPAS's walk_top is abstracted, so the run it
    /// bounds may reach a TABLE or ASSIGNED entry; the RIPAS update checks each entry it
    /// writes, so INV-T7 is proved with itself alone (0.2 s in release). Without that check
    /// the question is not answered in 200 s: the per-query limit makes that UNKNOWN here.
    @Test func rttInitRipasGivesRipasOnlyToUnassignedEntries() throws {
        var s = try settings("granules=2,realms=0,recs=0,entries=1", [.rttInitRipas], [.t7])
        s.covers = false
        s.recExitEvents = false
        s.gptEvents = false
        s.timeoutMs = 60_000
        let r = try EveryAddressProver(settings: s, lemmas: [.t7], encodingLemmas: []).run()
        guard case .proved(let method, _)? = verdict(r, .t7) else { Issue.record("INV-T7: \(String(describing: verdict(r, .t7)))"); return }
        #expect(method.contains("1-induction over every address"))
    }

    /// INV-T2 (a TABLE entry names an RTT one level down, same owner, mapping the entry's
    /// IPAs) for every address and entry with the commands that make and remove TABLE
    /// entries: RTT_CREATE's child maps the IPA it is given, so the proof needs the walk's
    /// RTTs to map that IPA: T2 at the entries the walk reads, and the starting RTTs' IPA
    /// bases (REALM-STARTING-RTTS). 5 to 9 minutes (one debug and one release run, both on
    /// a shared machine), so behind RMI_CHECK_SLOW_TESTS.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RMI_CHECK_SLOW_TESTS"] == "1"))
    func rttTableEntriesKeepTheirShapeWithTheRttCommands() throws {
        var s = try settings("granules=3,realms=1,recs=0,entries=1", [.granuleDelegate, .granuleUndelegate, .rttCreate, .rttDestroy], [.t2])
        s.covers = false
        s.recExitEvents = false
        let r = try EveryAddressProver(settings: s, encodingLemmas: [.startingRtts, .tableNamesChild, .tableUnique, .tableNotStarting]).run()
        guard case .proved(let method, _)? = verdict(r, .t2) else { Issue.record("\(String(describing: verdict(r, .t2)))"); return }
        #expect(method.contains("REALM-STARTING-RTTS"))
    }

    /// Deletion by generation, from any state: a Granule's objects read 0 once it leaves
    /// their state, and still when it holds that kind again; a field or entry written after
    /// that reads its value and the others stay 0; a change to the object's own state deletes
    /// nothing. One claim that is not so is refused.
    @Test func deletedObjectsReadZeroUntilWrittenAgain() throws {
        let ctx = Context()
        try Symbolic.withContext(ctx) { () throws -> Void in
            typealias S = Symbolic
            let on = SBit(raw: S.lit(true))
            let a = SWord(raw: S.variable("t.a")), b = SWord(raw: S.variable("t.b")), i = SWord(raw: S.variable("t.i"))
            func valid(_ claim: SBit) throws -> Bool {
                let solver = Solver(ctx)
                try solver.assert(S.ult(i.raw, S.lit(Layout.entriesPerRtt)))
                try solver.assert(ctx.not(S.eq(a.raw, b.raw)))
                try solver.assert(ctx.not(claim.raw))
                return try solver.check() == .unsat
            }
            func state(_ s: GranuleState) -> SWord { .lit(s.rawValue) }
            var m = AddressArrays.arbitrary(platform: .standard, prefix: "t", probes: [])
            let before = m
            m.setGranuleState(a, state(.rd), when: on)
            #expect(try valid(m.realm(a, .rttBase) == before.realm(a, .rttBase)))
            #expect(try valid(m.rtt(a, .level) == 0 && m.entry(a, i).state == 0 && m.rec(a, .owner) == 0))
            m.setRealm(a, .numRecs, .lit(5), when: on)
            m.setGranuleState(a, state(.rd), when: on)
            #expect(try valid(m.realm(a, .numRecs) == 5))
            m.setGranuleState(a, state(.delegated), when: on)
            m.setGranuleState(a, state(.rd), when: on)
            #expect(try valid(m.realm(a, .numRecs) == 0))
            m.setRealm(a, .rttBase, .lit(0x7000), when: on)
            #expect(try valid(m.realm(a, .rttBase) == 0x7000 && m.realm(a, .numRecs) == 0))
            #expect(try !valid(m.realm(a, .numRecs) == 5))

            m.setGranuleState(b, state(.rtt), when: on)
            let e = RttEntry<Symbolic>(state: .lit(RttEntryState.assigned.rawValue), ripas: .lit(1), addr: a, attrs: .lit(0))
            m.setEntry(b, i, e, when: on)
            #expect(try valid(m.entry(b, i).addr == a))
            m.setGranuleState(b, state(.delegated), when: on)
            m.setGranuleState(b, state(.rtt), when: on)
            #expect(try valid(m.entry(b, i).state == 0 && m.entry(b, i).addr == 0))
            m.setEntry(b, .lit(3), e, when: on)
            #expect(try valid(m.entry(b, .lit(3)).state == .lit(RttEntryState.assigned.rawValue) && m.entry(b, .lit(4)).addr == 0))
            #expect(try valid(m.realm(a, .rttBase) == 0x7000))
        }
    }

    /// The arrays are the spec's state: the canonical scenario (build, populate, run and tear
    /// down a Realm) run on them from the initial arrays can end in the state `SpecState`
    /// reaches, with every call succeeding or failing as it does there. Asked of the solver
    /// as one satisfiable question (the over-approximated searches are free constants, so the
    /// concrete run must be one of the arrays' runs); a write the arrays made wrongly (an
    /// object not deleted, an entry range off by one) would make it unsatisfiable.
    @Test func theArraysRunTheCanonicalScenarioAsTheSpecDoes() throws {
        let trace = CanonicalScenarios.buildAndTeardown().trace
        let ctx = Context()
        try Symbolic.withContext(ctx) {
            typealias S = Symbolic
            var m = AddressArrays.initial(platform: trace.platform, probes: [])
            var runner = TraceRunner(platform: trace.platform)
            var facts: [Term] = []
            var definitions: [Term] = []
            func lit(_ v: UInt64) -> Term { S.lit(v) }
            func write(_ w: HostWrite) {
                func put(_ pa: UInt64, _ v: UInt64) {
                    let g = SWord(raw: lit(pa & ~(Layout.granuleSize - 1)))
                    m.nsWrite(SWord(raw: lit(pa)), SWord(raw: lit(v)), when: m.hostMayWrite(g))
                }
                switch w {
                case .realmParams(let a, let p): p.forEachWord { put(a &+ $0, $1) }
                case .recParams(let a, let p): p.forEachWord { put(a &+ $0, $1) }
                case .recRun(let a, let e): e.forEachWord { put(a &+ $0, $1) }
                case .data(let a, let content): m.hostWrite(lit(a), lit(content))
                case .words(let a, let ws): for (i, v) in ws.enumerated() { put(a &+ UInt64(i) * 8, v) }
                }
            }
            var touched = Set<UInt64>()
            let solver = Solver(ctx)
            var steps = 0
            for step in trace.steps {
                func symbolic(_ a: RealmAction<Concrete>) -> RealmAction<Symbolic> {
                    RealmAction(kind: .lit(a.kind.raw), args: a.args.map { .lit($0.raw) })
                }
                let from = m.observed()
                var success: Term?
                switch step {
                case .write(let w): write(w)
                case .setGPT(let a, let g): _ = m.otherAgentSetsGPT(SWord(raw: lit(a)), SWord(raw: lit(g.rawValue)))
                case .call(let c):
                    for w in c.writes { write(w) }
                    let action = (c.realm ?? RealmActionValue(.irq)).action
                    let call = m.observed()
                    (success, m) = RMISpec.arrayStep(c.command, call, args: c.args.map(lit), realm: symbolic(action))
                    definitions += call.record.definitions
                case .recExit(let rec, let realm, _):
                    (success, m) = RMISpec.arrayRecExit(from, rec: lit(rec), realm: symbolic(realm.action))
                    definitions += from.record.definitions
                }
                let r = runner.run(step)
                if let success, let r { facts.append(r.succeeded ? success : ctx.not(success)) }
                for (a, _) in runner.state.granules { touched.insert(a) }
                for a in touched.sorted() {
                    let w = SWord(raw: lit(a)), g = runner.state.granule(a)
                    facts.append(S.eq(m.granuleState(w).raw, lit(g.state.rawValue)))
                    facts.append(S.eq(m.granuleGPT(w).raw, lit(g.gpt.rawValue)))
                    facts.append(S.eq(m.granuleContent(w).raw, lit(g.content)))
                    for f in RealmField.allCases { facts.append(S.eq(m.realm(w, f).raw, lit(runner.state.realm(CWord(a), f).raw))) }
                    for f in [RecField.owner, .state, .runnable, .mpidr, .aux(0)] {
                        facts.append(S.eq(m.rec(w, f).raw, lit(runner.state.rec(CWord(a), f).raw)))
                    }
                    for f in RttField.allCases { facts.append(S.eq(m.rtt(w, f).raw, lit(runner.state.rtt(CWord(a), f).raw))) }
                    for i in [0, 1, 255, 256, 511] as [UInt64] {
                        let e = m.entry(w, SWord(raw: lit(i))), x = runner.state.entry(CWord(a), CWord(i))
                        facts += [S.eq(e.state.raw, lit(x.state.raw)), S.eq(e.ripas.raw, lit(x.ripas.raw)), S.eq(e.addr.raw, lit(x.addr.raw))]
                    }
                }
                steps += 1
            }
            #expect(runner.state.realms.isEmpty && touched.count >= 5 && steps == trace.steps.count)
            for d in definitions { try solver.assert(d) }
            for f in facts { try solver.assert(f) }
            #expect(try solver.check() == .sat)
            // And the question can fail: one wrong fact (the RD left in state RD) is refused.
            let rd = touched.sorted()[1]
            try solver.assert(S.eq(m.granuleState(SWord(raw: lit(rd))).raw, lit(GranuleState.rd.rawValue)))
            #expect(try solver.check() == .unsat)
        }
    }
}
