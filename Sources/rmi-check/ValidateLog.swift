import ArgumentParser
import Foundation
import RMICheck
import RMISpec

struct ValidateLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-log",
        abstract: "Check a recorded log of RMI calls and results against the spec.",
        discussion: """
            Replays the calls of FILE (the format of docs/log-format.md: one call per line with \
            its arguments and returned X0..X4, Host writes to NS memory, GPT changes, and what \
            the Realm did in each REC_ENTER; the kernel's ftrace lines `rmi_call: fid=... \
            x1=... -> x0=...` are accepted too) on the spec from the initial state (or, with \
            --from TRACE, from the state that trace reaches, on its platform), and reports the \
            first call whose result the spec does not allow, naming its line.

            It also checks the host properties of the KVM host flow that the calls show by \
            themselves, on the spec's state before each call: P3 (UNDELEGATE only of \
            DELEGATED Granules), P8 (INIT_RIPAS, DATA_CREATE, REC_CREATE, ACTIVATE only while \
            the Realm is NEW), P10 (REC_DESTROY only of RECs), P13 \
            (unprotected maps only at IPAs with the shared bit; DATA_* only without), P14 \
            (DATA_CREATE from NS memory into another Granule), P19 (no call with an RD after \
            its REALM_DESTROY); with --complete (the log ends with a full teardown) also P1 \
            (every Granule back in NS memory unless its undelegate failed).

            Exit codes: 0 every call's result is allowed and no host property is broken, 1 \
            otherwise, 65 a malformed log or starting trace.
            """)

    @Argument(help: "The log file.")
    var file: String

    @Option(name: .long, help: "Start from the state this trace reaches (and its platform) instead of the initial state.")
    var from: String?

    @Flag(name: .long, help: "The log ends with a complete teardown: also check P1 (conservation).")
    var complete = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            note("rmi-check: \(file): cannot read the file")
            throw Exit.badInput
        }
        let log: CallLog
        do { log = try CallLog.parse(String(decoding: data, as: UTF8.self), file: file) } catch let e as TraceError {
            note("rmi-check: \(e)")
            throw Exit.badInput
        }
        let calls = log.entries.filter { if case .call = $0 { return true } else { return false } }.count
        guard calls > 0 else {
            note("rmi-check: \(file): no RMI calls in the log: nothing to check")
            throw Exit.badInput
        }
        var start = SpecState()
        if let from {
            do {
                let t = try Trace.load(path: from)
                let r = t.replay()
                if let m = r.mismatch {
                    note("rmi-check: --from \(from): the trace does not replay on the spec: \(m)")
                    throw Exit.badInput
                }
                start = r.finalState
            } catch let e as TraceError {
                note("rmi-check: --from: \(e)")
                throw Exit.badInput
            }
        }
        let report = log.check(from: start, complete: complete)
        for v in report.hostViolations { print("HOST PROPERTY \(v.property) broken at \(file):\(v.line): \(v.message)") }
        if let bad = report.rejected {
            print("REJECTED: \(file):\(bad.line): \(bad.message)")
            throw Exit.violated
        }
        print("ACCEPTED: the spec allows the result of every one of the \(calls) calls"
              + (report.hostViolations.isEmpty ? "; no host property broken" : "; \(report.hostViolations.count) host property violation(s)"))
        if !report.hostViolations.isEmpty { throw Exit.violated }
    }
}
