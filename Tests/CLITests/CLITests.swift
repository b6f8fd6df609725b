import Foundation
import Testing
import TestSupport

/// Runs the built `rmi-check` next to the test bundle and returns (exit code, stdout, stderr).
func rmiCheck(_ args: [String], file: StaticString = #filePath) throws -> (Int32, String, String) {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var dir = here
    // The test binary lives in <build>/debug/<name>.xctest (Linux) or inside a bundle.
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("rmi-check").path), dir.pathComponents.count > 1 {
        dir.deleteLastPathComponent()
    }
    let p = Process()
    p.executableURL = dir.appendingPathComponent("rmi-check")
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

func tempFile(_ name: String, _ contents: String) throws -> String {
    let dir = scratchDirectory("cli")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite struct CLITests {
    @Test func specJSONListsAllCommandsAndConditions() throws {
        let (code, out, _) = try rmiCheck(["spec", "--json"])
        #expect(code == 0)
        let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        let counts = json["counts"] as! [String: Int]
        #expect(counts["commands"] == 23)
        #expect(counts["failure_conditions"] == 187)
        let commands = json["commands"] as! [[String: Any]]
        let labels = commands.flatMap { ($0["failure_conditions"] as! [[String: Any]]).map { $0["label"] as! String } }
        #expect(labels.count == 187)
        let delegate = commands.first { $0["name"] as? String == "RMI_GRANULE_DELEGATE" }!
        #expect((delegate["failure_conditions"] as! [[String: Any]]).map { $0["label"] as! String }
                == ["gran_align", "gran_bound", "gran_state", "gran_gpt"])
        #expect(delegate["fid"] as? String == "0xc4000151")
    }

    @Test func defaultJobPassesTheCanonicalScenarios() throws {
        let (code, out, _) = try rmiCheck([])
        #expect(code == 0)
        #expect(out.contains("3 passed, 0 failed"))
    }

    @Test func replayExitCodes() throws {
        let good = try tempFile("good.json", #"""
        {"steps": [{"call": "RMI_GRANULE_DELEGATE", "args": {"addr": "0x80000000"}, "expect": {"status": "RMI_SUCCESS"}}]}
        """#)
        #expect(try rmiCheck(["replay", good]).0 == 0)

        let differs = try tempFile("differs.json", #"""
        {"steps": [{"call": "RMI_GRANULE_DELEGATE", "args": {"addr": "0x80000008"}, "expect": {"status": "RMI_SUCCESS"}}]}
        """#)
        let (code, out, _) = try rmiCheck(["replay", differs])
        #expect(code == 1)
        #expect(out.contains("DIFFERS at step 0"))
        #expect(out.contains("gran_align"))

        let malformed = try tempFile("bad.json", #"""
        {"steps": [{"call": "RMI_GRANULE_DELEGATE", "args": {"adr": "0x80000000"}}]}
        """#)
        let (bad, _, err) = try rmiCheck(["replay", malformed])
        #expect(bad == 65)
        #expect(err.contains("bad.json: step 0: field 'args.addr'"))
        #expect(err.split(separator: "\n").count == 1, "a one-line error")

        let (missing, _, _) = try rmiCheck(["replay", "/nonexistent/trace.json"])
        #expect(missing == 65)

        let empty = try tempFile("empty.json", #"{"steps": []}"#)
        #expect(try rmiCheck(["replay", empty]).0 == 65, "a trace with no steps checks nothing")
    }

    /// `shrink` keeps a property violation, renames its Granule to the lowest delegable
    /// address and reports the sizes before and after.
    @Test func shrinkReportsSizesAndRenames() throws {
        let trace = try tempFile("l2.json", #"""
        {"options": ["weaken-undelegate-any-state"], "steps": [
          {"call": "RMI_GRANULE_DELEGATE", "args": {"addr": "0x90000000"}},
          {"call": "RMI_VERSION", "args": {"req": "0x10000"}},
          {"call": "RMI_GRANULE_UNDELEGATE", "args": {"addr": "0xa0000000"}}]}
        """#)
        let out = trace.replacingOccurrences(of: ".json", with: ".small.json")
        let (code, stdout, _) = try rmiCheck(["shrink", trace, "--out", out])
        #expect(code == 0)
        #expect(stdout.contains("shrunk 3 steps (3 calls, 0 Realms, 2 Granules) to 1 step (1 call, 0 Realms, 1 Granule), keeping INV-L2 violated"))
        let small = try String(contentsOfFile: out, encoding: .utf8)
        #expect(small.contains("RMI_GRANULE_UNDELEGATE") && small.contains("0x80000000") && !small.contains("0xa0000000"))
    }

    @Test func badUsageIsAUsageError() throws {
        let (code, _, err) = try rmiCheck(["spec", "--diagram", "nope"])
        #expect(code == 64)
        #expect(err.contains("granule, realm, rec, rtt"))
    }

    @Test func diagramsAreDOT() throws {
        for kind in ["granule", "realm", "rec", "rtt"] {
            let (code, out, _) = try rmiCheck(["spec", "--diagram", kind])
            #expect(code == 0)
            #expect(out.hasPrefix("digraph \(kind) {"))
            #expect(out.contains("->"))
        }
        let (_, granule, _) = try rmiCheck(["spec", "--diagram", "granule"])
        #expect(granule.contains(#""UNDELEGATED" -> "DELEGATED""#))
        #expect(granule.contains(#""DELEGATED" -> "RTT""#))
    }
}

@Suite struct ConformCLITests {
    @Test func conformFindsADeviationWritesATraceAndItReplays() throws {
        let out = scratchDirectory("conform").path
        let (code, text, _) = try rmiCheck(["conform", "--random", "20000", "--seed", "1", "--no-state",
                                            "--deviation", "realm-destroy-with-recs", "--out", out])
        #expect(code == 1)
        #expect(text.contains("VIOLATED"))
        #expect(text.contains("realm_live"))
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        let trace = try #require(files.first)
        let path = (out as NSString).appendingPathComponent(trace)
        // Against the spec: the recorded implementation result differs at the last step.
        let (spec, specOut, _) = try rmiCheck(["replay", path])
        #expect(spec == 1 && specOut.contains("DIFFERS"))
        // Against the deviating implementation: the same difference; against the correct one: none.
        #expect(try rmiCheck(["replay", path, "--against", "impl", "--deviation", "realm-destroy-with-recs"]).0 == 1)
        #expect(try rmiCheck(["replay", path, "--against", "impl"]).0 == 0)
    }

    @Test func cleanImplementationConforms() throws {
        let (code, text, err) = try rmiCheck(["conform", "--random", "1000", "--seed", "5"])
        #expect(code == 0)
        #expect(text.contains("CONFORMS"))
        #expect(err.contains("seed 5"))
    }

    @Test func conformNeedsSomethingToCheck() throws {
        #expect(try rmiCheck(["conform"]).0 == 64)
        #expect(try rmiCheck(["conform", "--random", "10", "--deviation", "no-such-bug"]).0 == 64)
    }
}

@Suite struct ExternalImplCLITests {
    /// The example adapter, built next to rmi-check.
    func adapter() -> String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("rmi-check-adapter").path), dir.pathComponents.count > 1 {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("rmi-check-adapter").path
    }

    @Test func conformDrivesAnExternalAdapter() throws {
        let (ok, text, _) = try rmiCheck(["conform", "--impl-cmd", adapter(), "--random", "2000", "--seed", "2"])
        #expect(ok == 0, "\(text)")
        #expect(text.contains("CONFORMS"))
        let (bad, badText, _) = try rmiCheck(["conform", "--impl-cmd", "\(adapter()) --bugs realm-destroy-with-recs",
                                              "--random", "20000", "--seed", "1", "--out",
                                              scratchDirectory("ext").path])
        #expect(bad == 1)
        #expect(badText.contains("realm_live"))
    }

    @Test func aCrashingAdapterIsAViolationNotAPass() throws {
        let (code, text, _) = try rmiCheck(["conform", "--impl-cmd", "\(adapter()) --crash-after 3", "--random", "100"])
        #expect(code == 1)
        #expect(text.contains("crashed"))
    }
}

@Suite struct ConformTracesCLITests {
    @Test func aFolderOfTracesIsSearchedRecursivelyAndAnEmptyOneIsAnError() throws {
        var root = URL(fileURLWithPath: #filePath)
        while root.pathComponents.count > 1, !FileManager.default.fileExists(atPath: root.appendingPathComponent("Specs/traces").path) {
            root.deleteLastPathComponent()
        }
        let (code, text, _) = try rmiCheck(["conform", "--traces", root.appendingPathComponent("Specs/traces").path])
        #expect(code == 0)
        #expect(text.contains("CONFORMS") && !text.contains(" 0 trace"))
        let empty = scratchDirectory("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(try rmiCheck(["conform", "--traces", empty.path]).0 == 65, "checking nothing is not a pass")
    }
}

@Suite struct ValidateLogCLITests {
    @Test func acceptsAndRejects() throws {
        let good = try tempFile("good.log", """
            RMI_VERSION 0x10000 -> 0x0 0x10000 0x10000
            RMI_GRANULE_DELEGATE 0x80000000 -> 0x0
            granule_undelegate 0x80000000 -> 0x0
            """)
        let (ok, text, _) = try rmiCheck(["validate-log", good])
        #expect(ok == 0 && text.contains("ACCEPTED"))
        let bad = try tempFile("bad.log", """
            RMI_GRANULE_DELEGATE 0x80000000 -> 0x0
            RMI_GRANULE_DELEGATE 0x80000000 -> 0x0
            """)
        let (no, out, _) = try rmiCheck(["validate-log", bad])
        #expect(no == 1 && out.contains("bad.log:2") && out.contains("gran_state"))
        let malformed = try tempFile("m.log", "RMI_GRANULE_DELEGATE 0xZZ -> 0x0\n")
        let (m, _, err) = try rmiCheck(["validate-log", malformed])
        #expect(m == 65 && err.contains("line 1"))
    }
}

@Suite struct HostReportCLITests {
    @Test func undelegateReportCoversEveryVariant() throws {
        let (code, text, _) = try rmiCheck(["host", "--report", "undelegate", "--bound", "5"])
        #expect(code == 0, "\(text)")
        #expect(text.contains("v10    no undelegate fails"))
        #expect(text.contains("M11"))
        #expect(!text.contains("VACUOUS"), "GRANULE_UNDELEGATE is issued within the bound")
        #expect(try rmiCheck(["host", "--report", "nothing"]).0 == 65)
    }
}
