import ArgumentParser
import Foundation
import RMICheck
import RMISpec

struct Cover: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the shortest run that reaches each failure label, success case and property cover target.",
        discussion: """
            The targets are, for every command of --commands (default: all 23), each of its \
            failure labels (the call can return that label's result: its condition holds and \
            no failing condition precedes it) and its success case, and the cover target of \
            every property (--property). The spec's transition relation is unrolled with Z3 as \
            for `check --engine bmc` (same --scope), depth by depth, so each witness is a \
            shortest one within the scope; every witness is replayed on the concrete \
            interpreter before it is written to --out (one trace per target, named after it). \
            The table says, per target: REACHED (with the trace), UNREACHABLE within the depth \
            (in the scope), or UNKNOWN (the solver or the budget gave up).

            With --impl builtin or --impl-cmd CMD the witnesses are replayed against that \
            implementation too, and each target is marked as exercised (the implementation \
            agrees) or DIFFERS: the witnesses are a conformance suite generated from the spec.

            Exit codes: 0 every target reached (and, with an implementation, every witness \
            agrees), 1 an implementation differs, 2 a target unreachable or unknown, 3 \
            internal error (a witness that does not replay), 65 bad input.
            """)

    @Option(name: .long, help: "The symbolic scope, e.g. granules=3,realms=1,recs=1,entries=2 (see `check --help`).")
    var scope: String = ""

    @Option(name: .long, help: "The largest depth (calls) to search.")
    var depth: Int = 3

    @Option(name: .customLong("property"), help: "A property whose cover target to reach (INV-G1 or G1); repeatable. Default: all.")
    var property: [String] = []

    @Option(name: .long, help: "Folder for the witness traces.")
    var out: String = "out/cover"

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    @OptionGroup(title: "Solver")
    var solver: SolverOptions

    @OptionGroup(title: "Implementation (optional: two-sided coverage)")
    var implementation: ImplOptions

    func run() throws {
        guard depth >= 0 else { note("rmi-check: --depth must be >= 0"); throw Exit.badInput }
        let props = try parseProperties(property)
        let settings = try solver.settings(scope: scope, properties: props.isEmpty ? Invariant.specProperties : props, quiet: quiet)
        let gen = CoverGenerator(settings: settings, depth: depth)
        note("cover: \(gen.targets.count) targets, scope \(settings.scope), depth <= \(depth), seed \(settings.seed)")
        let report = try runSymbolic(engine: "cover", out: out) { try gen.run() }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var conformance: Conformance?
        if implementation.given {
            conformance = Conformance(impl: try implementation.make(platform: settings.scope.platform))
        }
        var reached = 0, differs = 0
        let width = report.targets.map(\.target.id.count).max() ?? 0
        for (t, v) in report.targets {
            let name = t.id.padding(toLength: width, withPad: " ", startingAt: 0)
            switch v {
            case .reached(let trace):
                reached += 1
                let path = (out as NSString).appendingPathComponent(t.id.replacingOccurrences(of: "/", with: "--") + ".json")
                try trace.write(to: path)
                var impl = ""
                if var c = conformance {
                    if let d = try c.check(trace) { differs += 1; impl = "  impl DIFFERS: \(d)" } else { impl = "  impl agrees" }
                    conformance = c
                }
                print("REACHED      \(name)  \(trace.steps.count) calls  \(path)\(impl)")
            case .unreachable(let b):
                print("UNREACHABLE  \(name)  within depth \(b) in \(settings.scope)")
            case .unknown(let r):
                print("UNKNOWN      \(name)  \(r)")
            }
        }
        let times = report.secondsPerDepth.enumerated().map { "\($0.offset):\(String(format: "%.2f", $0.element))" }
        print("\(reached) of \(report.targets.count) targets reached; seconds per depth: \(times.joined(separator: " "))"
              + (conformance != nil ? "; \(reached - differs) witnesses agree on the implementation, \(differs) differ" : ""))
        if differs > 0 { throw Exit.violated }
        if reached < report.targets.count { throw Exit.unknown }
    }
}

/// Property names (INV-G1 or G1) as given on the command line; exit 65 for an unknown one.
func parseProperties(_ names: [String]) throws -> [Invariant] {
    try names.map { name in
        let want = name.uppercased().hasPrefix("INV-") ? name.uppercased() : "INV-" + name.uppercased()
        guard let p = Invariant(rawValue: want), p.kind != .implementation else {
            note("rmi-check: unknown property '\(name)' (known: \(Invariant.specProperties.map(\.rawValue).joined(separator: ", ")))")
            throw Exit.badInput
        }
        return p
    }
}
