import Testing
import Foundation
import RMISpec
import RMMImpl
@testable import RMICheck

/// Cover from several starts (seed traces), labels proved unreachable in a scope, the
/// checked-in seeds, and the two weakenings whose REFINES-SPEC violations need a built
/// Realm (found from a seed, so that each search is one or two symbolic steps).
@Suite struct CoverSeedTests {
    func settings(_ scope: Scope, _ commands: [RMICommand], options: SpecOptions = []) -> SymbolicSettings {
        var s = SymbolicSettings()
        s.scope = scope
        s.commands = commands
        s.properties = []
        s.specOptions = options
        s.seed = 1
        s.rlimit = 50_000_000
        s.covers = false
        return s
    }

    /// A NEW Realm of IPA width 32 at starting level 1 in the first three slots: starting
    /// RTT, RD, and the NS Granule of its parameters.
    func realmSeed(_ scope: Scope) -> (Scenario, Scenario.RealmHandle) {
        var sc = Scenario("seed: a NEW Realm", platform: scope.platform)
        let (realm, created) = sc.createRealm(s2sz: 32, sl: 1, numStart: 1)
        #expect(created.succeeded)
        return (sc, realm)
    }

    func verdict(_ r: CoverGenerator.Report, _ id: String) -> CoverVerdict? {
        r.targets.first { $0.target.id == id }?.verdict
    }

    /// REALM_ACTIVATE's success needs an RD, three calls from the initial state: not within
    /// one call of it, but one call of a seed that created a Realm. Labels the first start
    /// reaches are credited to it; the second start only searches what is left.
    @Test func aSeedReachesWhatTheInitialStateCannotAndStartsMerge() throws {
        let scope = try Scope(parsing: "granules=3,realms=1,recs=0,entries=2")
        let (sc, _) = realmSeed(scope)
        let s = settings(scope, [.realmActivate])
        let alone = try CoverGenerator(settings: s, depth: 1).run()
        guard case .unreachable(let b)? = verdict(alone, "RMI_REALM_ACTIVATE/success") else {
            Issue.record("from the initial state: \(String(describing: verdict(alone, "RMI_REALM_ACTIVATE/success")))"); return
        }
        #expect(b == 1)

        let r = try CoverGenerator(settings: s, depth: 1, starts: [Trace(platform: scope.platform), sc.trace]).run()
        guard case .reached(let t)? = verdict(r, "RMI_REALM_ACTIVATE/success") else {
            Issue.record("from the seeds: \(String(describing: verdict(r, "RMI_REALM_ACTIVATE/success")))"); return
        }
        #expect(r.reachedFrom["RMI_REALM_ACTIVATE/success"] == 1)
        #expect(t.steps.count == sc.trace.steps.count + 1)
        var prefix = t
        prefix.steps = Array(t.steps.prefix(sc.trace.steps.count))
        prefix.description = sc.trace.description
        #expect(prefix.encoded() == sc.trace.encoded())
        #expect(t.replay().mismatch == nil)
        // rd_align is one call from the empty start: credited to it, with no seed prefix.
        guard case .reached(let a)? = verdict(r, "RMI_REALM_ACTIVATE/rd_align") else {
            Issue.record("rd_align: \(String(describing: verdict(r, "RMI_REALM_ACTIVATE/rd_align")))"); return
        }
        #expect(r.reachedFrom["RMI_REALM_ACTIVATE/rd_align"] == 0)
        #expect(a.steps.count == 1)
        // realm_state needs an active Realm: two calls from the seed. Not reached from any
        // start within one call: a bound from the initial state, not a proof (no .infeasible).
        guard case .unreachable(1)? = verdict(r, "RMI_REALM_ACTIVATE/realm_state") else {
            Issue.record("realm_state: \(String(describing: verdict(r, "RMI_REALM_ACTIVATE/realm_state")))"); return
        }
        // With only the seed as a start, the same target is undecided.
        let seedOnly = try CoverGenerator(settings: s, depth: 1, starts: [sc.trace]).run()
        guard case .unknown? = verdict(seedOnly, "RMI_REALM_ACTIVATE/realm_state") else {
            Issue.record("realm_state from the seed: \(String(describing: verdict(seedOnly, "RMI_REALM_ACTIVATE/realm_state")))"); return
        }
    }

    /// Without a Realm slot no RD exists, so REALM_ACTIVATE can only fail on its rd_*
    /// conditions: realm_state and success are proved unreachable (UNSAT over every
    /// well-formed state of the scope); rd_state is reached.
    @Test func labelsNoStateOfTheScopeGivesAreProvedUnreachable() throws {
        var gen = CoverGenerator(settings: settings(try Scope(parsing: "granules=1,realms=0,recs=0,entries=1"), [.realmActivate]),
                                 depth: 1)
        gen.proveUnreached = true
        let r = try gen.run()
        for id in ["RMI_REALM_ACTIVATE/realm_state", "RMI_REALM_ACTIVATE/success"] {
            guard case .infeasible(let why)? = verdict(r, id) else { Issue.record("\(id): \(String(describing: verdict(r, id)))"); continue }
            #expect(why.contains("UNSAT"))
        }
        #expect(verdict(r, "RMI_REALM_ACTIVATE/rd_state")?.isReached == true)
    }

    /// The checked-in seeds are the built-in milestones, and each replays on the spec.
    @Test func checkedInSeedsAreTheMilestonesAndReplay() throws {
        var root = URL(fileURLWithPath: #filePath)
        while root.pathComponents.count > 1, !FileManager.default.fileExists(atPath: root.appendingPathComponent("Specs/seeds").path) {
            root.deleteLastPathComponent()
        }
        let dir = root.appendingPathComponent("Specs/seeds")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
        let built = CoverSeeds.milestones()
        #expect(files == built.map { $0.name + ".json" })
        for (file, (_, trace)) in zip(files, built) {
            let t = try Trace.load(path: dir.appendingPathComponent(file).path)
            #expect(t.replay().mismatch == nil, "\(file)")
            #expect(t.encoded() == trace.encoded(), "\(file) differs from CoverSeeds.milestones(): run `rmi-check cover --write-seeds Specs/seeds`")
            #expect(t.platform == CoverSeeds.scope.platform)
        }
    }

    /// weaken-data-destroy-no-refcount-decrement: from a Realm with DATA at IPA 0, DATA_DESTROY
    /// alone refines the spec (the leaked reference is not observable), but a following
    /// RTT_DESTROY of the emptied level-3 table fails rtt_live where the spec succeeds.
    @Test func dataDestroyLeakIsFoundAtTheNextRttDestroy() throws {
        let scope = try Scope(parsing: "granules=6,realms=1,recs=0,entries=2")
        var (sc, realm) = realmSeed(scope)
        let tables = sc.createRtts(realm, ipa: 0, to: 3)
        #expect(tables.count == 2)
        let data = sc.granule()
        sc.delegate(data)
        #expect(sc.call(.dataCreate, realm.rd, data, 0, scope.slotAddress(2), 0).succeeded)
        var s = settings(scope, [.dataDestroy, .rttDestroy], options: .weakenDataDestroyNoRefcountDecrement)
        s.from = sc.trace
        let r = try BoundedModelChecker(settings: s, depth: 2).run()
        guard case .violated(let t)? = r.outcomes.first(where: { $0.target.name == "REFINES-SPEC" })?.verdict else {
            Issue.record("REFINES-SPEC: \(String(describing: r.outcomes.first?.verdict.name))"); return
        }
        #expect(t.steps.count == sc.trace.steps.count + 2)
        #expect(t.replay().mismatch == nil)
        guard case .call(let first)? = t.steps.dropLast().last, let (destroy, weak, spec) = t.lastCallUnderBoth() else {
            Issue.record("not two calls"); return
        }
        // The DATA_DESTROY empties the table; the RTT_DESTROY of it (level 3) then fails
        // rtt_live only under the weakening.
        #expect(first.command == .dataDestroy && destroy.command == .rttDestroy)
        #expect(weak.failing.contains("rtt_live") && weak.allows(status: .errorRtt, index: 3) != nil)
        #expect(!spec.failing.contains("rtt_live") && spec.allows(status: .errorRtt, index: 3) == nil)
    }

    /// Each new weakening mirrors its RMMImpl deviation: on random walks of the weakened
    /// spec the deviating RMMImpl gives every result the weakened spec allows, while the same
    /// walks drawn on the spec show the deviation (fixed seed: walk 3 and walk 13 are the
    /// first that do).
    @Test(arguments: [("data-destroy-no-refcount-decrement", SpecOptions.weakenDataDestroyNoRefcountDecrement),
                      ("data-create-walk-before-ipa-bound", SpecOptions.weakenDataCreateWalkBeforeIpaBound)])
    func weakeningMirrorsItsDeviation(_ name: String, _ option: SpecOptions) throws {
        func differing(_ options: SpecOptions) throws -> Int {
            var c = Conformance(impl: BuiltinRMM(bugs: RMMBugs(name: name)!), compareState: false)
            var seeds = SplitMix64(seed: 7)
            var n = 0
            for _ in 0..<20 {
                var w = RandomWalk(seed: seeds.next(), noise: 0.1, platform: .standard, options: options)
                for _ in 0..<200 { w.step() }
                if try c.check(w.scenario.trace) != nil { n += 1 }
            }
            return n
        }
        #expect(try differing(option) == 0)
        #expect(try differing([]) > 0)
    }

    /// weaken-data-create-walk-before-ipa-bound: from a NEW Realm, one DATA_CREATE_UNKNOWN at
    /// an Unprotected IPA gives the walk's RMI_ERROR_RTT where the spec requires INPUT.
    @Test func dataCreateWalkBeforeIpaBoundIsFoundInOneCall() throws {
        let scope = try Scope(parsing: "granules=3,realms=1,recs=0,entries=2")
        let (sc, _) = realmSeed(scope)
        var s = settings(scope, [.dataCreateUnknown], options: .weakenDataCreateWalkBeforeIpaBound)
        s.from = sc.trace
        let r = try BoundedModelChecker(settings: s, depth: 1).run()
        guard case .violated(let t)? = r.outcomes.first(where: { $0.target.name == "REFINES-SPEC" })?.verdict else {
            Issue.record("REFINES-SPEC: \(String(describing: r.outcomes.first?.verdict.name))"); return
        }
        #expect(t.steps.count == sc.trace.steps.count + 1)
        guard let (c, weak, spec) = t.lastCallUnderBoth() else { Issue.record("no call"); return }
        // An Unprotected IPA inside the 32-bit IPA space: the walk's RMI_ERROR_RTT (the
        // starting level, 1) is allowed only under the weakening.
        #expect(c.command == .dataCreateUnknown)
        #expect(c.args[2] >= 1 << 31 && c.args[2] < 1 << 32)
        #expect(weak.allows(status: .errorRtt, index: 1) != nil && !weak.failing.contains("ipa_bound"))
        #expect(spec.allows(status: .errorRtt, index: 1) == nil && spec.failing.contains("ipa_bound"))
        #expect(t.replay().mismatch == nil)
    }
}
