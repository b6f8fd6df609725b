import Foundation
import RMISpec
import SMT

/// Self-checks of the spec's failure conditions, command by command, over every
/// well-formed state of a scope (states no run reaches included, so a finding is a warning
/// to read, with its witness):
/// * **ambiguous**: two conditions that can both give the result (both fail, neither is
///   preceded by another failing one) with different results (status or index);
/// * **never fires**: a condition whose result can never be given (an earlier condition
///   always covers it);
/// * **success unreachable**: no state and arguments make the command succeed.
public struct SpecLint: Sendable {
    public var settings: SymbolicSettings

    public init(settings: SymbolicSettings) { self.settings = settings }

    public struct Finding: Sendable {
        public enum Kind: String, Sendable { case ambiguous, neverFires = "never-fires", successUnreachable = "success-unreachable" }
        public var kind: Kind
        public var command: RMICommand
        public var labels: [String]
        /// The witness: the state (as changes from the initial state) and the arguments.
        public var witness: [String]
    }

    public struct Report: Sendable {
        public var findings: [Finding]
        public var queries: Int
        /// Queries the solver did not decide (each named), so that a clean report is not
        /// mistaken for a complete one.
        public var undecided: [String]
    }

    public func run(token: CancellationToken = CancellationToken()) throws -> Report {
        settings.startBudget(token)
        let me = self
        return try runZ3Blocking(token: token) { token in try me.lint(token) }
    }

    private func lint(_ token: CancellationToken) throws -> Report {
        var findings: [Finding] = []
        var undecided: [String] = []
        var queries = 0
        for cmd in settings.commands {
            try withQueries(cmd, token, &queries, &undecided) { step, args, pre, ask in
                let ctx = Symbolic.context
                func witness(_ m: Model) throws -> [String] {
                    let st = try pre.concretize(m)
                    let changes = SpecState(platform: st.platform, options: st.options).diff(st)
                    let shown = try args.prefix(cmd.inputs.count).enumerated().map { i, a in "\(cmd.inputs[i])=\(hex(try m.bvValue(a)))" }
                    return ["arguments: " + shown.joined(separator: " ")] + changes.prefix(12)
                }
                if case .unsat = try ask(step.success, "success") {
                    findings.append(Finding(kind: .successUnreachable, command: cmd, labels: [], witness: []))
                }
                let conds = step.conditions
                for c in conds {
                    if case .unsat = try ask(c.allowed, c.label) {
                        findings.append(Finding(kind: .neverFires, command: cmd, labels: [c.label], witness: []))
                    }
                }
                for i in conds.indices {
                    for j in conds.indices where j > i {
                        let a = conds[i], b = conds[j]
                        if RMISpec.precedes(cmd, a.label, b.label) || RMISpec.precedes(cmd, b.label, a.label) { continue }
                        let differ: Term = a.status != b.status ? ctx.bool(true)
                            : ctx.not(ctx.eq(ctx.bvand(a.index, ctx.bv(0xFF, width: 64)), ctx.bvand(b.index, ctx.bv(0xFF, width: 64))))
                        if case .sat(let m) = try ask(ctx.and([a.allowed, b.allowed, differ]), "\(a.label)+\(b.label)") {
                            findings.append(Finding(kind: .ambiguous, command: cmd, labels: [a.label, b.label], witness: try witness(m)))
                        }
                    }
                }
            }
        }
        return Report(findings: findings, queries: queries, undecided: undecided)
    }

    /// The answer to one lint query.
    enum Answer { case sat(Model), unsat, unknown }

    /// Sets up the queries about one call of `cmd` (a fresh well-formed pre-state of the
    /// scope whose objects match their Granules, symbolic arguments and Realm action, the
    /// next state in scope) and hands `body` the step, the arguments, the pre-state and
    /// `ask`, which decides one term under its own activation literal (an undecided query
    /// is recorded in `undecided`). Does nothing when no state is in scope.
    private func withQueries(_ cmd: RMICommand, _ token: CancellationToken, _ queries: inout Int, _ undecided: inout [String],
                             _ body: (SymbolicStep, [Term], SymbolicState, (Term, String) throws -> Answer) throws -> Void) throws {
        let s = settings
        let ctx = Context(cancellation: token)
        try Symbolic.withContext(ctx) {
            let pre = SymbolicState.fresh(scope: s.scope, prefix: "pre", options: s.specOptions)
            let args = (1...5).map { Symbolic.variable("x\($0)") }
            let kind = Symbolic.variable("realm"), ra = (0..<4).map { Symbolic.variable("a\($0)") }
            let action = RealmAction<Symbolic>(kind: SWord(raw: kind), args: ra.map { SWord(raw: $0) })
            let step = RMISpec.symbolicStep(cmd, pre, args: args, realm: cmd == .recEnter ? action : nil)
            var limited = s
            limited.timeoutMs = s.timeoutMs ?? 20_000
            let solver = try limited.solver(ctx)
            try solver.assert(pre.wellFormed)
            try solver.assert(pre.objectsMatchGranuleStates)
            try solver.assert(ctx.not(step.next.outOfScope))
            func ask(_ t: Term, _ what: String) throws -> Answer {
                queries += 1
                let act = ctx.boolConst("rmi!lint\(queries)")
                try solver.assert(ctx.implies(act, t))
                let r: CheckResult
                do { r = try solver.check(assumptions: [act]) } catch let e as Z3Error { r = .unknown(reason: "\(e)") }
                let m = r == .sat ? try solver.model() : nil
                try solver.assert(ctx.not(act))
                switch r {
                case .sat: return .sat(m!)
                case .unsat: return .unsat
                case .unknown(let why):
                    undecided.append("\(cmd.rawValue): \(what): \(why)")
                    return .unknown
                }
            }
            if case .unsat = try ask(ctx.bool(true), "some state in scope") { return }
            try body(step, args, pre, ask)
        }
    }

    /// Which of `targets` of `cmd` (failure labels, or "success") no call can give, in any
    /// well-formed state of the scope with any arguments: the solver answered UNSAT, so no
    /// run of any length reaches them (every reachable state is such a state). Targets the
    /// solver could give, or did not decide, are not returned.
    public func neverGiven(_ cmd: RMICommand, _ targets: [String], token: CancellationToken = CancellationToken()) throws -> Set<String> {
        let me = self
        return try runZ3Blocking(token: token) { token in
            var out = Set<String>(), queries = 0, undecided: [String] = []
            try me.withQueries(cmd, token, &queries, &undecided) { step, _, _, ask in
                for t in targets {
                    let term = t == "success" ? step.success : step.conditions.first { $0.label == t }?.allowed
                    guard let term else { continue }
                    if case .unsat = try ask(term, t) { out.insert(t) }
                }
            }
            return out
        }
    }
}
