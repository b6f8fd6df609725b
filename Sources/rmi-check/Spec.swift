import ArgumentParser
import Foundation
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

    func validate() throws {
        if let d = diagram, Diagram.Kind(rawValue: d) == nil {
            throw ValidationError("--diagram: unknown diagram '\(d)' (known: granule, realm, rec, rtt)")
        }
    }

    func run() throws {
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
