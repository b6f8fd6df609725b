import Testing
@testable import Explicit
import RMISpec

@Suite struct ExplicitTests {
    @Test func parsesScope() throws {
        let s = try ExplicitScope.parse("granules=4,realms=1,recs=1,ipas=2")
        #expect(s.granules == 4 && s.realms == 1 && s.recs == 1 && s.ipas == 2)
        #expect(try ExplicitScope.parse("") == ExplicitScope())
        for bad in ["granules", "granules=x", "granules=0", "colours=3", "recs=9"] {
            #expect(throws: ExplicitScope.ParseError.self) { try ExplicitScope.parse(bad) }
        }
    }

    /// One parser for both engines' scopes: the explicit scope's shared keys land in its
    /// `Scope` base, and errors name the key and the reason, in the symbolic scope's words.
    @Test func scopeParsingIsSharedWithTheSymbolicScope() throws {
        let s = try ExplicitScope.parse(" granules = 6 , recs=2,aux=0, unprotected=0")
        #expect(s.base.granules == 6 && s.base.recs == 2 && s.base.aux == 0 && s.base.realms == 1 && !s.unprotected)
        #expect(try ExplicitScope.parse(s.description) == s)
        func message(_ text: String) -> String {
            do { _ = try ExplicitScope.parse(text); return "" } catch { return error.message }
        }
        #expect(message("granules=x") == "scope key \"granules\": value \"x\" is not a non-negative integer")
        #expect(message("granules=17") == "scope key \"granules\": value 17 out of range 1...16")
        #expect(message("wide=2") == "scope key \"wide\": value 2 out of range 0...1")
        #expect(message("entries=2").contains("unknown key \"entries\" (keys: granules, realms, recs, aux, ipas"))
        #expect(message("recs=1,recs=2") == "scope: key \"recs\" given twice")
        #expect(message("recs") .contains("scope item \"recs\": expected key=value"))
        // The same text means the same shared values to both parsers.
        let sym = try Scope(parsing: "granules=6,recs=2,aux=0")
        #expect(sym.granules == s.granules && sym.recs == s.recs && sym.aux == s.aux)
        #expect(try ExplicitScope.parsePlan("granules=4;granules=5,realms=2").map(\.granules) == [4, 5])
    }

    static func search(_ scope: ExplicitScope, symmetry: Bool, collect: Bool = false,
                       extra: [ExtraProperty] = [], depth: Int? = nil,
                       properties: [Invariant] = Invariant.specProperties) throws -> (ExplicitResult, ExplicitSearch) {
        var o = ExplicitOptions(scope: scope)
        o.properties = properties
        o.symmetry = symmetry
        o.collectStates = collect
        o.extraProperties = extra
        o.maxDepth = depth
        let s = ExplicitSearch(o)
        return (try s.run(), s)
    }

    /// The reduced count times the orbit sizes equals the full count: each symmetry class of
    /// reachable states is stored exactly once, and the reachable set is closed under
    /// renaming the pool.
    @Test(arguments: ["granules=3,aux=1", "granules=3,aux=0,recs=2", "granules=4,aux=0,ipas=0,unprotected=0",
                      "granules=4,realms=2,aux=0,ipas=0,unprotected=0"])
    func symmetryIsSound(_ text: String) throws {
        let scope = try ExplicitScope.parse(text)
        let (full, fullSearch) = try Self.search(scope, symmetry: false, collect: true, properties: [])
        let (reduced, reducedSearch) = try Self.search(scope, symmetry: true, collect: true, properties: [])
        #expect(full.cut == nil && reduced.cut == nil)
        #expect(reduced.inexactCanonical == 0)
        // The full search's states are pairwise distinct in the plain encoding.
        #expect(Set(fullSearch.states.map { scope.plainEncoding($0) }).count == full.distinct)
        // Distinct canonical forms among the representatives.
        #expect(Set(reducedSearch.states.map { scope.canonicalEncoding($0).words }).count == reduced.distinct)
        let orbitSum = reducedSearch.states.reduce(0) { $0 + scope.orbitSize($1) }
        #expect(orbitSum == full.distinct, "\(text): \(reduced.distinct) classes, orbits sum to \(orbitSum), full \(full.distinct)")
        // Every state of the full search has the canonical form of some representative.
        let reps = Set(reducedSearch.states.map { scope.canonicalEncoding($0).words })
        #expect(fullSearch.states.allSatisfy { reps.contains(scope.canonicalEncoding($0).words) })
        #expect(reduced.distinct < full.distinct)
        // The search's own orbit count (--orbits) gives the same number.
        var o = ExplicitOptions(scope: scope)
        o.properties = []
        o.countOrbits = true
        #expect(try ExplicitSearch(o).run().unreducedByOrbits == full.distinct)
        // Granule symmetry alone is sound too, and with two Realms the realm symmetry
        // (VMIDs renamed) reduces further.
        var g = ExplicitOptions(scope: scope)
        g.properties = []
        g.realmSymmetry = false
        g.countOrbits = true
        let granulesOnly = try ExplicitSearch(g).run()
        #expect(granulesOnly.unreducedByOrbits == full.distinct)
        if scope.realms > 1 {
            #expect(reduced.distinct < granulesOnly.distinct, "realm symmetry: \(reduced.distinct) vs \(granulesOnly.distinct)")
        } else {
            #expect(reduced.distinct == granulesOnly.distinct)
        }
    }

    /// A tiny scope searched exhaustively: every property holds and the covers that are
    /// reachable there are reached.
    @Test func tinyScopeHoldsAndCovers() throws {
        let scope = try ExplicitScope.parse("granules=4,aux=1")
        let (r, _) = try Self.search(scope, symmetry: true)
        #expect(r.cut == nil)
        for o in r.outcomes {
            if case .violated = o.verdict { Issue.record("\(o.name) violated") }
        }
        let reached = Set(r.outcomes.filter { $0.coverDepth != nil }.map(\.name))
        for name in ["INV-G1", "INV-G4", "INV-G5", "INV-R3", "INV-R4", "INV-R6", "INV-R7", "INV-C1", "INV-C2", "INV-C3",
                     "INV-C5", "INV-T1", "INV-T2", "INV-T3", "INV-T7", "INV-L1", "INV-L2", "INV-L3", "INV-L4"] {
            #expect(reached.contains(name), "cover of \(name) not reached")
        }
    }

    /// A deliberately false property: "no REC exists". The search finds a shortest
    /// counterexample (delegate RD, RTT, REC and aux, create the Realm, create the REC),
    /// with and without symmetry, and the trace replays and ends in a violating state.
    @Test func brokenPropertyGivesShortestReplayingTrace() throws {
        let scope = try ExplicitScope.parse("granules=4,aux=1")
        let noRec = ExtraProperty(name: "TEST-NO-REC") { $0.recs.isEmpty }
        for symmetry in [true, false] {
            let (r, _) = try Self.search(scope, symmetry: symmetry, extra: [noRec], depth: 6, properties: [])
            guard let o = r.outcomes.first(where: { $0.name == "TEST-NO-REC" }), case .violated(let t) = o.verdict else {
                Issue.record("no counterexample (symmetry \(symmetry))"); continue
            }
            #expect(t.steps.count == 6)
            let replay = t.replay()
            #expect(replay.agrees)
            #expect(!replay.finalState.recs.isEmpty)
        }
    }

    /// A `sometimes` property (INV-T8: an ASSIGNED_NS entry maps a delegated Granule) gets a
    /// shortest witness, confirmed on replay by the same property check traces use.
    @Test func sometimesPropertyGetsAReplayedWitness() throws {
        var o = ExplicitOptions(scope: try ExplicitScope.parse("granules=5,ipas=0"))
        o.properties = [.t8]
        let r = try ExplicitSearch(o).run()
        guard case .witnessed(let t) = r.outcomes.first?.verdict else { Issue.record("INV-T8 not witnessed"); return }
        // Delegate RD, RTT, L2, L3 and the target; REALM_CREATE; two RTT_CREATEs; map.
        #expect(t.steps.count == 9)
        #expect(t.replay().agrees)
        #expect(t.checkProperties([.t8]).covered.contains(.t8))
    }

    /// The depth and state bounds cut the search, and the result says so.
    @Test func boundsAreReported() throws {
        let scope = try ExplicitScope.parse("granules=4")
        var o = ExplicitOptions(scope: scope)
        o.maxStates = 50
        let r = try ExplicitSearch(o).run()
        #expect(r.cut == "states 50")
        #expect(r.distinct == 50)
        let (d, _) = try Self.search(scope, symmetry: true, depth: 3)
        #expect(d.cut == "depth 3")
        #expect(d.depth == 3)
    }

    /// Parallel workers change nothing in the result: the same counts, the same witness
    /// depths and the same shortest traces (step by step) with 1, 2 and 4 workers, with and
    /// without a state bound.
    @Test(arguments: [nil, 300] as [Int?])
    func resultsDoNotDependOnWorkers(_ maxStates: Int?) throws {
        let noRec = ExtraProperty(name: "TEST-NO-REC") { $0.recs.isEmpty }
        func run(_ workers: Int) throws -> ExplicitResult {
            var o = ExplicitOptions(scope: try ExplicitScope.parse("granules=5"))
            o.workers = workers
            o.maxStates = maxStates
            o.extraProperties = [noRec]
            o.countOrbits = true
            return try ExplicitSearch(o).run()
        }
        let one = PinnedResultsTests.summary(try run(1))
        if maxStates == nil { #expect(one.contains { $0.hasPrefix("TEST-NO-REC - RMI_") }) }
        for w in [2, 4] { #expect(PinnedResultsTests.summary(try run(w)) == one, "\(w) workers") }
    }

    /// A new state equal to its parent in every part a state property reads is not checked
    /// again (`ExplicitSearch.reads`): evaluating those skipped checks anyway gives the
    /// parent's answers (the property holds, the cover is not reached) on every state of
    /// these scopes, and checks are skipped.
    @Test(arguments: ["granules=4", "granules=4,realms=2", "granules=4,recs=2,aux=0,ipas=0,unprotected=0", "granules=5,ipas=0,wide=1"])
    func skippedStateChecksAgree(_ text: String) throws {
        for symmetry in [true, false] where symmetry || text == "granules=4" {
            var o = ExplicitOptions(scope: try ExplicitScope.parse(text))
            o.symmetry = symmetry
            let search = ExplicitSearch(o)
            search.verifySkips = true
            _ = try search.run()
            #expect(search.skippedChecks.load(ordering: .relaxed) > 0)
            #expect(search.skipMismatches.load(ordering: .relaxed) == 0, "\(text), symmetry \(symmetry)")
        }
    }

    @Test func fingerprintsDiffer() {
        #expect(fingerprint([1, 2, 3]) != fingerprint([1, 3, 2]))
        #expect(fingerprint([]) != fingerprint([0]))
    }
}
