import Foundation
import RMISpec
import SMT

/// Bounded model checking of the spec's properties: the transition relation (`Unrolling`)
/// unrolled depth by depth in one incremental `QF_BV` solver, each depth's question asked
/// under an activation literal that is retired once the answer is UNSAT. Depth by depth,
/// the first counterexample found is a shortest one. Every counterexample and cover witness
/// is replayed on the concrete interpreter before it is reported (`ReplayFailure` if not).
/// With a deliberately weakened spec (`SpecOptions.weakenings`) the target REFINES-SPEC is
/// checked too: each step of the weakened spec against the spec.
public struct BoundedModelChecker: Sendable {
    public var settings: SymbolicSettings
    /// The largest depth (number of calls) to explore.
    public var depth: Int

    public init(settings: SymbolicSettings, depth: Int) {
        self.settings = settings
        self.depth = depth
    }

    public struct Report: Sendable {
        public var outcomes: [PropertyOutcome]
        /// Seconds spent on each depth 0...`depthReached` (building and solving).
        public var secondsPerDepth: [Double]
        public var depthReached: Int
    }

    /// The targets checked: the settings' properties, and REFINES-SPEC under a weakening.
    public var targets: [CheckTarget] {
        settings.properties.map(CheckTarget.init)
            + (settings.specOptions.intersection(.weakenings).isEmpty ? [] : [.refinesSpec])
    }

    public func run(token: CancellationToken = CancellationToken()) throws -> Report {
        settings.startBudget(token)
        let me = self
        return try runZ3Blocking(token: token) { token in try me.search(token) }
    }

    private func search(_ token: CancellationToken) throws -> Report {
        let ctx = Context(cancellation: token)
        let s = settings
        let targets = self.targets
        return try Symbolic.withContext(ctx) {
            let u = try Unrolling.make(s)
            let solver = try s.solver(ctx)

            var verdicts: [String: PropertyVerdict] = [:]
            var covers: [String: CoverVerdict] = [:]
            var openBad = targets.filter { $0.kind != "sometimes" }.map(\.name)
            var openCover = s.covers ? targets.map(\.name) : targets.filter { $0.kind == "sometimes" }.map(\.name)
            var seconds: [Double] = []
            let start = Date()
            var reached = -1
            let search = Hunter(solver)

            for d in 0...depth {
                if openBad.isEmpty && openCover.isEmpty { break }
                if let b = s.budgetSeconds, Date().timeIntervalSince(start) > b {
                    for p in openBad { verdicts[p] = .unknown(reason: "budget of \(Int(b)) s spent; holds up to depth \(d - 1)") }
                    for p in openCover { covers[p] = .unknown(reason: "budget of \(Int(b)) s spent; not reached up to depth \(d - 1)") }
                    openBad = []; openCover = []
                    break
                }
                let t0 = Date()
                let step = d == 0 ? u.initialDepth() : u.extend()
                for t in step.transition { try solver.assert(t) }

                let label = "scope \(s.scope), seed \(s.seed)"
                try search.settle(&openBad, step.bad, u, depth: d, what: "BMC counterexample to", where: label,
                                  confirm: { try $0.confirm($1, cover: false, engine: "bmc") },
                                  found: { verdicts[$0] = .violated(trace: $1) },
                                  gaveUp: { verdicts[$0] = .unknown(reason: "solver: \($1) at depth \(d); holds up to depth \(d - 1)") })
                try search.settle(&openCover, step.cover, u, depth: d, what: "BMC witness for the cover target of", where: label,
                                  confirm: { try $0.confirm($1, cover: true, engine: "bmc") },
                                  found: { covers[$0] = .reached(trace: $1) },
                                  gaveUp: { covers[$0] = .unknown(reason: "solver: \($1) at depth \(d)") })
                let dt = Date().timeIntervalSince(t0)
                seconds.append(dt)
                reached = d
                s.progress?("bmc: depth \(d) in \(String(format: "%.2f", dt)) s (total \(String(format: "%.1f", Date().timeIntervalSince(start))) s); \(openBad.count) targets and \(openCover.count) covers open")
            }
            for p in openBad { verdicts[p] = .holds(bound: depth) }
            for p in openCover where covers[p] == nil { covers[p] = .unreachable(bound: depth) }
            let outcomes = targets.map { t -> PropertyOutcome in
                var v = verdicts[t.name] ?? .unknown(reason: "not searched")
                if t.kind == "sometimes" {
                    switch covers[t.name] {
                    case .reached(let tr)?: v = .holds(bound: tr.steps.count)
                    case .unreachable(let b)?: v = .unknown(reason: "not reached within depth \(b)")
                    case .infeasible(let r)?: v = .unknown(reason: "unreachable: \(r)")
                    case .unknown(let r)?: v = .unknown(reason: r)
                    case nil: v = .unknown(reason: "not searched")
                    }
                }
                return PropertyOutcome(target: t, verdict: v, cover: s.covers || t.kind == "sometimes" ? covers[t.name] : nil)
            }
            return Report(outcomes: outcomes, secondsPerDepth: seconds, depthReached: reached)
        }
    }
}

extension Hunter {
    /// `hunt` at depth `d` of `u` for the names in `open`, removing each it settles: every
    /// model becomes a trace (described as `what` the names it hits, `where`), is replayed
    /// through `confirm` for each name and handed to `found`; if the solver gives up, the
    /// names still open go to `gaveUp` with its reason.
    func settle(_ open: inout [String], _ terms: [String: Term], _ u: Unrolling, depth d: Int, what: String, where place: String,
                confirm: (Trace, String) throws -> Void, found: (String, Trace) -> Void,
                gaveUp: (String, String) -> Void) throws {
        let r = try hunt(open, terms) { model, hit in
            let t = try u.trace(model, length: d, description: "\(what) \(hit.joined(separator: ", ")) at depth \(d), \(place)")
            for name in hit {
                try confirm(t, name)
                found(name, t)
            }
        }
        open = r.remaining
        if let reason = r.unknown {
            for name in open { gaveUp(name, reason) }
            open = []
        }
    }
}

/// Asks one incremental solver, under a fresh activation literal per question, for a model
/// of any of a set of named terms; retires each literal after its answer.
final class Hunter {
    let solver: Solver
    private var literal = 0
    init(_ solver: Solver) { self.solver = solver }

    /// Asks for any of `names` (those with a term in `terms`) until none is left or the
    /// solver stops deciding; `found` gets each model and the names it satisfies. Returns
    /// the names not found and, if the solver gave up, its reason.
    func hunt(_ names: [String], _ terms: [String: Term],
              found: (Model, [String]) throws -> Void) throws -> (remaining: [String], unknown: String?) {
        let ctx = solver.context
        var open = names.filter { terms[$0] != nil }
        let absent = names.filter { terms[$0] == nil }
        while !open.isEmpty {
            literal += 1
            let act = ctx.boolConst("rmi!act\(literal)")
            try solver.assert(ctx.implies(act, ctx.or(open.map { terms[$0]! })))
            let r: CheckResult
            do { r = try solver.check(assumptions: [act]) } catch let e as Z3Error {
                // Z3 gave up with an error (out of memory, say): undecided, never a pass.
                return (open + absent, "solver error: \(e)")
            }
            let model = r == .sat ? try solver.model() : nil
            try solver.assert(ctx.not(act))
            switch r {
            case .sat:
                let model = model!
                let hit = try open.filter { try model.boolValue(terms[$0]!) }
                guard !hit.isEmpty else {
                    throw SymbolicInternalError(message: "a model of a disjunction satisfies none of its terms")
                }
                try found(model, hit)
                open.removeAll { hit.contains($0) }
            case .unsat:
                return (open + absent, nil)
            case .unknown(let reason):
                return (open + absent, reason)
            }
        }
        return (absent, nil)
    }
}
