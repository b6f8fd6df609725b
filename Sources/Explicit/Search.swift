import Foundation
import RMISpec
import Synchronization

/// A state property a test adds to the search (name, and whether a state satisfies it).
public struct ExtraProperty: Sendable {
    public var name: String
    public var holds: @Sendable (SpecState) -> Bool
    public init(name: String, holds: @escaping @Sendable (SpecState) -> Bool) { self.name = name; self.holds = holds }
}

public struct ExplicitOptions: Sendable {
    public var scope: ExplicitScope
    public var symmetry = true
    /// With `symmetry`: Realms are interchangeable too (VMIDs renamed as well as Granules).
    public var realmSymmetry = true
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
    /// CPU time of the process during the search (all threads): on a shared machine the
    /// wall-clock rate depends on the other load, the rate per CPU-second less so.
    public var cpuSeconds: Double = 0
    public var bytesPerState: Double
    /// Bound on the probability that two distinct states share a fingerprint, or that two
    /// distinct successors share the raw hash that finds a fingerprint computed before
    /// (`SlotEncoder.cachedFingerprint`): (n^2 + m^2) / 2^129 for n fingerprints stored and m
    /// raw hashes cached.
    public var collisionBound: Double
    /// Canonicalisations that fell back to a fixed order (sound, less reduction).
    public var inexactCanonical: Int
    public var symmetry: Bool
    /// With `countOrbits`: the sum of the representatives' orbit sizes, the number of
    /// distinct states without symmetry.
    public var unreducedByOrbits: Int?
    public var statesPerSecond: Double { Double(states) / max(seconds, 1e-9) }
    public var statesPerCPUSecond: Double { Double(states) / max(cpuSeconds, 1e-9) }
}

/// CPU time used by this process so far (every thread), in seconds.
public func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Breadth-first explicit-state search of the spec's concrete face over a scope.
public final class ExplicitSearch: @unchecked Sendable {
    public let options: ExplicitOptions
    let scope: ExplicitScope
    let visited = VisitedSet()
    /// Encoders (with their caches) handed from one unit of work to the next.
    let encoders = EncoderPool()
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
        precondition(stepProps.count <= 32, "at most 32 step properties (the checks due on a step are a bit mask)")
        sometimes = options.properties.filter { $0.kind == .sometimes }
    }

    enum Witness { case state(Int), step(Int, Int) }

    /// Whether step property `p` can fail on a step of `command`: false only where its
    /// definition makes it hold whatever the states are. INV-L4 says a failed call changes
    /// nothing, so it holds on an unchanged step and on a call that succeeded. INV-R6 and R7
    /// read only which Granules are RDs and the Realms' fields (state, RIM), comparing each
    /// before and after: they hold when neither changed (`realmsUnchanged`, asked only on a
    /// changed step). INV-L3 compares RTT entries, so it holds when every RTT is as it was
    /// (`rttsUnchanged`, likewise). INV-L1 is about REALM_DESTROY and INV-L2 about
    /// GRANULE_UNDELEGATE, each a claim about a call that succeeded (their definitions return
    /// true for any other command, and for a call that failed).
    static func mayFail(_ p: Invariant, command: RMICommand, unchanged: Bool, succeeded: Bool, rttsUnchanged: () -> Bool,
                        realmsUnchanged: () -> Bool) -> Bool {
        switch p {
        case .l4: !unchanged && !succeeded
        case .r6, .r7: !unchanged && !realmsUnchanged()
        case .l3: !unchanged && !rttsUnchanged()
        case .l1: command == .realmDestroy && succeeded
        case .l2: command == .granuleUndelegate && succeeded
        default: true
        }
    }

    /// Whether the same Granules are RDs in `a` and in `b` (the pool's: no Granule outside
    /// it is ever an RD, `PoolState`).
    static func sameRDs(_ a: PoolState, _ b: PoolState) -> Bool {
        let rd = GranuleState.rd.rawValue
        return a.withWords { x, _ in
            b.withWords { y, _ in
                for i in 0..<a.count where (x[i * PoolState.stride] & 0xFF == rd) != (y[i * PoolState.stride] & 0xFF == rd) { return false }
                return true
            }
        }
    }
    struct Found { var depth: Int; var witness: Witness }

    /// What one worker produced for a chunk of the frontier.
    final class Out: @unchecked Sendable {
        /// Changed successors not stored at an earlier level, their fingerprints and their
        /// parent pointers (parent id << 24 | action index), in (state, action) order.
        var next: [PoolState] = []
        var fps: [Fingerprint] = []
        var parents: [UInt64] = []
        /// For each of `next`, the parts in which it equals its parent (`Parts.rawValue`).
        var parts: [UInt8] = []
        /// Property name -> the first witness in this unit, with global ids.
        var violations: [String: Found] = [:]
        var covers: [String: Found] = [:]
        var transitions = 0
        var inexact = 0
        var orbitSum = 0
    }

    final class Meter: @unchecked Sendable {
        let lock = NSLock()
        var states = 0, distinct = 0, queue = 0, depth = 0
        var last: Double
        let start: Double
        init() { start = Date().timeIntervalSinceReferenceDate; last = start }
    }

    func fingerprintOf(_ s: PoolState, _ encoder: inout SlotEncoder) -> (Fingerprint, Bool) {
        encoder.cachedFingerprint(of: s, symmetry: options.symmetry, vmids: options.realmSymmetry)
    }

    /// Runs `body(k)` for k in 0..<n on this thread and the `helpers` (each thread takes the
    /// next k from a shared counter). Callers make the result independent of which thread
    /// ran which k.
    static func parallel(_ n: Int, helpers: LevelHelpers?, _ body: @escaping @Sendable (Int) -> Void) {
        parallel(n, helpers: helpers, make: {}, done: { _ in }) { k, _ in body(k) }
    }
    final class Counter: Sendable { let value = Atomic<Int>(0) }

    /// `parallel` with a context each thread makes (`make`) before its first k, passes to
    /// each of its calls of `body`, and hands to `done` after its last (a thread that gets no
    /// k makes none).
    static func parallel<C>(_ n: Int, helpers: LevelHelpers?, make: @escaping @Sendable () -> C,
                            done: @escaping @Sendable (C) -> Void, _ body: @escaping @Sendable (Int, inout C) -> Void) {
        if n == 0 { return }
        guard let helpers, n > 1 else {
            var c = make()
            for k in 0..<n { body(k, &c) }
            done(c)
            return
        }
        let next = Counter()
        helpers.run { _ in
            var k = next.value.add(1, ordering: .relaxed).oldValue
            if k >= n { return }
            var c = make()
            while k < n {
                body(k, &c)
                k = next.value.add(1, ordering: .relaxed).oldValue
            }
            done(c)
        }
    }

    /// What a thread keeps from one unit of work to the next: its encoder (with its caches),
    /// the alphabet's and the call's buffers, and the fingerprints its units of this level
    /// hold (a thread takes units in increasing order, so a later occurrence of one of
    /// these can never be the first in global order, and is dropped at once).
    struct Worker {
        var encoder: SlotEncoder
        var alphabet: Alphabet
        var call = Call<Concrete>([0, 0, 0, 0, 0], realm: RealmAction(kind: 0))
        /// The registers of the step being checked (for its `StepView`).
        var stepArgs: [CWord] = []
        let local = VisitedSet.Shard(capacity: 64)
        init(encoder: SlotEncoder) {
            self.encoder = encoder
            alphabet = Alphabet(encoder.scope)
        }
    }

    /// Frontier states per unit of work at a level of `n` states: not a function of the
    /// number of workers, so that what each unit finds (and hence the merged result) does not
    /// depend on it. One state on small levels (most levels of the scopes measured hold a few
    /// dozen states, which larger units spread unevenly); on larger ones, consecutive
    /// states (often siblings, sharing storage) stay on one thread, about 64 units a level.
    static func chunk(_ n: Int) -> Int { max(1, min(16, n / 64)) }
    /// Below this many candidates a level's fingerprints are inserted on one thread.
    static let parallelInserts = 4096

    public func run() throws -> ExplicitResult {
        let meter = Meter()
        let cpuStart = processCPUSeconds()
        let initial = scope.initialPoolState
        var encoder = SlotEncoder(scope: scope)
        _ = visited.insert(fingerprintOf(initial, &encoder).0)
        parents = [UInt64.max]
        if options.collectStates { states = [initial.specState] }
        var violations: [String: Found] = [:]
        var covers: [String: Found] = [:]
        checkState(initial, local: 0, depth: 0, into: { name, f in violations[name] = violations[name] ?? f },
                   cover: { name, f in covers[name] = covers[name] ?? f })
        violations = violations.mapValues { _ in Found(depth: 0, witness: .state(0)) }
        covers = covers.mapValues { _ in Found(depth: 0, witness: .state(0)) }

        var frontier: [PoolState] = [initial]
        var frontierBase = 0  // the id of frontier[0]; ids of a level are consecutive
        // The state properties and covers of a level's states are checked by the units that
        // expand them, at the next level (each state is visited there anyway); `frontierParts`
        // holds, for each, the parts in which it equals its parent. The initial state is
        // checked above.
        var frontierParts: [UInt8] = []
        var frontierChecked = true
        var depth = 0
        var transitions = 0
        var inexact = 0
        var orbitSum = options.countOrbits && options.symmetry ? scope.orbitSize(initial, vmids: options.realmSymmetry) : 0
        var cut: String? = nil
        var distinct = 1
        let workers = max(1, options.workers)
        let helpers = workers > 1 ? LevelHelpers(count: workers - 1) : nil
        defer { helpers?.stop() }
        let allNames = Set(always.map(\.rawValue) + stepProps.map(\.rawValue) + options.extraProperties.map(\.name))
        let stepNames = Set(stepProps.map(\.rawValue))
        // Checks the frontier's states, expanding them too when `expanding` (phase 1 below),
        // and merges what the units found: the first witness in (state, action) order, which
        // for a state property is id order (a property is checked on states or on steps,
        // never both).
        func units(expanding: Bool) -> [Out] {
            let chunk = Self.chunk(frontier.count)
            let n = (frontier.count + chunk - 1) / chunk
            let outs = (0..<n).map { _ in Out() }
            let known = KnownFlags(self, (Set(violations.keys), Set(covers.keys)))
            let fr = frontier, base = frontierBase, d = depth
            let parts = frontierChecked ? nil : frontierParts
            Self.parallel(n, helpers: helpers, make: { Worker(encoder: self.encoders.take(self.scope)) },
                          done: { self.encoders.give($0.encoder) }) { k, worker in
                let lo = k * chunk, hi = min(fr.count, lo + chunk)
                self.expand(fr[lo..<hi], firstId: base + lo, depth: d, out: outs[k], meter: meter, known: known,
                            check: parts?[lo..<hi], expanding: expanding, worker: &worker)
            }
            for o in outs {
                for (n, f) in o.violations where violations[n] == nil { violations[n] = f }
                for (n, f) in o.covers where covers[n] == nil { covers[n] = f }
                transitions += o.transitions
                inexact += o.inexact
                orbitSum += o.orbitSum
            }
            frontierChecked = true
            return outs
        }
        while !frontier.isEmpty {
            // Before a cut, the frontier's own checks (so that the cut sees them, as it would
            // had they been made when the states were stored).
            if !frontierChecked
                && (options.maxDepth.map { depth >= $0 } ?? false || options.maxStates.map { distinct >= $0 } ?? false
                    || (!allNames.isEmpty && stepNames.isSubset(of: Set(violations.keys)))) {
                _ = units(expanding: false)
            }
            if let d = options.maxDepth, depth >= d { cut = "depth \(d)"; break }
            if let m = options.maxStates, distinct >= m { cut = "states \(m)"; break }
            if !allNames.isEmpty && allNames.isSubset(of: Set(violations.keys)) { cut = "every property violated"; break }
            meter.lock.lock(); meter.queue = frontier.count; meter.depth = depth; meter.lock.unlock()

            // Phase 1 (parallel): for each chunk of the frontier, its states' properties and
            // covers (unless checked), their successors, their step properties, and the
            // fingerprints of the changed ones not seen at earlier levels.
            let outs = units(expanding: true)
            encoders.publish()

            // Phase 2 (by shard): insert the candidates' fingerprints in global order; in
            // parallel, each worker owns the shards s with s % workers == its group, so the
            // first occurrence of a fingerprint is the one that is new, whatever the thread
            // timing. A few are inserted in order on this thread (the same result).
            var offs: [Int] = [0]
            for o in outs { offs.append(offs.last! + o.fps.count) }
            let offsets = offs, total = offs.last!
            var isNew = [Bool](repeating: false, count: total)
            let groups = min(workers, VisitedSet.shardCount)
            if groups == 1 || total < Self.parallelInserts {
                var i = 0
                for o in outs {
                    for fp in o.fps { isNew[i] = visited.insert(fp); i += 1 }
                }
            } else {
                isNew.withUnsafeMutableBufferPointer { flags in
                    let flags = UnsafeMutableSendableBuffer(flags)
                    Self.parallel(groups, helpers: helpers) { g in
                        for (k, o) in outs.enumerated() {
                            let off = offsets[k]
                            for (i, fp) in o.fps.enumerated() where VisitedSet.shard(of: fp) % groups == g {
                                flags.base[off + i] = self.visited.insert(fp)
                            }
                        }
                    }
                }
            }

            // Ids in global order; the state bound keeps the first ones.
            var next: [PoolState] = []
            var nextParts: [UInt8] = []
            let nextBase = parents.count
            var i = 0
            outer: for o in outs {
                for (j, st) in o.next.enumerated() {
                    defer { i += 1 }
                    guard isNew[i] else { continue }
                    if let m = options.maxStates, distinct >= m { cut = "states \(m)"; break outer }
                    next.append(st)
                    nextParts.append(o.parts[j])
                    parents.append(o.parents[j])
                    distinct += 1
                }
            }
            meter.lock.lock(); meter.distinct = distinct; meter.lock.unlock()
            if options.collectStates { states += next.map(\.specState) }
            frontier = next
            frontierParts = nextParts
            frontierChecked = false
            frontierBase = nextBase
            depth += 1
            if cut != nil { break }
        }
        if !frontierChecked { _ = units(expanding: false) }
        let seconds = Date().timeIntervalSinceReferenceDate - meter.start
        let cpuSeconds = processCPUSeconds() - cpuStart
        let n = distinct
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
        let m = encoders.cacheInserts + encoder.cacheInserts
        return ExplicitResult(outcomes: outcomes, states: transitions, distinct: n, depth: depth, cut: cut, seconds: seconds, cpuSeconds: cpuSeconds,
                              bytesPerState: bytes, collisionBound: (Double(n) * Double(n) + Double(m) * Double(m)) / pow(2, 129),
                              inexactCanonical: inexact, symmetry: options.symmetry,
                              unreducedByOrbits: options.countOrbits && options.symmetry ? orbitSum : nil)
    }

    /// The always properties and state covers of a new state.
    func checkState(_ s: PoolState, local: Int, depth: Int, into violate: (String, Found) -> Void,
                    cover: (String, Found) -> Void, known: (Set<String>, Set<String>) = ([], [])) {
        var flags = KnownFlags(self, known)
        checkState(s, local: local, depth: depth, into: violate, cover: cover, known: &flags)
    }

    /// Which properties already have a violation (`violated`) and a cover witness
    /// (`covered`), by index: `always`, then `sometimes`, then the extra properties, then
    /// `stepProps` (names are looked up once, not at every state and step).
    struct KnownFlags {
        var violated: [Bool], covered: [Bool]
        init(_ search: ExplicitSearch, _ known: (Set<String>, Set<String>)) {
            let names = search.always.map(\.rawValue) + search.sometimes.map(\.rawValue)
                + search.options.extraProperties.map(\.name) + search.stepProps.map(\.rawValue)
            violated = names.map { known.0.contains($0) }
            covered = names.map { known.1.contains($0) }
        }
    }

    /// Parts of a state, as `SpecState` stores them.
    struct Parts: OptionSet {
        let rawValue: UInt8
        static let granules = Parts(rawValue: 1), realms = Parts(rawValue: 2), recs = Parts(rawValue: 4), rtts = Parts(rawValue: 8)

        /// The parts in which `s` equals `parent`.
        init(_ s: PoolState, equalIn parent: PoolState) {
            var p: Parts = []
            if s.sameGranules(as: parent) { p.insert(.granules) }
            if s.sameRealms(as: parent) { p.insert(.realms) }
            if s.sameRecs(as: parent) { p.insert(.recs) }
            if s.sameRtts(as: parent) { p.insert(.rtts) }
            self = p
        }
        init(rawValue: UInt8) { self.rawValue = rawValue }
    }

    /// The parts of a state that a state property's definition and its cover target read
    /// (through `Machine`: Granules' state, GPT and content and which Granules are stored,
    /// Realms', RECs' and RTTs' fields and entries; the platform is the scope's throughout).
    /// A new state equal to its parent in those parts gets the parent's answers: the
    /// property held there (or its violation is already known) and the cover was not reached
    /// there (or is already known), so neither is evaluated again. Nil: always evaluated.
    /// Read off `Invariant.holds(in:)` and `cover(in:)`; a change to what a property reads
    /// must change this table (the test `skippedStateChecksAgree` evaluates the skipped
    /// checks on every state of several scopes).
    static func reads(_ p: Invariant) -> Parts? {
        switch p {
        case .g1, .g2, .g5: [.granules]
        case .g3: [.granules, .recs, .rtts]
        case .g4: [.granules, .realms, .recs, .rtts]
        case .r1, .r2, .c3, .c4, .c5: [.granules, .realms, .recs]
        case .r3, .t1, .t2, .t3: [.granules, .realms, .rtts]  // T2's cover: starting RTTs, in the RD
        case .r4, .r5: [.granules, .realms]
        case .c1, .c2: [.granules, .recs]
        case .t4, .t5, .t7, .t8: [.granules, .rtts]
        default: nil
        }
    }

    /// Checks of state properties skipped because the state equals its parent in what they
    /// read, and (with `verifySkips`) how many of those gave another answer when evaluated.
    let skippedChecks = Atomic<Int>(0), skipMismatches = Atomic<Int>(0)
    /// Evaluate the skipped checks too and count disagreements (tests).
    var verifySkips = false

    func checkState(_ s: PoolState, local: Int, depth: Int, into violate: (String, Found) -> Void,
                    cover: (String, Found) -> Void, known: inout KnownFlags, sameAsParent same: Parts = []) {
        let w = Witness.state(local)
        var k = 0
        // The state's addresses, read once for all its checks (at the first that needs them).
        var addressesRead: [CWord]? = nil
        func addrs() -> [CWord] {
            if let a = addressesRead { return a }
            let a = s.addresses
            addressesRead = a
            return a
        }
        func skipped(_ p: Invariant, _ k: Int) -> Bool {
            guard let r = Self.reads(p), same.isSuperset(of: r) else { return false }
            skippedChecks.add(1, ordering: .relaxed)
            if verifySkips && ((p.kind == .always && !known.violated[k] && !p.holds(inState: s))
                               || (!known.covered[k] && p.covers(state: s))) {
                skipMismatches.add(1, ordering: .relaxed)
            }
            return true
        }
        for p in always {
            defer { k += 1 }
            if known.violated[k] && known.covered[k] { continue }
            if skipped(p, k) { continue }
            if !known.violated[k], !p.holds(inState: s, addresses: addrs()) {
                known.violated[k] = true
                violate(p.rawValue, Found(depth: depth, witness: w))
            }
            if !known.covered[k], p.covers(state: s, addresses: addrs()) {
                known.covered[k] = true
                cover(p.rawValue, Found(depth: depth, witness: w))
            }
        }
        for p in sometimes {
            defer { k += 1 }
            if known.covered[k] || skipped(p, k) { continue }
            if p.covers(state: s, addresses: addrs()) { known.covered[k] = true; cover(p.rawValue, Found(depth: depth, witness: w)) }
        }
        for e in options.extraProperties {
            if !known.violated[k], !e.holds(s.specState) { known.violated[k] = true; violate(e.name, Found(depth: depth, witness: w)) }
            k += 1
        }
    }

    /// Checks the frontier states `states` (ids `firstId`...) when `check` gives the parts in
    /// which each equals its parent (their always properties and state covers); and when
    /// `expanding`, expands them: every action's call, its step properties, and for each
    /// changed successor not stored at an earlier level, its fingerprint (the visited set is
    /// only read here).
    func expand(_ states: ArraySlice<PoolState>, firstId: Int, depth: Int, out: Out, meter: Meter,
                known: KnownFlags, check: ArraySlice<UInt8>?, expanding: Bool, worker: inout Worker) {
        var known = known
        if let check {
            for (k, s) in states.enumerated() {
                checkState(s, local: firstId + k, depth: depth, into: { n, f in out.violations[n] = f },
                           cover: { n, f in out.covers[n] = f }, known: &known,
                           sameAsParent: Parts(rawValue: check[check.startIndex + k]))
                if options.countOrbits && options.symmetry { out.orbitSum += scope.orbitSize(s, vmids: options.realmSymmetry) }
            }
        }
        guard expanding else { return }
        var pending = 0
        func flush() {
            meter.lock.lock()
            meter.states += pending
            pending = 0
            let now = Date().timeIntervalSinceReferenceDate
            if let cb = options.progress, now - meter.last >= options.progressInterval {
                meter.last = now
                cb(ExplicitProgress(states: meter.states, distinct: meter.distinct, queue: meter.queue, depth: meter.depth,
                                    seconds: now - meter.start))
            }
            meter.lock.unlock()
        }
        let stepBase = always.count + sometimes.count + options.extraProperties.count
        // One transition from `id` by action `ai`: its step properties, and the fingerprint
        // of a changed successor; returns whether `post` equals `pre`. (The states are
        // arguments rather than locals of the loop: each copy of a state would count a
        // reference to each of its boxes.)
        @discardableResult
        func transition(_ id: Int, _ ai: Int, parent: PoolState, pre: PoolState, post: PoolState, succeeded: Bool,
                        command: RMICommand, args: (inout [CWord]) -> Void) -> Bool {
            let unchanged = pre == post
            out.transitions += 1
            pending += 1
            // Step properties, each only where it can fail (`mayFail`) or its cover is still
            // to be reached: most steps are failed calls, on which evaluating them all would
            // dominate. `unchanged` is state equality, never assumed from a failure.
            // First which checks are due (bit j: step property j's definition, bit 32 + j:
            // its cover), then one view of the step for all of them.
            var due: UInt64 = 0
            var rttsUnchanged: Bool? = nil, realmsUnchanged: Bool? = nil
            for (j, p) in stepProps.enumerated() {
                let f = stepBase + j
                if !known.violated[f] && ExplicitSearch.mayFail(
                    p, command: command, unchanged: unchanged, succeeded: succeeded,
                    rttsUnchanged: { rttsUnchanged ?? { let u = pre.sameRtts(as: post); rttsUnchanged = u; return u }() },
                    realmsUnchanged: {
                        realmsUnchanged ?? {
                            let u = pre.sameRealms(as: post) && ExplicitSearch.sameRDs(pre, post)
                            realmsUnchanged = u
                            return u
                        }()
                    }) { due |= 1 << UInt64(j) }
                if !known.covered[f] { due |= 1 << UInt64(32 + j) }
            }
            if due != 0 {
                worker.stepArgs.removeAll(keepingCapacity: true)
                args(&worker.stepArgs)
                let v = StepView(pre: pre, post: post, command: command, args: worker.stepArgs,
                                 succeeded: CBit(succeeded), unchanged: CBit(unchanged))
                for (j, p) in stepProps.enumerated() {
                    let f = stepBase + j
                    if due & (1 << UInt64(j)) != 0, !p.holds(onStep: v) {
                        known.violated[f] = true
                        out.violations[p.rawValue] = Found(depth: depth + 1, witness: .step(id, ai))
                    }
                    if due & (1 << UInt64(32 + j)) != 0, p.covers(step: v) {
                        known.covered[f] = true
                        out.covers[p.rawValue] = Found(depth: depth + 1, witness: .step(id, ai))
                    }
                }
            }
            if unchanged { return true }
            let (fp, exact) = fingerprintOf(post, &worker.encoder)
            if !exact { out.inexact += 1 }
            if visited.contains(fp) || !worker.local.insert(fp) { return false }
            out.next.append(post)
            out.fps.append(fp)
            out.parents.append(UInt64(id) << 24 | UInt64(ai))
            out.parts.append(Parts(post, equalIn: parent).rawValue)
            return false
        }
        // The call handed to the spec, written in place for each action (as `Call(registers:
        // realm:)` would build it: five registers and four Realm action arguments, padded
        // with zeros), so that no arrays are built per call.
        // (Through buffer pointers: one uniqueness check per array rather than one a word.)
        func load(_ a: AlphabetAction) {
            worker.call.x.withUnsafeMutableBufferPointer { x in
                for i in 0..<5 { x[i] = CWord(i < a.argc ? a[i] : 0) }
            }
            worker.call.realm.kind = CWord((a.realm ?? .irq).rawValue)
            worker.call.realm.args.withUnsafeMutableBufferPointer { x in
                for i in 0..<4 { x[i] = CWord(i < a.realmArgc ? a.realmArg(i) : 0) }
            }
        }
        for (k, s) in states.enumerated() {
            let id = firstId + k
            scope.alphabet(s, into: &worker.alphabet)
            // The state after an action's Host writes, kept for the next action when it
            // writes the same (REC_ENTER's Realm actions, DATA_CREATE's source page).
            var lastWrites = AlphabetAction.Writes.none
            var afterWrites = s
            // The state each call is applied to: a copy of `s` (or of `afterWrites`), kept
            // from one call to the next while the calls leave it equal to that state (most
            // fail), instead of copying the state (a reference count each) for every call.
            var plain = s, plainClean = true
            var written = s, writtenClean = false
            for ai in worker.alphabet.actions.indices {
                let a = worker.alphabet.actions[ai]
                if a.exit {
                    var next = s
                    let ok = RMISpec.recExitSucceeds(&next, rec: a.args.0, realm: RealmAction.idle)
                    transition(id, ai, parent: s, pre: s, post: next, succeeded: ok, command: .recEnter,
                               args: { $0.append(CWord(a.args.0)); $0.append(ok ? s.rec(CWord(a.args.0), .runPtr) : 0) })
                    continue
                }
                // What `TraceRunner.run` does with a call whose writes are applied (through
                // `RMISpec.apply`), less the list of allowed results, which the search does
                // not read: the call succeeds when no failure condition holds.
                load(a)
                if a.writes == .none {
                    if !plainClean { plain = s }
                    let ok = RMISpec.applySucceeds(a.command, to: &plain, worker.call)
                    plainClean = transition(id, ai, parent: s, pre: s, post: plain, succeeded: ok, command: a.command, args: { for i in 0..<a.argc { $0.append(CWord(a[i])) } })
                } else {
                    if a.writes != lastWrites {
                        afterWrites = s
                        for x in worker.alphabet.hostWrites(a.writes) { afterWrites.apply(x) }
                        lastWrites = a.writes
                        writtenClean = false
                    }
                    if !writtenClean { written = afterWrites }
                    let ok = RMISpec.applySucceeds(a.command, to: &written, worker.call)
                    writtenClean = transition(id, ai, parent: s, pre: afterWrites, post: written, succeeded: ok, command: a.command,
                                              args: { for i in 0..<a.argc { $0.append(CWord(a[i])) } })
                }
            }
            if pending >= 256 { flush() }
        }
        flush()
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

/// Encoders kept between units of work, so that their caches stay warm.
final class EncoderPool: @unchecked Sendable {
    let lock = NSLock()
    var free: [SlotEncoder] = []
    let shared = SharedFingerprints()
    func take(_ scope: ExplicitScope) -> SlotEncoder {
        lock.lock(); defer { lock.unlock() }
        if let e = free.popLast() { return e }
        var e = SlotEncoder(scope: scope)
        e.shared = shared
        return e
    }
    /// Publishes the encoders' new fingerprints to `shared` (between levels: every encoder
    /// is back in the pool).
    func publish() {
        lock.lock(); defer { lock.unlock() }
        for i in free.indices { shared.publish(&free[i]) }
    }
    func give(_ e: SlotEncoder) {
        lock.lock(); defer { lock.unlock() }
        free.append(e)
    }
    /// Raw hashes the encoders entered in their caches.
    var cacheInserts: Int {
        lock.lock(); defer { lock.unlock() }
        return free.reduce(0) { $0 + $1.cacheInserts }
    }
}

/// A buffer that threads write at disjoint indices.
struct UnsafeMutableSendableBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<T>
    init(_ b: UnsafeMutableBufferPointer<T>) { base = b }
}

