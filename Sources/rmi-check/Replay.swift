import ArgumentParser
import Foundation
import RMICheck
import RMISpec

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a trace file against the spec.",
        discussion: """
            Runs each step of TRACE (the JSON format of docs/trace-format.md) on the spec's \
            concrete face and compares each result with the step's `expect`. Stops at the \
            first step whose result the spec does not allow, and prints the expected and \
            actual result and what the spec's step changes in the state.

            Exit codes: 0 all steps agree, 1 a step differs, 65 the file is malformed.
            """)

    @Argument(help: "The trace file (JSON).")
    var trace: String

    @Option(name: .long, help: "What to replay against: spec, or impl (the implementation chosen by --impl-cmd / --deviation, compared with the spec step by step).")
    var against: String = "spec"

    @OptionGroup var implementation: ImplOptions

    @Option(name: .long, help: "Also write the trace with the abstract state after each step as ITF JSON to this file.")
    var itf: String?

    func validate() throws {
        guard against == "spec" || against == "impl" else {
            throw ValidationError("--against: unknown target '\(against)' (known: spec, impl)")
        }
    }

    func run() throws {
        let t: Trace
        do {
            t = try Trace.load(path: trace)
        } catch let e as TraceError {
            note("rmi-check: \(e)")
            throw Exit.badInput
        }
        guard !t.steps.isEmpty else {
            note("rmi-check: \(trace): the trace has no steps: nothing to replay")
            throw Exit.badInput
        }
        if let itf { try t.itf().write(to: itf) }
        if against == "impl" {
            do {
                var engine = Conformance(impl: try implementation.make(platform: t.platform))
                if let v = try engine.check(t) {
                    if v.field == "state" {
                        print("DIFFERS at step \(v.step) of \(t.steps.count): state (spec -> implementation)")
                        print("  \(v.actual)")
                    } else {
                        print("DIFFERS at step \(v.step) of \(t.steps.count): \(v.field)")
                        print("  spec:           \(v.expected)")
                        print("  implementation: \(v.actual)")
                    }
                    throw Exit.violated
                }
            } catch let e as ImplError {
                print("DIFFERS: \(e)")
                throw Exit.violated
            }
            print("AGREES: the implementation and the spec agree on all \(t.steps.count) steps")
            return
        }
        let report = t.replay()
        if let m = report.mismatch {
            print("DIFFERS at step \(m.step) of \(t.steps.count): \(m.field)")
            print("  expected: \(m.expected)")
            print("  spec:     \(m.actual)")
            if !report.stateChange.isEmpty {
                print("  the spec's step changes:")
                for l in report.stateChange.prefix(40) { print("    \(l)") }
            }
            throw Exit.violated
        }
        print("AGREES: \(report.calls) calls in \(t.steps.count) steps give the results the trace expects")
    }
}
