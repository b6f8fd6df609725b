import RMISpec

/// State-machine diagrams built from the transitions the spec takes.
enum Diagram {
    enum Kind: String { case granule, realm, rec, rtt }

    static func dot(_ kind: Kind) -> String {
        var edges: [String: Set<String>] = [:]   // "from -> to" : commands
        for scenario in CanonicalScenarios.all {
            var runner = TraceRunner(platform: scenario.trace.platform, options: scenario.trace.options)
            for step in scenario.trace.steps {
                let before = runner.state
                guard let r = runner.run(step), r.succeeded else { continue }
                let label: String
                switch step {
                case .call(let c): label = c.command.rawValue.replacingOccurrences(of: "RMI_", with: "")
                case .recExit: label = "REC exit"
                default: continue
                }
                for (from, to) in transitions(kind, before, r.next) where from != to {
                    edges["\(from)\t\(to)", default: []].insert(label)
                }
            }
        }
        var out = "digraph \(kind.rawValue) {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n"
        for key in edges.keys.sorted() {
            let parts = key.split(separator: "\t")
            out += "  \"\(parts[0])\" -> \"\(parts[1])\" [label=\"\(edges[key]!.sorted().joined(separator: "\\n"))\"];\n"
        }
        return out + "}\n"
    }

    static func transitions(_ kind: Kind, _ a: SpecState, _ b: SpecState) -> [(String, String)] {
        switch kind {
        case .granule:
            let addrs = Set(a.granules.keys).union(b.granules.keys)
            return addrs.map { (a.granule($0).state.specName, b.granule($0).state.specName) }
        case .realm:
            let rds = Set(a.realms.keys).union(b.realms.keys)
            return rds.map { rd in
                (realmState(a, rd), realmState(b, rd))
            }
        case .rec:
            let recs = Set(a.recs.keys).union(b.recs.keys)
            return recs.map { (recState(a, $0), recState(b, $0)) }
        case .rtt:
            var t: [(String, String)] = []
            for (addr, r1) in b.rtts {
                guard let r0 = a.rtts[addr] else { continue }
                for i in 0..<r1.entries.count where r0.entries[i] != r1.entries[i] {
                    t.append((entryName(r0.entries[i]), entryName(r1.entries[i])))
                }
            }
            return t
        }
    }

    static func realmState(_ s: SpecState, _ rd: UInt64) -> String {
        guard s.granule(rd).state == .rd, let v = s.realms[rd]?.fields[RealmField.state.rawValue] else { return "NULL" }
        return RealmState(rawValue: v)?.specName ?? "?"
    }
    static func recState(_ s: SpecState, _ rec: UInt64) -> String {
        guard s.granule(rec).state == .rec, let r = s.recs[rec] else { return "NULL" }
        return r.state == 0 ? "REC_READY" : "REC_RUNNING"
    }
    static func entryName(_ e: SpecState.Entry) -> String {
        switch e.entryState {
        case .unassigned, .assigned: "\(e.entryState.specName)\\n\(e.ripasValue.specName)"
        default: e.entryState.specName
        }
    }
}
