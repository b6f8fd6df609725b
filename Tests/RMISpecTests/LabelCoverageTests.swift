import Foundation
import Testing
@testable import RMISpec

/// Every failure condition of every command is reached by a trace from the initial state.
@Suite struct LabelCoverageTests {
    static var all: [LabelCase] { GranuleRealmDataCases.cases }

    /// Commands whose label tables are written; the completeness check covers these.
    static var coveredCommands: Set<RMICommand> { Set(all.map(\.command)) }

    @Test(arguments: LabelCoverageTests.all)
    func labelIsReached(_ c: LabelCase) throws {
        let s = c.build()
        guard case .call(let last)? = s.trace.steps.last else {
            Issue.record("the scenario does not end with a call"); return
        }
        #expect(last.command == c.command)
        // Replay the trace from its JSON form: the file format carries everything needed.
        let trace = try Trace.decode(s.trace.encoded(), file: "<\(c.testDescription)>")
        var runner = TraceRunner(platform: trace.platform, options: trace.options)
        var result: StepResult?
        for step in trace.steps { result = runner.run(step) }
        guard let r = result else { Issue.record("no call in the trace"); return }
        expectHit(r, c.label, c.status, index: c.index)
        #expect(trace.replay().agrees, "the recorded expectations replay")
    }

    @Test func everyLabelOfTheCoveredCommandsHasACase() {
        for cmd in LabelCoverageTests.coveredCommands {
            let spec = Set(RMISpec.conditions(of: cmd).filter(\.listed).map(\.label))
            let cases = Set(LabelCoverageTests.all.filter { $0.command == cmd }.map(\.label))
            #expect(spec == cases, "\(cmd.rawValue): missing \(spec.subtracting(cases).sorted()), unknown \(cases.subtracting(spec).sorted())")
        }
    }
}
