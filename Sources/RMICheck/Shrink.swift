import RMISpec

/// Domain-aware shrinking of a trace that shows a violation: steps, Host writes, Realm
/// actions and arguments are removed or zeroed while `stillShows` keeps holding, until no
/// single change keeps it (a local minimum, as delta debugging's one-minimality).
public struct Shrinker {
    /// Whether a candidate trace still shows the violation.
    public var stillShows: (Trace) throws -> Bool
    public private(set) var tries = 0

    public init(stillShows: @escaping (Trace) throws -> Bool) { self.stillShows = stillShows }

    /// A trace that shows the violation on the spec's concrete face: `property` violated
    /// somewhere along it (expectations are dropped: the property is what must remain).
    public static func property(_ p: Invariant) -> Shrinker {
        Shrinker { t in t.checkProperties([p]).violations.contains { $0.property == p } }
    }

    /// A trace whose replay on the spec stops at the same mismatch as `original`'s: a call of
    /// the same command whose `field` expected and got the same values.
    public static func specMismatch(of original: Trace) -> Shrinker? {
        func signature(_ t: Trace) -> String? {
            guard let m = t.replay().mismatch, m.step < t.steps.count, case .call(let c) = t.steps[m.step] else { return nil }
            return "\(c.command.rawValue)|\(m.field)|\(m.expected)|\(m.actual)"
        }
        guard let want = signature(original) else { return nil }
        return Shrinker { t in signature(t) == want }
    }

    /// A trace on which `conformance` finds a difference in a field of the same kind
    /// (`result`, `outputs`, `exit`, `state`).
    public static func implDifference(_ conformance: Conformance, field: String) -> Shrinker {
        var c = conformance
        let kind = field.split(separator: ".").first.map(String.init) ?? field
        return Shrinker { t in
            guard let v = try c.check(t) else { return false }
            return (v.field.split(separator: ".").first.map(String.init) ?? v.field) == kind
        }
    }

    /// Shrinks `trace`; throws `ShrinkError` if the trace does not show the violation.
    public mutating func shrink(_ trace: Trace, keepExpectations: Bool) throws -> Trace {
        var best = trace
        if !keepExpectations { best.steps = best.steps.map(Self.withoutExpectation) }
        tries += 1
        guard try stillShows(best) else { throw ShrinkError(message: "the trace does not show the violation to begin with") }
        var changed = true
        while changed {
            changed = false
            // Whole steps, last first (later steps depend on earlier ones).
            var i = best.steps.count - 1
            while i >= 0 {
                var c = best
                c.steps.remove(at: i)
                if try accept(c, &best) { changed = true }
                i -= 1
            }
            // Host writes, Realm actions, arguments.
            for i in best.steps.indices {
                guard case .call(let call) = best.steps[i] else { continue }
                var w = call.writes.count - 1
                while w >= 0 {
                    guard case .call(var cur) = best.steps[i], w < cur.writes.count else { break }
                    cur.writes.remove(at: w)
                    var c = best
                    c.steps[i] = .call(cur)
                    if try accept(c, &best) { changed = true }
                    w -= 1
                }
                if case .call(var cur) = best.steps[i], let r = cur.realm, r.kind != .irq || r.args.contains(where: { $0 != 0 }) {
                    cur.realm = RealmActionValue(r.kind)
                    var c = best
                    c.steps[i] = .call(cur)
                    if try accept(c, &best) { changed = true }
                }
                for a in call.args.indices {
                    guard case .call(var cur) = best.steps[i], a < cur.args.count, cur.args[a] != 0 else { continue }
                    cur.args[a] = 0
                    var c = best
                    c.steps[i] = .call(cur)
                    if try accept(c, &best) { changed = true }
                }
            }
        }
        return best
    }

    private mutating func accept(_ candidate: Trace, _ best: inout Trace) throws -> Bool {
        tries += 1
        guard try stillShows(candidate) else { return false }
        best = candidate
        return true
    }

    static func withoutExpectation(_ s: TraceStep) -> TraceStep {
        switch s {
        case .call(var c): c.expect = nil; return .call(c)
        case .recExit(let rec, let realm, _): return .recExit(rec: rec, realm: realm, expect: nil)
        default: return s
        }
    }
}

public struct ShrinkError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
