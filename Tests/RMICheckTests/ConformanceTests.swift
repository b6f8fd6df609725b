import Testing
import Foundation
import RMISpec
import RMMImpl
@testable import RMICheck

@Suite struct ConformanceTests {
    @Test func canonicalScenariosConform() throws {
        var c = Conformance(impl: BuiltinRMM())
        for s in CanonicalScenarios.all {
            let v = try c.check(s.trace)
            #expect(v == nil, "\(s.trace.description ?? ""): \(v.map { "\($0)" } ?? "")")
        }
    }

    @Test func randomWalksConformWithStates() throws {
        var c = Conformance(impl: BuiltinRMM())
        let (n, v) = try c.random(steps: 3_000, seed: 7)
        #expect(v == nil, "\(v.map { "\($0)" } ?? "")")
        #expect(n == 3_000)
    }

    @Test func randomWalksConformOnResults() throws {
        var c = Conformance(impl: BuiltinRMM(), compareState: false)
        let (n, v) = try c.random(steps: 30_000, seed: 1)
        #expect(v == nil, "\(v.map { "\($0)" } ?? "")")
        #expect(n == 30_000)
    }

    /// Each named deviation of RMMImpl is found by random conformance from seed 1 within
    /// 100,000 steps, and the trace it writes replays: against the spec it differs at its
    /// last step, and against the deviating implementation it finds the same difference.
    @Test(arguments: RMMBugs.named.map(\.name))
    func everyNamedDeviationIsFound(_ name: String) throws {
        let bug = RMMBugs(name: name)!
        // The wiping bug shows only in the state; the others in results, which are cheaper.
        var c = Conformance(impl: BuiltinRMM(bugs: bug), compareState: bug == .undelegateNoWipe)
        let (_, found) = try c.random(steps: 100_000, seed: 1)
        let v = try #require(found, "\(name) not found in 100,000 steps")
        #expect(v.trace.steps.count == v.step + 1)
        let back = try Trace.decode(v.trace.encoded(), file: "<\(name)>")
        var again = Conformance(impl: BuiltinRMM(bugs: bug))
        let replayed = try #require(try again.check(back))
        #expect(replayed.step == v.step && replayed.field == v.field)
        if v.field != "state" {
            #expect(back.replay().mismatch?.step == v.step, "the spec disagrees with the recorded result")
        }
        // The same trace conforms on the correct implementation.
        var clean = Conformance(impl: BuiltinRMM())
        var fixed = back
        fixed.steps = Array(back.steps.dropLast())
        #expect(try clean.check(fixed) == nil)
    }

    @Test func abstractionOfTheInitialStateIsTheInitialState() {
        let impl = BuiltinRMM()
        #expect(impl.abstractState() == SpecState())
    }
}
