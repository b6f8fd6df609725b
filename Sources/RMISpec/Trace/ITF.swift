import Foundation

/// The Informal Trace Format of Apalache and Quint: the abstract state after each step.
/// Integers that may not fit a JSON double are written as `{"#bigint": "..."}`, maps as
/// `{"#map": [[key, value], ...]}`.
public struct ITFDocument: Sendable {
    public var json: [String: any Sendable]

    public func data() -> Data {
        try! JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    }
    public func write(to path: String) throws { try atomicWrite(data() + Data("\n".utf8), to: path) }
}

extension Trace {
    /// The trace as ITF: state 0 is the initial state, state i+1 the state after step i;
    /// `action` names the step that led to it and `result` its outcome.
    public func itf() -> ITFDocument {
        var runner = TraceRunner(platform: platform, options: options)
        var states: [[String: any Sendable]] = [SpecState.itfState(runner.state, index: 0, action: "init", result: "")]
        for (i, step) in steps.enumerated() {
            let r = runner.run(step)
            let action: String
            switch step {
            case .call(let c): action = c.command.rawValue
            case .write: action = "host_write"
            case .setGPT: action = "set_gpt"
            case .recExit: action = "rec_exit"
            }
            states.append(SpecState.itfState(runner.state, index: i + 1, action: action,
                                             result: r.map { $0.canonical.description } ?? ""))
        }
        let meta: [String: any Sendable] = ["format": "ITF", "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
                                            "source": description ?? "rmi-check trace", "description": "abstract RMI state after each step"]
        return ITFDocument(json: ["#meta": meta, "vars": ["action", "result", "granules", "realms", "recs", "rtts"],
                                  "states": states])
    }
}

extension SpecState {
    static func big(_ v: UInt64) -> [String: String] { ["#bigint": String(v)] }

    static func itfState(_ s: SpecState, index: Int, action: String, result: String) -> [String: any Sendable] {
        var granules: [[any Sendable]] = []
        for (a, g) in s.granules.sorted(by: { $0.key < $1.key }) {
            granules.append([big(a), ["state": g.state.specName, "gpt": g.gpt.specName, "content": big(g.content)] as [String: any Sendable]])
        }
        var realms: [[any Sendable]] = []
        for (a, r) in s.realms.sorted(by: { $0.key < $1.key }) {
            var rec: [String: any Sendable] = [:]
            for f in RealmField.allCases { rec["\(f)"] = big(r.fields[f.rawValue]) }
            realms.append([big(a), rec])
        }
        var recs: [[any Sendable]] = []
        for (a, r) in s.recs.sorted(by: { $0.key < $1.key }) {
            let rec: [String: any Sendable] = [
                "owner": big(r.owner), "state": r.state == 0 ? "REC_READY" : "REC_RUNNING", "runnable": r.runnable == 1,
                "mpidr": big(r.mpidr), "pc": big(r.pc), "psci_pending": r.psciPending == 1,
                "ripas_addr": big(r.ripasAddr), "ripas_top": big(r.ripasTop), "ripas_value": big(r.ripasValue),
                "aux": r.aux.filter { $0 != 0 }.map(big)]
            recs.append([big(a), rec])
        }
        var rtts: [[any Sendable]] = []
        for (a, t) in s.rtts.sorted(by: { $0.key < $1.key }) {
            // Entries as runs of equal (state, RIPAS) with addresses, to keep states readable.
            var entries: [[String: any Sendable]] = []
            for (i, e) in t.entries.enumerated() where !(e.entryState == .unassigned || e.entryState == .unassignedNS) || e.ripas != 0 {
                entries.append(["index": i, "state": e.entryState.specName, "ripas": e.ripasValue.specName, "addr": big(e.addr)])
            }
            var rtt: [String: any Sendable] = ["level": Int64(bitPattern: t.level), "owner": big(t.owner), "ipa_base": big(t.ipaBase),
                                               "entries": entries]
            if t.leaked != 0 { rtt["leaked"] = Int64(t.leaked) }
            rtts.append([big(a), rtt])
        }
        return ["#meta": ["index": index], "action": action, "result": result,
                "granules": ["#map": granules], "realms": ["#map": realms], "recs": ["#map": recs], "rtts": ["#map": rtts]]
    }
}
