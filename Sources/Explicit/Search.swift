import Foundation
import RMISpec

/// A state property a test adds to the search (name, and whether a state satisfies it).
public struct ExtraProperty: Sendable {
    public var name: String
    public var holds: @Sendable (SpecState) -> Bool
    public init(name: String, holds: @escaping @Sendable (SpecState) -> Bool) { self.name = name; self.holds = holds }
}

public struct ExplicitOptions: Sendable {
    public var scope: ExplicitScope
    public var symmetry = true
    /// Calls from the initial state; states at this depth are checked but not expanded.
    public var maxDepth: Int? = nil
    /// Distinct states; no state beyond it is stored (the search is then bounded).
    public var maxStates: Int? = nil
    public var properties: [Invariant] = Invariant.specProperties
    public var extraProperties: [ExtraProperty] = []
    public var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    public var progressInterval: Double = 2
    public var progress: (@Sendable (ExplicitProgress) -> Void)? = nil
    /// Keep every distinct state reached (tests on tiny scopes).
    public var collectStates = false
    /// With symmetry: add up the orbit sizes of the representatives (N! renamings each),
    /// which is the number of states the search would store without symmetry.
    public var countOrbits = false
    public init(scope: ExplicitScope) { self.scope = scope }
}

public struct ExplicitProgress: Sendable, CustomStringConvertible {
    public var states: Int, distinct: Int, queue: Int, depth: Int, seconds: Double
    public var statesPerSecond: Double { Double(states) / max(seconds, 1e-9) }
    public var description: String {
        "explicit: \(states) states, \(distinct) distinct, queue \(queue), depth \(depth), \(Int(statesPerSecond)) states/s"
    }
}

public enum ExplicitError: Error, CustomStringConvertible {
    case replayFailed(String)
    public var description: String {
        switch self { case .replayFailed(let s): "internal error: a counterexample did not replay: \(s)" }
    }
}

/// What the search says about one property.
public struct PropertyOutcome: Sendable {
    public enum Verdict: Sendable {
        /// Holds in every state (step) the search reached.
        case holds
        /// A shortest counterexample (for `sometimes`: a shortest witness), replayed.
        case violated(Trace)
        case witnessed(Trace)
        /// A `sometimes` property no reached state satisfies.
        case notReached
    }
    public var name: String
    public var kind: String
    public var verdict: Verdict
    /// For a property with a cover target: the depth of the shortest step or state that reaches it.
    public var coverDepth: Int?
    public var hasCover: Bool
}

public struct ExplicitResult: Sendable {
    public var outcomes: [PropertyOutcome]
    /// Transitions taken (successor states computed, failed calls included).
    public var states: Int
    public var distinct: Int
    /// The depth of the deepest level expanded.
    public var depth: Int
    /// Nil when the search was exhaustive; else what cut it ("depth 7", "states 100000").
    public var cut: String?
    public var seconds: Double
    public var bytesPerState: Double
    /// Bound on the probability that two distinct states share a fingerprint: n^2 / 2^129.
    public var collisionBound: Double
    /// Canonicalisations that fell back to a fixed order (sound, less reduction).
    public var inexactCanonical: Int
    public var symmetry: Bool
    /// With `countOrbits`: the sum of the representatives' orbit sizes, the number of
    /// distinct states without symmetry.
    public var unreducedByOrbits: Int?
    public var statesPerSecond: Double { Double(states) / max(seconds, 1e-9) }
}

/// Breadth-first explicit-state search of the spec's concrete face over a scope.
public final class ExplicitSearch: @unchecked Sendable {
    public let options: ExplicitOptions
    let scope: ExplicitScope
    let visited = VisitedSet()
    /// Per state id: parent id << 24 | action index (UInt64.max for the initial state).
    var parents: [UInt64] = []
    /// With `collectStates`: the state of each id.
    public private(set) var states: [SpecState] = []
    let always: [Invariant], stepProps: [Invariant], sometimes: [Invariant]

    public init(_ options: ExplicitOptions) {
        self.options = options
        scope = options.scope
        always = options.properties.filter { $0.kind == .always }
        stepProps = options.properties.filter { $0.kind == .step }
        sometimes = options.properties.filter { $0.kind == .sometimes }
    }

    enum Witness { case state(Int), step(Int, Int) }
    static let frameProperties: Set<Invariant> = [.r6, .r7, .l3]
    struct Found { var depth: Int; var witness: Witness }

    /// What one worker produced for a chunk of the frontier.
    final class Out: @unchecked Sendable {
        var next: [SpecState] = []
        var parents: [UInt64] = []
        /// Property name -> (depth, witness with local state ids as -1 - local index).
        var violations: [String: Found] = [:]
        var covers: [String: Found] = [:]
        var transitions = 0
        var inexact = 0
        /// The state bound stopped this chunk.
        var cut = false
        var orbitSum = 0
    }

    final class Meter: @unchecked Sendable {
        let lock = NSLock()
        var states = 0, distinct = 0, queue = 0, depth = 0
        var last: Double
        let start: Double
        init() { start = Date().timeIntervalSinceReferenceDate; last = start }
    }

    func fingerprintOf(_ s: SpecState) -> (Fingerprint, Bool) {
        if options.symmetry {
            let (w, exact) = scope.canonicalEncoding(s)
            return (fingerprint(w), exact)
        }
        return (fingerprint(scope.plainEncoding(s)), true)
    }

    public func run() throws -> ExplicitResult {
        let meter = Meter()
        let initial = SpecState(platform: scope.platform)
        _ = visited.insert(fingerprintOf(initial).0)
        parents = [UInt64.max]
        if options.collectStates { states = [initial] }
        var violations: [String: Found] = [:]
        var covers: [String: Found] = [:]
        checkState(initial, local: 0, depth: 0, into: { name, f in violations[name] = violations[name] ?? f },
                   cover: { name, f in covers[name] = covers[name] ?? f })
        // Ids of the initial state: local 0 -> id 0.
        violations = violations.mapValues { _ in Found(depth: 0, witness: .state(0)) }
        covers = covers.mapValues { _ in Found(depth: 0, witness: .state(0)) }

        var frontier: [(Int, SpecState)] = [(0, initial)]
        var depth = 0
        var transitions = 0
        var inexact = 0
        var orbitSum = options.countOrbits && options.symmetry ? scope.orbitSize(initial) : 0
        var cut: String? = nil
        let allNames = Set(always.map(\.rawValue) + stepProps.map(\.rawValue) + options.extraProperties.map(\.name))
        while !frontier.isEmpty {
            if let d = options.maxDepth, depth >= d { cut = "depth \(d)"; break }
            if let m = options.maxStates, visited.count >= m { cut = "states \(m)"; break }
            if !allNames.isEmpty && allNames.isSubset(of: Set(violations.keys)) { cut = "every property violated"; break }
            let workers = max(1, options.workers)
            let chunks = frontier.isEmpty ? 0 : min(frontier.count, workers * 8)
            let outs = (0..<chunks).map { _ in Out() }
            meter.lock.lock(); meter.queue = frontier.count; meter.depth = depth; meter.lock.unlock()
            let fr = frontier
            let d = depth
            let known = (Set(violations.keys), Set(covers.keys))
            DispatchQueue.concurrentPerform(iterations: chunks) { k in
                let lo = fr.count * k / chunks, hi = fr.count * (k + 1) / chunks
                self.expand(fr[lo..<hi], depth: d, out: outs[k], meter: meter, known: known)
            }
            var next: [(Int, SpecState)] = []
            for o in outs {
                let base = parents.count
                parents += o.parents
                func fix(_ f: Found) -> Found {
                    if case .state(let l) = f.witness, l < 0 { return Found(depth: f.depth, witness: .state(base + (-1 - l))) }
                    return f
                }
                for (n, f) in o.violations where violations[n] == nil { violations[n] = fix(f) }
                for (n, f) in o.covers where covers[n] == nil { covers[n] = fix(f) }
                for (i, s) in o.next.enumerated() { next.append((base + i, s)) }
                if options.collectStates { states += o.next }
                transitions += o.transitions
                inexact += o.inexact
                orbitSum += o.orbitSum
                if o.cut, let m = options.maxStates { cut = "states \(m)" }
            }
            frontier = next
            depth += 1
            if cut != nil { break }
        }
        let seconds = Date().timeIntervalSinceReferenceDate - meter.start
        let n = visited.count
        // Shortest traces, replayed before they are reported.
        var outcomes: [PropertyOutcome] = []
        for p in options.properties where p.kind != .implementation {
            var o = PropertyOutcome(name: p.rawValue, kind: p.kind.rawValue, verdict: .holds, coverDepth: covers[p.rawValue]?.depth,
                                    hasCover: p.kind != .sometimes)
            if p.kind == .sometimes {
                if let f = covers[p.rawValue] {
                    o.verdict = .witnessed(try confirmed(f, property: p, description: "\(p.rawValue) witness (explicit search, \(scope))"))
                } else {
                    o.verdict = .notReached
                }
            } else if let f = violations[p.rawValue] {
                o.verdict = .violated(try confirmed(f, property: p, description: "\(p.rawValue) counterexample (explicit search, \(scope))"))
            }
            outcomes.append(o)
        }
        for e in options.extraProperties {
            var o = PropertyOutcome(name: e.name, kind: "always", verdict: .holds, coverDepth: nil, hasCover: false)
            if let f = violations[e.name] {
                let t = trace(to: f.witness, description: "\(e.name) counterexample (explicit search, \(scope))")
                let final = t.replay().finalState
                guard t.replay().agrees, !e.holds(final) else { throw ExplicitError.replayFailed(e.name) }
                o.verdict = .violated(t)
            }
            outcomes.append(o)
        }
        let bytes = Double(visited.bytes + parents.count * 8) / Double(max(n, 1))
        return ExplicitResult(outcomes: outcomes, states: transitions, distinct: n, depth: depth, cut: cut, seconds: seconds,
                              bytesPerState: bytes, collisionBound: Double(n) * Double(n) / pow(2, 129),
                              inexactCanonical: inexact, symmetry: options.symmetry,
                              unreducedByOrbits: options.countOrbits && options.symmetry ? orbitSum : nil)
    }

    /// The always properties and state covers of a new state.
    func checkState(_ s: SpecState, local: Int, depth: Int, into violate: (String, Found) -> Void,
                    cover: (String, Found) -> Void, known: (Set<String>, Set<String>) = ([], [])) {
        let w = Witness.state(local)
        for p in always {
            if !known.0.contains(p.rawValue), !p.holds(inState: s) { violate(p.rawValue, Found(depth: depth, witness: w)) }
            if !known.1.contains(p.rawValue), p.covers(state: s) { cover(p.rawValue, Found(depth: depth, witness: w)) }
        }
        for p in sometimes where !known.1.contains(p.rawValue) {
            if p.covers(state: s) { cover(p.rawValue, Found(depth: depth, witness: w)) }
        }
        for e in options.extraProperties where !known.0.contains(e.name) {
            if !e.holds(s) { violate(e.name, Found(depth: depth, witness: w)) }
        }
    }

    func expand(_ states: ArraySlice<(Int, SpecState)>, depth: Int, out: Out, meter: Meter,
                known: (Set<String>, Set<String>)) {
        var known = known
        var pending = 0, pendingNew = 0
        func flush(_ force: Bool) {
            meter.lock.lock()
            meter.states += pending; meter.distinct += pendingNew
            pending = 0; pendingNew = 0
            let now = Date().timeIntervalSinceReferenceDate
            if let cb = options.progress, now - meter.last >= options.progressInterval {
                meter.last = now
                cb(ExplicitProgress(states: meter.states, distinct: visited.count, queue: meter.queue, depth: meter.depth,
                                    seconds: now - meter.start))
            }
            meter.lock.unlock()
        }
        for (id, s) in states {
            let acts = scope.actions(s)
            for (ai, a) in acts.enumerated() {
                var runner = TraceRunner(state: s)
                let step: TraceStep
                let command: RMICommand
                var args: [UInt64]
                switch a {
                case .call(var c):
                    for w in c.writes { runner.apply(w) }
                    c.writes = []
                    step = .call(c); command = c.command; args = c.args
                case .recExit(let rec, _, _):
                    step = a; command = .recEnter; args = [rec]
                default: continue
                }
                let pre = runner.state
                guard let r = runner.run(step) else { continue }
                if case .recExit = a { args.append(r.runPtr ?? 0) }
                let post = r.next
                let unchanged = pre == post
                out.transitions += 1
                pending += 1
                let view = StepView(pre: pre, post: post, command: command, args: args.map { CWord($0) },
                                    succeeded: CBit(r.succeeded), unchanged: CBit(unchanged))
                // INV-R6, R7 and L3 relate the pre- and post-state; on a step that changes nothing
                // they hold by reflexivity, and INV-L3 (which compares RTT entries, one dictionary
                // lookup each) holds on a step that leaves every RTT as it was. Evaluating them
                // there anyway (most steps are failed calls) would dominate the search.
                let rttsUnchanged = unchanged || pre.rtts == post.rtts
                for p in stepProps {
                    let trivial = (unchanged && ExplicitSearch.frameProperties.contains(p)) || (p == .l3 && rttsUnchanged)
                    if trivial && known.1.contains(p.rawValue) { continue }
                    if !known.0.contains(p.rawValue), !trivial, !p.holds(onStep: view) {
                        known.0.insert(p.rawValue)
                        out.violations[p.rawValue] = Found(depth: depth + 1, witness: .step(id, ai))
                    }
                    if !known.1.contains(p.rawValue), p.covers(step: view) {
                        known.1.insert(p.rawValue)
                        out.covers[p.rawValue] = Found(depth: depth + 1, witness: .step(id, ai))
                    }
                }
                if unchanged { continue }
                if let m = options.maxStates, visited.total.load(ordering: .relaxed) >= m { out.cut = true; continue }
                let (fp, exact) = fingerprintOf(post)
                if !exact { out.inexact += 1 }
                guard visited.insert(fp) else { continue }
                pendingNew += 1
                if options.countOrbits && options.symmetry { out.orbitSum += scope.orbitSize(post) }
                let local = out.next.count
                out.next.append(post)
                out.parents.append(UInt64(id) << 24 | UInt64(ai))
                checkState(post, local: -1 - local, depth: depth + 1,
                           into: { n, f in known.0.insert(n); out.violations[n] = f },
                           cover: { n, f in known.1.insert(n); out.covers[n] = f }, known: known)
            }
            if pending >= 256 { flush(false) }
        }
        flush(true)
    }

    /// The action indices from the initial state to state `id`.
    func path(to id: Int) -> [Int] {
        var p: [Int] = []
        var i = id
        while parents[i] != UInt64.max {
            p.append(Int(parents[i] & 0xFF_FFFF))
            i = Int(parents[i] >> 24)
        }
        return p.reversed()
    }

    /// Builds the trace of a witness by running its actions from the initial state (each
    /// call's expectation is the spec's result).
    func trace(to w: Witness, description: String) -> Trace {
        var actions: [Int]
        switch w {
        case .state(let id): actions = path(to: id)
        case .step(let id, let ai): actions = path(to: id) + [ai]
        }
        return ExplicitSearch.trace(scope: scope, actions: actions, description: description)
    }

    static func trace(scope: ExplicitScope, actions: [Int], description: String) -> Trace {
        var sc = Scenario(description, platform: scope.platform)
        for ai in actions {
            let acts = scope.actions(sc.state)
            switch acts[ai] {
            case .call(let c): sc.call(c.command, args: c.args, writes: c.writes, realm: c.realm)
            case .recExit(let rec, let realm, _): sc.recExit(rec: rec, realm: realm)
            default: break
            }
        }
        return sc.trace
    }

    /// The trace of a violation (or witness), confirmed by replaying it and checking the
    /// property along it.
    func confirmed(_ f: Found, property p: Invariant, description: String) throws -> Trace {
        let t = trace(to: f.witness, description: description)
        let replay = t.replay()
        guard replay.agrees else {
            throw ExplicitError.replayFailed("\(p.rawValue): \(replay.mismatch.map(\.description) ?? "?")")
        }
        let report = t.checkProperties([p])
        if p.kind == .sometimes {
            guard report.covered.contains(p) else { throw ExplicitError.replayFailed("\(p.rawValue): witness not reached on replay") }
        } else {
            guard report.violations.contains(where: { $0.property == p }) else {
                throw ExplicitError.replayFailed("\(p.rawValue): no violation on replay")
            }
        }
        return t
    }
}
