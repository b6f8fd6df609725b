import RMISpec
import SMT

/// The transition relation of the spec, unrolled step by step over a scope: the state
/// `s0` is the scope's initial state; step `k` is the Host's move (NS memory and the
/// contents of the Granules it can write become arbitrary), then one RMI call chosen by
/// the solver — any command of `alphabet`, any 64-bit arguments, and for REC_ENTER any
/// Realm action with any arguments — whose next state is the fresh state `s(k+1)`; or,
/// instead of the call, another agent's GPT change or the exit of a running REC (see
/// `extend`). A run that leaves the scope (a write the scope cannot hold, more Realms or
/// RECs than it allows) is not a run: each step asserts `!outOfScope`.
///
/// Every command is `RMISpec.symbolicStep`, the definition the concrete interpreter runs.
/// Build and use inside `Symbolic.withContext` on one thread.
final class Unrolling {
    /// The free variables of one step and the terms an engine reads back from a model.
    struct Step {
        /// Index into `alphabet`, or one of the events after it (`gptEventIndex`, `recExitIndex`).
        let command: Term
        /// X1..X5.
        let args: [Term]
        let realmKind: Term
        let realmArgs: [Term]
        /// The state after the Host's move: the call's pre-state.
        let pre: SymbolicState
        /// Per command of the alphabet: its success term and its conditions (to read the
        /// result a model gives).
        let results: [(success: Term, conditions: [SymbolicCondition])]
        /// The same for the `rec_exit` event (nil when the relation has none).
        let recExit: (success: Term, conditions: [SymbolicCondition])?
    }

    /// What one depth adds: the constraints that define the step (assert them outright)
    /// and the terms of each property at the new depth.
    struct Depth {
        var transition: [Term] = []
        /// Per target name (a property's `rawValue`, or `Unrolling.refines`): "violated at
        /// this depth" (in the state reached, or by the step).
        var bad: [String: Term] = [:]
        /// Per target name: "its cover target is reached at this depth".
        var cover: [String: Term] = [:]
    }

    let scope: Scope
    let options: SpecOptions
    let alphabet: [RMICommand]
    let properties: [Invariant]
    /// Whether a step may also be another agent's GPT change (see `extend`).
    var gptEvents = false
    /// Whether a step may also be the exit of a REC that a REC_ENTER left running (see `extend`).
    var recExitEvents = false
    /// The values of a step's `command` that choose an event rather than a command.
    var gptEventIndex: Int? { gptEvents ? alphabet.count : nil }
    var recExitIndex: Int? { recExitEvents ? alphabet.count + (gptEvents ? 1 : 0) : nil }
    private(set) var states: [SymbolicState]
    /// Per step, the state the call leads to as terms over the step's pre-state (before
    /// `states` gives it fresh names): formulas over it share every field the call left
    /// alone with formulas over the pre-state.
    private(set) var nexts: [SymbolicState] = []
    private(set) var steps: [Step] = []
    /// The steps that lead to `states[0]` (a seed trace's), put in front of every trace.
    private(set) var prefix: [TraceStep] = []

    /// From the scope's initial state, or from `start` (an arbitrary state, for induction).
    init(scope: Scope, options: SpecOptions, alphabet: [RMICommand] = RMICommand.allCases, properties: [Invariant],
         start: SymbolicState? = nil) {
        self.scope = scope
        self.options = options
        self.alphabet = alphabet
        self.properties = properties
        states = [start ?? SymbolicState.initial(scope: scope, options: options)]
    }

    /// From the state `seed` reaches (replayed on the spec; it must fit the scope and use
    /// its platform). Call inside `Symbolic.withContext`.
    convenience init(scope: Scope, options: SpecOptions, alphabet: [RMICommand], properties: [Invariant], seed: Trace) throws {
        guard seed.platform == scope.platform else {
            throw StartingTraceError(message: "the starting trace's platform is not the scope's (\(scope)): build it on the scope's platform")
        }
        let r = seed.replay()
        if let m = r.mismatch { throw StartingTraceError(message: "the starting trace does not replay on the spec: \(m)") }
        let start: SymbolicState
        do { start = try SymbolicState.constant(from: r.finalState.with(options: options), scope: scope) } catch {
            throw StartingTraceError(message: "the starting trace's final state does not fit the scope: \(error)")
        }
        self.init(scope: scope, options: options, alphabet: alphabet, properties: properties, start: start)
        prefix = seed.steps
    }

    /// The unrolling the settings ask for: from the initial state, or from `settings.from`.
    static func make(_ s: SymbolicSettings) throws -> Unrolling {
        let u = try s.from.map { try Unrolling(scope: s.scope, options: s.specOptions, alphabet: s.commands, properties: s.properties, seed: $0) }
            ?? Unrolling(scope: s.scope, options: s.specOptions, alphabet: s.commands, properties: s.properties)
        u.gptEvents = s.gptEvents
        u.recExitEvents = s.recExitEvents
        return u
    }

    var depth: Int { steps.count }

    /// The target checked when `options` has deliberate weakenings: every step of the
    /// weakened spec is a step of the spec (its result is one the spec allows and, on
    /// success, the outputs and next state are the spec's).
    static let refines = "REFINES-SPEC"
    var checksRefinement: Bool { !options.intersection(.weakenings).isEmpty }

    /// "The weakened step `w` gives only what the spec step `s` allows" (same pre-state).
    static func refines(_ w: SymbolicStep, _ s: SymbolicStep) -> Term {
        typealias S = Symbolic
        func implies(_ a: Term, _ b: Term) -> Term { S.or(S.not(a), b) }
        var ok = implies(w.success, s.success)
        for c in w.conditions {
            ok = S.and(ok, implies(c.allowed, s.allowed(status: c.status, index: c.index)))
        }
        // The ghost mark of a weakening (`RttField.leaked`) is not an observable difference:
        // the spec's commands ignore it; what it changes later shows as a later step's result.
        var same = w.next.forgettingLeaks.equal(s.next.forgettingLeaks)
        for (a, b) in zip(w.outputs, s.outputs) { same = S.and(same, S.eq(a, b)) }
        return S.and(ok, implies(S.and(w.success, s.success), same))
    }

    /// The state properties at depth 0.
    func initialDepth() -> Depth {
        var d = Depth()
        addStateTerms(states[0], to: &d)
        return d
    }

    private func addStateTerms(_ s: SymbolicState, to d: inout Depth) {
        for p in properties {
            switch p.kind {
            case .always:
                d.bad[p.rawValue] = Symbolic.not(p.holds(in: s).raw)
                d.cover[p.rawValue] = p.cover(in: s).raw
            case .sometimes:
                d.cover[p.rawValue] = p.cover(in: s).raw
            case .step, .implementation:
                break
            }
        }
    }

    /// Adds one step.
    func extend() -> Depth {
        typealias S = Symbolic
        let k = steps.count
        var pre = states[k]
        _ = pre.havocHost(prefix: "h\(k)")
        let v = "x\(k)"
        let command = S.variable("\(v).cmd")
        let args = (1...5).map { S.variable("\(v).x\($0)") }
        let realmKind = S.variable("\(v).realm")
        let realmArgs = (0..<4).map { S.variable("\(v).a\($0)") }
        let action = RealmAction<Symbolic>(kind: SWord(raw: realmKind), args: realmArgs.map { SWord(raw: $0) })
        let stepProperties = properties.filter { $0.kind == .step }

        var d = Depth()
        var merged: SymbolicState?
        var results: [(success: Term, conditions: [SymbolicCondition])] = []
        var bad: [String: Term] = [:], cover: [String: Term] = [:]
        // The step properties on step `st` (arguments `args`) when `chosen`.
        func addStepProperties(_ chosen: Term, _ st: SymbolicStep, args: [Term]) {
            if stepProperties.isEmpty { return }
            let view = StepView(pre: pre, post: st.next, command: st.command, args: args.map { SWord(raw: $0) },
                                succeeded: SBit(raw: st.success), unchanged: SBit(raw: pre.equal(st.next)))
            for p in stepProperties {
                bad[p.rawValue] = S.or(bad[p.rawValue] ?? S.lit(false), S.and(chosen, S.not(p.holds(on: view).raw)))
                cover[p.rawValue] = S.or(cover[p.rawValue] ?? S.lit(false), S.and(chosen, p.cover(on: view).raw))
            }
        }
        for (i, c) in alphabet.enumerated() {
            let st = RMISpec.symbolicStep(c, pre, args: args, realm: c == .recEnter ? action : nil)
            results.append((st.success, st.conditions))
            let chosen = S.eq(command, S.lit(UInt64(i)))
            merged = merged.map { SymbolicState.select(chosen, st.next, $0) } ?? st.next
            if checksRefinement {
                let spec = RMISpec.symbolicStep(c, pre.with(options: options.subtracting(.weakenings)), args: args,
                                                realm: c == .recEnter ? action : nil)
                let differs = S.and(chosen, S.not(Unrolling.refines(st, spec)))
                bad[Unrolling.refines] = S.or(bad[Unrolling.refines] ?? S.lit(false), differs)
                cover[Unrolling.refines] = S.or(cover[Unrolling.refines] ?? S.lit(false), S.and(chosen, st.success))
            }
            addStepProperties(chosen, st, args: args)
        }
        // Another agent's GPT change (`Machine.otherAgentSetsGPT`), chosen as the index after
        // the commands; args[0] is the address, args[1] the new GPT.
        if let gptEventIndex {
            var m = pre
            let gptEvent = S.eq(command, S.lit(UInt64(gptEventIndex)))
            let applies = m.otherAgentSetsGPT(SWord(raw: args[0]), SWord(raw: args[1])).raw
            merged = merged.map { SymbolicState.select(gptEvent, m, $0) } ?? m
            d.transition.append(S.or(S.not(gptEvent), applies))
        }
        // The end of a REC_ENTER whose Realm action was `stay_running` (a trace's `rec_exit`
        // event): args[0] is the REC, the Realm's action is the step's. A malformed event
        // (the REC is not running, or the action is `stay_running` again) is not a move. Its
        // step is REC_ENTER's, with the run_ptr of that call, as `checkProperties` sees it.
        // REFINES-SPEC does not look at it: no weakening changes the exit.
        var recExit: (success: Term, conditions: [SymbolicCondition])?
        if let recExitIndex {
            let st = RMISpec.symbolicRecExit(pre, rec: args[0], realm: action)
            let chosen = S.eq(command, S.lit(UInt64(recExitIndex)))
            merged = merged.map { SymbolicState.select(chosen, st.next, $0) } ?? st.next
            d.transition.append(S.or(S.not(chosen), st.success))
            addStepProperties(chosen, st, args: [args[0], pre.rec(SWord(raw: args[0]), .runPtr).raw])
            recExit = (st.success, st.conditions)
        }
        nexts.append(merged!)
        let (next, equalities) = merged!.freshened(prefix: "s\(k + 1)")
        d.transition += [
            S.ult(command, S.lit(UInt64(alphabet.count + (gptEvents ? 1 : 0) + (recExitEvents ? 1 : 0)))),
            S.ult(realmKind, S.lit(UInt64(RealmActionKind.allCases.count))),
            S.not(merged!.outOfScope),
        ] + equalities
        d.bad.merge(bad) { a, _ in a }
        d.cover.merge(cover) { a, _ in a }
        addStateTerms(next, to: &d)
        steps.append(Step(command: command, args: args, realmKind: realmKind, realmArgs: realmArgs, pre: pre,
                          results: results, recExit: recExit))
        states.append(next)
        return d
    }
}

/// A `--from` trace the engines cannot start from (bad input, not a checker defect).
public struct StartingTraceError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
