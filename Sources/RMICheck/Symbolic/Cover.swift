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

    public init(settings: SymbolicSettings, depth: Int) {
        self.settings = settings
        self.depth = depth
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
        public var secondsPerDepth: [Double]
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
        let me = self
        return try runZ3Blocking(token: token) { token in try me.search(token) }
    }

    private func search(_ token: CancellationToken) throws -> Report {
        let ctx = Context(cancellation: token)
        let s = settings
        let all = targets
        return try Symbolic.withContext(ctx) {
            let u = try Unrolling.make(s)
            let solver = Solver(ctx, logic: "QF_BV")
            try solver.setSeed(s.seed)
            if let ms = s.timeoutMs { try solver.setTimeout(ms: ms) }
            if let r = s.rlimit { try solver.setRlimit(r) }
            let hunter = Hunter(solver)
            var verdicts: [String: CoverVerdict] = [:]
            var open = all.map(\.id)
            let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
            var seconds: [Double] = []
            let start = Date()
            for d in 0...depth {
                if open.isEmpty { break }
                if let b = s.budgetSeconds, Date().timeIntervalSince(start) > b {
                    for id in open { verdicts[id] = .unknown(reason: "budget of \(Int(b)) s spent; not reached up to depth \(d - 1)") }
                    open = []
                    break
                }
                let t0 = Date()
                let step = d == 0 ? u.initialDepth() : u.extend()
                for t in step.transition { try solver.assert(t) }
                var terms = step.cover
                if d > 0 { terms.merge(u.labelTerms(step: d - 1)) { a, _ in a } }
                try hunter.settle(&open, terms, u, depth: d, what: "cover witness for", where: "scope \(s.scope), seed \(s.seed)",
                                  confirm: { t, id in try t.confirmCover(byID[id]!) },
                                  found: { verdicts[$0] = .reached(trace: $1) },
                                  gaveUp: { verdicts[$0] = .unknown(reason: "solver: \($1) at depth \(d)") })
                let dt = Date().timeIntervalSince(t0)
                seconds.append(dt)
                s.progress?("cover: depth \(d) in \(String(format: "%.2f", dt)) s; \(all.count - open.count) of \(all.count) targets decided")
            }
            for id in open { verdicts[id] = .unreachable(bound: depth) }
            return Report(targets: all.map { ($0, verdicts[$0.id]!) }, secondsPerDepth: seconds)
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
