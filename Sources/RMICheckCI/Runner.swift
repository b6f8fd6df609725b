import Foundation
import RMISpec

/// `--shard I/N`: which checks of a plan one machine of a CI matrix runs.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int   // 1-based
    public var count: Int
    public init(index: Int, count: Int) { self.index = index; self.count = count }

    /// Parses `I/N` with 1 <= I <= N.
    public init?(_ text: String) {
        let p = text.split(separator: "/")
        guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]), n >= 1, i >= 1, i <= n else { return nil }
        self.init(index: i, count: n)
    }
    public var description: String { "\(index)/\(count)" }

    /// The checks of this shard. Checks are dealt round robin in the sorted order of their
    /// ids; the ids are those of the plan together with the checks the baseline names
    /// (the part of an obligation id before its first '/'), so that an obligation the plan
    /// dropped is still some shard's to report. Every shard computes the same deal, so the
    /// shards' union is exactly the unsharded run and no check runs twice.
    public func owns(check: String, among all: Set<String>) -> Bool {
        guard let i = all.sorted().firstIndex(of: check) else { return false }
        return i % count == index - 1
    }

    public static func checkID(of obligation: String) -> String {
        String(obligation.prefix { $0 != "/" })
    }
}

/// The committed set of obligation ids (`Specs/baseline.json`).
public struct Baseline: Sendable {
    public static let formatTag = "rmi-check-baseline/1"
    public var obligations: [String]
    public init(obligations: [String]) { self.obligations = obligations.sorted() }

    public static func load(path: String) throws -> Baseline {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PlanError(file: path, field: "", reason: "cannot read the baseline (create it with `rmi-check ci --update-baseline`)")
        }
        guard let top = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw PlanError(file: path, field: "", reason: "not a JSON object")
        }
        let r = PlanEntry(file: path, path: "", fields: top, directory: "")
        if let tag = try r.optionalString("format"), tag != formatTag {
            throw r.fail("format", "unknown format '\(tag)' (expected \(formatTag))")
        }
        _ = try r.optionalString("plan")
        let ids = try r.optionalStrings("obligations") ?? { throw r.fail("obligations", "missing") }()
        try r.rejectUnread()
        return Baseline(obligations: ids)
    }

    public func json(plan: String) -> Data {
        let root: [String: Any] = ["format": Baseline.formatTag, "plan": plan, "obligations": obligations]
        return try! JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) + Data("\n".utf8)
    }
}

/// Runs a plan (or a shard of it) and keeps a ledger.
public struct CIRunner {
    public var plan: CheckPlan
    public var shard: Shard?
    public var baseline: Baseline?
    public var baselinePath: String?
    /// Where traces are written (`<out>/traces/`).
    public var out: String
    public var progress: @Sendable (String) -> Void
    /// How long after its budget a check may take to end and report (the Z3 kinds end
    /// themselves at it) before it is left behind.
    public var graceSeconds = 30.0

    public init(plan: CheckPlan, shard: Shard? = nil, baseline: Baseline? = nil, baselinePath: String? = nil, out: String,
                progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.plan = plan; self.shard = shard; self.baseline = baseline; self.baselinePath = baselinePath
        self.out = out; self.progress = progress
    }

    /// Every check id the deal is over (see `Shard.owns`).
    var dealt: Set<String> {
        Set(plan.entries.map(\.id)).union((baseline?.obligations ?? []).map(Shard.checkID))
    }
    func mine(_ check: String) -> Bool { shard.map { $0.owns(check: check, among: dealt) } ?? true }

    /// The plan's entries this run runs.
    public var entries: [CheckPlan.Entry] { plan.entries.filter { mine($0.id) } }

    public func run() -> Ledger {
        let t0 = Date()
        let stamp = ISO8601DateFormatter().string(from: t0)
        var rows: [LedgerRow] = []
        let mineEntries = entries
        progress("ci: \(plan.file): \(mineEntries.count) of \(plan.entries.count) checks"
                 + (shard.map { ", shard \($0)" } ?? "") + ", \(mineEntries.reduce(0) { $0 + $1.obligationIDs.count }) obligations")
        for (n, entry) in mineEntries.enumerated() {
            let ids = entry.obligationIDs
            if let budget = plan.budgetSeconds, Date().timeIntervalSince(t0) >= budget {
                progress("ci: [\(n + 1)/\(mineEntries.count)] \(entry.id): not started, the plan's budget of \(fmt(budget)) s is spent")
                rows += ids.map { row($0, entry, .unknown, "not run: the plan's time budget of \(fmt(budget)) s was spent", 0) }
                continue
            }
            var limit = entry.timeoutSeconds
            if let budget = plan.budgetSeconds {
                let left = budget - Date().timeIntervalSince(t0)
                limit = min(limit ?? left, left)
            }
            progress("ci: [\(n + 1)/\(mineEntries.count)] \(entry.id) (\(entry.kind), \(ids.count) obligation\(ids.count == 1 ? "" : "s"))"
                     + (limit.map { ", budget \(fmt($0)) s" } ?? ""))
            let start = Date()
            let outcome = runWithTimeout(entry, limit: limit)
            let seconds = Date().timeIntervalSince(start)
            switch outcome {
            case .timedOut:
                rows += ids.map { row($0, entry, .unknown, "time budget of \(fmt(limit ?? 0)) s exceeded: not decided", seconds) }
            case .failed(let msg):
                rows += ids.map { id -> LedgerRow in
                    var r = row(id, entry, .unknown, "internal error: \(msg)", seconds)
                    r.internalError = true
                    return r
                }
            case .done(let results):
                rows += assemble(entry, results, seconds: seconds)
            }
            let tally = Dictionary(grouping: rows.suffix(ids.count), by: \.verdict).map { "\($0.value.count) \($0.key.rawValue)" }.sorted()
            progress("ci: [\(n + 1)/\(mineEntries.count)] \(entry.id): \(tally.joined(separator: ", ")) in \(fmt(seconds)) s")
        }
        var ledger = Ledger(plan: plan.file, shard: shard.map { Ledger.Shard(index: $0.index, count: $0.count) }, started: stamp,
                            seconds: Date().timeIntervalSince(t0), baseline: nil, obligations: rows, gateFailures: [])
        if let baseline {
            let expected = Set(baseline.obligations.filter { mine(Shard.checkID(of: $0)) })
            let ran = Set(rows.map(\.id))
            let check = Ledger.BaselineCheck(file: baselinePath ?? "baseline", missing: expected.subtracting(ran).sorted(),
                                             added: ran.subtracting(expected).sorted())
            ledger.baseline = check
            if !check.missing.isEmpty {
                ledger.gateFailures.append("\(check.missing.count) obligation(s) of the baseline \(check.file) did not run: "
                                           + check.missing.prefix(8).joined(separator: ", ") + (check.missing.count > 8 ? ", ..." : ""))
            }
        }
        if rows.isEmpty { ledger.gateFailures.append("no obligation ran" + (shard.map { " in shard \($0)" } ?? "")) }
        return ledger
    }

    func fmt(_ s: Double) -> String { String(format: "%.1f", s) }

    func row(_ id: String, _ e: CheckPlan.Entry, _ v: Verdict, _ msg: String, _ seconds: Double) -> LedgerRow {
        LedgerRow(id: id, check: e.id, kind: e.kind, verdict: v, method: "-", bound: nil, seconds: seconds, engine: e.kind,
                  seed: nil, message: msg, trace: nil, replay: nil, rule: nil, internalError: nil)
    }

    /// Rows in the order the check declared its obligations; a missing or unexpected
    /// result is an internal error, never a pass.
    func assemble(_ e: CheckPlan.Entry, _ results: [ObligationResult], seconds: Double) -> [LedgerRow] {
        var byName: [String: ObligationResult] = [:]
        for r in results { byName[r.name] = r }
        var rows: [LedgerRow] = []
        for name in e.check.obligations {
            let id = name.isEmpty ? e.id : e.id + "/" + name
            guard let r = byName.removeValue(forKey: name) else {
                var x = row(id, e, .unknown, "internal error: the check gave no result for this obligation", seconds)
                x.internalError = true
                rows.append(x)
                continue
            }
            var tracePath: String? = nil
            do { tracePath = try write(r.trace, for: id) } catch { progress("ci: \(id): cannot write the trace: \(error)") }
            rows.append(LedgerRow(id: id, check: e.id, kind: e.kind, verdict: r.verdict, method: r.method, bound: r.bound,
                                  seconds: seconds, engine: r.engine, seed: r.seed, message: r.message, trace: tracePath,
                                  replay: tracePath.flatMap { p in r.replay.map { $0.replacingOccurrences(of: "{trace}", with: p) } },
                                  rule: r.rule, internalError: nil))
        }
        for name in byName.keys.sorted() {
            var x = row(e.id + "/" + name, e, .unknown, "internal error: a result for an obligation the check did not declare", seconds)
            x.internalError = true
            rows.append(x)
        }
        return rows
    }

    /// Writes a trace next to the reports (temporary file and rename); returns its path.
    func write(_ t: TraceArtifact?, for id: String) throws -> String? {
        guard let t else { return nil }
        let base = (out as NSString).appendingPathComponent("traces/" + id.replacingOccurrences(of: "/", with: "--"))
        switch t {
        case .spec(let trace):
            try trace.write(to: base + ".json")
            return base + ".json"
        case .text(let s, let ext):
            try atomicWrite(Data(s.utf8), to: base + "." + ext)
            return base + "." + ext
        case .existing(let p):
            return p
        }
    }

    enum RunOutcome { case done([ObligationResult]), failed(String), timedOut }

    /// Runs a check on a thread of its own and waits at most `limit` seconds. A check past
    /// its budget is abandoned (its result, should it come, is dropped) and is UNKNOWN.

    func runWithTimeout(_ e: CheckPlan.Entry, limit: Double?) -> RunOutcome {
        final class Box: @unchecked Sendable {
            var outcome: RunOutcome = .failed("the check did not finish")
            let done = DispatchSemaphore(value: 0)
        }
        let box = Box()
        let check = e.check
        let ctx = CheckContext(planDirectory: plan.directory, check: e.id, progress: progress, budgetSeconds: limit)
        let thread = Thread {
            do { box.outcome = .done(try check.run(ctx)) } catch { box.outcome = .failed("\(error)") }
            box.done.signal()
        }
        thread.stackSize = 64 << 20
        thread.start()
        if let limit {
            // A check that ends itself at its budget (the Z3 engines) gets a little longer to
            // report; one that has not ended by then is left behind.
            if box.done.wait(timeout: .now() + limit + graceSeconds) == .timedOut { return .timedOut }
        } else {
            box.done.wait()
        }
        return box.outcome
    }
}
