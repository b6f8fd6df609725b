import Foundation
import Testing
import TestSupport

/// The repository root (this file is Tests/CLITests/CICLITests.swift).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A fresh folder holding `plan.json` (and, when given, `baseline.json`).
func planFolder(_ plan: String, baseline: [String]? = nil) throws -> String {
    let dir = scratchDirectory("ci").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try plan.write(toFile: dir + "/plan.json", atomically: true, encoding: .utf8)
    if let baseline {
        let data = try JSONSerialization.data(withJSONObject: ["format": "rmi-check-baseline/1", "obligations": baseline])
        try data.write(to: URL(fileURLWithPath: dir + "/baseline.json"))
    }
    return dir
}

func json(_ path: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
}

func ledgerRows(_ dir: String) throws -> [[String: Any]] {
    try #require(try json(dir + "/out/ledger.json")["obligations"] as? [[String: Any]])
}

/// Small checks of every kind, each well under a second.
let smallChecks = """
    {"id": "props", "kind": "explicit", "scopes": "granules=3", "properties": ["INV-G1", "INV-L2"]},
    {"id": "covers", "kind": "cover", "scopes": ["granules=3"], "targets": ["G4", "L2"]},
    {"id": "conform", "kind": "conformance", "random": 300, "seed": 9},
    {"id": "corpus", "kind": "corpus", "path": "\(repoRoot)/Specs/traces/canonical", "against": "spec"},
    {"id": "corpus-impl", "kind": "corpus", "path": "\(repoRoot)/Specs/traces/canonical", "against": "impl"},
    {"id": "host-m9", "kind": "host", "variant": "M9", "expect": "fail", "bound": 8},
    {"id": "host-fixed", "kind": "host", "variant": "fixed", "expect": "pass", "bound": 3, "properties": ["P1", "P2", "P3"]}
    """

@Suite struct CICLITests {
    @Test func aPassingPlanWritesTheFourReports() throws {
        let dir = try planFolder(#"{"format": "rmi-check-plan/1", "checks": [\#(smallChecks)]}"#)
        let (code, out, err) = try rmiCheck(["ci", "--plan", dir + "/plan.json", "--out", dir + "/out"])
        #expect(code == 0, "\(out)\n\(err)")
        #expect(out.contains("PASSED: 13 obligations"))
        #expect(err.contains("ci: [1/7] props"), "progress on standard error")
        let rows = try ledgerRows(dir)
        #expect(rows.count == 13)
        #expect(rows.allSatisfy { $0["verdict"] as? String == "HOLDS" })
        let ids = rows.compactMap { $0["id"] as? String }
        #expect(ids.contains("props/INV-G1") && ids.contains("covers/INV-G4") && ids.contains("conform")
                && ids.contains("corpus/four-starting-rtts") && ids.contains("host-m9"))
        let conform = try #require(rows.first { $0["id"] as? String == "conform" })
        #expect(conform["seed"] as? Int == 9)
        #expect(conform["engine"] as? String == "conformance: builtin")
        let junit = try String(contentsOfFile: dir + "/out/junit.xml", encoding: .utf8)
        #expect(junit.components(separatedBy: "<testcase ").count - 1 == 13)
        #expect(junit.contains(#"failures="0" errors="0""#))
        #expect(!junit.contains("<failure"))
        let sarif = try json(dir + "/out/results.sarif")
        #expect(sarif["version"] as? String == "2.1.0")
        let run = try #require((sarif["runs"] as? [[String: Any]])?.first)
        #expect((run["results"] as? [Any])?.isEmpty == true)
        let summary = try String(contentsOfFile: dir + "/out/summary.md", encoding: .utf8)
        #expect(summary.hasPrefix("## rmi-check ci: PASSED"))
        #expect(summary.contains("| HOLDS | 13 |"))
        // Written through temporary files: none is left behind.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir + "/out").filter { $0.hasSuffix(".tmp") }
        #expect(left.isEmpty)
    }

    @Test func anInjectedDeviationFailsWithASARIFResultAndAJUnitFailure() throws {
        let dir = try planFolder("""
            {"checks": [
              {"id": "props", "kind": "explicit", "scopes": "granules=3", "properties": ["INV-G1"]},
              {"id": "conform-no-wipe", "kind": "conformance", "random": 20000, "seed": 1, "deviation": ["undelegate-no-wipe"]}
            ]}
            """)
        let (code, out, err) = try rmiCheck(["ci", "--plan", dir + "/plan.json", "--out", dir + "/out"])
        #expect(code == 1, "\(out)\n\(err)")
        #expect(out.contains("VIOLATED  conform-no-wipe"))
        let row = try #require(try ledgerRows(dir).first { $0["id"] as? String == "conform-no-wipe" })
        #expect(row["verdict"] as? String == "VIOLATED")
        let trace = try #require(row["trace"] as? String)
        #expect(FileManager.default.fileExists(atPath: trace))
        // The trace replays: against the deviating implementation it differs again.
        #expect(try rmiCheck(["replay", trace, "--against", "impl", "--deviation", "undelegate-no-wipe"]).0 == 1)

        let run = try #require((try json(dir + "/out/results.sarif")["runs"] as? [[String: Any]])?.first)
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count == 1)
        let props = try #require(results[0]["properties"] as? [String: Any])
        #expect(props["obligation"] as? String == "conform-no-wipe")
        #expect(props["trace"] as? String == trace)
        #expect((results[0]["ruleId"] as? String)?.hasPrefix("conformance/RMI_") == true)
        let uri = (((results[0]["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["artifactLocation"] as? [String: Any])?["uri"] as? String
        #expect(uri?.hasPrefix("Sources/RMISpec/Commands/") == true)

        let junit = try String(contentsOfFile: dir + "/out/junit.xml", encoding: .utf8)
        #expect(junit.contains(#"name="conform-no-wipe""#))
        #expect(junit.contains(#"<failure type="VIOLATED" message="conform-no-wipe VIOLATED"#))
        #expect(junit.contains(#"failures="1""#))
        let summary = try String(contentsOfFile: dir + "/out/summary.md", encoding: .utf8)
        #expect(summary.contains("| `conform-no-wipe` | VIOLATED |"))
    }

    @Test func droppingAnObligationFailsAgainstTheBaseline() throws {
        let plan = #"{"baseline": "baseline.json", "checks": [\#(smallChecks)]}"#
        let dir = try planFolder(plan)
        #expect(try rmiCheck(["ci", "--plan", dir + "/plan.json", "--update-baseline"]).0 == 0)
        let baseline = try #require(try json(dir + "/baseline.json")["obligations"] as? [String])
        #expect(baseline.count == 13)
        #expect(baseline.contains("host-m9"))

        // One property fewer in a check, and one check fewer: both are dropped obligations.
        let fewer = plan.replacingOccurrences(of: #"["INV-G1", "INV-L2"]"#, with: #"["INV-G1"]"#)
            .replacingOccurrences(of: #"{"id": "host-m9", "kind": "host", "variant": "M9", "expect": "fail", "bound": 8},"#, with: "")
        #expect(fewer != plan)
        try fewer.write(toFile: dir + "/plan.json", atomically: true, encoding: .utf8)
        let (code, out, err) = try rmiCheck(["ci", "--plan", dir + "/plan.json", "--out", dir + "/out"])
        #expect(code == 1, "\(out)\n\(err)")
        #expect(out.contains("GATE  2 obligation(s) of the baseline"))
        let ledger = try json(dir + "/out/ledger.json")
        let check = try #require(ledger["baseline"] as? [String: Any])
        #expect(check["missing"] as? [String] == ["host-m9", "props/INV-L2"])
        #expect(try ledgerRows(dir).allSatisfy { $0["verdict"] as? String == "HOLDS" }, "every row holds: only the baseline fails")
        let junit = try String(contentsOfFile: dir + "/out/junit.xml", encoding: .utf8)
        #expect(junit.contains(#"<testcase classname="rmi-check.baseline" name="host-m9""#))

        // Accepting the smaller plan makes the gate pass again.
        #expect(try rmiCheck(["ci", "--plan", dir + "/plan.json", "--update-baseline"]).0 == 0)
        #expect(try rmiCheck(["ci", "--plan", dir + "/plan.json", "--out", dir + "/out"]).0 == 0)
    }

    @Test func anUnreachableCoverFails() throws {
        // One Realm: two live Realms (INV-R5's cover) cannot happen.
        let dir = try planFolder(#"{"checks": [{"id": "two-realms", "kind": "cover", "scopes": "granules=3,realms=1", "targets": ["INV-R5", "INV-G4"]}]}"#)
        let (code, out, err) = try rmiCheck(["ci", "--plan", dir + "/plan.json", "--out", dir + "/out"])
        #expect(code == 2, "\(out)\n\(err)")
        #expect(out.contains("VACUOUS  two-realms/INV-R5"))
        let rows = try ledgerRows(dir)
        #expect(rows.map { $0["verdict"] as? String } == ["VACUOUS", "HOLDS"])
        let junit = try String(contentsOfFile: dir + "/out/junit.xml", encoding: .utf8)
        #expect(junit.contains(#"<failure type="VACUOUS" message="two-realms/INV-R5 VACUOUS"#))
    }

    @Test func twoShardsRunExactlyTheObligationsOfOneRun() throws {
        let dir = try planFolder(#"{"baseline": "baseline.json", "checks": [\#(smallChecks)]}"#)
        #expect(try rmiCheck(["ci", "--plan", dir + "/plan.json", "--update-baseline"]).0 == 0)
        func ids(_ args: [String], out: String) throws -> [String] {
            let (code, o, e) = try rmiCheck(["ci", "--plan", dir + "/plan.json", "--out", dir + "/" + out] + args)
            #expect(code == 0, "\(o)\n\(e)")
            let rows = try #require(try json(dir + "/\(out)/ledger.json")["obligations"] as? [[String: Any]])
            return rows.compactMap { $0["id"] as? String }
        }
        let all = try ids([], out: "all")
        let one = try ids(["--shard", "1/2"], out: "s1")
        let two = try ids(["--shard", "2/2"], out: "s2")
        #expect(!one.isEmpty && !two.isEmpty)
        #expect(Set(one).isDisjoint(with: two))
        #expect((one + two).sorted() == all.sorted())
        // A shard with nothing to run fails.
        let (code, _, _) = try rmiCheck(["ci", "--plan", dir + "/plan.json", "--out", dir + "/s9", "--shard", "9/9"])
        #expect(code == 65)
        #expect(try rmiCheck(["ci", "--plan", dir + "/plan.json", "--shard", "3/2"]).0 == 64)
    }

    @Test func aBadPlanIsBadInputNamingFileAndField() throws {
        let unknownKind = try planFolder(#"{"checks": [{"id": "p", "kind": "proof", "properties": ["G1"]}]}"#)
        let (c1, _, e1) = try rmiCheck(["ci", "--plan", unknownKind + "/plan.json"])
        #expect(c1 == 65)
        #expect(e1.contains("plan.json: field 'checks[0].kind': unknown kind 'proof'"))

        let misspelt = try planFolder(#"{"checks": [{"id": "c", "kind": "conformance", "random": 10, "sede": 3}]}"#)
        let (c2, _, e2) = try rmiCheck(["ci", "--plan", misspelt + "/plan.json"])
        #expect(c2 == 65)
        #expect(e2.contains("field 'checks[0].sede': unknown field"))

        let empty = try planFolder(#"{"checks": []}"#)
        let (c3, o3, _) = try rmiCheck(["ci", "--plan", empty + "/plan.json", "--out", empty + "/out"])
        #expect(c3 == 65, "zero obligations is never a pass")
        #expect(o3.contains("no obligation ran"))

        let (c4, _, e4) = try rmiCheck(["ci", "--plan", "/nonexistent/plan.json"])
        #expect(c4 == 65)
        #expect(e4.contains("/nonexistent/plan.json: cannot read"))
    }

    @Test func aYAMLPlanRuns() throws {
        let dir = try planFolder("")
        try """
            checks:
              - id: props
                kind: explicit
                scopes: granules=2
                properties: [G1, G2]
            """.write(toFile: dir + "/plan.yaml", atomically: true, encoding: .utf8)
        let (code, out, err) = try rmiCheck(["ci", "--plan", dir + "/plan.yaml", "--out", dir + "/out"])
        #expect(code == 0, "\(out)\n\(err)")
        #expect(try ledgerRows(dir).compactMap { $0["id"] as? String } == ["props/INV-G1", "props/INV-G2"])
    }

    @Test func anAdapterThatAnswersGarbageIsAViolationNeverAPass() throws {
        let dir = try planFolder(#"{"checks": [{"id": "garbage", "kind": "conformance", "impl_cmd": "echo garbage; exit 3", "random": 100}]}"#)
        let (code, out, _) = try rmiCheck(["ci", "--plan", dir + "/plan.json", "--out", dir + "/out"])
        #expect(code == 1)
        #expect(out.contains("VIOLATED  garbage: implementation malformed reply"))
        // No rule in the sources: the SARIF result points at the plan.
        let run = try #require((try json(dir + "/out/results.sarif")["runs"] as? [[String: Any]])?.first)
        let result = try #require((run["results"] as? [[String: Any]])?.first)
        let phys = try #require((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        #expect(((phys["artifactLocation"] as? [String: Any])?["uri"] as? String)?.hasSuffix("plan.json") == true)
    }

    @Test func aHostMutationThatMustFailButHoldsFailsTheGate() throws {
        // The fixed flow "must fail" on P13: it does not, so the gate fails (bounded: UNKNOWN).
        let dir = try planFolder(#"{"checks": [{"id": "h", "kind": "host", "variant": "fixed", "expect": "fail", "bound": 3, "properties": ["P13"]}]}"#)
        let (code, out, _) = try rmiCheck(["ci", "--plan", dir + "/plan.json", "--out", dir + "/out"])
        #expect(code == 2)
        #expect(out.contains("UNKNOWN  h: fixed violates none of P13"))
    }
}

@Suite struct ShowCLITests {
    @Test func showPrintsATableAndWritesMermaidAndDOT() throws {
        let trace = repoRoot + "/Specs/traces/canonical/build-populate-run-teardown.json"
        let dir = scratchDirectory("show").path
        let (code, out, err) = try rmiCheck(["show", trace, "--mermaid", dir + "/t.mmd", "--dot", dir + "/t.dot"])
        #expect(code == 0, "\(err)")
        let lines = out.split(separator: "\n").map(String.init)
        let header = try #require(lines.first { $0.hasPrefix("Step") })
        #expect(header.contains("Call") && header.contains("Arguments") && header.contains("Result") && header.contains("Changes"))
        #expect(lines.contains { $0.hasPrefix("2 ") && $0.contains("GRANULE_DELEGATE") && $0.contains("RMI_SUCCESS")
                                 && $0.contains("state UNDELEGATED -> DELEGATED") })
        #expect(out.contains("every result as the trace expects"))
        let mermaid = try String(contentsOfFile: dir + "/t.mmd", encoding: .utf8)
        #expect(mermaid.hasPrefix("sequenceDiagram\n    participant Host\n    participant RMM\n"))
        #expect(mermaid.contains("Host->>RMM: 2. GRANULE_DELEGATE(addr=0x80001000)"))
        #expect(mermaid.contains("RMM-->>Host: RMI_SUCCESS"))
        #expect(mermaid.contains(": UNDELEGATED → DELEGATED"))
        #expect(mermaid.contains("DELEGATED → DATA"))
        let dot = try String(contentsOfFile: dir + "/t.dot", encoding: .utf8)
        #expect(dot.hasPrefix("digraph trace {"))
        #expect(dot.contains(#""UNDELEGATED" -> "DELEGATED" [label="GRANULE_DELEGATE (steps"#))
        #expect(dot.contains(#""DELEGATED" -> "DATA""#))
        #expect(dot.hasSuffix("}\n"))
    }

    @Test func showMarksAResultTheSpecDoesNotGive() throws {
        let path = try tempFile("differs.json", #"""
        {"steps": [{"call": "RMI_GRANULE_DELEGATE", "args": {"addr": "0x80000008"}, "expect": {"status": "RMI_SUCCESS"}}]}
        """#)
        let (code, out, _) = try rmiCheck(["show", path])
        #expect(code == 0)
        #expect(out.contains("RMI_ERROR_INPUT (gran_align)  [trace expects RMI_SUCCESS]"))
        #expect(out.contains("1 whose expected result the spec does not give"))
    }

    @Test func aBadTraceIsBadInput() throws {
        let path = try tempFile("bad.json", #"{"steps": [{"call": "RMI_NOPE", "args": {}}]}"#)
        let (code, _, err) = try rmiCheck(["show", path])
        #expect(code == 65)
        #expect(err.contains("bad.json: step 0"))
        #expect(try rmiCheck(["show", "/nonexistent.json"]).0 == 65)
    }
}
