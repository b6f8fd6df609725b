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

    /// k = 1: give each target only the lemmas its counterexamples to induction ask for
    /// (see `stepPerCommand`); off, every question assumes the whole `strengthening`.
    public var selectLemmas = true
    /// The Z3 resource limit of a question asked with chosen lemmas; past it the question is
    /// asked again with every lemma (nil: no limit, never fall back).
    public var selectionRlimit: UInt64? = 40_000_000

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
        settings.startBudget(token)
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
    /// The inductive step for k = 1, one move at a time (each command, then another agent's
    /// GPT change and a running REC's exit), and one target at a time with the lemmas it
    /// needs.
    ///
    /// **Lemmas chosen by counterexamples.** A target is first asked with itself as its only
    /// lemma (with the encoding lemma, "well-formed and objects match Granule states", which
    /// every question assumes and which is a target of its own). When the step breaks it,
    /// the pre-state of the model is read against every invariant of `strengthening`: those
    /// it violates become lemmas of that target and the question is asked again. A model
    /// that violates none is a counterexample to induction relative to all of them: the CTI
    /// the report prints. This is sound because every lemma chosen is an invariant of the
    /// pool, assumed as it would be with the whole pool (simultaneous induction); it is
    /// faster because the solver bit-blasts only the lemmas a target needs: on
    /// `granules=2,realms=1,recs=1,entries=1`, INV-L4 alone for RMI_GRANULE_DELEGATE's step
    /// took 35 s with the definitions of all 21 invariants asserted (even when not assumed:
    /// their clauses slow every propagation) and under 2 s with INV-C1's. Lemmas a target needed for
    /// one move are kept for the next ones. A question that its lemmas leave undecided within
    /// `selectionRlimit` is asked again with the whole pool and no limit (and keeps it for the
    /// next moves): such questions go to a second solver that holds the whole pool's
    /// definitions once for every move. With `selectLemmas` off every
    /// question has the whole pool from the start.
    ///
    /// Within a question, every formula the step asserts or asks is a named Bool defined
    /// once: an invariant over the next state that is the same term as over the pre-state
    /// (the call left its fields alone) gets the same name, so "it holds before and breaks
    /// after" is a clash of one literal. Unnamed, Z3 rewrites the hypothesis and the negated
    /// goal into different circuits and must prove them equivalent bit by bit (minutes for
    /// INV-T3 alone). The hypotheses and the move hang on literals so that they are not
    /// simplified as top-level facts either.
    func stepPerCommand(_ token: CancellationToken, base: [PropertyOutcome]) throws -> ([PropertyOutcome], [CTI]) {
        let ctx = Context(cancellation: token)
        let s = settings
        let pool = strengthening.filter { $0.kind == .always }
        let targets = s.properties.filter { $0.kind == .always || $0.kind == .step }
        let selectLemmas = self.selectLemmas
        let selectionRlimit = self.selectionRlimit
        return try Symbolic.withContext(ctx) {
            let pre = SymbolicState.fresh(scope: s.scope, prefix: "i0", options: s.specOptions)
            // Questions with chosen lemmas go to `small`, each with its lemmas' definitions in
            // a push of its own; questions with the whole pool go to `whole`, where the pool's
            // definitions are asserted once, at the base level, for every move.
            let small = DefinitionNames(try s.solver(ctx), prefix: "rmi!ind.def")
            var wholeSolver: (names: DefinitionNames, hypotheses: Term)?
            func whole() throws -> (names: DefinitionNames, hypotheses: Term) {
                if let w = wholeSolver { return w }
                let names = DefinitionNames(try s.solver(ctx), prefix: "rmi!ind.whole")
                let hypotheses = ctx.boolConst("rmi!ind.whole.hypotheses")
                var facts = [try names.named(pre.wellFormed), try names.named(pre.objectsMatchGranuleStates)]
                for p in pool { facts.append(try names.named(p.holds(in: pre).raw)) }
                try names.solver.assert(ctx.implies(hypotheses, ctx.and(facts)))
                names.keepBase()
                wholeSolver = (names, hypotheses)
                return (names, hypotheses)
            }
            let preHolds = Dictionary(uniqueKeysWithValues: pool.map { ($0.rawValue, $0.holds(in: pre).raw) })
            let lemma = "objects-match-granule-states"
            // The lemmas of each target so far, and the targets whose questions are still
            // asked within `selectionRlimit` (the others have the whole pool, no limit).
            var lemmas: [String: Set<String>] = [:]
            var limited = Set<String>(selectLemmas && selectionRlimit != nil ? [lemma] + targets.map(\.rawValue) : [])
            lemmas[lemma] = selectLemmas ? [] : Set(pool.map(\.rawValue))
            for p in targets {
                lemmas[p.rawValue] = selectLemmas ? (preHolds[p.rawValue] != nil ? [p.rawValue] : []) : Set(pool.map(\.rawValue))
            }
            s.progress?("prove: \(pool.count) invariants as the lemma pool\(selectLemmas ? ", each target with the lemmas its counterexamples ask for" : ", all assumed for every target")")

            var open = targets.filter { p in
                guard let b = base.first(where: { $0.target == CheckTarget(p) }) else { return true }
                switch b.verdict { case .violated, .unknown: return false; default: return true }
            }.map(\.rawValue)
            var undecided: [String: String] = [:]
            var ctis: [CTI] = []
            var lemmaFailure: String?
            var queries = 0
            let moves: [(alphabet: [RMICommand], gpt: Bool, recExit: Bool)] = s.commands.map { ([$0], false, false) }
                + (s.gptEvents ? [([], true, false)] : []) + (s.recExitEvents ? [([], false, true)] : [])
            for move in moves where !open.isEmpty && lemmaFailure == nil {
                let t1 = Date()
                let name = move.alphabet.first?.rawValue ?? (move.gpt ? "GPT change" : "REC exit")
                let u = Unrolling(scope: s.scope, options: s.specOptions, alphabet: move.alphabet,
                                  properties: targets.filter { $0.kind == .step }, start: pre)
                u.gptEvents = move.gpt
                u.recExitEvents = move.recExit
                let d = u.extend()
                let next = u.nexts[0]
                func cti(_ model: Model, _ property: String) throws -> CTI {
                    let p = try u.states[0].concretize(model)
                    let initial = SpecState(platform: p.platform, options: p.options)
                    let trace = try u.trace(model, length: 1, description: "counterexample to induction for \(property): the call from the CTI state")
                    return CTI(property: property, preState: initial.diff(p), step: trace)
                }
                // The questions of one move: can it break a goal from a state where the
                // encoding lemma and the goal's lemmas hold? Goals with the same lemmas are
                // asked together (one push, one bit-blasting of their lemmas); a model that
                // breaks some is read for each of them. Returns the goals' answers.
                enum Answer { case proved, cti(CTI), undecided(String) }
                func ask(_ goals: [String]) throws -> [String: Answer] {
                    var answers: [String: Answer] = [:]
                    var pending = goals
                    while !pending.isEmpty {
                        // The next group: the pending goals with the first goal's lemmas and limit.
                        let chosen = lemmas[pending[0]]!, level = limited.contains(pending[0])
                        var group = pending.filter { lemmas[$0] == chosen && limited.contains($0) == level }
                        // Goals outside the pool (the step properties, the encoding lemma)
                        // start with no lemma at all and get more room before the whole pool.
                        let limit = level ? selectionRlimit.map { group.allSatisfy { preHolds[$0] == nil } ? 8 * $0 : $0 } : nil
                        pending.removeAll { group.contains($0) }
                        let useWhole = !level && chosen.count == pool.count
                        let namer = useWhole ? try whole().names : small
                        let solver = namer.solver
                        func named(_ t: Term) throws -> Term { try namer.named(t) }
                        try solver.push()
                        defer { namer.backToBase() }
                        let moveLiteral = ctx.boolConst("rmi!ind.move")
                        let hypotheses: Term
                        if useWhole {
                            hypotheses = try whole().hypotheses
                        } else {
                            hypotheses = ctx.boolConst("rmi!ind.hypotheses")
                            var facts = [try named(pre.wellFormed), try named(pre.objectsMatchGranuleStates)]
                            for p in pool where chosen.contains(p.rawValue) { facts.append(try named(preHolds[p.rawValue]!)) }
                            try solver.assert(ctx.implies(hypotheses, ctx.and(facts)))
                        }
                        // Under a literal too: as top-level facts (the command index, "in
                        // scope") Z3 would propagate them into the definitions and rewrite them
                        // away from the pre-state's.
                        try solver.assert(ctx.implies(moveLiteral, ctx.and(d.transition)))
                        var bad: [String: Term] = [:]
                        for goal in group {
                            if goal == lemma {
                                bad[goal] = ctx.not(ctx.and(try named(next.wellFormed), try named(next.objectsMatchGranuleStates)))
                            } else if let p = targets.first(where: { $0.rawValue == goal }), p.kind == .always {
                                bad[goal] = ctx.not(try named(p.holds(in: next).raw))
                            } else {
                                bad[goal] = d.bad[goal] ?? ctx.bool(false)
                            }
                        }
                        if let r = limit { try solver.setRlimit(min(r, s.rlimit ?? r)) }
                        defer { if limit != nil { try? solver.setRlimit(s.rlimit ?? 0) } }
                        var question = 0
                        while !group.isEmpty {
                            queries += 1
                            question += 1
                            let act = ctx.boolConst("rmi!ind.goal\(question)")
                            try solver.assert(ctx.implies(act, ctx.or(group.map { bad[$0]! })))
                            let r: CheckResult
                            let t2 = Date()
                            do { r = try solver.check(assumptions: [hypotheses, moveLiteral, act]) } catch let e as Z3Error {
                                r = .unknown(reason: "solver error: \(e)")
                            }
                            s.progress?("prove: \(name): \(group.count == 1 ? group[0] : "\(group.count) goals (\(group[0]), ...)"): \(r) in \(String(format: "%.2f", Date().timeIntervalSince(t2))) s (\(useWhole ? "every lemma" : "\(chosen.count) lemmas")\(limit != nil ? ", limited" : ""))")
                            switch r {
                            case .unsat:
                                for g in group { answers[g] = .proved }
                                group = []
                            case .sat:
                                let model = try solver.model()
                                try solver.assert(ctx.not(act))
                                let hit = try group.filter { try model.boolValue(bad[$0]!) }
                                guard !hit.isEmpty else { throw SymbolicInternalError(message: "a model of a disjunction satisfies none of its terms") }
                                let missing = try pool.filter { !chosen.contains($0.rawValue) }
                                    .filter { try !model.boolValue(preHolds[$0.rawValue]!) }.map(\.rawValue)
                                if missing.isEmpty {
                                    // The pre-state meets every invariant of the pool: a CTI.
                                    let c = try cti(model, hit.joined(separator: ", "))
                                    for g in hit { answers[g] = .cti(c) }
                                } else {
                                    for g in hit { lemmas[g]!.formUnion(missing) }
                                    pending += hit
                                }
                                group.removeAll { hit.contains($0) }
                            case .unknown(let why):
                                if limit != nil {
                                    // The chosen lemmas leave them undecided within the limit:
                                    // ask again with the whole pool and no limit. (A second try
                                    // with the same lemmas and 8 times the limit was slower:
                                    // 156 s against 64 s for RMI_GRANULE_UNDELEGATE's step.)
                                    for g in group { lemmas[g] = Set(pool.map(\.rawValue)); limited.remove(g) }
                                    pending += group
                                } else {
                                    for g in group { answers[g] = .undecided(why) }
                                }
                                group = []
                            }
                        }
                        try solver.pop()
                    }
                    return answers
                }
                switch try ask([lemma])[lemma]! {
                case .proved:
                    for (p, a) in try ask(open) {
                        switch a {
                        case .proved: break
                        case .cti(let c):
                            if !ctis.contains(where: { $0.property == c.property }) { ctis.append(c) }
                            undecided[p] = "not 1-inductive relative to the invariants: \(name) breaks it from a state they allow (a counterexample to induction)"
                        case .undecided(let why):
                            undecided[p] = "inductive step for \(name): solver \(why)"
                        }
                    }
                    open.removeAll { undecided[$0] != nil }
                case .cti(let c):
                    ctis.append(c)
                    lemmaFailure = "the encoding lemma (well-formed, objects match Granule states) is not inductive: \(name) breaks it from a state the invariants allow"
                case .undecided(let why):
                    lemmaFailure = "the encoding lemma is undecided for \(name): \(why)"
                }
                s.progress?("prove: \(name) in \(String(format: "%.2f", Date().timeIntervalSince(t1))) s; \(open.count) of \(targets.count) targets still provable; \(queries) questions so far")
            }

            func method(_ p: String) -> String {
                let used = pool.map(\.rawValue).filter { lemmas[p]?.contains($0) == true || lemmas[lemma]?.contains($0) == true }
                let which = used.count == pool.count && pool.count == 21 ? "every INV-*" : used.isEmpty ? "no invariant" : used.joined(separator: ", ")
                let from = strengthening.count == 27 ? "the INV-*" : strengthening.map(\.rawValue).joined(separator: ", ")
                return "1-induction, command by command (base case and covers by BMC to depth \(coverDepth)), with \(which) as lemmas\(selectLemmas ? " (chosen from \(from) by counterexamples to induction)" : "")"
            }
            let outcomes = targets.map { p -> PropertyOutcome in
                let target = CheckTarget(p)
                if let b = base.first(where: { $0.target == target }) {
                    if case .violated = b.verdict { return b }
                    if case .unknown(let r) = b.verdict { return PropertyOutcome(target: target, verdict: .unknown(reason: "base case: \(r)")) }
                }
                if let why = lemmaFailure { return PropertyOutcome(target: target, verdict: .unknown(reason: why)) }
                if let why = undecided[p.rawValue] { return PropertyOutcome(target: target, verdict: .unknown(reason: why)) }
                return PropertyOutcome(target: target, verdict: .proved(method: method(p.rawValue), coverage: "every state of the scope \(s.scope)"))
            }
            return (outcomes, ctis)
        }
    }
}

/// Names for the formulas asserted to one solver: each conjunct a Bool defined once (see
/// `stepPerCommand`), so that a term seen again is the same literal. `keepBase` marks the
/// names defined at the solver's base level; `backToBase` forgets those defined since (after
/// a pop).
final class DefinitionNames {
    let solver: Solver
    private let prefix: String
    private var names: [Term: Term] = [:]
    private var base: [Term: Term] = [:]
    private var count = 0

    init(_ solver: Solver, prefix: String) {
        self.solver = solver
        self.prefix = prefix
    }

    /// Conjunctions are named conjunct by conjunct: an invariant is mostly a conjunction over
    /// Granules, and a call changes few of them.
    func named(_ t: Term) throws -> Term {
        let ctx = solver.context
        let parts = t.conjuncts
        if parts.count > 1 { return ctx.and(try parts.map(named)) }
        if let b: Bool = Symbolic.known(t) { return ctx.bool(b) }
        if let n = names[t] { return n }
        count += 1
        let n = ctx.boolConst("\(prefix)\(count)")
        try solver.assert(ctx.eq(n, t))
        names[t] = n
        return n
    }
    func keepBase() { base = names }
    func backToBase() { names = base }
}
