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

    /// Over Granule arrays at every address of the standard platform: Spacer's invariant is
    /// quantified over addresses, so the proof holds for any memory size; re-checked.
    @Test func everyAddressProvesTheGranuleInvariantsForAnyMemorySize() throws {
        let props: [Invariant] = [.g1, .g2, .l2, .l4]
        let s = try settings("granules=2,realms=0,recs=0,entries=1", granuleCommands, props)
        let r = try SpacerProver(settings: s, coverDepth: 2, everyAddress: true).run()
        for p in props {
            let o = r.outcomes.first { $0.target.name == p.rawValue }
            guard case .proved(let method, let coverage)? = o?.verdict else {
                Issue.record("\(p.rawValue): \(String(describing: o?.verdict))"); continue
            }
            #expect(method.contains("re-checked") && coverage.contains("any memory size"))
            #expect(o?.cover?.isReached == true)
        }
        #expect(SpacerProver.readsOnlyGranules(.g1) && !SpacerProver.readsOnlyGranules(.g3) && !SpacerProver.readsOnlyGranules(.r5))
    }

    /// The arrays hold no Realm: a command that makes one, or a property about objects, is
    /// refused as input, never proved vacuously.
    @Test func everyAddressRefusesWhatTheArraysDoNotHold() throws {
        let realm = try settings("granules=3,realms=1,recs=0,entries=2", [.granuleDelegate, .realmCreate], [.g1])
        #expect(throws: UnsupportedByEncoding.self) { try SpacerProver(settings: realm, coverDepth: 0, everyAddress: true).run() }
        let aboutObjects = try settings("granules=2,realms=0,recs=0,entries=1", granuleCommands, [.r5])
        #expect(throws: UnsupportedByEncoding.self) { try SpacerProver(settings: aboutObjects, coverDepth: 0, everyAddress: true).run() }
    }

    /// UNDELEGATE weakened to succeed in any state: over the arrays too, INV-L2 is derived
    /// violated and shown with a replayed trace, while INV-G1 is still proved.
    @Test func everyAddressFindsTheWeakenedUndelegate() throws {
        let s = try settings("granules=2,realms=0,recs=0,entries=1", granuleCommands, [.g1, .l2],
                             options: [.weakenUndelegateAnyState])
        let r = try SpacerProver(settings: s, coverDepth: 0, traceDepth: 2, everyAddress: true).run()
        guard case .violated(let trace)? = r.outcomes.first(where: { $0.target.name == "INV-L2" })?.verdict else {
            Issue.record("\(r.outcomes.map(\.verdict))"); return
        }
        #expect(trace.steps.count == 1)
        guard case .proved? = r.outcomes.first(where: { $0.target.name == "INV-G1" })?.verdict else {
            Issue.record("\(r.outcomes.map(\.verdict))"); return
        }
    }
}
