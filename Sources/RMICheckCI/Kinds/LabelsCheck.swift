import Foundation
import RMICheck
import RMISpec

/// `labels`: every failure label and success case of the commands reached by a witness that
/// Z3 finds from the seed traces of a folder (`rmi-check cover --labels-only --seeds`),
/// replayed on the spec and run on RMMImpl, or proved unreachable in the scope. One
/// obligation per command: HOLDS when each of its targets is reached (every witness agreeing
/// on RMMImpl) or UNREACHABLE with a reason, VIOLATED when RMMImpl differs on a witness,
/// VACUOUS when a target is not reached, UNKNOWN when the solver gave up on one.
public struct LabelsCheck: CheckKind {
    public static let kind = "labels"
    public static let summary = "every failure label and success case reached from seed traces (Z3), each witness agreeing on RMMImpl, or proved unreachable"
    var settings: SymbolicSettings
    var seeds: String
    var depth: Int

    public init(_ e: PlanEntry) throws {
        var s = try symbolicSettings(e)
        s.properties = []
        settings = s
        seeds = e.resolve(try e.string("seeds"))
        depth = try e.optionalInt("depth") ?? 1
        if CoverSeeds.files(in: seeds).isEmpty { throw e.fail("seeds", "no *.json trace in \(seeds)") }
    }

    public var obligations: [String] { settings.commands.map(\.rawValue) }

    public func run(_ ctx: CheckContext) throws -> [ObligationResult] {
        var s = settings
        s.budgetSeconds = ctx.budgetSeconds
        let progress = ctx.progress, check = ctx.check
        s.progress = { progress("  \(check): \($0)") }
        let starts: [Trace?] = try CoverSeeds.files(in: seeds).map { try Trace.load(path: $0) }
        var gen = CoverGenerator(settings: s, depth: depth, starts: starts)
        gen.proveUnreached = true
        let report = try gen.run()
        var impl = Conformance(impl: BuiltinRMM(platform: s.scope.platform))
        let method = "cover (Z3 QF_BV) over \(s.scope), \(depth) call(s) from each of \(starts.count) seed traces"
        return try s.commands.map { c in
            func result(_ v: Verdict, _ msg: String, trace: Trace? = nil) -> ObligationResult {
                ObligationResult(name: c.rawValue, verdict: v, method: method, bound: "depth \(depth) per seed", engine: "cover (z3)",
                                 seed: UInt64(s.seed), message: msg, trace: trace.map { .spec($0) },
                                 replay: trace == nil ? nil : "rmi-check replay {trace} --against impl", rule: nil)
            }
            var reached = 0, unreachable: [String] = [], open: [String] = [], unknown: [String] = []
            for (t, v) in report.targets where t.command == c {
                switch v {
                case .reached(let trace):
                    if let d = try impl.check(trace) {
                        return result(.violated, "\(t.id): RMMImpl differs on the witness: \(d)", trace: d.trace)
                    }
                    reached += 1
                case .infeasible(let why): unreachable.append("\(t.name) (\(why))")
                case .unreachable: open.append(t.name)
                case .unknown(let why): unknown.append("\(t.name) (\(why))")
                }
            }
            let shown = "\(reached) targets reached, each witness agreeing on RMMImpl"
                + (unreachable.isEmpty ? "" : "; unreachable: " + unreachable.joined(separator: "; "))
            if !unknown.isEmpty { return result(.unknown, shown + "; undecided: " + unknown.joined(separator: "; ")) }
            if !open.isEmpty { return result(.vacuous, shown + "; not reached: " + open.joined(separator: ", ")) }
            return result(.holds, shown)
        }
    }
}
