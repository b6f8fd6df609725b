import ArgumentParser
import Foundation
import SMT
import RMICheck
import RMISpec

extension Check {
    func runBMC(_ props: [Invariant]) throws {
        let settings = try solver.settings(scope: scope, properties: props, quiet: quiet)
        let k = depth ?? 4
        note("check: bounded model checking, scope \(settings.scope), depth <= \(k), seed \(settings.seed)"
             + (settings.timeoutMs.map { ", \($0) ms per query" } ?? "") + (settings.budgetSeconds.map { ", budget \(Int($0)) s" } ?? ""))
        let report = try runSymbolic(engine: "bmc", out: out) { try BoundedModelChecker(settings: settings, depth: k).run() }
        try printOutcomes(report.outcomes, engine: "bmc", out: out)
        let times = report.secondsPerDepth.enumerated().map { "\($0.offset):\(String(format: "%.2f", $0.element))" }
        print("seconds per depth: \(times.joined(separator: " "))")
        try exitFor(report.outcomes)
    }
}

/// Runs a symbolic engine and maps its errors to exit codes: a trace that does not replay
/// (kept in `out`) or a model that cannot be read back is an internal error (3); a
/// `--from` trace the engine cannot start from, or a command the encoding cannot hold, is bad
/// input (65).
func runSymbolic<T>(engine: String, out: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ReplayFailure {
        let path = (out as NSString).appendingPathComponent("\(engine)-unreplayable.json")
        try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try? e.trace.write(to: path)
        print("INTERNAL ERROR: \(e) (trace kept in \(path))")
        throw Exit.internalError
    } catch let e as StartingTraceError {
        note("rmi-check: --from: \(e)")
        throw Exit.badInput
    } catch let e as UnsupportedByEncoding {
        note("rmi-check: \(e)")
        throw Exit.badInput
    } catch let e as SymbolicInternalError {
        print("INTERNAL ERROR: \(e)")
        throw Exit.internalError
    } catch let e as Z3Error where e.isOutOfMemory {
        print("UNKNOWN: Z3 went past its memory limit (--memory-limit): every verdict of this run is undecided")
        throw Exit.unknown
    } catch let e as Z3Error {
        print("INTERNAL ERROR: \(e)")
        throw Exit.internalError
    }
}

/// Prints one line per property outcome (writing counterexamples and witnesses to `out`).
func printOutcomes(_ outcomes: [PropertyOutcome], engine: String, out: String) throws {
    func save(_ t: Trace, _ name: String) throws -> String {
        let path = (out as NSString).appendingPathComponent("\(engine)-\(name).json")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try t.write(to: path)
        return path
    }
    for o in outcomes {
        let name = o.target.name
        var coverNote = ""
        switch o.cover {
        case .reached(let t)?: coverNote = "; cover reached in \(t.steps.count) steps (\(try save(t, "\(name)-cover")))"
        case .unreachable(let b)?: coverNote = "; cover NOT REACHED within depth \(b) (vacuous)"
        case .infeasible(let r)?: coverNote = "; cover UNREACHABLE: \(r) (vacuous)"
        case .unknown(let r)?: coverNote = "; cover UNKNOWN (\(r))"
        case nil: break
        }
        switch o.verdict {
        case .holds(let b):
            print("HOLDS     \(name) (\(o.target.kind)), all runs of <= \(b) calls\(coverNote)")
        case .proved(let m, let c):
            print("PROVED    \(name) (\(o.target.kind)) by \(m), covering \(c)\(coverNote)")
        case .violated(let t):
            let path = try save(t, name)
            print("VIOLATED  \(name) (\(o.target.kind)): \(o.target.summary)")
            print("  counterexample of \(t.steps.count) calls, replayed on the spec: \(path)")
            print("  replay: rmi-check replay \(path)")
        case .unknown(let r):
            print("UNKNOWN   \(name) (\(o.target.kind)): \(r)\(coverNote)")
        }
    }
}

/// Exit 1 if any property is violated, else 2 if any is unknown or has an unreached or
/// undecided cover (a vacuous pass is no pass), else 0.
func exitFor(_ outcomes: [PropertyOutcome]) throws {
    if outcomes.contains(where: { if case .violated = $0.verdict { true } else { false } }) { throw Exit.violated }
    let undecided = outcomes.contains { o in
        if case .unknown = o.verdict { return true }
        if let c = o.cover, !c.isReached { return true }
        return false
    }
    if undecided { throw Exit.unknown }
}
