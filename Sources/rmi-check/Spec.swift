import ArgumentParser
import Foundation
import RMICheck
import RMISpec

struct Spec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the spec: commands, their failure conditions in order, and properties.",
        discussion: """
            Everything listed is read off the executable specification itself (Sources/RMISpec): \
            for each command its function ID, input and output registers, its failure \
            conditions in the spec's listing order with their labels and results, and its \
            ordering constraints (when two failing conditions are unordered, the spec allows \
            either result).

            --diagram writes a Graphviz DOT graph of the state machine of Granules, Realms, \
            RECs or RTT entries, built from the transitions the spec takes when it runs the \
            canonical scenarios.
            """)

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Option(name: .long, help: "Write a DOT diagram: granule, realm, rec or rtt.")
    var diagram: String?

    @Flag(name: .long, help: "Self-check the failure conditions with Z3 over a scope: ambiguous unordered pairs, conditions that never fire, unreachable success (warnings with a witness).")
    var lint = false

    @Option(name: .long, help: "With --lint: the symbolic scope (default granules=3,realms=1,recs=1,entries=2).")
    var scope: String = "granules=3,realms=1,recs=1,entries=2"

    @OptionGroup(title: "Solver (with --lint)")
    var solver: SolverOptions

    func validate() throws {
        if let d = diagram, Diagram.Kind(rawValue: d) == nil {
            throw ValidationError("--diagram: unknown diagram '\(d)' (known: granule, realm, rec, rtt)")
        }
    }

    func run() throws {
        if lint { return try runLint() }
        if let d = diagram {
            print(Diagram.dot(Diagram.Kind(rawValue: d)!), terminator: "")
            return
        }
        let commands = RMICommand.allCases.sorted { $0.fid < $1.fid }
        if json {
            var list: [[String: Any]] = []
            var total = 0
            for c in commands {
                let conds = RMISpec.conditions(of: c).filter(\.listed)
                total += conds.count
                list.append([
                    "name": c.rawValue, "fid": hex(c.fid), "inputs": c.inputs, "outputs": c.outputs,
                    "failure_conditions": conds.enumerated().map { i, k in
                        ["order": i + 1, "label": k.label, "status": k.status.specName, "source": k.source] as [String: Any]
                    },
                    "ordering": c.ordering.map { ["before": $0.before, "after": $0.after] },
                ])
            }
            let props = Invariant.allCases.map { p in ["name": p.rawValue, "kind": p.kind.rawValue, "summary": p.summary] }
            let root: [String: Any] = ["spec": "DEN0137 1.0-rel0", "commands": list, "properties": props,
                                       "options": SpecOptions.named.map(\.0),
                                       "counts": ["commands": commands.count, "failure_conditions": total,
                                                  "properties": props.count]]
            let data = try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        var total = 0
        for c in commands {
            print("\(c.rawValue)  \(hex(c.fid))  (\(c.inputs.joined(separator: ", "))) -> (\(c.outputs.joined(separator: ", ")))")
            for (i, k) in RMISpec.conditions(of: c).filter(\.listed).enumerated() {
                print("  \(String(i + 1).leftPad(2)). \(k.label.padding(toLength: 16, withPad: " ", startingAt: 0)) \(k.status.specName)")
                total += 1
            }
            for o in c.ordering { print("  order: [\(o.before.joined(separator: ", "))] < [\(o.after.joined(separator: ", "))]") }
        }
        print("")
        print("Properties (each with a cover target):")
        for p in Invariant.allCases {
            print("  \(p.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(p.kind.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)) \(p.summary)")
        }
        print("")
        print("Options (departures from DEN0137 1.0-rel0, off by default): \(SpecOptions.named.map(\.0).joined(separator: ", "))")
        print("\(commands.count) commands, \(total) failure conditions, \(Invariant.allCases.count) properties")
    }
}

extension String {
    func leftPad(_ n: Int) -> String { String(repeating: " ", count: max(0, n - count)) + self }
}

extension Spec {
    /// `--lint`: warnings, each with its witness; exit 0 (warnings are for reading), 2 when
    /// some query was undecided (the report is then incomplete).
    func runLint() throws {
        let settings = try solver.settings(scope: scope, properties: [], quiet: true)
        note("spec --lint: \(settings.commands.count) commands over every well-formed state of \(settings.scope)")
        let r = try runSymbolic(engine: "lint", out: "out/lint") { try SpecLint(settings: settings).run() }
        for f in r.findings {
            switch f.kind {
            case .ambiguous:
                print("warning: \(f.command.rawValue): \(f.labels[0]) and \(f.labels[1]) can both give the result, are unordered, and give different results")
            case .neverFires:
                print("warning: \(f.command.rawValue): \(f.labels[0]) never gives the result (earlier conditions always cover it) in \(settings.scope)")
            case .successUnreachable:
                print("warning: \(f.command.rawValue): no state of \(settings.scope) and no arguments make it succeed")
            }
            for w in f.witness { print("    \(w)") }
        }
        print("\(r.findings.count) warnings from \(r.queries) queries" + (r.undecided.isEmpty ? "" : "; \(r.undecided.count) undecided:"))
        for u in r.undecided.prefix(20) { print("  undecided: \(u)") }
        if !r.undecided.isEmpty { throw Exit.unknown }
    }
}
