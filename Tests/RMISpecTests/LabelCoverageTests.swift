import Foundation
import Testing
@testable import RMISpec

/// The last call of a label case's trace, run again: the state it runs in (with its Host
/// writes applied) and its result. Nil when the trace does not end with a call.
func lastCall(of c: LabelCase) -> (pre: SpecState, result: StepResult)? {
    let s = c.build()
    guard case .call(let last)? = s.trace.steps.last else { return nil }
    var runner = TraceRunner(platform: s.trace.platform, options: s.trace.options)
    for step in s.trace.steps.dropLast() { runner.run(step) }
    for w in last.writes { runner.apply(w) }
    let pre = runner.state
    let r = RMISpec.step(pre, last.command, last.args, realm: (last.realm ?? RealmActionValue(.irq)).action)
    return (pre, r)
}

/// Every failure condition of every command is reached by a trace from the initial state.
@Suite struct LabelCoverageTests {
    static var all: [LabelCase] { GranuleRealmDataCases.cases + RttLabelCases.cases + RecLabelCases.cases }

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

    /// The trace leads to the failure as intended: every call before the last succeeds, and
    /// the failing call changes nothing.
    @Test(arguments: LabelCoverageTests.all)
    func onlyTheLastCallFails(_ c: LabelCase) throws {
        let s = c.build()
        for (i, step) in s.trace.steps.dropLast().enumerated() {
            if case .call(let call) = step {
                #expect(call.expect?.status == .success, "step \(i): \(call.command.rawValue) gave \(call.expect?.status.specName ?? "?")")
            }
        }
        let (pre, r) = try #require(lastCall(of: c))
        #expect(r.next == pre, "the failing call changed the state")
    }

    /// The cases name exactly the listed failure conditions of every command: 187 in all
    /// (RMI_VERSION's and RMI_FEATURES's lists are empty).
    @Test func everyLabelOfEveryCommandHasACase() {
        for cmd in RMICommand.allCases {
            let spec = RMISpec.conditions(of: cmd).filter(\.listed).map(\.label)
            let cases = LabelCoverageTests.all.filter { $0.command == cmd }.map(\.label)
            #expect(cases.sorted() == spec.sorted(), "\(cmd.rawValue): missing \(Set(spec).subtracting(cases).sorted()), unknown \(Set(cases).subtracting(spec).sorted()), cases \(cases.count)")
            if cmd == .version || cmd == .features { #expect(spec.isEmpty, "\(cmd.rawValue)") }
        }
        #expect(RMICommand.allCases.count == 23)
        #expect(LabelCoverageTests.all.count == 187)
    }
}
