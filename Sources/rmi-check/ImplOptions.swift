import ArgumentParser
import Foundation
import RMICheck
import RMISpec
import RMMImpl

/// Which implementation to check, shared by `conform` and `replay`.
struct ImplOptions: ParsableArguments {
    @Option(name: .long, help: "The built-in implementation RMM: builtin (the default where an implementation is needed).")
    var impl: String?

    @Option(name: .customLong("impl-cmd"), help: ArgumentHelp(
        "Check an RMM run as a separate process speaking the line protocol of docs/impl-protocol.md.",
        valueName: "command"))
    var implCmd: String?

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp(
        "Named deviations for the built-in RMM (known bug classes, to see the checker find them): \(RMMBugs.named.map(\.name).joined(separator: ", ")).",
        valueName: "name"))
    var deviation: [String] = []

    @Option(name: .long, help: "Seconds an external implementation may take for one request.")
    var timeout: Double = 5

    func validate() throws {
        if let impl, impl != "builtin" { throw ValidationError("--impl: unknown implementation '\(impl)' (known: builtin; use --impl-cmd for others)") }
        for d in deviation where RMMBugs(name: d) == nil {
            throw ValidationError("--deviation: unknown deviation '\(d)' (known: \(RMMBugs.named.map(\.name).joined(separator: ", ")))")
        }
        if implCmd != nil && !deviation.isEmpty { throw ValidationError("--deviation applies to the built-in RMM only") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    /// Whether an implementation was named at all (for commands where it is optional).
    var given: Bool { impl != nil || implCmd != nil || !deviation.isEmpty }

    /// The implementation; the built-in RMM runs on `platform`, an external one announces its own.
    func make(platform: Platform = .standard) throws -> any RMMUnderTest {
        if let cmd = implCmd { return try ProcessRMM(command: cmd, timeout: timeout) }
        var bugs: RMMBugs = []
        for d in deviation { bugs.insert(RMMBugs(name: d)!) }
        return BuiltinRMM(platform: platform, bugs: bugs)
    }

    /// The flags that select this implementation again, for the replay command we print.
    var replayFlags: String {
        if let cmd = implCmd { return "--impl-cmd \(shellQuote(cmd))" }
        return deviation.map { "--deviation \($0)" }.joined(separator: " ")
    }
}

func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
