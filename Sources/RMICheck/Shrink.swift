import RMISpec

/// Domain-aware shrinking of a trace that shows a violation: Realms, Granules, steps, RTT
/// levels, Host writes, Realm actions and arguments are removed, lowered or zeroed, and the
/// Granules renamed to the lowest addresses, while `stillShows` keeps holding, until no
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
            // Whole Realms, then whole Granules, each with every step that names it; later
            // ones first, as for steps.
            for rd in Self.realms(in: best).reversed() {
                if let c = Self.without(realm: rd, in: best), try accept(c, &best) { changed = true }
            }
            for g in Self.granules(in: best).reversed() {
                if let c = Self.without(granule: g, in: best), try accept(c, &best) { changed = true }
            }
            // Whole steps, last first (later steps depend on earlier ones).
            var i = best.steps.count - 1
            while i >= 0 {
                var c = best
                c.steps.remove(at: i)
                if try accept(c, &best) { changed = true }
                i -= 1
            }
            // Host writes, Realm actions, RTT levels (one up), arguments (zeroed).
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
                if case .call(var cur) = best.steps[i], let r = cur.realm, !r.args.isEmpty {
                    cur.realm = RealmActionValue(r.kind)
                    var c = best
                    c.steps[i] = .call(cur)
                    if try accept(c, &best) { changed = true }
                }
                if case .call(var cur) = best.steps[i], let l = cur.command.inputs.firstIndex(of: "level"),
                   l < cur.args.count, Self.rttLevels.contains(cur.args[l]), cur.args[l] > 1 {
                    cur.args[l] -= 1
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
            // Each Realm's RTTs one level shallower.
            for rd in Self.realms(in: best) {
                if let c = Self.withoutDeepestLevel(of: rd, in: best), try accept(c, &best) { changed = true }
            }
            // Addresses: the whole renaming to the lowest Granules, else one Granule at a time
            // to the lowest free one (when the whole renaming breaks an alignment).
            let canonical = Self.canonicalised(best)
            if Self.granules(in: canonical) != Self.granules(in: best) {
                if try accept(canonical, &best) {
                    changed = true
                } else {
                    for g in Self.granules(in: best) where best.platform.isDelegable(g) {
                        let used = Set(Self.granules(in: best))
                        guard let free = Self.delegableGranules(of: best.platform, best.platform.initialGPT(g))
                            .first(where: { $0 >= g || !used.contains($0) }), free < g else { continue }
                        if try accept(Self.renamed(best, [g: free]), &best) { changed = true }
                    }
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

// MARK: Granules, Realms and RTT levels

extension Shrinker {
    /// Argument and output names (`RMICommand.inputs`, `outputs`) that hold a physical address:
    /// a Granule passed to the RMM, or an NS page the RMM reads or writes.
    static let addressNames: Set<String> = ["addr", "rd", "data", "rec", "rec_ptr", "rtt", "calling_rec", "target_rec",
                                            "params_ptr", "src", "run_ptr"]

    static func granuleBase(_ a: UInt64) -> UInt64 { a & ~(Layout.granuleSize - 1) }

    /// The RTT levels lowering tries (a level argument outside them, such as -1, is left to
    /// zeroing: lowering it one by one need not end).
    static let rttLevels: ClosedRange<UInt64> = 0...3

    /// `s` with `f` applied to every physical address it holds: the arguments and expected
    /// outputs named in `addressNames`, the RTT base and aux Granules of the parameter blocks
    /// the Host writes, the addresses of its writes, GPT changes and REC exits. The output
    /// address of an NS mapping (RTT_MAP_UNPROTECTED's desc) is left alone: it is NS memory,
    /// not a Granule of the trace.
    static func mapAddresses(_ s: TraceStep, _ f: (UInt64) -> UInt64) -> TraceStep {
        func write(_ w: HostWrite) -> HostWrite {
            switch w {
            case .realmParams(let at, var p): p.rttBase = f(p.rttBase); return .realmParams(at: f(at), p)
            case .recParams(let at, var p): p.aux = p.aux.map(f); return .recParams(at: f(at), p)
            case .recRun(let at, let v): return .recRun(at: f(at), v)
            case .data(let at, let content): return .data(at: f(at), content: content)
            case .words(let at, let ws): return .words(at: f(at), ws)
            }
        }
        switch s {
        case .call(var c):
            for (i, name) in c.command.inputs.enumerated() where i < c.args.count && addressNames.contains(name) {
                c.args[i] = f(c.args[i])
            }
            c.writes = c.writes.map(write)
            if var e = c.expect {
                for (name, v) in e.outputs where addressNames.contains(name) { e.outputs[name] = f(v) }
                c.expect = e
            }
            return .call(c)
        case .write(let w): return .write(write(w))
        case .setGPT(let a, let gpt): return .setGPT(addr: f(a), gpt: gpt)
        case .recExit(let rec, let realm, let expect): return .recExit(rec: f(rec), realm: realm, expect: expect)
        }
    }

    /// The Granules (by base address) that `s` names, as `mapAddresses` finds them.
    static func granules(of s: TraceStep) -> Set<UInt64> {
        var found: Set<UInt64> = []
        _ = mapAddresses(s) { found.insert(granuleBase($0)); return $0 }
        return found
    }

    /// The Granules (by base address, Granules passed to the RMM and NS pages alike) that
    /// `t` names, in order of first appearance.
    public static func granules(in t: Trace) -> [UInt64] {
        var seen: Set<UInt64> = [], order: [UInt64] = []
        for s in t.steps {
            _ = mapAddresses(s) { a in
                if seen.insert(granuleBase(a)).inserted { order.append(granuleBase(a)) }
                return a
            }
        }
        return order
    }

    /// The RD of a call that takes one.
    static func rd(of s: TraceStep) -> UInt64? {
        guard case .call(let c) = s, let i = c.command.inputs.firstIndex(of: "rd"), i < c.args.count else { return nil }
        return granuleBase(c.args[i])
    }

    /// The RDs that `t`'s REALM_CREATE calls name, in order of first appearance.
    public static func realms(in t: Trace) -> [UInt64] {
        var seen: Set<UInt64> = []
        return t.steps.compactMap { s in
            guard case .call(let c) = s, c.command == .realmCreate, let rd = rd(of: s), seen.insert(rd).inserted else { return nil }
            return rd
        }
    }

    /// `t` without the steps that name a Granule in `gs`; nil when that removes at most one
    /// step (the removal of single steps tries that).
    static func without(granules gs: Set<UInt64>, in t: Trace) -> Trace? {
        var c = t
        c.steps.removeAll { !granules(of: $0).isDisjoint(with: gs) }
        return t.steps.count - c.steps.count > 1 ? c : nil
    }

    static func without(granule g: UInt64, in t: Trace) -> Trace? { without(granules: [g], in: t) }

    /// `t` without Realm `rd`: every step that names a Granule named by one of the calls that
    /// take `rd` (its RECs, aux Granules, RTTs, DATA Granules and parameter pages).
    static func without(realm rd: UInt64, in t: Trace) -> Trace? {
        let own = t.steps.filter { Self.rd(of: $0) == rd }.reduce(into: Set([rd])) { $0.formUnion(granules(of: $1)) }
        return without(granules: own, in: t)
    }

    /// `t` with one RTT level fewer for Realm `rd`: without its RTT_CREATE calls at the deepest
    /// level they reach (with every step naming those RTTs) and its RTT_DESTROY and RTT_FOLD
    /// calls at that level, and with its other calls at that level or deeper one level up.
    static func withoutDeepestLevel(of rd: UInt64, in t: Trace) -> Trace? {
        func level(_ s: TraceStep) -> UInt64? {
            guard case .call(let c) = s, Self.rd(of: s) == rd, let i = c.command.inputs.firstIndex(of: "level"), i < c.args.count
            else { return nil }
            return c.args[i]
        }
        func isCreate(_ s: TraceStep) -> Bool { if case .call(let c) = s { c.command == .rttCreate } else { false } }
        guard let deepest = t.steps.filter(isCreate).compactMap(level).filter(rttLevels.contains).max(), deepest > 0
        else { return nil }
        let tables = Set(t.steps.compactMap { s -> UInt64? in
            guard case .call(let c) = s, isCreate(s), level(s) == deepest else { return nil }
            return granuleBase(c.args[1])
        })
        var c = t
        c.steps = t.steps.compactMap { s in
            guard granules(of: s).isDisjoint(with: tables) else { return nil }
            guard case .call(var call) = s, let l = level(s), rttLevels.contains(l), l >= deepest else { return s }
            if l == deepest && (call.command == .rttDestroy || call.command == .rttFold) { return nil }
            call.args[call.command.inputs.firstIndex(of: "level")!] = l - 1
            return .call(call)
        }
        return c
    }

    /// The platform's delegable Granules whose GPT entry starts as `gpt`, lowest first.
    static func delegableGranules(of p: Platform, _ gpt: GPT) -> some Sequence<UInt64> {
        p.delegable.sorted { $0.base < $1.base }.lazy
            .map { r in stride(from: granuleBase(r.base + Layout.granuleSize - 1), to: r.base + r.size, by: Int(Layout.granuleSize)) }
            .joined()
            .filter { p.initialGPT($0) == gpt }
    }

    /// `t` with every address in a Granule of `map`'s domain moved, at the same offset, to the
    /// Granule it maps to.
    static func renamed(_ t: Trace, _ map: [UInt64: UInt64]) -> Trace {
        var r = t
        r.steps = t.steps.map { s in
            mapAddresses(s) { a in map[granuleBase(a)].map { $0 | (a - granuleBase(a)) } ?? a }
        }
        return r
    }

    /// `t` with the delegable Granules it names renamed, in order of first appearance, to the
    /// platform's lowest delegable Granules with the same initial GPT entry (NS or Secure):
    /// one bijection, applied to the whole trace.
    static func canonicalised(_ t: Trace) -> Trace {
        let used = granules(in: t).filter(t.platform.isDelegable)
        var map: [UInt64: UInt64] = [:]
        for gpt in [GPT.ns, .secure] {
            for (g, low) in zip(used.filter { t.platform.initialGPT($0) == gpt }, delegableGranules(of: t.platform, gpt)) {
                map[g] = low
            }
        }
        return renamed(t, map)
    }
}

public struct ShrinkError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
