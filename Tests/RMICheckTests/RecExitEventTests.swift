import Testing
import RMISpec
import SMT
@testable import RMICheck

/// The exit of a REC that a REC_ENTER left running (`stay_running`) as a step of the
/// symbolic relation: a `rec_exit` trace step, replayed on the concrete interpreter.
@Suite struct RecExitEventTests {
    static let scope = try! Scope(parsing: "granules=5,realms=1,recs=1,entries=2,aux=0")

    /// A seed on `scope`'s platform: an active Realm whose one REC a REC_ENTER left running.
    static func runningRecSeed() -> (trace: Trace, rd: UInt64, rec: UInt64) {
        var sc = Scenario("seed: a REC left running", platform: scope.platform)
        let (realm, created) = sc.createRealm(s2sz: 32, sl: 1, numStart: 1)
        let rec = sc.createRec(realm, mpidr: 0)
        sc.call(.realmActivate, realm.rd)
        // The run page is the Realm parameters' NS page.
        sc.call(.recEnter, rec.rec, realm.rd + 0x1000, writes: [.recRun(at: realm.rd + 0x1000, RecEnterValues())],
                realm: RealmActionValue(.stayRunning))
        #expect(created.succeeded && rec.result.succeeded && sc.problems.isEmpty)
        #expect(sc.state.recs[rec.rec]?.state == RecState.running.rawValue)
        return (sc.trace, realm.rd, rec.rec)
    }

    /// One step after the seed: the REC becomes READY only by a `rec_exit` (the alphabet
    /// has no other way), with a Realm action other than `stay_running`; the trace's last
    /// step is that event, and it replays: the REC is READY and the Realm SYSTEM_OFF (the
    /// action chosen was PSCI_SYSTEM_OFF). Without the events the REC stays running.
    @Test func aRunningRecExitsByARecExitStep() throws {
        let (seed, rd, rec) = Self.runningRecSeed()
        let scope = Self.scope
        func oneStep(events: Bool, kind: RealmActionKind?) throws -> Trace? {
            try runZ3Blocking { token in
                let ctx = Context(cancellation: token)
                return try Symbolic.withContext(ctx) {
                    let u = try Unrolling(scope: scope, options: [], alphabet: [.version], properties: [], seed: seed)
                    u.recExitEvents = events
                    let d = u.extend()
                    let solver = Solver(ctx, logic: "QF_BV")
                    for t in d.transition { try solver.assert(t) }
                    let next = u.states[1]
                    try solver.assert(Symbolic.eq(next.rec(.lit(rec), .state).raw, Symbolic.lit(RecState.ready.rawValue)))
                    if let kind { try solver.assert(Symbolic.eq(u.steps[0].realmKind, Symbolic.lit(kind.rawValue))) }
                    guard try solver.check() == .sat else { return nil }
                    return try u.trace(try solver.model(), length: 1, description: "rec exit")
                }
            }
        }
        #expect(try oneStep(events: false, kind: nil) == nil)
        #expect(try oneStep(events: true, kind: .stayRunning) == nil)
        let t = try #require(try oneStep(events: true, kind: .psciSystemOff))
        guard case .recExit(let r, let realm, let expect)? = t.steps.last else { Issue.record("\(t.steps)"); return }
        #expect(r == rec && realm.kind == .psciSystemOff && expect?.status == .success)
        let replay = t.replay()
        #expect(replay.mismatch == nil)
        #expect(replay.finalState.recs[rec]?.state == RecState.ready.rawValue)
        #expect(replay.finalState.realms[rd]?.fields[RealmField.state.rawValue] == RealmState.systemOff.rawValue)
    }

    /// From the seed, with REC_ENTER the only command, its success case needs two steps: the
    /// running REC's exit, then REC_ENTER. Cover finds that witness (it replays); without
    /// the events no run of two steps from the seed reaches it.
    @Test func reenteringARunningRecNeedsARecExit() throws {
        let (seed, _, rec) = Self.runningRecSeed()
        var s = try settings("granules=5,realms=1,recs=1,entries=2,aux=0", [.recEnter], [])
        s.from = seed
        s.gptEvents = false
        func success(_ s: SymbolicSettings) throws -> CoverVerdict? {
            try CoverGenerator(settings: s, depth: 2).run().targets.first { $0.target.id == "RMI_REC_ENTER/success" }?.verdict
        }
        guard case .reached(let t)? = try success(s) else { Issue.record("not reached"); return }
        // After the seed (and the Host's writes of Granule contents, if any): the exit, then the call.
        let tail = t.steps.dropFirst(seed.steps.count).filter { if case .write = $0 { false } else { true } }
        guard tail.count == 2, case .recExit(let r, _, _) = tail.first, case .call(let c) = tail.last else {
            Issue.record("\(tail)"); return
        }
        #expect(r == rec && c.command == .recEnter && c.args.first == rec)
        #expect(t.replay().mismatch == nil)
        s.recExitEvents = false
        #expect(try success(s)?.isReached == false)
    }

    /// A REC's exit is a move of the inductive step: with REC_ENTER not in the alphabet,
    /// only the exit of a running REC writes a RIPAS request. Assuming INV-C1 (a REC's owner
    /// is an RD) and INV-C5, such an exit in a Realm that is neither ACTIVE nor SYSTEM_OFF
    /// breaks INV-C5: a counterexample to induction whose step is a `rec_exit` (without the
    /// events, VERSION alone keeps it). With INV-C3 too (a running REC's Realm is ACTIVE or
    /// SYSTEM_OFF) it is proved.
    @Test func aRecExitIsAMoveOfTheInductiveStep() throws {
        var s = try settings("granules=3,realms=1,recs=1,entries=1,aux=0", [.version], [.c5])
        s.gptEvents = false
        let c5 = try InductionProver(settings: s, k: 1, strengthening: [.c1, .c5], coverDepth: 0).run()
        guard case .unknown(let why)? = c5.outcomes.first?.verdict else {
            Issue.record("\(String(describing: c5.outcomes.first?.verdict))"); return
        }
        #expect(why.contains("REC exit"))
        let cti = try #require(c5.ctis.first { $0.property == "INV-C5" })
        guard case .recExit(_, let realm, _)? = cti.step.steps.last else { Issue.record("\(cti.step.steps)"); return }
        #expect(realm.kind == .ripasChange)
        var noEvents = s
        noEvents.recExitEvents = false
        let without = try InductionProver(settings: noEvents, k: 1, strengthening: [.c1, .c5], coverDepth: 0).run()
        guard case .proved? = without.outcomes.first?.verdict else {
            Issue.record("without events: \(String(describing: without.outcomes.first?.verdict))"); return
        }
        let strong = try InductionProver(settings: s, k: 1, strengthening: [.c1, .c3, .c5], coverDepth: 0).run()
        guard case .proved? = strong.outcomes.first?.verdict else {
            Issue.record("\(String(describing: strong.outcomes.first?.verdict))"); return
        }
    }
}
