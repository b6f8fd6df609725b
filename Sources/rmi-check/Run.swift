import ArgumentParser
import Foundation
import RMISpec

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay the built-in canonical scenarios against the spec (the default job).",
        discussion: """
            Each scenario is a trace of the reference's canonical sequences (section 8): every \
            step must give the result its author requires, and the scenario must end with \
            every Granule UNDELEGATED. Each trace also goes through its JSON form and back \
            before it is replayed, so the file format is checked too.
            """)

    @Option(name: .long, help: "Also write each scenario's trace into this folder.")
    var out: String?

    func run() throws {
        var failed = 0
        for (i, scenario) in CanonicalScenarios.all.enumerated() {
            let name = scenario.trace.description ?? "scenario \(i)"
            let data = scenario.trace.encoded()
            let trace = try Trace.decode(data, file: "<scenario \(i)>")
            let report = trace.replay()
            let properties = trace.checkProperties()
            let leftover = report.finalState.delegatedGranules
            var problems = scenario.problems
            if let m = report.mismatch { problems.append(m.description) }
            problems += properties.violations.map(\.description)
            if !leftover.isEmpty {
                problems.append("\(leftover.count) Granule(s) not UNDELEGATED at the end: "
                                + leftover.prefix(4).map { "\(hex($0.0)) \($0.1.state.specName)" }.joined(separator: ", "))
            }
            let verdict = problems.isEmpty ? "PASS" : "FAIL"
            print("\(verdict)  \(name): \(report.calls) calls, \(trace.steps.count) steps, "
                  + "\(Invariant.specProperties.count) properties checked in \(properties.statesChecked) states")
            for p in problems { print("      \(p)") }
            if !problems.isEmpty { failed += 1 }
            if let out {
                let path = (out as NSString).appendingPathComponent("canonical-\(i).json")
                try scenario.trace.write(to: path)
            }
        }
        let total = CanonicalScenarios.all.count
        print("\(total - failed) passed, \(failed) failed")
        if failed > 0 { throw Exit.violated }
    }
}
