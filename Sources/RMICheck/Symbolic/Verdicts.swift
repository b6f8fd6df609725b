import SMT
import RMISpec

/// The answer of a symbolic engine for one property. Never a pass when the solver did not
/// decide: that is `unknown`, with the reason.
public enum PropertyVerdict: Sendable {
    /// No run of at most `bound` calls from the initial state violates it (within the scope).
    case holds(bound: Int)
    /// Holds in every reachable state, by `method`, covering `coverage` (e.g. "the scope").
    case proved(method: String, coverage: String)
    /// A run of `trace.steps.count` calls violates it; replayed on the concrete interpreter.
    case violated(trace: Trace)
    case unknown(reason: String)

    public var name: String {
        switch self {
        case .holds: "HOLDS"
        case .proved: "PROVED"
        case .violated: "VIOLATED"
        case .unknown: "UNKNOWN"
        }
    }
}

/// Whether a property's cover target (or a label, or a success case) is reachable.
public enum CoverVerdict: Sendable {
    /// Reached by `trace` (shortest within the search), replayed.
    case reached(trace: Trace)
    /// No run of at most `bound` calls from the initial state reaches it.
    case unreachable(bound: Int)
    /// No run of any length reaches it in the scope; `reason` says why (a solver's UNSAT
    /// answer over every well-formed state of the scope, say).
    case infeasible(reason: String)
    case unknown(reason: String)

    public var isReached: Bool { if case .reached = self { true } else { false } }
}

/// A target a symbolic engine checks: a property INV-*, or REFINES-SPEC (a deliberately
/// weakened spec against the spec).
public struct CheckTarget: Hashable, Sendable {
    public var name: String
    /// always, step or sometimes.
    public var kind: String
    public var summary: String

    public init(_ p: Invariant) { name = p.rawValue; kind = p.kind.rawValue; summary = p.summary }
    public static let refinesSpec = CheckTarget(name: "REFINES-SPEC", kind: "step",
        summary: "every step of the weakened spec gives a result the spec allows, and on success the spec's outputs and next state")
    init(name: String, kind: String, summary: String) { self.name = name; self.kind = kind; self.summary = summary }
    public var property: Invariant? { Invariant(rawValue: name) }
}

/// One target's result: its verdict and its cover target's.
public struct PropertyOutcome: Sendable {
    public var target: CheckTarget
    public var verdict: PropertyVerdict
    public var cover: CoverVerdict?
}

/// Settings shared by the symbolic engines.
public struct SymbolicSettings: Sendable {
    public var scope: Scope = .default
    public var specOptions: SpecOptions = []
    public var properties: [Invariant] = Invariant.specProperties
    /// The commands a step may call (default: all 23).
    public var commands: [RMICommand] = RMICommand.allCases
    /// Whether a step may also be another agent changing the GPT entry of an UNDELEGATED
    /// Granule (to anything but GPT_REALM), as traces' `set_gpt` events do.
    public var gptEvents = true
    /// Whether a step may also end a REC_ENTER that left its REC running (`stay_running`):
    /// the REC exits after a Realm action, as traces' `rec_exit` events do.
    public var recExitEvents = true
    /// Runs start where this trace ends (on the scope's platform) instead of at the initial
    /// state; every trace found begins with its steps.
    public var from: Trace?
    /// Wall-clock limit per solver query (a backstop; not reproducible).
    public var timeoutMs: UInt32?
    /// Z3 resource limit per query (reproducible).
    public var rlimit: UInt64?
    /// Total budget in seconds; what is undecided when it runs out is UNKNOWN.
    public var budgetSeconds: Double?
    /// The solver's random seed (printed, for reproducible runs).
    public var seed: UInt32 = 0
    /// Also look for each property's cover target.
    public var covers = true
    /// Progress lines (for standard error).
    public var progress: (@Sendable (String) -> Void)?

    public init() {}
}

extension SymbolicSettings {
    /// Starts the budget's clock on `token`: when it runs out, the running question is
    /// interrupted and every later one answers unknown, so the engine ends with what it has
    /// decided and UNKNOWN for the rest. Each engine calls it when its run starts.
    func startBudget(_ token: CancellationToken) {
        if let b = budgetSeconds { token.cancel(after: b, reason: "the time budget of \(String(format: "%g", b)) s ran out") }
    }

    /// The incremental QF_BV solver every engine asks, with the settings' seed, per-query
    /// timeout and resource limit.
    func solver(_ ctx: Context) throws -> Solver {
        let solver = Solver(ctx, logic: "QF_BV")
        try solver.setSeed(seed)
        if let ms = timeoutMs { try solver.setTimeout(ms: ms) }
        if let r = rlimit { try solver.setRlimit(r) }
        return solver
    }
}
