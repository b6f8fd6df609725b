import SMT

/// One failure condition of a symbolic step: what `Condition` holds, as terms.
public struct SymbolicCondition {
    public let label: String
    public let status: Status
    /// Whether the condition holds in the pre-state.
    public let fails: Term
    /// The index field of its return code.
    public let index: Term
    /// Output registers the spec defines on this failure (nil where undefined).
    public let outputs: [Term?]
    public let listed: Bool
    /// Whether its result is an allowed result: it fails and no failing condition precedes
    /// it (in the command's partial order, or in listing order with `strictListingOrder`).
    public let allowed: Term
}

/// A command run symbolically: the counterpart of `StepResult`.
public struct SymbolicStep {
    public let command: RMICommand
    /// In the spec's listing order.
    public let conditions: [SymbolicCondition]
    /// No condition fails.
    public let success: Term
    /// The success outputs (meaningful when `success`).
    public let outputs: [Term]
    /// The state after the call: unchanged when a condition fails. Its `outOfScope` includes
    /// this step's writes the scope cannot hold and the Realm/REC bounds.
    public let next: SymbolicState

    /// "`(status, index)` is an allowed result": success when no condition fails, else the
    /// result of a condition whose `allowed` holds; indices compare on their low 8 bits, as
    /// `StepResult.allows` does.
    public func allowed(status: Status, index: Term) -> Term {
        typealias S = Symbolic
        if status == .success { return success }
        let low = S.and(index, S.lit(0xFF))
        var acc = S.lit(false)
        for c in conditions where c.status == status {
            acc = S.or(acc, S.and(c.allowed, S.eq(S.and(c.index, S.lit(0xFF)), low)))
        }
        return acc
    }
    public func allowed(status: Status, index: UInt64 = 0) -> Term {
        allowed(status: status, index: Symbolic.lit(index))
    }

    /// Whether the condition labelled `label` fails (false if the command has no such label).
    public func fails(_ label: String) -> Term {
        conditions.first { $0.label == label }?.fails ?? Symbolic.lit(false)
    }
}

extension RMISpec {
    /// Runs `cmd` on a symbolic state with argument terms `args` (X1.., 64-bit; missing ones
    /// are 0) and, for REC_ENTER, the Realm's action. Call inside `Symbolic.withContext`
    /// with the state's context.
    public static func symbolicStep(_ cmd: RMICommand, _ s: SymbolicState, args: [Term],
                                    realm: RealmAction<Symbolic>? = nil) -> SymbolicStep {
        precondition(Symbolic.env === s.env, "symbolicStep: the state belongs to another context than Symbolic.withContext's")
        var m = s
        let e = evaluate(cmd, &m, Call(args.map { SWord(raw: $0) }, realm: realm ?? RealmAction(kind: 0)))
        return symbolicResult(cmd, e, next: m, options: s.options)
    }

    /// The `rec_exit` event run symbolically, the counterpart of `recExit`: REC `rec` (a
    /// REC_ENTER left it running) exits after the Realm's action `realm`. Its conditions
    /// are the event's two (unlisted) malformation conditions; `command` is REC_ENTER, the
    /// call that returns.
    public static func symbolicRecExit(_ s: SymbolicState, rec: Term, realm: RealmAction<Symbolic>) -> SymbolicStep {
        precondition(Symbolic.env === s.env, "symbolicRecExit: the state belongs to another context than Symbolic.withContext's")
        var m = s
        let e = RecEnter.exitRunning(&m, rec: SWord(raw: rec), action: realm)
        return symbolicResult(.recEnter, e, next: m, options: s.options)
    }

    /// As `result`: the allowed results of an evaluation, as terms.
    static func symbolicResult(_ cmd: RMICommand, _ e: Evaluation<Symbolic>, next: SymbolicState,
                               options: SpecOptions) -> SymbolicStep {
        var m = next
        m.flag(m.boundsExceeded)
        let (conditions, success) = symbolicConditions(cmd, e, options: options)
        return SymbolicStep(command: cmd, conditions: conditions, success: success,
                            outputs: e.outputs.map(\.raw), next: m)
    }
}

extension RMISpec {
    /// An evaluation's conditions as terms, each with whether its result is allowed (as
    /// `RMISpec.result`: minimal among the failing conditions), and "no condition fails".
    static func symbolicConditions(_ cmd: RMICommand, _ e: Evaluation<Symbolic>,
                                   options: SpecOptions) -> (conditions: [SymbolicCondition], success: Term) {
        typealias S = Symbolic
        let fails = e.conditions.map(\.fails.raw)
        let order = Ordering.of(cmd)
        let strict = options.contains(.strictListingOrder)
        var conditions: [SymbolicCondition] = []
        for (k, c) in e.conditions.enumerated() {
            var allowed = fails[k]
            for j in e.conditions.indices {
                let before = strict ? j < k : order.precedes(e.conditions[j].label, c.label)
                if before { allowed = S.and(allowed, S.not(fails[j])) }
            }
            conditions.append(SymbolicCondition(label: c.label, status: c.status, fails: c.fails.raw, index: c.index.raw,
                                                outputs: c.outputs.map { $0?.raw }, listed: c.listed, allowed: allowed))
        }
        return (conditions, fails.reduce(S.lit(true)) { S.and($0, S.not($1)) })
    }

    /// `cmd` run on the Granule arrays with argument terms `args`: its success term and the
    /// next state (unchanged when a condition fails). What the run asked that the arrays do
    /// not hold is in `next.unsupported`.
    public static func arrayStep(_ cmd: RMICommand, _ s: GranuleArrays, args: [Term]) -> (success: Term, next: GranuleArrays) {
        precondition(Symbolic.env === s.env, "arrayStep: the state belongs to another context than Symbolic.withContext's")
        var m = s
        let e = evaluate(cmd, &m, Call(args.map { SWord(raw: $0) }, realm: RealmAction(kind: 0)))
        return (symbolicConditions(cmd, e, options: s.options).success, m)
    }
}
