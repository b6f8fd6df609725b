import Foundation
import RMISpec

/// The four reports of a ledger: the ledger itself (JSON), JUnit XML, SARIF 2.1.0 and a
/// Markdown summary for a pull request comment.
public enum Reports {
    public static let ledgerFile = "ledger.json"
    public static let junitFile = "junit.xml"
    public static let sarifFile = "results.sarif"
    public static let summaryFile = "summary.md"

    /// Writes the four files into `dir`, each through a temporary file and a rename.
    /// Returns their paths.
    @discardableResult
    public static func write(_ l: Ledger, to dir: String, version: String, sarifURIPrefix: String = "") throws -> [String] {
        let files: [(String, Data)] = [
            (ledgerFile, l.json()), (junitFile, Data(junit(l).utf8)), (sarifFile, sarif(l, version: version, uriPrefix: sarifURIPrefix)),
            (summaryFile, Data(markdown(l).utf8)),
        ]
        return try files.map { name, data in
            let path = (dir as NSString).appendingPathComponent(name)
            try atomicWrite(data, to: path)
            return path
        }
    }

    // MARK: JUnit

    static func xml(_ s: String) -> String {
        var o = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&apos;"
            case "\n", "\t", "\r": o.unicodeScalars.append(u)
            default:
                // XML 1.0 forbids other control characters.
                if u.value < 0x20 || (u.value >= 0xD800 && u.value < 0xE000) || u.value == 0xFFFE || u.value == 0xFFFF {
                    o += "?"
                } else { o.unicodeScalars.append(u) }
            }
        }
        return o
    }

    static func secs(_ s: Double) -> String { String(format: "%.3f", s) }

    /// One test suite per check, one test case per obligation. VIOLATED, UNKNOWN and
    /// VACUOUS are failures (their type is the verdict); internal errors are errors. An
    /// obligation of the baseline that did not run is a failing test case of the suite
    /// `baseline`, and a run in which nothing ran is a failing `ci` case.
    public static func junit(_ l: Ledger) -> String {
        var suites: [(String, [String], Int, Int, Double)] = []   // name, cases, failures, errors, time
        var order: [String] = []
        var byCheck: [String: [LedgerRow]] = [:]
        for r in l.obligations {
            if byCheck[r.check] == nil { order.append(r.check) }
            byCheck[r.check, default: []].append(r)
        }
        for check in order {
            let rows = byCheck[check]!
            var cases: [String] = []
            var failures = 0, errors = 0
            for r in rows {
                var c = "    <testcase classname=\"rmi-check.\(xml(r.kind)).\(xml(r.check))\" name=\"\(xml(r.id))\" time=\"\(secs(r.seconds))\""
                var body = "verdict: \(r.verdict.rawValue)\nmethod: \(r.method)\n"
                if let b = r.bound { body += "bound: \(b)\n" }
                body += "engine: \(r.engine)\n"
                if let s = r.seed { body += "seed: \(s)\n" }
                if let t = r.trace { body += "trace: \(t)\n" }
                if let p = r.replay { body += "replay: \(p)\n" }
                if let loc = r.rule?.location { body += "rule: \(r.rule!.id) at \(loc.file):\(loc.line)\n" }
                body += r.message
                if r.internalError == true {
                    errors += 1
                    c += ">\n      <error type=\"internal\" message=\"\(xml(r.id + ": " + r.message))\">\(xml(body))</error>\n    </testcase>"
                } else if !r.verdict.passes {
                    failures += 1
                    c += ">\n      <failure type=\"\(r.verdict.rawValue)\" message=\"\(xml(r.id + " " + r.verdict.rawValue + ": " + r.message))\">\(xml(body))</failure>\n    </testcase>"
                } else {
                    c += ">\n      <system-out>\(xml(body))</system-out>\n    </testcase>"
                }
                cases.append(c)
            }
            suites.append((check, cases, failures, errors, rows.first?.seconds ?? 0))
        }
        if let b = l.baseline, !b.missing.isEmpty {
            let cases = b.missing.map {
                "    <testcase classname=\"rmi-check.baseline\" name=\"\(xml($0))\" time=\"0\">\n      <failure type=\"MISSING\" message=\"\(xml($0 + ": in the baseline " + b.file + " but not run: an obligation was dropped"))\"/>\n    </testcase>"
            }
            suites.append(("baseline", cases, cases.count, 0, 0))
        }
        if l.obligations.isEmpty {
            suites.append(("ci", ["    <testcase classname=\"rmi-check.ci\" name=\"obligations\" time=\"0\">\n      <failure type=\"EMPTY\" message=\"no obligation ran\"/>\n    </testcase>"], 1, 0, 0))
        }
        let tests = suites.reduce(0) { $0 + $1.1.count }, failures = suites.reduce(0) { $0 + $1.2 }, errors = suites.reduce(0) { $0 + $1.3 }
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<testsuites name=\"rmi-check ci\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(secs(l.seconds))\">\n"
        for (name, cases, f, e, t) in suites {
            s += "  <testsuite name=\"\(xml(name))\" tests=\"\(cases.count)\" failures=\"\(f)\" errors=\"\(e)\" skipped=\"0\" time=\"\(secs(t))\">\n"
            s += cases.joined(separator: "\n") + "\n"
            s += "  </testsuite>\n"
        }
        return s + "</testsuites>\n"
    }

    // MARK: SARIF

    public static let sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"

    /// SARIF 2.1.0: one result per VIOLATED obligation, at the source of the rule it breaks
    /// (the failure condition, or the property's predicate), carrying the trace path.
    /// `uriPrefix` is put before the rules' paths (`Sources/...`): where rmi-check's sources
    /// are in the repository the log is uploaded for (`rmi-check/` for a checkout there).
    public static func sarif(_ l: Ledger, version: String, uriPrefix: String = "") -> Data {
        let violated = l.obligations.filter { $0.verdict == .violated }
        var rules: [RuleRef] = []
        var index: [String: Int] = [:]
        for r in violated {
            let rule = r.rule ?? RuleRef(id: r.kind, summary: "an obligation of kind \(r.kind) holds", location: nil)
            if index[rule.id] == nil { index[rule.id] = rules.count; rules.append(rule) }
        }
        let ruleObjects: [[String: Any]] = rules.map { r in
            ["id": r.id, "name": r.id.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "-", with: "_"),
             "shortDescription": ["text": r.summary], "fullDescription": ["text": r.summary],
             "defaultConfiguration": ["level": "error"]] as [String: Any]
        }
        let results: [[String: Any]] = violated.map { r in
            let rule = r.rule ?? RuleRef(id: r.kind, summary: "", location: nil)
            // A finding with no rule in the sources (an adapter that crashed) points at the plan.
            let cwd = FileManager.default.currentDirectoryPath + "/"
            let planURI = l.plan.hasPrefix(cwd) ? String(l.plan.dropFirst(cwd.count)) : l.plan
            let loc = rule.location.map { SourceLocation(file: uriPrefix + $0.file, line: $0.line) } ?? SourceLocation(file: planURI, line: 1)
            var text = "\(r.id): \(r.message)"
            if let t = r.trace { text += " Trace: \(t)." }
            if let p = r.replay { text += " Replay: `\(p)`." }
            var props: [String: Any] = ["obligation": r.id, "check": r.check, "kind": r.kind, "verdict": r.verdict.rawValue,
                                        "method": r.method, "engine": r.engine]
            if let t = r.trace { props["trace"] = t }
            if let s = r.seed { props["seed"] = String(s) }
            if let b = r.bound { props["bound"] = b }
            return [
                "ruleId": rule.id, "ruleIndex": index[rule.id]!, "level": "error",
                "message": ["text": text],
                "locations": [["physicalLocation": [
                    "artifactLocation": ["uri": loc.file, "uriBaseId": "%SRCROOT%"],
                    "region": ["startLine": loc.line],
                ] as [String: Any]]],
                "partialFingerprints": ["obligation/v1": r.id],
                "properties": props,
            ]
        }
        let run: [String: Any] = [
            "tool": ["driver": ["name": "rmi-check", "version": version, "rules": ruleObjects] as [String: Any]],
            "automationDetails": ["id": "rmi-check/ci/" + (l.shard.map { "shard-\($0.index)-of-\($0.count)/" } ?? "")],
            "originalUriBaseIds": ["%SRCROOT%": ["description": ["text": "the root of the repository (rmi-check's sources at \(uriPrefix.isEmpty ? "its root" : uriPrefix))"]]],
            "invocations": [["executionSuccessful": l.internalErrors == 0,
                             "startTimeUtc": l.started] as [String: Any]],
            "results": results,
        ]
        let root: [String: Any] = ["$schema": sarifSchema, "version": "2.1.0", "runs": [run]]
        return try! JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) + Data("\n".utf8)
    }

    // MARK: Markdown

    static func md(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    /// A summary for a pull request comment: the verdict, counts, what failed and how to
    /// replay it, gate failures, and every obligation in a folded table.
    public static func markdown(_ l: Ledger) -> String {
        let status = l.status
        var s = "## rmi-check ci: \(status == .passed && l.gateFailures.isEmpty ? "PASSED" : status.word)\n\n"
        s += "Plan `\(l.plan)`" + (l.shard.map { ", shard \($0.index)/\($0.count)" } ?? "")
        s += ": \(l.obligations.count) obligations in \(String(format: "%.1f", l.seconds)) s.\n\n"
        s += "| Verdict | Obligations |\n|---|---|\n"
        for v in Verdict.allCases { s += "| \(v.rawValue) | \(l.count(v)) |\n" }
        if l.internalErrors > 0 { s += "| internal errors | \(l.internalErrors) |\n" }
        s += "\n"
        for g in l.gateFailures { s += "**Gate:** \(g)\n\n" }
        if let b = l.baseline {
            s += "Baseline `\(b.file)`: \(b.missing.isEmpty ? "no obligation dropped" : "\(b.missing.count) dropped")"
            s += b.added.isEmpty ? ".\n\n" : "; \(b.added.count) new (run `rmi-check ci --update-baseline` to keep them).\n\n"
            if !b.missing.isEmpty { s += b.missing.map { "- dropped: `\($0)`" }.joined(separator: "\n") + "\n\n" }
        }
        let bad = l.obligations.filter { !$0.verdict.passes || $0.internalError == true }
        if !bad.isEmpty {
            s += "### Not holding\n\n| Obligation | Verdict | What | Trace |\n|---|---|---|---|\n"
            for r in bad {
                var what = md(r.message)
                if let loc = r.rule?.location { what += " (rule `\(r.rule!.id)`, `\(loc.file):\(loc.line)`)" }
                let trace = r.trace.map { "`\($0)`" + (r.replay.map { "<br>`\(md($0))`" } ?? "") } ?? "-"
                s += "| `\(r.id)` | \(r.internalError == true ? "internal error" : r.verdict.rawValue) | \(what) | \(trace) |\n"
            }
            s += "\n"
        }
        s += "<details><summary>All obligations</summary>\n\n| Obligation | Verdict | Method | Bound | Engine | Seed | Time (s) |\n|---|---|---|---|---|---|---|\n"
        for r in l.obligations {
            s += "| `\(r.id)` | \(r.verdict.rawValue) | \(md(r.method)) | \(md(r.bound ?? "-")) | \(md(r.engine)) | \(r.seed.map(String.init) ?? "-") | \(String(format: "%.1f", r.seconds)) |\n"
        }
        return s + "\n</details>\n"
    }
}
