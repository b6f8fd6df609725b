import Foundation
import RMISpec
import SMT

/// Unbounded proofs by k-induction over a scope, with every `always` and `step` property
/// of the spec as the strengthening. A property is PROVED when the base case (no run of
/// fewer than k calls violates it: BMC) and the inductive step (from any well-formed state
/// of the scope in which all the invariants hold for k - 1 steps, the next step keeps it)
/// are both UNSAT. When the step is SAT, the pre-state of the model is a counterexample to
/// induction (CTI): a state the invariants allow from which one call breaks the property;
/// either it is unreachable (add a lemma that excludes it) or it is a real bug that a deeper
/// BMC will find. The verdict is then UNKNOWN, never a pass.
public struct InductionProver: Sendable {
    public var settings: SymbolicSettings
    public var k: Int
    /// The invariants assumed in the step's first k states (default: every `always` and
    /// `step` property of the spec).
    public var strengthening: [Invariant]

    /// How deep the base case's BMC also looks for each property's cover target (and,
    /// deeper than k - 1, for violations: a stronger base case).
    public var coverDepth: Int

    public init(settings: SymbolicSettings, k: Int = 1, strengthening: [Invariant]? = nil, coverDepth: Int = 3) {
        self.settings = settings
        self.coverDepth = coverDepth
        self.k = max(1, k)
        self.strengthening = (strengthening ?? Invariant.specProperties).filter { $0.kind == .always || $0.kind == .step }
    }

    /// A counterexample to induction: the state before the failing step (as the changes
    /// from the initial state) and the step.
    public struct CTI: Sendable {
        public var property: String
        public var preState: [String]
        public var step: Trace
    }

    public struct Report: Sendable {
        public var outcomes: [PropertyOutcome]
        public var ctis: [CTI]
        public var baseSeconds: Double
        public var stepSeconds: Double
    }

    public func run(token: CancellationToken = CancellationToken()) throws -> Report {
        // Base case and covers: BMC to depth k - 1 (plus the covers, to show each property
        // is not vacuous, to a few more steps).
        let t0 = Date()
        var baseSettings = settings
        baseSettings.covers = true
        let base = try BoundedModelChecker(settings: baseSettings, depth: max(k - 1, coverDepth)).run(token: token)
        let baseSeconds = Date().timeIntervalSince(t0)
        let me = self
        let t1 = Date()
        var (outcomes, ctis) = try runZ3Blocking(token: token) { token in
            k == 1 ? try me.stepPerCommand(token, base: base.outcomes) : try me.inductiveStep(token, base: base.outcomes)
        }
        let stepSeconds = Date().timeIntervalSince(t1)
        for i in outcomes.indices { outcomes[i].cover = base.outcomes.first { $0.target == outcomes[i].target }?.cover }
        return Report(outcomes: outcomes, ctis: ctis, baseSeconds: baseSeconds, stepSeconds: stepSeconds)
    }

    private func inductiveStep(_ token: CancellationToken, base: [PropertyOutcome]) throws -> ([PropertyOutcome], [CTI]) {
        let ctx = Context(cancellation: token)
        let s = settings
        let strengthening = self.strengthening
        return try Symbolic.withContext(ctx) {
            let start = SymbolicState.fresh(scope: s.scope, prefix: "i0", options: s.specOptions)
            let u = Unrolling(scope: s.scope, options: s.specOptions, alphabet: s.commands,
                              properties: Array(Set(strengthening + s.properties)).sorted { $0.rawValue < $1.rawValue },
                              start: start)
            u.gptEvents = s.gptEvents
            u.recExitEvents = s.recExitEvents
            let solver = try s.solver(ctx)
            try solver.assert(start.wellFormed)
            var depth = u.initialDepth()
            for j in 1...k {
                // The invariants hold in state j - 1 (and on step j - 1), and so does the
                // encoding lemma.
                for p in strengthening { if let b = depth.bad[p.rawValue] { try solver.assert(ctx.not(b)) } }
                try solver.assert(u.states[j - 1].objectsMatchGranuleStates)
                depth = u.extend()
                for t in depth.transition { try solver.assert(t) }
            }
            var outcomes: [PropertyOutcome] = []
            var ctis: [CTI] = []

            // The encoding lemma is assumed above, so it must be inductive itself (it holds
            // in the initial state by construction); otherwise nothing below is proved.
            let lemmaAct = ctx.boolConst("rmi!ind.objects")
            try solver.assert(ctx.implies(lemmaAct, ctx.not(u.states[k].objectsMatchGranuleStates)))
            let lemma: CheckResult
            do { lemma = try solver.check(assumptions: [lemmaAct]) } catch let e as Z3Error { lemma = .unknown(reason: "solver error: \(e)") }
            if lemma == .sat {
                let model = try solver.model()
                let pre = try u.states[0].concretize(model)
                let initial = SpecState(platform: pre.platform, options: pre.options)
                let stepTrace = try u.trace(model, length: k, description: "counterexample to induction for the encoding lemma: the calls from the CTI state")
                ctis.append(CTI(property: "objects-match-granule-states", preState: initial.diff(pre), step: stepTrace))
            }
            try solver.assert(ctx.not(lemmaAct))
            if lemma != .unsat {
                let why = lemma == .sat ? "the encoding lemma (objects match Granule states) is not \(k)-inductive"
                    : "the encoding lemma (objects match Granule states) is undecided: \(lemma)"
                return (s.properties.filter { $0.kind == .always || $0.kind == .step }.map { p in
                    base.first { $0.target == CheckTarget(p) }.flatMap { b -> PropertyOutcome? in
                        if case .violated = b.verdict { return b } else { return nil }
                    } ?? PropertyOutcome(target: CheckTarget(p), verdict: .unknown(reason: why))
                }, ctis)
            }
            for p in s.properties where p.kind == .always || p.kind == .step {
                let target = CheckTarget(p)
                if let b = base.first(where: { $0.target == target }), case .violated = b.verdict {
                    outcomes.append(b)
                    continue
                }
                if let b = base.first(where: { $0.target == target }), case .unknown(let r) = b.verdict {
                    outcomes.append(PropertyOutcome(target: target, verdict: .unknown(reason: "base case: \(r)")))
                    continue
                }
                guard let bad = depth.bad[p.rawValue] else { continue }
                let act = ctx.boolConst("rmi!ind.\(p.rawValue)")
                try solver.assert(ctx.implies(act, bad))
                let r: CheckResult
                do { r = try solver.check(assumptions: [act]) } catch let e as Z3Error {
                    r = .unknown(reason: "solver error: \(e)")
                }
                switch r {
                case .unsat:
                    outcomes.append(PropertyOutcome(target: target, verdict: .proved(
                        method: "\(k)-induction (base case and covers by BMC to depth \(max(k - 1, coverDepth))) with \(strengthening.count == 27 ? "every INV-*" : strengthening.map(\.rawValue).joined(separator: ", ")) as strengthening",
                        coverage: "every state of the scope \(s.scope)")))
                case .sat:
                    let model = try solver.model()
                    let pre = try u.states[0].concretize(model)
                    let initial = SpecState(platform: pre.platform, options: pre.options)
                    let stepTrace = try u.trace(model, length: k, description: "counterexample to induction for \(p.rawValue): the calls from the CTI state")
                    ctis.append(CTI(property: p.rawValue, preState: initial.diff(pre), step: stepTrace))
                    outcomes.append(PropertyOutcome(target: target, verdict: .unknown(
                        reason: "not \(k)-inductive relative to the invariants: a counterexample to induction exists (a state the invariants allow from which \(k) call(s) break it)")))
                case .unknown(let reason):
                    outcomes.append(PropertyOutcome(target: target, verdict: .unknown(reason: "inductive step: solver \(reason)")))
                }
                try solver.assert(ctx.not(act))
            }
            return (outcomes, ctis)
        }
    }
}

extension InductionProver {
    /// The inductive step for k = 1, one command at a time. The pre-state is any well-formed
    /// state of the scope in which the encoding lemma and every invariant of `strengthening`
    /// hold, asserted once. Each command's transition (the Host's move, then the call) is
    /// asserted inside its own push/pop, and the targets are asked of its next state as
    /// terms over the pre-state: what the call left alone is the same term on both sides,
    /// so the solver only reasons about what the call changed, and bit-blasts one command's
    /// circuit at a time rather than the union of all 23. The targets are asked together
    /// ("does any break?"), then one by one only for those a model breaks. A target is
    /// proved when no move breaks it and every move keeps the encoding lemma: each command,
    /// and the events the settings allow (another agent's GPT change, a running REC's exit).
    func stepPerCommand(_ token: CancellationToken, base: [PropertyOutcome]) throws -> ([PropertyOutcome], [CTI]) {
        let ctx = Context(cancellation: token)
        let s = settings
        let strengthening = self.strengthening
        let targets = s.properties.filter { $0.kind == .always || $0.kind == .step }
        return try Symbolic.withContext(ctx) {
            let pre = SymbolicState.fresh(scope: s.scope, prefix: "i0", options: s.specOptions)
            let solver = try s.solver(ctx)
            // Every formula the step asserts or asks is a named Bool defined once: an
            // invariant over the next state that is the same term as over the pre-state (the
            // call left its fields alone) gets the same name, so "it holds before and breaks
            // after" is a clash of one literal. Unnamed, Z3 rewrites the hypothesis and the
            // negated goal into different circuits and must prove them equivalent bit by bit
            // (minutes for INV-T3 alone). The hypotheses hang on one literal so that they are
            // not simplified as top-level facts either.
            var names: [Term: Term] = [:]
            var definitions = 0
            // Conjunctions are named conjunct by conjunct: an invariant is mostly a conjunction
            // over Granules, and a call changes few of them.
            func named(_ t: Term) throws -> Term {
                let parts = t.conjuncts
                if parts.count > 1 { return ctx.and(try parts.map(named)) }
                if let b: Bool = Symbolic.known(t) { return ctx.bool(b) }
                if let n = names[t] { return n }
                definitions += 1
                let n = ctx.boolConst("rmi!ind.def\(definitions)")
                try solver.assert(ctx.eq(n, t))
                names[t] = n
                return n
            }
            let hypotheses = ctx.boolConst("rmi!ind.hypotheses")
            var facts = [try named(pre.wellFormed), try named(pre.objectsMatchGranuleStates)]
            for p in strengthening where p.kind == .always { facts.append(try named(p.holds(in: pre).raw)) }
            let hypothesis = ctx.and(facts)
            try solver.assert(ctx.implies(hypotheses, hypothesis))
            s.progress?("prove: hypotheses of \(strengthening.filter { $0.kind == .always }.count) invariants, \(definitions) conjuncts, \(ctx.and(Array(names.keys)).dagSize) Z3 nodes")
            let baseNames = names
            let hunter = Hunter(solver)
            hunter.assumptions = [hypotheses]

            var open = targets.filter { p in
                guard let b = base.first(where: { $0.target == CheckTarget(p) }) else { return true }
                switch b.verdict { case .violated, .unknown: return false; default: return true }
            }.map(\.rawValue)
            var undecided: [String: String] = [:]
            var ctis: [CTI] = []
            var lemmaFailure: String?
            // Each command alone, then each event alone.
            let moves: [(alphabet: [RMICommand], gpt: Bool, recExit: Bool)] = s.commands.map { ([$0], false, false) }
                + (s.gptEvents ? [([], true, false)] : []) + (s.recExitEvents ? [([], false, true)] : [])
            for move in moves where !open.isEmpty && lemmaFailure == nil {
                let t1 = Date()
                let name = move.alphabet.first?.rawValue ?? (move.gpt ? "GPT change" : "REC exit")
                try solver.push()
                let u = Unrolling(scope: s.scope, options: s.specOptions, alphabet: move.alphabet,
                                  properties: targets.filter { $0.kind == .step }, start: pre)
                u.gptEvents = move.gpt
                u.recExitEvents = move.recExit
                let d = u.extend()
                // Under a literal too: as top-level facts (the command index, "in scope") Z3
                // would propagate them into the definitions below and rewrite them away from
                // the pre-state's.
                let move = ctx.boolConst("rmi!ind.move")
                try solver.assert(ctx.implies(move, ctx.and(d.transition)))
                hunter.assumptions = [hypotheses, move]
                let next = u.nexts[0]
                var bad: [String: Term] = [:]
                let lemma = "objects-match-granule-states"
                bad[lemma] = ctx.not(ctx.and(try named(next.wellFormed), try named(next.objectsMatchGranuleStates)))
                for p in targets where open.contains(p.rawValue) {
                    bad[p.rawValue] = p.kind == .always ? ctx.not(try named(p.holds(in: next).raw)) : d.bad[p.rawValue]
                }
                func cti(_ model: Model, _ property: String) throws -> CTI {
                    let p = try u.states[0].concretize(model)
                    let initial = SpecState(platform: p.platform, options: p.options)
                    let trace = try u.trace(model, length: 1, description: "counterexample to induction for \(property): the call from the CTI state")
                    return CTI(property: property, preState: initial.diff(p), step: trace)
                }
                var broken: [String] = []
                let lemmaResult = try hunter.hunt([lemma], bad) { model, _ in ctis.append(try cti(model, lemma)) }
                if let r = lemmaResult.unknown {
                    lemmaFailure = "the encoding lemma is undecided for \(name): \(r)"
                } else if lemmaResult.remaining.isEmpty {
                    lemmaFailure = "the encoding lemma (well-formed, objects match Granule states) is not inductive: \(name) breaks it from a state the invariants allow"
                } else {
                    let r = try hunter.hunt(open, bad) { model, hit in
                        ctis.append(try cti(model, hit.joined(separator: ", ")))
                        broken += hit
                    }
                    for p in broken {
                        undecided[p] = "not 1-inductive relative to the invariants: \(name) breaks it from a state they allow (a counterexample to induction)"
                    }
                    if let why = r.unknown {
                        for p in r.remaining { undecided[p] = "inductive step for \(name): solver \(why)" }
                        open = []
                    } else {
                        open = r.remaining
                    }
                }
                try solver.pop()
                names = baseNames
                s.progress?("prove: \(name) in \(String(format: "%.2f", Date().timeIntervalSince(t1))) s; \(open.count) of \(targets.count) targets still provable")
            }

            let how = "1-induction, command by command (base case and covers by BMC to depth \(coverDepth)), with \(strengthening.count == 27 ? "every INV-*" : strengthening.map(\.rawValue).joined(separator: ", ")) as strengthening"
            let outcomes = targets.map { p -> PropertyOutcome in
                let target = CheckTarget(p)
                if let b = base.first(where: { $0.target == target }) {
                    if case .violated = b.verdict { return b }
                    if case .unknown(let r) = b.verdict { return PropertyOutcome(target: target, verdict: .unknown(reason: "base case: \(r)")) }
                }
                if let why = lemmaFailure { return PropertyOutcome(target: target, verdict: .unknown(reason: why)) }
                if let why = undecided[p.rawValue] { return PropertyOutcome(target: target, verdict: .unknown(reason: why)) }
                return PropertyOutcome(target: target, verdict: .proved(method: how, coverage: "every state of the scope \(s.scope)"))
            }
            return (outcomes, ctis)
        }
    }
}
