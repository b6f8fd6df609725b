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
            x1=... -> x0=...` are accepted too) on the spec from the initial state, and \
            reports the first call whose result the spec does not allow, naming its line.

            Exit codes: 0 every call's result is allowed, 1 a call's is not, 65 a malformed log.
            """)

    @Argument(help: "The log file.")
    var file: String

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
        if let bad = log.validate() {
            print("REJECTED: \(file):\(bad.line): \(bad.message)")
            throw Exit.violated
        }
        print("ACCEPTED: the spec allows the result of every one of the \(calls) calls")
    }
}
