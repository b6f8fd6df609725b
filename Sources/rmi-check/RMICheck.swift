import ArgumentParser
import Foundation
import RMISpec

@main
struct RMICheckCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmi-check",
        abstract: "A model checker for the Arm CCA Realm Management Interface (RMM spec DEN0137 1.0-rel0).",
        discussion: """
            With no subcommand, rmi-check runs its default job: the built-in canonical \
            scenarios (build, populate, run and tear down a Realm) are replayed against the \
            executable specification, and a summary is printed.

            Exit codes: 0 everything agrees or holds, 1 a difference or violation was found, \
            2 a check could not decide, 3 internal error, 64 and above bad usage or input.
            """,
        subcommands: [Run.self, Spec.self, Replay.self, Conform.self, Check.self, Prove.self, Cover.self, Shrink.self, Host.self, ValidateLog.self, Bench.self, CI.self, Show.self],
        defaultSubcommand: Run.self)
}

/// Exit codes shared by every subcommand.
enum Exit {
    static let ok = ExitCode(0)
    static let violated = ExitCode(1)
    static let unknown = ExitCode(2)
    static let internalError = ExitCode(3)
    static let badInput = ExitCode(65)
}

/// Prints to standard error.
func note(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
