import Foundation
import RMISpec

/// A trace run on the spec, step by step, for people: a table, a Mermaid sequence diagram
/// (Host and RMM, Granule state changes as notes) and a DOT graph of the Granule states
/// the trace passes through.
public struct TraceView {
    public struct Row: Sendable {
        public var step: Int
        /// The command (without `RMI_`), or the event.
        public var call: String
        public var arguments: String
        /// The spec's result ("" for steps that are not calls).
        public var result: String
        /// Set when the trace expects another result than the spec gives.
        public var expected: String?
        /// What the step changed in the abstract state (StateDiff lines).
        public var changes: [String]
        /// Granule state changes: (address, from, to).
        public var granules: [(UInt64, GranuleState, GranuleState)]
    }
    public var trace: Trace
    public var rows: [Row] = []

    public init(_ trace: Trace) {
        self.trace = trace
        var runner = TraceRunner(platform: trace.platform, options: trace.options)
        for (i, step) in trace.steps.enumerated() {
            let before = runner.state
            let r = runner.run(step)
            let after = runner.state
            var row = Row(step: i, call: "", arguments: "", result: r?.description ?? "", expected: nil,
                          changes: before.diff(after), granules: [])
            for a in Set(before.granules.keys).union(after.granules.keys).sorted() {
                let g0 = before.granule(a).state, g1 = after.granule(a).state
                if g0 != g1 { row.granules.append((a, g0, g1)) }
            }
            var expect: Expectation?
            var command: RMICommand?
            switch step {
            case .call(let c):
                row.call = c.command.rawValue.replacingOccurrences(of: "RMI_", with: "")
                var args = zip(c.command.inputs, c.args).map { "\($0)=\(hex($1))" }
                if let realm = c.realm { args.append("realm: \(realm.kind.name)") }
                if !c.writes.isEmpty { args.append("+\(c.writes.count) NS write\(c.writes.count == 1 ? "" : "s")") }
                row.arguments = args.joined(separator: " ")
                expect = c.expect
                command = c.command
            case .write(let w):
                row.call = "(host write)"
                row.arguments = "at \(hex(w.address))"
            case .setGPT(let a, let g):
                row.call = "(set GPT)"
                row.arguments = "addr=\(hex(a)) gpt=\(g.specName)"
            case .recExit(let rec, let realm, let e):
                row.call = "(REC exit)"
                row.arguments = "rec=\(hex(rec)) realm: \(realm.kind.name)"
                expect = e
            }
            if let e = expect, let r, let m = runner.check(r, against: e, command: command, step: i) {
                row.expected = m.field == "result" ? m.expected : "\(m.field) \(m.expected)"
            }
            rows.append(row)
        }
    }

    /// Changes shown per step in the table; NS memory words are counted, not listed.
    static func shortChanges(_ lines: [String], limit: Int = 6) -> [String] {
        let ns = lines.filter { $0.hasPrefix("ns ") }.count
        var out = lines.filter { !$0.hasPrefix("ns ") }
        if out.count > limit { out = Array(out.prefix(limit)) + ["(+\(out.count - limit) more)"] }
        if ns > 0 { out.append("\(ns) NS word\(ns == 1 ? "" : "s") written") }
        return out
    }

    /// The table: step, call, arguments, result, what changed.
    public func table() -> String {
        let head = ["Step", "Call", "Arguments", "Result", "Changes"]
        var cells: [[String]] = []
        var extra: [[String]] = []
        for r in rows {
            let ch = TraceView.shortChanges(r.changes)
            let result = r.result + (r.expected.map { "  [trace expects \($0)]" } ?? "")
            cells.append([String(r.step), r.call, r.arguments, result, ch.first ?? "-"])
            extra.append(Array(ch.dropFirst()))
        }
        var w = head.map(\.count)
        for c in cells { for i in 0..<4 { w[i] = max(w[i], c[i].count) } }
        func line(_ c: [String]) -> String {
            (0..<4).map { c[$0].padding(toLength: w[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + c[4]
        }
        var out = [line(head), line(head.enumerated().map { i, h in i < 4 ? String(repeating: "-", count: w[i]) : String(repeating: "-", count: h.count) })]
        for (c, more) in zip(cells, extra) {
            out.append(line(c))
            for m in more { out.append(line(["", "", "", "", m])) }
        }
        let differing = rows.filter { $0.expected != nil }.count
        out.append("")
        out.append("\(rows.count) steps" + (differing > 0 ? ", \(differing) whose expected result the spec does not give" : ", every result as the trace expects"))
        return out.joined(separator: "\n") + "\n"
    }

    static func mermaidText(_ s: String) -> String {
        s.replacingOccurrences(of: ";", with: ",").replacingOccurrences(of: "#", with: "")
    }

    /// A Mermaid sequence diagram: the Host's calls to the RMM and its answers, the Host's
    /// NS writes and environment events as notes, and each Granule state change as a note
    /// on the RMM.
    public func mermaid() -> String {
        var s = "sequenceDiagram\n    participant Host\n    participant RMM\n"
        if let d = trace.description { s += "    Note over Host,RMM: \(TraceView.mermaidText(d))\n" }
        for r in rows {
            switch trace.steps[r.step] {
            case .call:
                s += "    Host->>RMM: \(r.step). \(TraceView.mermaidText(r.call))(\(TraceView.mermaidText(r.arguments)))\n"
                s += "    RMM-->>Host: \(TraceView.mermaidText(r.result))" + (r.expected.map { " (trace expects \($0))" } ?? "") + "\n"
            case .recExit:
                s += "    Note over RMM: \(r.step). REC exit \(TraceView.mermaidText(r.arguments))\n"
                s += "    RMM-->>Host: \(TraceView.mermaidText(r.result))" + (r.expected.map { " (trace expects \($0))" } ?? "") + "\n"
            case .write, .setGPT:
                s += "    Note over Host: \(r.step). \(r.call) \(TraceView.mermaidText(r.arguments))\n"
            }
            for (a, from, to) in r.granules {
                s += "    Note over RMM: granule \(hex(a)): \(from.specName) → \(to.specName)\n"
            }
        }
        return s
    }

    /// A DOT graph of the Granule states the trace passes through; each edge is labelled
    /// with the commands that take it and the steps where they do.
    public func dot() -> String {
        var edges: [String: [String: [Int]]] = [:]   // "from\tto" -> command -> steps
        var nodes: Set<String> = [GranuleState.undelegated.specName]
        for r in rows {
            for (_, from, to) in r.granules {
                nodes.insert(from.specName); nodes.insert(to.specName)
                let key = "\(from.specName)\t\(to.specName)"
                if edges[key]?[r.call]?.last != r.step { edges[key, default: [:]][r.call, default: []].append(r.step) }
            }
        }
        var s = "digraph trace {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n"
        if let d = trace.description { s += "  label=\"\(d.replacingOccurrences(of: "\"", with: "'"))\";\n" }
        let order = GranuleState.allCases.map(\.specName)
        for n in order where nodes.contains(n) { s += "  \"\(n)\";\n" }
        for key in edges.keys.sorted() {
            let p = key.split(separator: "\t")
            let label = edges[key]!.sorted { $0.key < $1.key }
                .map { "\($0.key) (step\($0.value.count == 1 ? "" : "s") \($0.value.map(String.init).joined(separator: ", ")))" }
                .joined(separator: "\\n")
            s += "  \"\(p[0])\" -> \"\(p[1])\" [label=\"\(label)\"];\n"
        }
        return s + "}\n"
    }
}
