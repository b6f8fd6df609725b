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
            The table says, per target: REACHED (with the trace), NOT REACHED within the depth \
            from the initial state, UNREACHABLE with the reason (the solver found no well-formed \
            state of the scope and no arguments in which the call gives that result, so no run \
            of any length reaches it; or the spec's bookkeeping rules it out in the scope, as \
            1023 RECs for REC_CREATE's num_recs), or UNKNOWN (not reached from the starts within \
            the depth, or the solver or the budget gave up).

            --from TRACE (repeatable) and --seeds DIR (every *.json trace in DIR, by name) start \
            the search where each trace ends, one after the other, with --depth calls per start; \
            a target is reached from the first start that reaches it, and its witness is that \
            trace's steps followed by the calls found. A seed with no steps is the initial state. \
            With --labels-only (no property cover targets) and --depth 1 each command is searched \
            alone, which makes a search from a built Realm take seconds. \
            Specs/seeds holds lifecycle milestones for the scope granules=10,realms=1,recs=2,entries=3 \
            (--write-seeds writes them again).

            With --impl builtin or --impl-cmd CMD the witnesses are replayed against that \
            implementation too, and each target is marked as exercised (the implementation \
            agrees) or DIFFERS: the witnesses are a conformance suite generated from the spec.

            Exit codes: 0 every target reached or, for a label or success case, UNREACHABLE \
            (and, with an implementation, every witness agrees), 1 an implementation differs, \
            2 a target not reached, unknown, or a property cover target unreachable, 3 \
            internal error (a witness that does not replay), 65 bad input.
            """)

    @Option(name: .long, help: "The symbolic scope, e.g. granules=3,realms=1,recs=1,entries=2 (see `check --help`).")
    var scope: String = ""

    @Option(name: .long, help: "The largest depth (calls) to search.")
    var depth: Int = 3

    @Option(name: .customLong("property"), help: "A property whose cover target to reach (INV-G1 or G1); repeatable. Default: all.")
    var property: [String] = []

    @Option(name: .long, help: "Start a search where each trace of this folder ends (*.json, in name order), after the --from traces.")
    var seeds: String?

    @Option(name: .customLong("write-seeds"), help: "Write the built-in lifecycle seeds (for the scope granules=10,realms=1,recs=2,entries=3) to this folder and exit.")
    var writeSeeds: String?

    @Flag(name: .customLong("no-proofs"), help: "Do not ask the solver whether the labels not reached are unreachable in the scope.")
    var noProofs = false

    @Flag(name: .customLong("labels-only"), help: "Only the failure labels and success cases, no property cover targets (much cheaper from a built Realm).")
    var labelsOnly = false

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
        if let dir = writeSeeds {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, trace) in CoverSeeds.milestones() {
                let path = (dir as NSString).appendingPathComponent(name + ".json")
                try trace.write(to: path)
                print("\(path)  \(trace.steps.count) steps  \(trace.description ?? "")")
            }
            return
        }
        let props = try parseProperties(property)
        if labelsOnly && !props.isEmpty { note("rmi-check: --labels-only and --property exclude each other"); throw Exit.badInput }
        var settings = try solver.settings(scope: scope, properties: labelsOnly ? [] : props.isEmpty ? Invariant.specProperties : props, quiet: quiet,
                                           manyStarts: true)
        var starts = try solver.startingTraces()
        if let seeds { starts += try loadSeeds(seeds) }
        settings.from = nil
        var gen = CoverGenerator(settings: settings, depth: depth, starts: starts.isEmpty ? [nil] : starts)
        gen.proveUnreached = !noProofs
        note("cover: \(gen.targets.count) targets, scope \(settings.scope), depth <= \(depth) from each of \(gen.starts.count) starts, seed \(settings.seed)")
        let started = Date()
        let report = try runSymbolic(engine: "cover", out: out) { try gen.run() }
        let elapsed = Date().timeIntervalSince(started)
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
                let from = report.reachedFrom[t.id].flatMap { gen.starts.count > 1 ? gen.starts[$0] : nil }
                let seedNote = from.map { "  (from \($0.description ?? "seed"), \($0.steps.count) steps)" } ?? ""
                print("REACHED      \(name)  \(trace.steps.count) calls  \(path)\(seedNote)\(impl)")
            case .unreachable(let b):
                print("NOT REACHED  \(name)  within depth \(b) from the initial state in \(settings.scope)")
            case .infeasible(let r):
                print("UNREACHABLE  \(name)  \(r)")
            case .unknown(let r):
                print("UNKNOWN      \(name)  \(r)")
            }
        }
        let times = report.secondsPerDepth.map { $0.enumerated().map { "\($0.offset):\(String(format: "%.2f", $0.element))" }.joined(separator: " ") }
        let labels = report.targets.filter { $0.target.command != nil && $0.target.name != "success" }
        let labelsReached = labels.filter { $0.verdict.isReached }.count
        let proved = report.targets.filter { if case .infeasible = $0.verdict { true } else { false } }.count
        print("\(reached) of \(report.targets.count) targets reached (\(labelsReached) of \(labels.count) failure labels), "
              + "\(proved) proved unreachable, in \(String(format: "%.1f", elapsed)) s; seconds per depth: \(times.joined(separator: " | "))"
              + (conformance != nil ? "; \(reached - differs) witnesses agree on the implementation, \(differs) differ" : ""))
        if differs > 0 { throw Exit.violated }
        // A label or success case proved unreachable is a finding about the spec, not a gap;
        // a property's cover target that no run reaches makes its pass vacuous.
        let settled = report.targets.filter {
            if case .infeasible = $0.verdict { return $0.target.command != nil }
            return $0.verdict.isReached
        }.count
        if settled < report.targets.count { throw Exit.unknown }
    }

    /// The seed traces of a folder: every `*.json` file, in name order.
    func loadSeeds(_ dir: String) throws -> [Trace] {
        let paths = CoverSeeds.files(in: dir)
        if paths.isEmpty { note("rmi-check: --seeds: no *.json trace in \(dir)"); throw Exit.badInput }
        return try loadTraces(paths, option: "--seeds")
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
