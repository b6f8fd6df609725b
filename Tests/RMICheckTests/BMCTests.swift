import Testing
import Foundation
import RMISpec
import SMT
@testable import RMICheck

/// Bounded model checking on small scopes and alphabets (each query is a fraction of a
/// second); the full-alphabet and deeper runs are benchmarks, not tests.
@Suite struct BMCTests {
    func outcome(_ r: BoundedModelChecker.Report, _ name: String) -> PropertyOutcome? {
        r.outcomes.first { $0.target.name == name }
    }

    @Test func granuleCommandsKeepTheirInvariantsAndReachTheirCovers() throws {
        let s = try settings("granules=2,realms=0,recs=0,entries=1", [.granuleDelegate, .granuleUndelegate],
                             [.g1, .g2, .g5, .l2, .l4])
        let r = try BoundedModelChecker(settings: s, depth: 3).run()
        #expect(r.depthReached == 3)
        // G5's cover needs an RD: Granule commands alone never reach it (a vacuous pass,
        // which the CLI reports as undecided).
        if case .unreachable(let b)? = outcome(r, "INV-G5")?.cover { #expect(b == 3) } else {
            Issue.record("INV-G5 cover: \(String(describing: outcome(r, "INV-G5")?.cover))")
        }
        for o in r.outcomes where o.target.name != "INV-G5" {
            guard case .holds(let b) = o.verdict else { Issue.record("\(o.target.name): \(o.verdict.name)"); continue }
            #expect(b == 3)
            guard case .reached(let t)? = o.cover else { Issue.record("\(o.target.name): cover \(String(describing: o.cover))"); continue }
            // The witness replays and shows the cover target.
            #expect(t.replay().mismatch == nil)
            #expect(t.checkProperties([o.target.property!]).covered.contains(o.target.property!))
        }
        // L2's cover is a successful UNDELEGATE: DELEGATE first, so the shortest witness has 2 calls.
        if case .reached(let t)? = outcome(r, "INV-L2")?.cover { #expect(t.steps.count == 2) }
    }

    @Test func undelegateOfAnyStateIsFoundWithAShortestReplayedTrace() throws {
        let s = try settings("granules=2,realms=0,recs=0,entries=1", [.granuleDelegate, .granuleUndelegate], [.l2],
                             options: .weakenUndelegateAnyState)
        let r = try BoundedModelChecker(settings: s, depth: 3).run()
        for name in ["INV-L2", "REFINES-SPEC"] {
            guard case .violated(let t)? = outcome(r, name)?.verdict else {
                Issue.record("\(name): \(String(describing: outcome(r, name)?.verdict.name))"); continue
            }
            // One call: undelegating a Granule that is not DELEGATED succeeds.
            #expect(t.steps.count == 1)
            guard case .call(let c) = t.steps[0] else { Issue.record("not a call"); continue }
            #expect(c.command == .granuleUndelegate)
            #expect(t.options.contains(.weakenUndelegateAnyState))
            #expect(t.replay().mismatch == nil)
            // On the spec itself the same call fails with gran_state.
            let spec = RMISpec.step(SpecState(platform: t.platform), .granuleUndelegate, c.args)
            #expect(spec.failing.contains("gran_state"))
        }
        let l2 = outcome(r, "INV-L2")
        if case .violated(let t)? = l2?.verdict {
            #expect(t.checkProperties([.l2]).violations.contains { $0.step == 0 })
        }
    }

    /// A DELEGATED Granule is already zero (INV-G5), so on the spec the wipe at UNDELEGATE
    /// cannot be observed: the weakened spec still refines the spec.
    @Test func undelegateWithoutWipeIsUnobservableOnTheSpec() throws {
        let s = try settings("granules=2,realms=0,recs=0,entries=1", [.granuleDelegate, .granuleUndelegate], [.g5],
                             options: .weakenUndelegateNoWipe)
        let r = try BoundedModelChecker(settings: s, depth: 3).run()
        guard case .holds(let b)? = outcome(r, "REFINES-SPEC")?.verdict else {
            Issue.record("REFINES-SPEC: \(String(describing: outcome(r, "REFINES-SPEC")?.verdict.name))"); return
        }
        #expect(b == 3)
        #expect(outcome(r, "REFINES-SPEC")?.cover?.isReached == true)
    }

    @Test func aSpentResourceLimitIsUnknownNotAPass() throws {
        var s = try settings("granules=2,realms=0,recs=0,entries=1", [.granuleDelegate, .granuleUndelegate], [.g1, .l2])
        s.rlimit = 1
        let r = try BoundedModelChecker(settings: s, depth: 3).run()
        #expect(!r.outcomes.isEmpty)
        for o in r.outcomes {
            if case .unknown = o.verdict { continue }
            Issue.record("\(o.target.name): \(o.verdict.name) under rlimit 1")
        }
    }

    /// RTT_MAP_UNPROTECTED at a Protected IPA needs a Realm: four calls, about a minute.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RMI_CHECK_SLOW_TESTS"] == "1"))
    func mapUnprotectedInParIsFound() throws {
        let s = try settings("granules=3,realms=1,recs=0,entries=2", [.granuleDelegate, .realmCreate, .rttMapUnprotected], [.t3],
                             options: .weakenMapUnprotectedInPar)
        let r = try BoundedModelChecker(settings: s, depth: 4).run()
        guard case .violated(let t)? = outcome(r, "INV-T3")?.verdict else {
            Issue.record("INV-T3: \(String(describing: outcome(r, "INV-T3")?.verdict.name))"); return
        }
        #expect(t.steps.count == 4)
        #expect(t.checkProperties([.t3]).violations.contains { $0.step == 3 })
    }

    /// From a seed trace (a Realm with a REC, activated), one symbolic step reaches labels
    /// and success cases that need that state; each witness is the seed plus the step.
    @Test func coverFromASeedReachesDeeperTargets() throws {
        let scope = try Scope(parsing: "granules=8,realms=1,recs=1,entries=2")
        var sc = Scenario("seed: an active Realm with one REC", platform: scope.platform)
        let (realm, created) = sc.createRealm(s2sz: 32, sl: 1, numStart: 1)
        #expect(created.succeeded)
        #expect(sc.createRec(realm, mpidr: 0).result.succeeded)
        #expect(sc.call(.realmActivate, realm.rd).succeeded)
        var s = SymbolicSettings()
        s.scope = scope
        s.commands = [.recEnter, .realmDestroy]
        s.properties = []
        s.from = sc.trace
        let r = try CoverGenerator(settings: s, depth: 1).run()
        func verdict(_ id: String) -> CoverVerdict? { r.targets.first { $0.target.id == id }?.verdict }
        for id in ["RMI_REC_ENTER/success", "RMI_REALM_DESTROY/realm_live"] {
            guard case .reached(let t)? = verdict(id) else { Issue.record("\(id): \(String(describing: verdict(id)))"); continue }
            #expect(t.steps.count == sc.trace.steps.count + 1)
            #expect(t.replay().mismatch == nil)
        }
        // A seed on another platform is refused as input.
        var other = s
        other.from = Trace(platform: .standard)
        #expect(throws: StartingTraceError.self) { try CoverGenerator(settings: other, depth: 1).run() }
    }

    /// Another agent's GPT change is a step of the relation: a model that takes it gives a
    /// `set_gpt` trace step, which replays to the same state; GPT_REALM is never chosen.
    @Test func gptEventsAreStepsOfTheRelation() throws {
        let scope = try Scope(parsing: "granules=2,realms=0,recs=0,entries=1")
        let trace: Trace = try runZ3Blocking { token in
            let ctx = Context(cancellation: token)
            return try Symbolic.withContext(ctx) {
                let u = Unrolling(scope: scope, options: [], alphabet: [.granuleDelegate], properties: [])
                u.gptEvents = true
                let d = u.extend()
                let solver = Solver(ctx, logic: "QF_BV")
                for t in d.transition { try solver.assert(t) }
                let slot0 = u.states[1].slots[0]
                try solver.assert(ctx.eq(slot0.gpt, ctx.bv(GPT.secure.rawValue, width: slot0.gpt.width!)))
                #expect(try solver.check() == .sat)
                let t = try u.trace(try solver.model(), length: 1, description: "gpt event")
                // GPT_REALM is not an agent's move.
                try solver.assert(ctx.eq(slot0.gpt, ctx.bv(GPT.realm.rawValue, width: slot0.gpt.width!)))
                #expect(try solver.check() == .unsat)
                return t
            }
        }
        guard case .setGPT(let a, let g)? = trace.steps.last else { Issue.record("\(trace.steps)"); return }
        #expect(a == 0x8000_0000 && g == .secure)
        let end = trace.replay().finalState
        #expect(end.granule(0x8000_0000).gpt == .secure)
    }
}
