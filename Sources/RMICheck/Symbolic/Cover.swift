import Foundation
import RMISpec
import SMT

/// Cover witnesses: for every failure label and the success case of every command (and
/// every property's cover target), the shortest run that reaches it, found by the same
/// unrolling as BMC. A label is reached when a call's result can be that label's (its
/// condition fails and no failing condition precedes it). Every witness is replayed on the
/// concrete interpreter before it is reported.
public struct CoverGenerator: Sendable {
    public var settings: SymbolicSettings
    public var depth: Int

    /// Where the runs start, searched in this order: `nil` is the scope's initial state, a
    /// trace the state it reaches (a seed, on the scope's platform). A target is reached
    /// from the first start that reaches it, within `depth` calls of that start.
    public var starts: [Trace?]

    /// Whether to ask, for each label and success case no start reached, whether any
    /// well-formed state of the scope gives it (`SpecLint.neverGiven`); if none does, the
    /// target is `infeasible`.
    public var proveUnreached = false

    /// From `settings.from` (or the initial state), or from each of `starts` in turn.
    public init(settings: SymbolicSettings, depth: Int, starts: [Trace?]? = nil) {
        self.settings = settings
        self.depth = depth
        self.starts = starts ?? [settings.from]
    }

    /// One cover target: `RMI_<COMMAND>/<label>`, `RMI_<COMMAND>/success` or `INV-*`.
    public struct Target: Hashable, Sendable, Comparable {
        public var command: RMICommand?
        /// The failure label, "success", or a property name.
        public var name: String
        public var id: String { command.map { "\($0.rawValue)/\(name)" } ?? name }
        public static func < (a: Target, b: Target) -> Bool { a.id < b.id }
    }

    public struct Report: Sendable {
        public var targets: [(target: Target, verdict: CoverVerdict)]
        /// Seconds per depth of the search from each start (in the order of `starts`).
        public var secondsPerDepth: [[Double]]
        /// Per target reached, the index in `starts` of the start its witness begins with.
        public var reachedFrom: [String: Int]
    }

    /// Every target of the settings' commands and properties, in the spec's listing order.
    public var targets: [Target] {
        var out: [Target] = []
        for c in settings.commands {
            out += RMISpec.conditions(of: c).map { Target(command: c, name: $0.label) }
            out.append(Target(command: c, name: "success"))
        }
        return out + settings.properties.filter { $0.kind != .implementation }.map { Target(command: nil, name: $0.rawValue) }
    }

    public func run(token: CancellationToken = CancellationToken()) throws -> Report {
        settings.startBudget(token)
        let me = self
        var report = try runZ3Blocking(token: token) { token in try me.search(token) }
        if proveUnreached { try prove(&report, token) }
        return report
    }

    /// Marks `infeasible` the labels and success cases not reached that no call gives in
    /// any well-formed state of the scope.
    private func prove(_ report: inout Report, _ token: CancellationToken) throws {
        var open: [RMICommand: [String]] = [:]
        for (t, v) in report.targets where !v.isReached {
            if let c = t.command { open[c, default: []].append(t.name) }
        }
        let lint = SpecLint(settings: settings)
        var never: Set<String> = []
        for c in settings.commands where open[c] != nil {
            for name in try lint.neverGiven(c, open[c]!, token: token) { never.insert("\(c.rawValue)/\(name)") }
            settings.progress?("cover: \(c.rawValue): \(never.filter { $0.hasPrefix(c.rawValue + "/") }.count) of \(open[c]!.count) targets not reached are unreachable")
        }
        let reason = "no call gives it in any well-formed state of \(settings.scope) with any arguments (Z3: UNSAT, the query `spec --lint` asks)"
        for i in report.targets.indices where !report.targets[i].verdict.isReached {
            let t = report.targets[i].target
            if never.contains(t.id) {
                report.targets[i].verdict = .infeasible(reason: reason)
            } else if let why = CoverGenerator.beyondScope(t, settings.scope) {
                report.targets[i].verdict = .infeasible(reason: why)
            }
        }
    }

    /// Why `t` cannot be reached in `scope` although some well-formed state of the scope
    /// gives it (a state no run reaches): an argument from the spec's bookkeeping, or nil.
    static func beyondScope(_ t: Target, _ scope: Scope) -> String? {
        switch (t.command, t.name) {
        case (.recCreate?, "num_recs"):
            // num_recs starts at 0 with the Realm and only REC_CREATE (+1, with a new REC of
            // the Realm) and REC_DESTROY (-1, one REC fewer) change it: it counts the Realm's
            // RECs (INV-R1).
            let order = scope.platform.features.maxRecsOrder
            let needed = (UInt64(1) << order) - 1
            guard UInt64(scope.recs) < needed else { return nil }
            return "needs a Realm with \(needed) RECs (2^max_recs_order - 1, max_recs_order = \(order)): num_recs is 0 when the "
                + "Realm is created and only REC_CREATE (+1, a new REC of the Realm) and REC_DESTROY (-1) change it, so it counts "
                + "the Realm's RECs (INV-R1), at most recs=\(scope.recs) in this scope (and at most 64 in any scope)"
        default:
            return nil
        }
    }

    private func search(_ token: CancellationToken) throws -> Report {
        let all = targets
        let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
        var verdicts: [String: CoverVerdict] = [:]
        var reachedFrom: [String: Int] = [:]
        var open = all.map(\.id)
        var seconds: [[Double]] = []
        // Whether every depth up to `depth` from the initial state was decided for what is
        // still open: then a target no start reached is not reached within `depth` calls.
        var initialExhausted = false
        let start = Date()
        for (i, from) in starts.enumerated() {
            if open.isEmpty { break }
            var s = settings
            s.from = from
            let before = open.count
            // One call reaches a label or success case only by calling its command: at depth
            // 1, with no property target open, each command with open targets is searched
            // alone (a much smaller query than the choice among all of them).
            let alone = depth == 1 && open.allSatisfy { byID[$0]!.command != nil }
            let groups: [RMICommand?] = alone ? settings.commands : [nil]
            var complete = true, times: [Double] = []
            for c in groups {
                let searched = c.map { c in open.filter { byID[$0]!.command == c } } ?? open
                if searched.isEmpty { continue }
                var g = s, left = searched
                if let c { g.commands = [c]; g.gptEvents = false; g.recExitEvents = false }
                let r = try searchFrom(g, &left, byID, token, started: start,
                                       found: { verdicts[$0] = .reached(trace: $1); reachedFrom[$0] = i },
                                       gaveUp: { verdicts[$0] = .unknown(reason: $1) })
                let found = Set(searched).subtracting(left)
                open.removeAll { found.contains($0) }
                complete = complete && r.complete
                for (d, t) in r.seconds.enumerated() {
                    if d < times.count { times[d] += t } else { times.append(t) }
                }
            }
            seconds.append(times)
            if (from?.steps.isEmpty ?? true) && complete { initialExhausted = true }
            settings.progress?("cover: start \(i + 1) of \(starts.count) (\(from?.description ?? "the initial state")): \(before - open.count) more reached, \(open.count) open")
        }
        for id in open where verdicts[id] == nil {
            verdicts[id] = initialExhausted ? .unreachable(bound: depth)
                : .unknown(reason: "not reached within \(depth) calls of any of the \(starts.count) starts")
        }
        return Report(targets: all.map { ($0, verdicts[$0.id]!) }, secondsPerDepth: seconds, reachedFrom: reachedFrom)
    }

    /// The depth-by-depth search from `s.from` for the targets in `open`, removing each it
    /// settles (`found`, or `gaveUp` with the reason when the solver or the budget stops).
    /// Returns the seconds per depth and whether every depth was decided.
    private func searchFrom(_ s: SymbolicSettings, _ open: inout [String], _ byID: [String: Target], _ token: CancellationToken,
                            started: Date, found: (String, Trace) -> Void,
                            gaveUp: (String, String) -> Void) throws -> (seconds: [Double], complete: Bool) {
        let ctx = Context(cancellation: token)
        let depth = self.depth
        return try Symbolic.withContext(ctx) {
            let u = try Unrolling.make(s)
            let solver = try s.solver(ctx)
            let hunter = Hunter(solver)
            var seconds: [Double] = []
            let place = "scope \(s.scope), seed \(s.seed)" + (s.from.map { ", from \($0.description ?? "a seed trace")" } ?? "")
            for d in 0...depth {
                if open.isEmpty { break }
                if let b = s.budgetSeconds, Date().timeIntervalSince(started) > b {
                    for id in open { gaveUp(id, "budget of \(Int(b)) s spent; not reached up to depth \(d - 1) of this start") }
                    return (seconds, false)
                }
                let t0 = Date()
                let step = d == 0 ? u.initialDepth() : u.extend()
                for t in step.transition { try solver.assert(t) }
                var terms = step.cover
                if d > 0 { terms.merge(u.labelTerms(step: d - 1)) { a, _ in a } }
                // A target the solver gives up on here stays open for the later starts.
                var stopped = false, hit = Set<String>()
                var mine = open
                try hunter.settle(&mine, terms, u, depth: d, what: "cover witness for", where: place,
                                  confirm: { t, id in try t.confirmCover(byID[id]!) },
                                  found: { hit.insert($0); found($0, $1) },
                                  gaveUp: { id, why in stopped = true; gaveUp(id, "solver: \(why) at depth \(d)") })
                open.removeAll { hit.contains($0) }
                let dt = Date().timeIntervalSince(t0)
                seconds.append(dt)
                let which = s.commands.count == 1 ? " (\(s.commands[0].rawValue))" : ""
                s.progress?("cover: depth \(d)\(which) in \(String(format: "%.2f", dt)) s; \(open.count) targets open")
                if stopped { return (seconds, false) }
            }
            return (seconds, true)
        }
    }
}

extension Unrolling {
    /// Per label target of step `k` (0-based): "the chosen command can return that label's
    /// result", and "the chosen command succeeds".
    func labelTerms(step k: Int) -> [String: Term] {
        typealias S = Symbolic
        let st = steps[k]
        var out: [String: Term] = [:]
        for (i, c) in alphabet.enumerated() {
            let chosen = S.eq(st.command, S.lit(UInt64(i)))
            let r = st.results[i]
            out["\(c.rawValue)/success"] = S.and(chosen, r.success)
            for cond in r.conditions {
                let id = "\(c.rawValue)/\(cond.label)"
                out[id] = S.or(out[id] ?? S.lit(false), S.and(chosen, cond.allowed))
            }
        }
        return out
    }
}

extension Trace {
    /// Replays a cover witness and checks that its last call gives the target's result (or
    /// that a state or step reaches the property's cover target).
    func confirmCover(_ t: CoverGenerator.Target) throws {
        guard let command = t.command else { return try confirm(t.name, cover: true, engine: "cover") }
        if let m = replay().mismatch {
            throw ReplayFailure(message: "cover: the witness for \(t.id) does not replay on the spec: \(m)", trace: self)
        }
        var runner = TraceRunner(platform: platform, options: options)
        var last: StepResult?
        for st in steps { last = runner.run(st) }
        guard case .call(let c)? = steps.last, c.command == command, let r = last else {
            throw ReplayFailure(message: "cover: the witness for \(t.id) does not end with a call of \(command.rawValue)", trace: self)
        }
        // A label's result may be listed under another label with the same result
        // (StepResult keeps one outcome per distinct result): the label's condition must
        // fail and a result of its status be allowed.
        let status = RMISpec.conditions(of: command).first { $0.label == t.name }?.status
        let shown = t.name == "success" ? r.succeeded
            : r.failing.contains(t.name) && r.allowed.contains { $0.status == status }
        if !shown {
            throw ReplayFailure(message: "cover: the witness for \(t.id) ends with \(r), not that result", trace: self)
        }
    }
}
