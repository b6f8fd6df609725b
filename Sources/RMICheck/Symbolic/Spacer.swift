import Foundation
import RMISpec
import SMT

/// Unbounded proofs with Z3's Spacer engine: the reachable states of the scope as the least
/// solution of constrained Horn clauses, the second method of `prove` beside k-induction.
/// Spacer infers the inductive invariant itself, so no strengthening lemma is given.
///
/// The clauses, over one relation `Reach` with an argument per field of the symbolic state
/// (`SymbolicState.components`):
/// * `Reach(s0)` for the scope's initial state;
/// * `Reach(x) ∧ T(x, args, x') ⇒ Reach(x')`, with `T` the relation the other engines
///   unroll (the Host's move, then any command of the alphabet with any arguments, another
///   agent's GPT change, or the exit of a running REC), runs that leave the scope excluded;
/// * per property, `Reach(x) ∧ ¬P(x) ⇒ Err` (for a step property: `Reach(x) ∧ T ∧ bad ⇒ Err`).
///
/// A property is PROVED only when Spacer answers UNSAT *and* the invariant it returns is
/// re-checked by a fresh QF_BV solver: it holds in the initial state, `T` keeps it, and it
/// implies the property. A re-check that fails is an internal error, never a proof. When
/// Spacer derives `Err`, BMC looks for the trace (to `traceDepth`), which is replayed like
/// every trace: VIOLATED with it, else UNKNOWN (Spacer's derivation is not a trace).
public struct SpacerProver: Sendable {
    public var settings: SymbolicSettings
    /// How deep the base case's BMC searches for violations (with traces) and covers.
    public var coverDepth: Int
    /// When Spacer derives a violation the base case did not find, how deep BMC then looks
    /// for its trace (the property alone).
    public var traceDepth: Int
    /// Prove over `GranuleArrays` (Granule state, GPT and contents at every address of the
    /// standard platform: any memory size) instead of the scope's slots.
    public var everyAddress: Bool

    public init(settings: SymbolicSettings, coverDepth: Int = 3, traceDepth: Int = 8, everyAddress: Bool = false) {
        self.settings = settings
        self.coverDepth = coverDepth
        self.traceDepth = traceDepth
        self.everyAddress = everyAddress
    }

    public struct Report: Sendable {
        public var outcomes: [PropertyOutcome]
        public var baseSeconds: Double
        public var spacerSeconds: Double
        /// Per proved property, the size of the invariant that proves it (Z3 nodes).
        public var invariantSizes: [String: Int]
    }

    public func run(token: CancellationToken = CancellationToken()) throws -> Report {
        settings.startBudget(token)
        if everyAddress {
            // Refuse what the arrays cannot hold before any solving.
            let me = self
            try runZ3Blocking(token: token) { _ in
                let ctx = Context()
                try Symbolic.withContext(ctx) {
                    _ = try me.arraySystem(ctx, me.settings.properties.filter { $0.kind == .always || $0.kind == .step })
                }
            }
        }
        let t0 = Date()
        var baseSettings = settings
        baseSettings.covers = true
        let base = try BoundedModelChecker(settings: baseSettings, depth: coverDepth).run(token: token)
        let baseSeconds = Date().timeIntervalSince(t0)
        let me = self
        let t1 = Date()
        var (outcomes, sizes, derived) = try runZ3Blocking(token: token) { token in try me.solve(token, base: base.outcomes) }
        // A violation Spacer derives is shown only with a trace: BMC, deeper, for it alone.
        for i in outcomes.indices where derived.contains(outcomes[i].target.name) {
            var s = settings
            s.properties = outcomes[i].target.property.map { [$0] } ?? []
            s.covers = false
            s.progress?("spacer: \(outcomes[i].target.name) is reachable; BMC to depth \(traceDepth) for its trace")
            let bmc = try BoundedModelChecker(settings: s, depth: traceDepth).run(token: token)
            if let o = bmc.outcomes.first, case .violated = o.verdict {
                outcomes[i].verdict = o.verdict
            } else {
                outcomes[i].verdict = .unknown(reason: "Spacer derives a violation, but BMC found no trace within depth \(traceDepth); `check --engine bmc` with a larger --depth")
            }
        }
        for i in outcomes.indices { outcomes[i].cover = base.outcomes.first { $0.target == outcomes[i].target }?.cover }
        return Report(outcomes: outcomes, baseSeconds: baseSeconds, spacerSeconds: Date().timeIntervalSince(t1),
                      invariantSizes: sizes)
    }

    /// The Horn clauses of one encoding of the state: the relation's arguments over the
    /// clause variables and in the initial state, the moves (a guard and the next state's
    /// arguments), and per target "violated" over the clause variables.
    struct HornSystem {
        var arguments: [Term]
        var initial: [Term]
        var moves: [(guard: Term, next: [Term])]
        var bad: [String: Term]
        /// Spacer parameters beyond the common ones.
        var parameters: [(String, ParamValue)] = []
        /// The fresh solver of the re-check.
        var recheckSolver: () throws -> Solver
        var coverage: String
    }

    /// The outcomes, the invariant sizes, and the properties Spacer derives a violation of.
    private func solve(_ token: CancellationToken, base: [PropertyOutcome]) throws -> ([PropertyOutcome], [String: Int], [String]) {
        let ctx = Context(cancellation: token)
        let s = settings
        let targets = s.properties.filter { $0.kind == .always || $0.kind == .step }
        return try Symbolic.withContext(ctx) {
            let system = everyAddress ? try arraySystem(ctx, targets) : scopeSystem(ctx, targets)
            return try decide(ctx, system, targets, base: base)
        }
    }

    /// The clauses over the scope's symbolic state: `Reach` has an argument per field.
    private func scopeSystem(_ ctx: Context, _ targets: [Invariant]) -> HornSystem {
        let s = settings
        let initial = SymbolicState.initial(scope: s.scope, options: s.specOptions)
        let x = initial.mapComponents { t, name in ctx.const("r.\(name)", t.sort) }
        let u = Unrolling(scope: s.scope, options: s.specOptions, alphabet: s.commands,
                          properties: targets.filter { $0.kind == .step }, start: x)
        u.gptEvents = s.gptEvents
        u.recExitEvents = s.recExitEvents
        let d = u.extend()
        let transition = ctx.and(d.transition)
        var bad: [String: Term] = [:]
        for p in targets {
            bad[p.rawValue] = p.kind == .always ? ctx.not(p.holds(in: x).raw) : ctx.and(transition, d.bad[p.rawValue] ?? ctx.bool(false))
        }
        return HornSystem(arguments: x.components, initial: initial.components,
                          moves: [(transition, u.states[1].components)], bad: bad,
                          recheckSolver: { try s.solver(ctx) }, coverage: "every state of the scope \(s.scope)")
    }

    private func decide(_ ctx: Context, _ h: HornSystem, _ targets: [Invariant],
                        base: [PropertyOutcome]) throws -> ([PropertyOutcome], [String: Int], [String]) {
        let s = settings
        let reach = ctx.function("rmi!Reach", domain: h.arguments.map(\.sort), range: ctx.boolSort)
        // One Spacer instance per question: Z3 may leave one that ran out of memory unusable.
        func horn(_ name: String, _ badness: Term) throws -> (Fixedpoint, FuncDecl) {
            let fp = Fixedpoint(ctx)
            if let ms = s.timeoutMs { try fp.setTimeout(ms: ms) }
            try fp.setParam("spacer.random_seed", .uint(s.seed))
            // Slicing drops arguments of Reach and then leaves Reach out of the answer,
            // which leaves nothing to re-check: keep every argument.
            try fp.setParam("xform.slice", .bool(false))
            for (k, v) in h.parameters { try fp.setParam(k, v) }
            try fp.registerRelation(reach)
            func rule(_ body: Term, _ head: Term, except: Term? = nil) throws {
                let r = ctx.implies(body, head)
                try fp.addRule(ctx.forall(bound: r.freeConstants.filter { $0 != except }, r))
            }
            try fp.addRule(reach.apply(h.initial))
            for m in h.moves { try rule(ctx.and(reach.apply(h.arguments), m.guard), reach.apply(m.next)) }
            let e = ctx.function("rmi!Err.\(name)", domain: [], range: ctx.boolSort)
            try fp.registerRelation(e)
            try rule(ctx.and(reach.apply(h.arguments), badness), e.apply([]), except: e.apply([]))
            return (fp, e)
        }

        // The invariant Spacer returns, re-checked from scratch.
        func recheck(_ fp: Fixedpoint, _ names: [String]) throws -> Int {
            let invAt = try fp.interpretation(of: reach, at: h.arguments)
            var questions: [(String, Term)] = [("it holds in the initial state", ctx.not(try fp.interpretation(of: reach, at: h.initial)))]
            for m in h.moves {
                questions.append(("every step keeps it", ctx.and(invAt, m.guard, ctx.not(try fp.interpretation(of: reach, at: m.next)))))
            }
            for n in names { questions.append(("it implies \(n)", ctx.and(invAt, h.bad[n]!))) }
            for (what, q) in questions {
                let solver = try h.recheckSolver()
                try solver.assert(q)
                switch try solver.check() {
                case .unsat: continue
                case .sat: throw SymbolicInternalError(message: "Spacer's invariant fails its re-check: not \(what)")
                case .unknown(let r): throw RecheckUndecided(reason: "re-check of Spacer's invariant (\(what)) undecided: \(r)")
                }
            }
            return invAt.dagSize
        }

        var verdicts: [String: PropertyVerdict] = [:]
        var sizes: [String: Int] = [:]
        var derived: [String] = []
        var open = targets.map(\.rawValue).filter { name in
            guard let b = base.first(where: { $0.target.name == name }) else { return true }
            switch b.verdict {
            case .violated: verdicts[name] = b.verdict; return false
            case .unknown(let r): verdicts[name] = .unknown(reason: "base case: \(r)"); return false
            default: return true
            }
        }
        let method = "Spacer (CHC), invariant re-checked by a fresh solver"
        func ask(_ names: [String]) throws -> CheckResult {
            let label = names.count == 1 ? names[0] : "\(names.count) properties"
            let (fp, e) = try horn(names.count == 1 ? names[0] : "all", ctx.or(names.map { h.bad[$0]! }))
            let t = Date()
            let r: CheckResult
            do { r = try fp.query(relations: [e]) } catch let e as Z3Error {
                // Out of memory, say: undecided, never a pass.
                r = .unknown(reason: "solver error: \(e.message)")
            }
            s.progress?("spacer: \(label): \(r) in \(String(format: "%.2f", Date().timeIntervalSince(t))) s")
            if r == .unsat {
                do {
                    let size = try recheck(fp, names)
                    for n in names { verdicts[n] = .proved(method: method, coverage: h.coverage); sizes[n] = size }
                    s.progress?("spacer: invariant of \(size) Z3 nodes re-checked")
                } catch let u as RecheckUndecided {
                    for n in names { verdicts[n] = .unknown(reason: u.reason) }
                }
            }
            return r
        }
        // All together first: one invariant often proves them all.
        if open.count > 1, try ask(open) == .unsat { open = [] }
        for n in open where verdicts[n] == nil {
            switch try ask([n]) {
            case .unsat: break
            case .sat:
                derived.append(n)
                verdicts[n] = .unknown(reason: "Spacer derives a violation")
            case .unknown(let r):
                verdicts[n] = .unknown(reason: "Spacer: \(r)")
            }
        }
        let outcomes = targets.map { p in
            PropertyOutcome(target: CheckTarget(p), verdict: verdicts[p.rawValue] ?? .unknown(reason: "not asked"))
        }
        return (outcomes, sizes, derived)
    }
}

/// The re-check of Spacer's invariant did not decide (timeout, resource limit): UNKNOWN.
private struct RecheckUndecided: Error {
    var reason: String
}
