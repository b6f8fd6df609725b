import Testing
import Foundation
import RMISpec
import RMMImpl
@testable import RMICheck

/// The line protocol end to end: rmi-check-adapter (RMMImpl in a separate process) driven by
/// ProcessRMM, and the ways an external implementation can fail.
@Suite struct ProcessRMMTests {
    /// The adapter built next to this test binary.
    static let adapter: String = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("rmi-check-adapter").path
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue,
               FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
            dir.deleteLastPathComponent()
        }
        return "rmi-check-adapter"
    }()

    static func adapterCommand(_ flags: String = "") -> String {
        "'" + adapter.replacingOccurrences(of: "'", with: "'\\''") + "'" + (flags.isEmpty ? "" : " " + flags)
    }

    /// Runs `body` and returns the ImplError it throws; records an issue if it does not throw
    /// one (a pass, a violation, or another error).
    static func implError(_ body: () throws -> Any?) -> ImplError? {
        do {
            let r = try body()
            Issue.record("expected an ImplError, got \(r.map { "\($0)" } ?? "a pass")")
        } catch let e as ImplError {
            return e
        } catch {
            Issue.record("expected an ImplError, got \(error)")
        }
        return nil
    }

    @Test func helloAnnouncesTheStandardPlatform() throws {
        let impl = try ProcessRMM(command: Self.adapterCommand())
        #expect(impl.platform == .standard)
        #expect(impl.announcedName == "RMMImpl")
        #expect(impl.name == Self.adapterCommand())
        #expect(impl.abstractState() == nil)
        let v = try impl.call(.version, [Layout.version10], realm: nil)
        #expect(v.status == .success && v.x[1] == 0x1_0000)
    }

    @Test func canonicalScenariosConformThroughTheProcess() throws {
        var c = Conformance(impl: try ProcessRMM(command: Self.adapterCommand()))
        for s in CanonicalScenarios.all {
            let v = try c.check(s.trace)
            #expect(v == nil, "\(s.trace.description ?? ""): \(v.map { "\($0)" } ?? "")")
        }
    }

    @Test func randomStepsConformThroughTheProcess() throws {
        var c = Conformance(impl: try ProcessRMM(command: Self.adapterCommand()), compareState: false)
        let (n, v) = try c.random(steps: 2_000, seed: 3)
        #expect(v == nil, "\(v.map { "\($0)" } ?? "")")
        #expect(n == 2_000)
    }

    /// A deviation served by the adapter is found at the same step and field as in process.
    @Test func deviationFoundAsInProcess() throws {
        var builtin = Conformance(impl: BuiltinRMM(bugs: .rttDestroyLiveTable), compareState: false)
        let (n, expected) = try builtin.random(steps: 20_000, seed: Self.deviationSeed)
        let want = try #require(expected, "the in-process run does not find the deviation")
        var external = Conformance(impl: try ProcessRMM(command: Self.adapterCommand("--bugs rtt-destroy-live-table")),
                                   compareState: false)
        let (m, found) = try external.random(steps: 20_000, seed: Self.deviationSeed)
        let got = try #require(found, "the adapter's deviation was not found")
        #expect(m == n)
        #expect(got.step == want.step && got.field == want.field && got.expected == want.expected && got.actual == want.actual,
                "process: \(got); in process: \(want)")
        #expect(got.trace.description?.contains("--bugs rtt-destroy-live-table") == true)
    }

    /// A seed whose random walk meets `rtt-destroy-live-table` early.
    static let deviationSeed: UInt64 = 3

    // MARK: Failures are errors, never passes

    @Test func crashIsReportedAsACrash() throws {
        let impl = try ProcessRMM(command: Self.adapterCommand("--crash-after 5"))
        var c = Conformance(impl: impl)
        let e = try #require(Self.implError { try c.check(CanonicalScenarios.buildAndTeardown().trace) })
        #expect(e.kind == .crashed)
        #expect(e.detail.contains("exited with status 70"), "\(e)")
        #expect(e.detail.contains("--crash-after 5: exiting at call 6"), "the adapter's last stderr line: \(e)")
        // Until a reset, every request fails cleanly; the reset starts it again.
        let again = try #require(Self.implError { try impl.call(.version, [Layout.version10], realm: nil) })
        #expect(again.kind == .crashed && again.detail.contains("reset"))
        try impl.reset()
        #expect(try impl.call(.version, [Layout.version10], realm: nil).status == .success)
    }

    @Test func hangIsReportedAsATimeout() throws {
        let impl = try ProcessRMM(command: Self.adapterCommand("--hang-after 5"), timeout: 1)
        var c = Conformance(impl: impl, compareState: false)
        let start = Date()
        let e = try #require(Self.implError { try c.random(steps: 100, seed: 3) })
        let elapsed = Date().timeIntervalSince(start)
        #expect(e.kind == .timedOut, "\(e)")
        #expect(e.detail.contains("hanging at call 6"), "\(e)")
        #expect(elapsed < 5, "took \(elapsed) s")
        try impl.reset()
        #expect(try impl.call(.version, [Layout.version10], realm: nil).status == .success)
    }

    @Test func garbledReplyIsReportedAsMalformed() throws {
        let impl = try ProcessRMM(command: Self.adapterCommand("--garble-after 5"))
        var c = Conformance(impl: impl)
        let e = try #require(Self.implError { try c.check(CanonicalScenarios.buildAndTeardown().trace) })
        #expect(e.kind == .malformedReply)
        #expect(e.detail.contains("{\"ok\": tru"), "names the line: \(e)")
        try impl.reset()
        #expect(try impl.call(.version, [Layout.version10], realm: nil).status == .success)
    }

    // MARK: The protocol's edges, with tiny shell adapters

    static let hello = #"{"hello":"rmi-check-impl/1","platform":{"delegable":[{"base":"0x80000000","size":"0x40000000"}],"secure":[],"features0":"0x0","rec_aux_count":"0x2","vmid_bits":"0x10","pa_width":"0x30"}}"#

    /// A shell adapter that sends the hello, then answers each request with the next line
    /// of `replies`, then exits.
    static func script(_ replies: [String], before: String = "") -> String {
        let q = { (s: String) in "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var s = before + "echo \(q(hello))"
        for r in replies { s += "; read l; echo \(q(r))" }
        return s
    }

    @Test func aCommandThatIsNotThereIsACrashBeforeTheHello() {
        let e = Self.implError { try ProcessRMM(command: "/nonexistent/rmm-adapter") }
        #expect(e?.kind == .crashed)
        #expect(e?.detail.contains("exited with status 127") == true, "\(e.map { "\($0)" } ?? "")")
        #expect(e?.detail.contains("before the hello") == true)
    }

    @Test func helloIsChecked() {
        for (hello, reason) in [(#"{"hello":"rmi-check-impl/9","platform":{}}"#, "unknown protocol"),
                                (#"{"hello":"rmi-check-impl/1","platform":{"delegable":[]}}"#, "secure is missing"),
                                ("RMM booting...", "not JSON")] {
            let e = Self.implError { try ProcessRMM(command: "echo '\(hello)'; sleep 5") }
            #expect(e?.kind == .malformedReply)
            #expect(e?.detail.contains(reason) == true, "\(e.map { "\($0)" } ?? "")")
        }
    }

    @Test func refusalKeepsTheProcess() throws {
        let impl = try ProcessRMM(command: Self.script([#"{"ok":false,"error":"no stay_running here"}"#,
                                                        #"{"ok":true,"x":["0x0","0x10000","0x10000","0x0","0x0"]}"#]))
        let e = Self.implError { try impl.recExit(rec: 0x8000_0000, realm: RealmActionValue(.irq)) }
        #expect(e?.kind == .refused && e?.detail.contains("no stay_running here") == true)
        #expect(try impl.call(.version, [Layout.version10], realm: nil).x[1] == 0x1_0000)
    }

    @Test func repliesAreChecked() throws {
        let bad: [(String, String)] = [
            (#"{"ok":true,"x":["0x0"]}"#, "array of 5"),
            (#"{"ok":true,"x":[0,0,0,0,0]}"#, "hex string"),
            (#"{"ok":true,"x":["0x0","0x0","0x0","0x0","0x0"],"exit":{"exit_reason":"0x0"}}"#, "missing: ripas_base"),
            (#"{"ok":true,"x":["0x0","0x0","0x0","0x0","0x0"],"exits":{}}"#, "unknown field 'exits'"),
            (#"{"ok":"yes"}"#, "'ok' must be"),
        ]
        for (reply, reason) in bad {
            let impl = try ProcessRMM(command: Self.script([reply]) + "; sleep 5")
            let e = Self.implError { try impl.call(.recEnter, [0x8000_0000, 0x8000_1000], realm: RealmActionValue(.irq)) }
            #expect(e?.kind == .malformedReply, "\(reply)")
            #expect(e?.detail.contains(reason) == true, "\(e.map { "\($0)" } ?? "")")
            #expect(e?.detail.contains(reply) == true, "names the line")
        }
    }

    @Test func aSecondReplyIsUnsolicited() throws {
        let impl = try ProcessRMM(command: Self.script([#"{"ok":true}"# + "\n" + #"{"ok":true}"#, #"{"ok":true}"#]) + "; sleep 5")
        try impl.reset()
        let e = Self.implError { try impl.reset() }
        #expect(e?.kind == .malformedReply)
        #expect(e?.detail.contains("which no request asked for") == true, "\(e.map { "\($0)" } ?? "")")
    }

    /// An adapter that writes a lot to standard error does not block the checker.
    @Test func chattyStandardErrorDoesNotDeadlock() throws {
        let flood = "head -c 1000000 /dev/zero | tr '\\0' x >&2; echo >&2; echo 'last words' >&2; "
        let impl = try ProcessRMM(command: Self.script([#"{"ok":true}"#], before: flood) + "; exit 3", timeout: 10)
        try impl.reset()
        let e = Self.implError { try impl.reset() }
        #expect(e?.kind == .crashed)
        #expect(e?.detail.contains("exited with status 3") == true && e?.detail.contains("last words") == true,
                "\(e.map { "\($0)" } ?? "")")
    }

    @Test func hostWritesBecomeWordRuns() {
        let p = RealmParamsValues(rttBase: 0x8000_3000)
        let runs = HostWrite.realmParams(at: 0x8000_5000, p).wordRuns
        #expect(runs.map(\.address) == [0x8000_5000, 0x8000_5400, 0x8000_5800])
        #expect(runs.map(\.values.count) == [7, 1, 4])
        #expect(HostWrite.data(at: 0x8000_6000, content: 0x5EED).wordRuns.map(\.address) == [0x8000_6000 + BuiltinRMM.contentWord])
        let words = HostWrite.recRun(at: 0x8000_7000, RecEnterValues()).wordWrites
        let flat = HostWrite.recRun(at: 0x8000_7000, RecEnterValues()).wordRuns.flatMap { r in
            r.values.enumerated().map { (r.address + 8 * UInt64($0.offset), $0.element) }
        }
        #expect(flat.count == words.count)
    }
}
