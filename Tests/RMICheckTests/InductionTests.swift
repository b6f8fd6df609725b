import Testing
import Foundation
import RMISpec
import SMT
@testable import RMICheck

/// k-induction on small scopes and alphabets, command by command (k = 1).
@Suite struct InductionTests {
    @Test func granuleInvariantsAreProvedCommandByCommand() throws {
        let props: [Invariant] = [.g1, .g2, .g5, .l2, .l4]
        let s = try settings("granules=2,realms=0,recs=0,entries=1", [.granuleDelegate, .granuleUndelegate], props)
        let r = try InductionProver(settings: s, k: 1, strengthening: props, coverDepth: 1).run()
        for p in props {
            let o = r.outcomes.first { $0.target.name == p.rawValue }
            guard case .proved(let method, let coverage)? = o?.verdict else {
                Issue.record("\(p.rawValue): \(String(describing: o?.verdict))"); continue
            }
            #expect(method.contains("command by command") && coverage.contains("granules=2"))
        }
        #expect(r.ctis.isEmpty)
    }

    /// `--budget` ends a run inside its questions: what is decided by then stands, the rest
    /// is UNKNOWN and says the budget ran out. (Without a budget this proof runs for minutes.)
    @Test func aBudgetEndsTheRunWithTheRestUnknown() throws {
        var s = try settings("granules=3,realms=1,recs=1,entries=2", [.granuleDelegate], Invariant.specProperties)
        s.budgetSeconds = 1
        let r = try InductionProver(settings: s, k: 1, coverDepth: 0).run()
        let cut = r.outcomes.filter { o in
            if case .unknown(let why) = o.verdict { why.contains("the time budget of 1 s ran out") } else { false }
        }
        #expect(!cut.isEmpty, "\(r.outcomes.map { "\($0.target.name): \($0.verdict)" })")
    }

    /// Each target starts with itself as its only lemma; a counterexample to induction that
    /// violates other invariants of the pool adds them. INV-C5 is not inductive alone: the
    /// exit of a running REC whose Realm is neither ACTIVE nor SYSTEM_OFF writes a RIPAS
    /// request (see `RecExitEventTests`), which INV-C3 excludes, so the proof must name
    /// INV-C3. With every lemma assumed, the proof names the whole pool.
    @Test func lemmasAreChosenByCounterexamplesToInduction() throws {
        var s = try settings("granules=3,realms=1,recs=1,entries=1,aux=0", [.version], [.c5])
        s.gptEvents = false
        var prover = InductionProver(settings: s, k: 1, strengthening: [.c1, .c3, .c5], coverDepth: 0)
        func method(_ p: InductionProver) throws -> String? {
            let o = try p.run().outcomes.first
            guard case .proved(let method, _)? = o?.verdict else { Issue.record("\(String(describing: o?.verdict))"); return nil }
            return method
        }
        let chosen = try #require(try method(prover))
        #expect(chosen.contains("INV-C3") && chosen.contains("INV-C5") && chosen.contains("chosen from INV-C1, INV-C3, INV-C5 by counterexamples"),
                "\(chosen)")
        prover.selectLemmas = false
        let all = try #require(try method(prover))
        #expect(all.contains("with INV-C1, INV-C3, INV-C5 as lemmas") && !all.contains("chosen"), "\(all)")
    }

    /// With UNDELEGATE weakened to succeed in any state, INV-L2 holds in the initial state
    /// (the base case at depth 0) but the step breaks it: a counterexample to induction
    /// whose call is that UNDELEGATE and which replays as the break on the weakened spec.
    @Test func aBrokenStepIsACounterexampleToInductionNotAProof() throws {
        let s = try settings("granules=2,realms=0,recs=0,entries=1", [.granuleDelegate, .granuleUndelegate], [.l2],
                             options: [.weakenUndelegateAnyState])
        let r = try InductionProver(settings: s, k: 1, strengthening: [.g1, .g2, .g5], coverDepth: 0).run()
        guard case .unknown(let why)? = r.outcomes.first?.verdict else {
            Issue.record("\(String(describing: r.outcomes.first?.verdict))"); return
        }
        #expect(why.contains("RMI_GRANULE_UNDELEGATE"))
        let cti = try #require(r.ctis.first { $0.property == "INV-L2" })
        guard case .call(let call)? = cti.step.steps.last else { Issue.record("\(cti.step.steps)"); return }
        #expect(call.command == .granuleUndelegate && call.expect?.status == .success)
    }

    /// The state the engines start induction from is well formed only if the scope can
    /// hold it: untracked RTT entries are never TABLE or ASSIGNED.
    @Test func anRttWhoseUntrackedEntriesAreAssignedDoesNotFitAScope() throws {
        var s = SpecState(platform: try Scope(parsing: "granules=2,entries=1").platform)
        s.updateEntries(CWord(0x8000_0000), from: CWord(0), to: CWord(512), when: true) { _, _ in
            RttEntry(state: CWord(RttEntryState.assigned.rawValue), ripas: CWord(0), addr: CWord(0x8000_1000), attrs: CWord(0))
        }
        let st = s
        let error = try runZ3Blocking { token in
            Symbolic.withContext(Context(cancellation: token)) { () -> String? in
                do { _ = try SymbolicState.constant(from: st, scope: try Scope(parsing: "granules=2,entries=1")); return nil } catch {
                    return "\(error)"
                }
            }
        }
        #expect(error?.contains("untracked entries are in state") == true)
    }
}
