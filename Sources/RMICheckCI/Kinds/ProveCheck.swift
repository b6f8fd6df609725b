import Foundation
import RMICheck
import RMISpec

/// `prove`: spec properties proved for every reachable state of a scope by k-induction or
/// by Spacer (`method`), with Z3; with `every_address`, for every address (any memory size). One obligation per property: PROVED, VIOLATED (base case), UNKNOWN (a
/// counterexample to induction, or the solver gave up), VACUOUS (proved, but no run of the
/// base case's depth reaches its cover target).
public struct ProveCheck: CheckKind {
    public static let kind = "prove"
    public static let summary = "spec properties (INV-*) proved by k-induction or Spacer (Z3) for every state of a scope"
    var settings: SymbolicSettings
    var k: Int
    var lemmas: [Invariant]?
    var coverDepth: Int
    var spacer: Bool
    var everyAddress: Bool
    /// Nil: the prover's default pool for the commands.
    var encodingLemmas: [EveryAddressProver.EncodingLemma]?

    public init(_ e: PlanEntry) throws {
        var s = try symbolicSettings(e)
        s.properties = s.properties.filter { $0.kind == .always || $0.kind == .step }
        lemmas = e.has("assume") ? try ExplicitFields.properties(e, "assume", default: []) : nil
        k = try e.optionalInt("k", min: 1) ?? 1
        coverDepth = try e.optionalInt("cover_depth") ?? 3
        switch try e.optionalString("method") ?? "induction" {
        case "induction": spacer = false
        case "spacer":
            spacer = true
            if e.has("assume") || e.has("k") { throw e.fail("method", "spacer infers its own invariant: 'assume' and 'k' are for induction") }
        case let m: throw e.fail("method", "unknown method '\(m)' (known: induction, spacer)")
        }
        everyAddress = try e.optionalBool("every_address") ?? false
        if everyAddress && !spacer && k != 1 { throw e.fail("k", "every_address proves by 1-induction") }
        if everyAddress && !spacer {
            for p in s.properties { if let why = EveryAddressProver.unsupported(p) { throw e.fail("properties", why) } }
        }
        if let names = try e.optionalStrings("encoding_lemmas") {
            guard everyAddress && !spacer else { throw e.fail("encoding_lemmas", "only every_address with method induction has encoding lemmas") }
            do { encodingLemmas = try EveryAddressProver.encodingLemmas(named: names) } catch { throw e.fail("encoding_lemmas", "\(error)") }
        }
        settings = s
    }

    public var obligations: [String] { settings.properties.map(\.rawValue) }

    public func run(_ ctx: CheckContext) throws -> [ObligationResult] {
        var s = settings
        s.budgetSeconds = ctx.budgetSeconds
        let progress = ctx.progress, check = ctx.check
        s.progress = { progress("  \(check): \($0)") }
        let outcomes = spacer ? try SpacerProver(settings: s, coverDepth: coverDepth, everyAddress: everyAddress).run().outcomes
            : everyAddress ? try EveryAddressProver(settings: s, lemmas: lemmas, coverDepth: coverDepth, encodingLemmas: encodingLemmas).run().outcomes
            : try InductionProver(settings: s, k: k, strengthening: lemmas, coverDepth: coverDepth).run().outcomes
        return outcomes.map { o in
            let rule = o.target.property.map(SpecSource.propertyRule)
            func result(_ v: Verdict, _ method: String, _ msg: String, trace: Trace? = nil) -> ObligationResult {
                ObligationResult(name: o.target.name, verdict: v, method: method, bound: nil, engine: "prove (z3)",
                                 seed: UInt64(s.seed), message: msg, trace: trace.map { .spec($0) },
                                 replay: trace == nil ? nil : "rmi-check replay {trace}", rule: rule)
            }
            let method = spacer ? (everyAddress ? "Spacer over every address" : "Spacer over \(s.scope)")
                : everyAddress ? "1-induction over every address" : "\(k)-induction over \(s.scope)"
            switch o.verdict {
            case .proved(let m, let c):
                if case .reached = o.cover { return result(.proved, m, "proved for \(c)") }
                return result(.vacuous, m, "proved for \(c), but no run of <= \(coverDepth) calls reaches its cover target")
            case .violated(let t):
                return result(.violated, method, "violated in the base case: \(t.steps.count) calls, replayed", trace: t)
            case .holds(let b):
                return result(.unknown, method, "holds to depth \(b) but was not proved")
            case .unknown(let why):
                return result(.unknown, method, why)
            }
        }
    }
}
