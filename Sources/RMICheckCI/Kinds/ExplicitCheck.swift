import Explicit
import Foundation
import RMISpec

/// Reads the fields the explicit-search kinds share.
struct ExplicitFields {
    var scopes: [ExplicitScope]
    var depth: Int?
    var maxStates: Int?
    var workers: Int?
    var symmetry: Bool

    init(_ e: PlanEntry) throws {
        let text: String
        if let list = try e.optionalStrings("scopes") { text = list.joined(separator: ";") } else { text = ExplicitScope.defaultPlan }
        do { scopes = try ExplicitScope.parsePlan(text) } catch { throw e.fail("scopes", "\(error)") }
        depth = try e.optionalInt("depth")
        maxStates = try e.optionalInt("max_states", min: 1)
        workers = try e.optionalInt("workers", min: 1)
        symmetry = try e.optionalBool("symmetry") ?? true
    }

    static func properties(_ e: PlanEntry, _ key: String, default d: [Invariant]) throws -> [Invariant] {
        guard let names = try e.optionalStrings(key) else { return d }
        if names == ["all"] { return d }
        var out: [Invariant] = []
        for (i, n) in names.enumerated() {
            let want = n.uppercased().hasPrefix("INV-") ? n.uppercased() : "INV-" + n.uppercased()
            guard let p = Invariant(rawValue: want), p.kind != .implementation else {
                throw e.fail("\(key)[\(i)]", "unknown property '\(n)' (known: \(Invariant.specProperties.map(\.rawValue).joined(separator: ", ")))")
            }
            guard !out.contains(p) else { throw e.fail("\(key)[\(i)]", "\(p.rawValue) is listed twice") }
            out.append(p)
        }
        guard !out.isEmpty else { throw e.fail(key, "the list is empty") }
        return out
    }

    var scopeText: String { scopes.map(\.description).joined(separator: "; ") }

    /// Searches every scope for `props`; per property: violation, witness, cover depth.
    struct Merged {
        var violated: Trace?, witness: Trace?, cover: (Int, String)?, hasCover = false, kind = ""
    }
    func search(_ props: [Invariant], _ ctx: CheckContext) throws -> (merged: [String: Merged], cut: [String], seconds: Double) {
        var merged: [String: Merged] = [:]
        var cut: [String] = []
        var seconds = 0.0
        for sc in scopes {
            var o = ExplicitOptions(scope: sc)
            o.symmetry = symmetry
            o.maxDepth = depth
            o.maxStates = maxStates
            o.properties = props
            if let workers { o.workers = workers }
            let progress = ctx.progress
            o.progress = { p in progress("  \(ctx.check): \(p)") }
            let r = try ExplicitSearch(o).run()
            seconds += r.seconds
            ctx.progress("  \(ctx.check): scope \(sc): \(r.distinct) distinct states, depth \(r.depth), \(r.cut.map { "cut at \($0)" } ?? "exhaustive"), \(String(format: "%.1f", r.seconds)) s")
            if let c = r.cut { cut.append("\(sc): \(c)") }
            for oc in r.outcomes {
                var m = merged[oc.name] ?? Merged(hasCover: oc.hasCover, kind: oc.kind)
                if m.cover == nil, let d = oc.coverDepth { m.cover = (d, sc.description) }
                switch oc.verdict {
                case .violated(let t): if m.violated == nil || t.steps.count < m.violated!.steps.count { m.violated = t }
                case .witnessed(let t): if m.witness == nil || t.steps.count < m.witness!.steps.count { m.witness = t }
                case .holds, .notReached: break
                }
                merged[oc.name] = m
            }
        }
        return (merged, cut, seconds)
    }

    var method: String { "explicit-state search (breadth first\(symmetry ? ", symmetry reduced" : "")) over scopes \(scopeText)" }
    func bound(_ cut: [String]) -> String { cut.isEmpty ? "exhaustive within the scopes" : "bounded: " + cut.joined(separator: "; ") }
}

/// `explicit`: properties checked in every state of bounded scopes. One obligation per
/// property; a property whose cover target no state reaches is VACUOUS.
public struct ExplicitCheck: CheckKind {
    public static let kind = "explicit"
    public static let summary = "spec properties (INV-*) checked by explicit-state search over scopes"
    var fields: ExplicitFields
    var properties: [Invariant]

    public init(_ e: PlanEntry) throws {
        fields = try ExplicitFields(e)
        properties = try ExplicitFields.properties(e, "properties", default: Invariant.specProperties)
    }

    public var obligations: [String] { properties.map(\.rawValue) }

    public func run(_ ctx: CheckContext) throws -> [ObligationResult] {
        let (merged, cut, _) = try fields.search(properties, ctx)
        let bound = fields.bound(cut)
        return properties.map { p in
            let m = merged[p.rawValue] ?? ExplicitFields.Merged()
            func result(_ v: Verdict, _ msg: String, trace: Trace? = nil) -> ObligationResult {
                ObligationResult(name: p.rawValue, verdict: v, method: fields.method, bound: bound, engine: "explicit",
                                 message: msg, trace: trace.map { .spec($0) }, replay: trace == nil ? nil : "rmi-check replay {trace}",
                                 rule: SpecSource.propertyRule(p))
            }
            if let t = m.violated {
                return result(.violated, "\(p.rawValue) (\(p.summary)) is violated: shortest counterexample of \(t.steps.count) steps, replayed against the spec", trace: t)
            }
            if p.kind == .sometimes {
                if let t = m.witness { return result(.holds, "witnessed in \(t.steps.count) steps") }
                return result(.unknown, "no state of the scopes satisfies it (\(bound))")
            }
            if m.hasCover, m.cover == nil {
                return result(cut.isEmpty ? .vacuous : .unknown,
                              "holds in every state reached, but its cover target is never reached: the scopes never exercise it (\(bound))")
            }
            return result(.holds, "holds in every \(p.kind == .step ? "step" : "state") (\(bound))"
                          + (m.cover.map { "; cover reached at depth \($0.0) in \($0.1)" } ?? ""))
        }
    }
}

/// `cover`: cover targets that must be reachable within scopes. One obligation per target;
/// one that no state reaches is VACUOUS (UNKNOWN when the search was cut).
public struct CoverCheck: CheckKind {
    public static let kind = "cover"
    public static let summary = "cover targets of spec properties that must be reachable within scopes (explicit search)"
    var fields: ExplicitFields
    var targets: [Invariant]

    public init(_ e: PlanEntry) throws {
        fields = try ExplicitFields(e)
        let withCover = Invariant.specProperties.filter { $0.kind != .sometimes }
        targets = try ExplicitFields.properties(e, "targets", default: withCover)
        if let i = targets.firstIndex(where: { $0.kind == .sometimes }) {
            throw e.fail("targets[\(i)]", "\(targets[i].rawValue) is a `sometimes` property, checked by `explicit`, not a cover target")
        }
    }

    public var obligations: [String] { targets.map(\.rawValue) }

    public func run(_ ctx: CheckContext) throws -> [ObligationResult] {
        let (merged, cut, _) = try fields.search(targets, ctx)
        let bound = fields.bound(cut)
        return targets.map { p in
            let m = merged[p.rawValue] ?? ExplicitFields.Merged()
            let (v, msg): (Verdict, String)
            if let (d, sc) = m.cover {
                (v, msg) = (.holds, "cover target of \(p.rawValue) reached at depth \(d) in \(sc)")
            } else if !cut.isEmpty {
                (v, msg) = (.unknown, "cover target of \(p.rawValue) not reached before the search was cut (\(bound))")
            } else {
                (v, msg) = (.vacuous, "cover target of \(p.rawValue) is unreachable within the scopes: its property holds vacuously there")
            }
            return ObligationResult(name: p.rawValue, verdict: v, method: "cover by " + fields.method, bound: bound,
                                    engine: "explicit", message: msg, rule: SpecSource.propertyRule(p))
        }
    }
}
