import Testing
import Foundation
import RMISpec
import SMT
@testable import RMICheck

/// Spacer (CHC) as the second proof method, on small scopes and alphabets.
@Suite struct SpacerTests {
    let granuleCommands: [RMICommand] = [.granuleDelegate, .granuleUndelegate]

    /// Spacer infers the invariant without lemmas, and the proof stands only after the
    /// invariant's re-check by a fresh solver.
    @Test func granuleInvariantsAreProvedWithAnInferredInvariant() throws {
        let props: [Invariant] = [.g1, .g2, .g5, .l2]
        let s = try settings("granules=2,realms=0,recs=0,entries=1", granuleCommands, props)
        let r = try SpacerProver(settings: s, coverDepth: 1).run()
        for p in props {
            let o = r.outcomes.first { $0.target.name == p.rawValue }
            guard case .proved(let method, let coverage)? = o?.verdict else {
                Issue.record("\(p.rawValue): \(String(describing: o?.verdict))"); continue
            }
            #expect(method.contains("Spacer") && method.contains("re-checked") && coverage.contains("granules=2"))
        }
        // INV-G1 needs a real invariant (Granule state against GPT), not `true`.
        #expect((r.invariantSizes["INV-G1"] ?? 0) > 1)
    }

    /// UNDELEGATE weakened to succeed in any state breaks INV-L2 in one call. With no base
    /// case, Spacer derives the violation and BMC then finds its trace (replayed); with no
    /// room for that BMC either, the verdict is UNKNOWN, never a pass.
    @Test func aReachableViolationIsNeverProved() throws {
        let s = try settings("granules=2,realms=0,recs=0,entries=1", granuleCommands, [.l2],
                             options: [.weakenUndelegateAnyState])
        let traced = try SpacerProver(settings: s, coverDepth: 0, traceDepth: 2).run()
        guard case .violated(let trace)? = traced.outcomes.first?.verdict else {
            Issue.record("\(String(describing: traced.outcomes.first?.verdict))"); return
        }
        #expect(trace.steps.count == 1)
        let untraced = try SpacerProver(settings: s, coverDepth: 0, traceDepth: 0).run()
        guard case .unknown(let why)? = untraced.outcomes.first?.verdict else {
            Issue.record("\(String(describing: untraced.outcomes.first?.verdict))"); return
        }
        #expect(why.contains("Spacer derives a violation, but BMC found no trace within depth 0"))
    }
}
