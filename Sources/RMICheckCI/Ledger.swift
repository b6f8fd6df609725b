import Foundation
import RMISpec

/// What an obligation came to. Only HOLDS and PROVED pass.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    /// True within a stated bound or scope (explicit search, random conformance, replay).
    case holds = "HOLDS"
    /// True without a bound (induction; the symbolic engines).
    case proved = "PROVED"
    /// A counterexample, with a trace where there is one.
    case violated = "VIOLATED"
    /// Not decided: a bound, a state cap, a time budget or the solver gave up.
    case unknown = "UNKNOWN"
    /// True only because nothing relevant happened: a cover target not reached.
    case vacuous = "VACUOUS"

    public var passes: Bool { self == .holds || self == .proved }
}

/// A place in the source: the spec rule a finding points at.
public struct SourceLocation: Codable, Sendable, Hashable {
    /// Relative to the package root (`Sources/RMISpec/Commands/GranuleCommands.swift`).
    public var file: String
    public var line: Int
    public init(file: String, line: Int) { self.file = file; self.line = max(1, line) }
}

/// The rule a violation breaks: a SARIF rule.
public struct RuleRef: Codable, Sendable, Hashable {
    /// `INV-G1`, `conformance/RMI_GRANULE_UNDELEGATE`, `host/P13`, ...
    public var id: String
    public var summary: String
    public var location: SourceLocation?
    public init(id: String, summary: String, location: SourceLocation?) { self.id = id; self.summary = summary; self.location = location }
}

/// A counterexample or witness to keep next to the reports.
public enum TraceArtifact: Sendable {
    /// A trace file of the spec's format (replayable with `rmi-check replay`).
    case spec(Trace)
    /// Any other text (a host operation trace), with its file extension.
    case text(String, ext: String)
    /// A file that already exists (a corpus trace).
    case existing(String)
}

/// What a check says about one of its obligations.
public struct ObligationResult: Sendable {
    /// The obligation's name below the check ("" for the check's own id).
    public var name: String
    public var verdict: Verdict
    /// How it was decided: the method and its bound or scope.
    public var method: String
    /// The bound, when the verdict is a bounded one ("depth 8", "20000 steps").
    public var bound: String?
    /// The engine (and solver) that decided it.
    public var engine: String
    public var seed: UInt64?
    /// One or a few lines for people.
    public var message: String
    public var trace: TraceArtifact?
    /// The command that replays the trace (`{trace}` stands for its path).
    public var replay: String?
    public var rule: RuleRef?

    public init(name: String, verdict: Verdict, method: String, bound: String? = nil, engine: String,
                seed: UInt64? = nil, message: String, trace: TraceArtifact? = nil, replay: String? = nil,
                rule: RuleRef? = nil) {
        self.name = name; self.verdict = verdict; self.method = method; self.bound = bound; self.engine = engine
        self.seed = seed; self.message = message; self.trace = trace; self.replay = replay; self.rule = rule
    }
}

/// A row of the proof ledger.
public struct LedgerRow: Codable, Sendable {
    public var id: String
    public var check: String
    public var kind: String
    public var verdict: Verdict
    public var method: String
    public var bound: String?
    public var seconds: Double
    public var engine: String
    public var seed: UInt64?
    public var message: String
    /// The trace file, relative to the current folder as `ci` was run.
    public var trace: String?
    public var replay: String?
    public var rule: RuleRef?
    /// An internal error (exit 3), not a finding about the checked system.
    public var internalError: Bool?

    public init(id: String, check: String, kind: String, verdict: Verdict, method: String, bound: String?, seconds: Double,
                engine: String, seed: UInt64?, message: String, trace: String?, replay: String?, rule: RuleRef?,
                internalError: Bool?) {
        self.id = id; self.check = check; self.kind = kind; self.verdict = verdict; self.method = method; self.bound = bound
        self.seconds = seconds; self.engine = engine; self.seed = seed; self.message = message; self.trace = trace
        self.replay = replay; self.rule = rule; self.internalError = internalError
    }
}

/// The proof ledger: what `ci` checked and what came of it.
public struct Ledger: Codable, Sendable {
    public static let formatTag = "rmi-check-ledger/1"
    public struct Shard: Codable, Sendable { public var index: Int; public var count: Int }
    public struct BaselineCheck: Codable, Sendable {
        public var file: String
        /// Ids of the baseline (in this shard's share) that the run did not have.
        public var missing: [String]
        /// Ids the run had that the baseline does not (not a failure; `--update-baseline`).
        public var added: [String]
        public init(file: String, missing: [String], added: [String]) { self.file = file; self.missing = missing; self.added = added }
    }
    public var format = Ledger.formatTag
    public var plan: String
    public var shard: Shard?
    public var started: String
    public var seconds: Double
    public var baseline: BaselineCheck?
    public var obligations: [LedgerRow]
    /// Why the run fails beyond its rows (no obligation ran, obligations dropped).
    public var gateFailures: [String]

    public init(plan: String, shard: Shard?, started: String, seconds: Double, baseline: BaselineCheck?,
                obligations: [LedgerRow], gateFailures: [String]) {
        self.plan = plan; self.shard = shard; self.started = started; self.seconds = seconds; self.baseline = baseline
        self.obligations = obligations; self.gateFailures = gateFailures
    }

    public func count(_ v: Verdict) -> Int { obligations.filter { $0.verdict == v }.count }
    public var internalErrors: Int { obligations.filter { $0.internalError == true }.count }

    /// The run's outcome, as the CLI's exit code: 3 internal error, 1 a violation or a
    /// dropped obligation, 2 unknown or vacuous, 65 nothing ran, 0 all hold.
    public var status: CIStatus {
        if internalErrors > 0 { return .internalError }
        if count(.violated) > 0 || !(baseline?.missing.isEmpty ?? true) { return .violated }
        if count(.unknown) > 0 || count(.vacuous) > 0 { return .unknown }
        if obligations.isEmpty { return .nothingRan }
        return .passed
    }

    public func json() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try! e.encode(self) + Data("\n".utf8)
    }
}

public enum CIStatus: Sendable, Equatable {
    case passed, violated, unknown, internalError, nothingRan
    public var word: String {
        switch self {
        case .passed: "PASSED"
        case .violated: "FAILED (violated)"
        case .unknown: "FAILED (undecided)"
        case .internalError: "FAILED (internal error)"
        case .nothingRan: "FAILED (no obligation ran)"
        }
    }
}
