import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import RMICheckCI
import RMISpec
import Testing
import TestSupport

/// Checks the parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json, OASIS) that a log
/// must satisfy and that code scanning reads; returns the problems found. (No copy of the
/// schema is on this machine, so the required structure is checked here field by field.)
func sarifProblems(_ data: Data) -> [String] {
    var p: [String] = []
    guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return ["not a JSON object"] }
    let allowedTop: Set<String> = ["$schema", "version", "runs", "inlineExternalProperties", "properties"]
    for k in root.keys where !allowedTop.contains(k) { p.append("sarifLog: unknown property \(k)") }
    if root["version"] as? String != "2.1.0" { p.append("version must be \"2.1.0\"") }
    if let s = root["$schema"] as? String {
        if !(s.hasPrefix("https://") && s.contains("sarif") && s.contains("2.1.0")) { p.append("$schema is not a SARIF 2.1.0 schema URI: \(s)") }
    } else { p.append("$schema missing") }
    guard let runs = root["runs"] as? [[String: Any]] else { return p + ["runs must be an array of objects"] }
    let levels: Set<String> = ["none", "note", "warning", "error"]
    let kinds: Set<String> = ["notApplicable", "pass", "fail", "review", "open", "informational"]
    for (i, run) in runs.enumerated() {
        guard let tool = run["tool"] as? [String: Any], let driver = tool["driver"] as? [String: Any] else {
            p.append("runs[\(i)].tool.driver missing"); continue
        }
        if (driver["name"] as? String)?.isEmpty != false { p.append("runs[\(i)].tool.driver.name must be a non-empty string") }
        let rules = driver["rules"] as? [[String: Any]] ?? []
        var ruleIDs: Set<String> = []
        for (j, r) in rules.enumerated() {
            guard let id = r["id"] as? String else { p.append("rules[\(j)].id missing"); continue }
            if !ruleIDs.insert(id).inserted { p.append("rules[\(j)].id \(id) is not unique") }
            for d in ["shortDescription", "fullDescription"] where r[d] != nil {
                if (r[d] as? [String: Any])?["text"] as? String == nil { p.append("rules[\(j)].\(d).text missing") }
            }
            if let cfg = r["defaultConfiguration"] as? [String: Any], let l = cfg["level"] as? String, !levels.contains(l) {
                p.append("rules[\(j)].defaultConfiguration.level \(l) not allowed")
            }
        }
        if let inv = run["invocations"] as? [[String: Any]] {
            for (j, x) in inv.enumerated() where !(x["executionSuccessful"] is Bool) { p.append("invocations[\(j)].executionSuccessful must be a boolean") }
        }
        guard let results = run["results"] as? [[String: Any]] else { p.append("runs[\(i)].results must be an array"); continue }
        for (j, r) in results.enumerated() {
            let at = "runs[\(i)].results[\(j)]"
            guard let msg = r["message"] as? [String: Any], (msg["text"] as? String)?.isEmpty == false else {
                p.append("\(at).message.text missing"); continue
            }
            guard let ruleId = r["ruleId"] as? String else { p.append("\(at).ruleId missing"); continue }
            if let l = r["level"] as? String, !levels.contains(l) { p.append("\(at).level \(l) not allowed") }
            if let k = r["kind"] as? String, !kinds.contains(k) { p.append("\(at).kind \(k) not allowed") }
            if let idx = r["ruleIndex"] {
                guard let n = idx as? Int, n >= 0, n < rules.count else { p.append("\(at).ruleIndex \(idx) names no rule"); continue }
                if rules[n]["id"] as? String != ruleId { p.append("\(at).ruleIndex \(n) is rule \(rules[n]["id"] ?? "?"), not \(ruleId)") }
            }
            guard let locs = r["locations"] as? [[String: Any]], !locs.isEmpty else { p.append("\(at).locations missing"); continue }
            for (k, loc) in locs.enumerated() {
                guard let phys = loc["physicalLocation"] as? [String: Any],
                      let art = phys["artifactLocation"] as? [String: Any], let uri = art["uri"] as? String, !uri.isEmpty else {
                    p.append("\(at).locations[\(k)].physicalLocation.artifactLocation.uri missing"); continue
                }
                if URL(string: uri) == nil { p.append("\(at): uri \(uri) is not a URI reference") }
                if let base = art["uriBaseId"], !(base is String) { p.append("\(at): uriBaseId must be a string") }
                guard let region = phys["region"] as? [String: Any], let line = region["startLine"] as? Int, line >= 1 else {
                    p.append("\(at).locations[\(k)].physicalLocation.region.startLine must be an integer >= 1"); continue
                }
            }
            if let fp = r["partialFingerprints"], !((fp as? [String: Any])?.values.allSatisfy { $0 is String } ?? false) {
                p.append("\(at).partialFingerprints values must be strings")
            }
            if let props = r["properties"], !(props is [String: Any]) { p.append("\(at).properties must be an object") }
        }
    }
    return p
}

@Suite struct SARIFTests {
    /// A real run with a violation of each source: a property (explicit search with the
    /// deviation of an implementation is not possible, so a spec violation comes from a
    /// corpus trace that expects the wrong result), a conformance deviation and a host
    /// variant that must pass but fails.
    @Test func theSARIFOfARunWithViolationsHasTheRequiredStructure() throws {
        let dir = scratchDirectory("sarif").path
        try FileManager.default.createDirectory(atPath: dir + "/traces", withIntermediateDirectories: true)
        try #"{"steps": [{"call": "RMI_GRANULE_DELEGATE", "args": {"addr": "0x80000008"}, "expect": {"status": "RMI_SUCCESS"}}]}"#
            .write(toFile: dir + "/traces/wrong.json", atomically: true, encoding: .utf8)
        let plan = try CheckPlan.decode(Data("""
            {"checks": [
              {"id": "corpus", "kind": "corpus", "against": "spec"},
              {"id": "no-wipe", "kind": "conformance", "random": 20000, "seed": 1, "deviation": "undelegate-no-wipe"},
              {"id": "host", "kind": "host", "variant": "M9", "expect": "pass", "bound": 8, "properties": ["P13"]},
              {"id": "ok", "kind": "explicit", "scopes": "granules=2", "properties": ["G1"]}
            ]}
            """.utf8), file: dir + "/plan.json")
        let ledger = CIRunner(plan: plan, out: dir + "/out").run()
        #expect(ledger.obligations.map(\.verdict) == [.violated, .violated, .violated, .holds])
        let data = Reports.sarif(ledger, version: "test")
        #expect(sarifProblems(data) == [])
        let run = try #require(((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["runs"] as? [[String: Any]])?.first)
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count == 3, "one result per violation")
        let byObligation = Dictionary(uniqueKeysWithValues: results.map { (($0["properties"] as! [String: Any])["obligation"] as! String, $0) })
        func location(_ r: [String: Any]) -> (String, Int) {
            let phys = (r["locations"] as! [[String: Any]])[0]["physicalLocation"] as! [String: Any]
            return ((phys["artifactLocation"] as! [String: Any])["uri"] as! String, (phys["region"] as! [String: Any])["startLine"] as! Int)
        }
        // The corpus trace breaks GRANULE_DELEGATE's gran_align: the result points at that rule.
        let corpus = try #require(byObligation["corpus/wrong"])
        #expect(corpus["ruleId"] as? String == "corpus/RMI_GRANULE_DELEGATE")
        let delegateAlign = RMISpec.conditions(of: .granuleDelegate).first { $0.label == "gran_align" }!.source
        let (file, line) = location(corpus)
        #expect("\(file):\(line)" == delegateAlign)
        #expect(((corpus["properties"] as? [String: Any])?["trace"] as? String)?.hasSuffix("traces/wrong.json") == true)
        // The host violation points at P13's check in the host model.
        let host = try #require(byObligation["host"])
        #expect(host["ruleId"] as? String == "host/P13")
        let (hostFile, hostLine) = location(host)
        #expect(hostFile == "Sources/KVMHost/Properties.swift" && hostLine > 1)
        #expect(byObligation["no-wipe"] != nil)
        // Its rules are the ones referenced.
        let rules = ((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]]
        #expect(rules?.count == 3)
    }

    @Test func theStructureCheckCatchesBrokenLogs() {
        func broken(_ f: (inout [String: Any]) -> Void) -> [String] {
            var result: [String: Any] = ["ruleId": "R", "ruleIndex": 0, "level": "error", "message": ["text": "m"],
                                         "locations": [["physicalLocation": ["artifactLocation": ["uri": "a.swift"], "region": ["startLine": 3]]]]]
            f(&result)
            let log: [String: Any] = ["$schema": Reports.sarifSchema, "version": "2.1.0",
                                      "runs": [["tool": ["driver": ["name": "t", "rules": [["id": "R"]]]], "results": [result]]]]
            return sarifProblems(try! JSONSerialization.data(withJSONObject: log))
        }
        #expect(broken { _ in } == [])
        #expect(!broken { $0["level"] = "fatal" }.isEmpty)
        #expect(!broken { $0["ruleIndex"] = 1 }.isEmpty)
        #expect(!broken { $0["message"] = [:] }.isEmpty)
        #expect(!broken { $0["locations"] = [["physicalLocation": ["artifactLocation": ["uri": "a.swift"], "region": ["startLine": 0]]]] }.isEmpty)
        #expect(!broken { $0["ruleId"] = nil }.isEmpty)
        #expect(!sarifProblems(Data(#"{"version": "2.0.0", "runs": []}"#.utf8)).isEmpty)
    }
}

@Suite struct ReportTests {
    func ledger(_ rows: [(String, Verdict)]) -> Ledger {
        Ledger(plan: "p.json", shard: nil, started: "2026-01-01T00:00:00Z", seconds: 1, baseline: nil,
               obligations: rows.map { id, v in
                   LedgerRow(id: id, check: String(id.prefix { $0 != "/" }), kind: "explicit", verdict: v, method: "m <&>", bound: nil,
                             seconds: 0.5, engine: "explicit", seed: nil, message: "a \"quoted\" <message>", trace: nil, replay: nil,
                             rule: nil, internalError: nil)
               }, gateFailures: [])
    }

    @Test func statusFollowsTheVerdictRules() {
        #expect(ledger([("a", .holds), ("b", .proved)]).status == .passed)
        #expect(ledger([("a", .holds), ("b", .violated), ("c", .unknown)]).status == .violated)
        #expect(ledger([("a", .holds), ("b", .unknown)]).status == .unknown)
        #expect(ledger([("a", .vacuous)]).status == .unknown)
        #expect(ledger([]).status == .nothingRan)
        var l = ledger([("a", .holds)])
        l.baseline = .init(file: "b.json", missing: ["x"], added: [])
        #expect(l.status == .violated)
        l.obligations[0].internalError = true
        #expect(l.status == .internalError)
    }

    @Test func junitIsWellFormedWithOneCasePerObligation() throws {
        let xml = Reports.junit(ledger([("a/1", .holds), ("a/2", .violated), ("b", .vacuous), ("c", .unknown)]))
        let doc = try XMLDocument(xmlString: xml)
        let cases = try doc.nodes(forXPath: "//testcase")
        #expect(cases.count == 4)
        #expect(try doc.nodes(forXPath: "//testcase/failure").count == 3)
        #expect(try doc.nodes(forXPath: "//testsuite").count == 3)
        let failed = try doc.nodes(forXPath: "//testcase[@name='a/2']/failure/@type").first?.stringValue
        #expect(failed == "VIOLATED")
        #expect(xml.contains("a &quot;quoted&quot; &lt;message&gt;"))
    }
}
