import Foundation
import RMICheck
import RMISpec

/// `bmc`: spec properties checked by bounded model checking (Z3) to a depth over a scope.
/// One obligation per property (and REFINES-SPEC under a weakening); a property whose cover
/// target no run of the depth reaches is VACUOUS.
public struct BMCCheck: CheckKind {
    public static let kind = "bmc"
    public static let summary = "spec properties (INV-*) checked by bounded model checking (Z3) to a depth over a scope"
    var settings: SymbolicSettings
    var depth: Int

    public init(_ e: PlanEntry) throws {
        settings = try symbolicSettings(e)
        depth = try e.optionalInt("depth") ?? 3
    }

    public var obligations: [String] { BoundedModelChecker(settings: settings, depth: depth).targets.map(\.name) }

    public func run(_ ctx: CheckContext) throws -> [ObligationResult] {
        var s = settings
        s.budgetSeconds = ctx.budgetSeconds
        let progress = ctx.progress
        let check = ctx.check
        s.progress = { progress("  \(check): \($0)") }
        let report = try BoundedModelChecker(settings: s, depth: depth).run()
        let method = "bounded model checking (Z3 QF_BV, incremental) over \(s.scope)"
            + (s.commands.count < RMICommand.allCases.count ? ", commands \(s.commands.map(\.rawValue).joined(separator: ","))" : "")
        return report.outcomes.map { o in
            let rule = o.target.property.map(SpecSource.propertyRule)
            func result(_ v: Verdict, _ msg: String, bound: String? = nil, trace: Trace? = nil) -> ObligationResult {
                ObligationResult(name: o.target.name, verdict: v, method: method, bound: bound, engine: "bmc (z3)",
                                 seed: UInt64(s.seed), message: msg, trace: trace.map { .spec($0) },
                                 replay: trace == nil ? nil : "rmi-check replay {trace}", rule: rule)
            }
            switch o.verdict {
            case .violated(let t):
                return result(.violated, "\(o.target.name) (\(o.target.summary)) is violated: shortest counterexample of \(t.steps.count) calls, replayed on the spec", trace: t)
            case .unknown(let r):
                return result(.unknown, r)
            case .proved(let m, let c):
                return result(.proved, "proved by \(m), covering \(c)")
            case .holds(let b):
                switch o.cover {
                case .reached(let t)?:
                    return result(.holds, "no run of <= \(b) calls violates it; cover reached in \(t.steps.count) calls", bound: "depth \(b)")
                case .unreachable(let k)?:
                    return result(.vacuous, "holds, but no run of <= \(k) calls reaches its cover target", bound: "depth \(b)")
                case .infeasible(let r)?:
                    return result(.vacuous, "holds, but its cover target is unreachable: \(r)", bound: "depth \(b)")
                case .unknown(let r)?:
                    return result(.unknown, "holds to depth \(b), but its cover is undecided: \(r)", bound: "depth \(b)")
                case nil:
                    return result(.holds, "no run of <= \(b) calls violates it", bound: "depth \(b)")
                }
            }
        }
    }
}

/// The fields the symbolic kinds share: `scope`, `properties`, `commands`, `spec_options`,
/// `seed`, `rlimit`.
func symbolicSettings(_ e: PlanEntry) throws -> SymbolicSettings {
    var s = SymbolicSettings()
    do { s.scope = try Scope(parsing: try e.optionalString("scope") ?? "") } catch { throw e.fail("scope", "\(error)") }
    s.properties = try ExplicitFields.properties(e, "properties", default: Invariant.specProperties)
    if let names = try e.optionalStrings("commands") {
        s.commands = try names.enumerated().map { i, n in
            guard let c = RMICommand(name: n) else { throw e.fail("commands[\(i)]", "unknown command '\(n)'") }
            return c
        }
        if s.commands.isEmpty { throw e.fail("commands", "the list is empty") }
    }
    for (i, n) in (try e.optionalStrings("spec_options") ?? []).enumerated() {
        guard let o = SpecOptions.named.first(where: { $0.0 == n }) else {
            throw e.fail("spec_options[\(i)]", "unknown option '\(n)' (known: \(SpecOptions.named.map(\.0).joined(separator: ", ")))")
        }
        s.specOptions.insert(o.1)
    }
    s.seed = UInt32(truncatingIfNeeded: try e.optionalUInt64("seed") ?? 0)
    s.rlimit = try e.optionalUInt64("rlimit")
    return s
}
