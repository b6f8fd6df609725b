import ArgumentParser
import Foundation
import RMICheckCI
import RMISpec
import SMT

struct CI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ci",
        abstract: "Run a check plan and write a proof ledger, JUnit XML, SARIF and a Markdown summary (a merge gate).",
        discussion: """
            Reads the check plan (docs/check-plan.md; default Specs/rmi-check.json): checks \
            of the kinds \(CheckKinds.all.map { $0.kind }.joined(separator: ", ")), each \
            settling one or more obligations. Runs them (or this shard's share of them) and \
            writes into --out: ledger.json (one row per obligation: id, kind, verdict, method \
            and bound, time, engine, seed, trace), junit.xml (one test case per obligation), \
            results.sarif (SARIF 2.1.0, one result per violation at the spec rule it breaks) \
            and summary.md (for a pull request comment); counterexample traces go to \
            --out/traces/. Progress goes to standard error.

            The run fails when an obligation is not HOLDS or PROVED, when no obligation ran, \
            and when an obligation of the committed baseline (the plan's `baseline`, or \
            --baseline) did not run. --update-baseline writes the plan's obligation ids to \
            the baseline instead of running.

            --shard I/N deals the plan's checks round robin over their sorted ids (and the \
            ids the baseline names), so N machines running shards 1..N together run each \
            check exactly once; each compares only its share with the baseline.

            Exit codes: 0 every obligation holds, 1 a violation or a dropped obligation, 2 \
            an obligation undecided (UNKNOWN, a time budget) or vacuous (a cover not \
            reached), 3 internal error, 65 a bad plan or baseline, or no obligation to run.
            """)

    static let version = "0.7.0"

    @Option(name: .long, help: "The check plan.")
    var plan: String = "Specs/rmi-check.json"

    @Option(name: .long, help: "Folder for the reports and traces.")
    var out: String = "out/ci"

    @Option(name: .long, help: ArgumentHelp("Run shard I of N (1-based).", valueName: "I/N"))
    var shard: String?

    @Option(name: .long, help: "The baseline of obligation ids (default: the plan's `baseline`).")
    var baseline: String?

    @Option(name: .customLong("sarif-uri-prefix"), help: ArgumentHelp(
        "Put this before the SARIF locations (Sources/...): where rmi-check's sources are in the repository the SARIF is uploaded for, e.g. rmi-check/.",
        valueName: "dir"))
    var sarifURIPrefix: String = ""

    @Flag(name: .customLong("update-baseline"), help: "Write the plan's obligation ids to the baseline and stop.")
    var updateBaseline = false

    @Flag(name: .long, help: "List the obligations this run would run, and stop.")
    var list = false

    func validate() throws {
        if let shard, Shard(shard) == nil { throw ValidationError("--shard: '\(shard)' is not I/N with 1 <= I <= N") }
        if updateBaseline && shard != nil { throw ValidationError("--update-baseline takes the whole plan: no --shard") }
    }

    func run() throws {
        setZ3MemoryLimit(megabytes: defaultZ3MemoryLimit())
        let p: CheckPlan
        do { p = try CheckPlan.load(path: plan) } catch let e as PlanError {
            note("rmi-check: \(e)")
            throw Exit.badInput
        }
        let baselinePath = baseline ?? p.baseline
        if updateBaseline {
            guard let baselinePath else {
                note("rmi-check: \(plan): the plan names no `baseline` file; give --baseline FILE")
                throw Exit.badInput
            }
            let ids = p.entries.flatMap(\.obligationIDs)
            let old = (try? Baseline.load(path: baselinePath))?.obligations ?? []
            try atomicWrite(Baseline(obligations: ids).json(plan: plan), to: baselinePath)
            print("baseline \(baselinePath): \(ids.count) obligations (\(Set(ids).subtracting(old).count) added, \(Set(old).subtracting(ids).count) removed)")
            return
        }
        var base: Baseline?
        if let baselinePath {
            do { base = try Baseline.load(path: baselinePath) } catch let e as PlanError {
                note("rmi-check: \(e)")
                throw Exit.badInput
            }
        } else {
            note("ci: no baseline: a dropped obligation would go unnoticed (add \"baseline\" to the plan)")
        }
        let runner = CIRunner(plan: p, shard: shard.flatMap(Shard.init), baseline: base, baselinePath: baselinePath, out: out,
                              progress: { note($0) })
        if list {
            for e in runner.entries { for id in e.obligationIDs { print("\(id)\t\(e.kind)") } }
            return
        }
        let ledger = runner.run()
        let files: [String]
        do { files = try Reports.write(ledger, to: out, version: CI.version,
                                                sarifURIPrefix: sarifURIPrefix.isEmpty || sarifURIPrefix.hasSuffix("/") ? sarifURIPrefix : sarifURIPrefix + "/") } catch {
            note("rmi-check: cannot write the reports: \(error)")
            throw Exit.internalError
        }
        for r in ledger.obligations where !r.verdict.passes || r.internalError == true {
            print("\(r.internalError == true ? "INTERNAL" : r.verdict.rawValue)  \(r.id): \(r.message)")
            if let t = r.trace { print("  trace: \(t)") }
            if let c = r.replay { print("  replay: \(c)") }
        }
        for g in ledger.gateFailures { print("GATE  \(g)") }
        let counts = Verdict.allCases.map { "\(ledger.count($0)) \($0.rawValue)" }.joined(separator: ", ")
        print("\(ledger.status.word): \(ledger.obligations.count) obligations (\(counts)) in \(String(format: "%.1f", ledger.seconds)) s")
        print("reports: \(files.joined(separator: " "))")
        switch ledger.status {
        case .passed: return
        case .violated: throw Exit.violated
        case .unknown: throw Exit.unknown
        case .internalError: throw Exit.internalError
        case .nothingRan: throw Exit.badInput
        }
    }
}
