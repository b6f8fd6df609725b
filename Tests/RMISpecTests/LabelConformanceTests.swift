import Testing
import RMISpec
import RMICheck

/// The traces that reach every failure label, and the canonical scenarios, are a
/// conformance suite: the implementation RMM must give the same results (status, index,
/// defined outputs, exit records) and the same abstract states on every step.
@Suite struct LabelConformanceTests {
    @Test(arguments: LabelCoverageTests.all)
    func implementationAgreesOnLabelTrace(_ c: LabelCase) throws {
        let trace = c.build().trace
        var engine = Conformance(impl: BuiltinRMM(platform: trace.platform))
        let v = try engine.check(trace)
        #expect(v == nil, "\(v.map { "\($0)" } ?? "")")
    }

    @Test func implementationAgreesOnCanonicalScenarios() throws {
        for s in CanonicalScenarios.all {
            var engine = Conformance(impl: BuiltinRMM(platform: s.trace.platform))
            let v = try engine.check(s.trace)
            #expect(v == nil, "\(s.trace.description ?? ""): \(v.map { "\($0)" } ?? "")")
        }
    }
}
