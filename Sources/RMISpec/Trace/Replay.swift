/// Replays a trace against the spec's concrete face.
public struct ReplayReport: Sendable {
    /// Steps run (all of them when nothing differed).
    public var stepsRun: Int
    public var calls: Int
    /// The first step whose result differs from its expectation.
    public var mismatch: TraceRunner.Mismatch?
    /// At the differing step: what the spec's step changed in the state.
    public var stateChange: [String]
    public var finalState: SpecState
    public var agrees: Bool { mismatch == nil }
}

extension Trace {
    public func replay() -> ReplayReport {
        var runner = TraceRunner(platform: platform, options: options)
        var calls = 0
        for (i, step) in steps.enumerated() {
            let before = runner.state
            guard let r = runner.run(step) else { continue }
            calls += 1
            let expect: Expectation?
            let command: RMICommand?
            switch step {
            case .call(let c): expect = c.expect; command = c.command
            case .recExit(_, _, let e): expect = e; command = nil
            default: expect = nil; command = nil
            }
            if let expect, let m = runner.check(r, against: expect, command: command, step: i) {
                return ReplayReport(stepsRun: i + 1, calls: calls, mismatch: m,
                                    stateChange: before.diff(r.next), finalState: runner.state)
            }
        }
        return ReplayReport(stepsRun: steps.count, calls: calls, mismatch: nil, stateChange: [], finalState: runner.state)
    }
}

extension SpecState {
    /// Lines describing how `other` differs from this state (Granules, Realms, RECs, RTT
    /// entries, NS memory), in address order.
    public func diff(_ other: SpecState) -> [String] {
        var out: [String] = []
        let addrs = Set(granules.keys).union(other.granules.keys).sorted()
        for a in addrs {
            let g0 = granule(a), g1 = other.granule(a)
            if g0.state != g1.state { out.append("granule \(hex(a)): \(g0.state.specName) -> \(g1.state.specName)") }
            if g0.gpt != g1.gpt { out.append("granule \(hex(a)): \(g0.gpt.specName) -> \(g1.gpt.specName)") }
            if g0.content != g1.content { out.append("granule \(hex(a)): content \(hex(g0.content)) -> \(hex(g1.content))") }
        }
        for a in Set(realms.keys).union(other.realms.keys).sorted() {
            let r0 = realms[a]?.fields, r1 = other.realms[a]?.fields
            for f in RealmField.allCases {
                let v0 = r0?[f.rawValue], v1 = r1?[f.rawValue]
                if v0 != v1 { out.append("realm \(hex(a)): \(f) \(v0.map(hex) ?? "-") -> \(v1.map(hex) ?? "-")") }
            }
        }
        for a in Set(recs.keys).union(other.recs.keys).sorted() where recs[a] != other.recs[a] {
            out.append("rec \(hex(a)): \(recs[a] == nil ? "created" : other.recs[a] == nil ? "destroyed" : "changed")")
        }
        for a in Set(rtts.keys).union(other.rtts.keys).sorted() {
            let t0 = rtts[a], t1 = other.rtts[a]
            if t0 == nil || t1 == nil {
                if t0 != t1 { out.append("rtt \(hex(a)): \(t0 == nil ? "created at level \(Int64(bitPattern: t1!.level))" : "destroyed")") }
                continue
            }
            for i in 0..<Int(Layout.entriesPerRtt) where t0!.entries[i] != t1!.entries[i] {
                let e0 = t0!.entries[i], e1 = t1!.entries[i]
                out.append("rtt \(hex(a))[\(i)]: \(e0.entryState.specName)/\(e0.ripasValue.specName)@\(hex(e0.addr)) -> \(e1.entryState.specName)/\(e1.ripasValue.specName)@\(hex(e1.addr))")
            }
        }
        for a in Set(ns.keys).union(other.ns.keys).sorted() where ns[a] != other.ns[a] {
            out.append("ns \(hex(a)): \(hex(ns[a] ?? 0)) -> \(hex(other.ns[a] ?? 0))")
        }
        return out
    }
}
