import Testing
import Foundation
import RMISpec
import RMMImpl
@testable import RMICheck

@Suite struct ShrinkTests {
    /// A random-walk counterexample of a deviation shrinks to a shorter trace on which the
    /// same kind of difference still shows, and each removed step was needed.
    @Test func conformanceCounterexampleShrinks() throws {
        var c = Conformance(impl: BuiltinRMM(bugs: .realmDestroyWithRecs), compareState: false)
        let (_, found) = try c.random(steps: 100_000, seed: 1)
        let v = try #require(found)
        var s = Shrinker.implDifference(c, field: v.field)
        let small = try s.shrink(v.trace, keepExpectations: false)
        #expect(small.steps.count < v.trace.steps.count)
        #expect(try c.check(small) != nil)
        // One-minimal: dropping any single step loses the difference.
        for i in small.steps.indices {
            var t = small
            t.steps.remove(at: i)
            #expect(try c.check(t) == nil, "step \(i) was not needed")
        }
        // The clean RMM agrees on the shrunk trace: it is the deviation that shows.
        var clean = Conformance(impl: BuiltinRMM(), compareState: false)
        #expect(try clean.check(small) == nil)
    }

    /// A property violation padded with unrelated calls shrinks back to the one call.
    @Test func propertyViolationShrinksToItsCause() throws {
        var padded = Trace(platform: .standard, options: .weakenUndelegateAnyState)
        for k in 0..<5 { padded.steps.append(.call(CallStep(command: .granuleDelegate, args: [0x8000_0000 + UInt64(k) * 0x1000]))) }
        padded.steps.append(.call(CallStep(command: .version, args: [0x1_0000])))
        padded.steps.append(.call(CallStep(command: .granuleUndelegate, args: [0x8010_0000])))
        padded.steps.append(.call(CallStep(command: .features, args: [0])))
        #expect(padded.checkProperties([.l2]).violations.count == 1)
        var s = Shrinker.property(.l2)
        let small = try s.shrink(padded, keepExpectations: false)
        #expect(small.steps.count == 1)
        guard case .call(let c) = small.steps.first else { Issue.record("not a call"); return }
        #expect(c.command == .granuleUndelegate)
    }

    @Test func aTraceWithoutTheViolationIsRefused() throws {
        let t = Trace(platform: .standard, steps: [.call(CallStep(command: .version, args: [0x1_0000]))])
        var s = Shrinker.property(.l2)
        #expect(throws: ShrinkError.self) { try s.shrink(t, keepExpectations: false) }
    }
}
