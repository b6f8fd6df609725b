import ArgumentParser
import Foundation
import RMICheckCI
import RMISpec

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a trace: a table of its steps, a Mermaid sequence diagram, a DOT graph of Granule states.",
        discussion: """
            Runs TRACE (docs/trace-format.md) on the spec and prints one row per step: the \
            call and its arguments, the spec's result (and the trace's expectation where the \
            spec gives another), and what the step changed in the abstract state. \
            --mermaid writes a sequence diagram (Host and RMM, Granule state changes as \
            notes); --dot writes the Granule states the trace passes through as a Graphviz \
            graph, its edges labelled with the commands and steps that take them.

            Exit codes: 0 shown, 65 a malformed trace file.
            """)

    @Argument(help: "The trace file (JSON).")
    var trace: String

    @Option(name: .long, help: "Write a Mermaid sequence diagram to this file.")
    var mermaid: String?

    @Option(name: .long, help: "Write a DOT graph of the Granule states to this file.")
    var dot: String?

    func run() throws {
        let t: Trace
        do { t = try Trace.load(path: trace) } catch let e as TraceError {
            note("rmi-check: \(e)")
            throw Exit.badInput
        }
        guard !t.steps.isEmpty else {
            note("rmi-check: \(trace): the trace has no steps: nothing to show")
            throw Exit.badInput
        }
        let view = TraceView(t)
        if let d = t.description { print(d) }
        print(view.table(), terminator: "")
        if let mermaid {
            try atomicWrite(Data(view.mermaid().utf8), to: mermaid)
            note("show: Mermaid sequence diagram written to \(mermaid)")
        }
        if let dot {
            try atomicWrite(Data(view.dot().utf8), to: dot)
            note("show: DOT graph of Granule states written to \(dot)")
        }
    }
}
