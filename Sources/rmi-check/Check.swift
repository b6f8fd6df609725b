import ArgumentParser
import Explicit
import Foundation
import RMISpec

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every property and cover of the spec over a bounded scope (explicit search or BMC).",
        discussion: """
            --engine explicit: breadth-first explicit-state search of the spec's concrete face. \
            Each reached state is canonicalised (the pool's Granules renamed so that symmetric \
            states coincide; --no-symmetry turns that off) and stored as a 128-bit fingerprint. \
            Every `always` property is checked in every new state, every `step` property on \
            every call (failed calls included), and every cover target is recorded. A \
            violation gives a shortest counterexample, which is replayed against the spec \
            before it is written to --out.

            The scope (--scope granules=5,realms=1,recs=1,ipas=1,aux=1) is a finite action \
            alphabet: the first N Granules of DRAM, a non-delegable and an unaligned address \
            for failures, protected IPAs 0, 0x1000, ..., one unprotected IPA, Realms with \
            a 32-bit IPA space and one level-1 starting RTT (wide=1 adds w = 40, SL = 0), \
            RecAuxCount = aux, and REC_ENTER with a fixed set of Realm actions. Several scopes \
            separated by ';' are searched one after the other and their results merged; the \
            default plan is \(ExplicitScope.defaultPlan) (together they reach every cover \
            target; one scope that reaches them all is too large, see docs/explicit-search.md), \
            and for each of its scopes it also prints the number of states without symmetry \
            (from the representatives' orbit sizes). HOLDS means exhaustive within the scopes, \
            or "up to" the depth or state bound that cut a search. --compare-symmetry also \
            counts the states of the first scope without symmetry (or with, under \
            --no-symmetry) and prints the reduction. Symmetry renames the pool's Granules and \
            the Realms' VMIDs (--no-realm-symmetry: Granules only). The result (counts, \
            witnesses, shortest traces) is the same for any number of --workers.

            --engine bmc: bounded model checking with Z3. The spec's transition relation is \
            unrolled to --depth (default 4) calls from the initial state: at each step the \
            Host may rewrite NS memory and the contents of the Granules it can access, then \
            calls any command (--commands restricts them) with any 64-bit arguments and, \
            for REC_ENTER, any Realm action; or, instead of the call, another agent changes \
            the GPT entry of an UNDELEGATED Granule (a set_gpt event; --no-gpt-events), or a \
            REC that a REC_ENTER left running (stay_running) exits after any Realm action (a \
            rec_exit event; --no-rec-exit-events). The scope is the symbolic one \
            (--scope granules=6,realms=1,recs=2,entries=4,aux=1: Granule slots at \
            0x80000000 + 4 KB * i, at most that many Realms and RECs, the first `entries` RTT \
            entries tracked one by one). Depth by depth, the first violation found is a \
            shortest one; it and every cover witness are replayed on the concrete interpreter \
            before they are shown (a trace that does not replay is an internal error, exit \
            3). HOLDS means "no run of at most --depth calls in the scope violates it"; a \
            query the solver cannot decide (--timeout, --rlimit, --budget) is UNKNOWN, never \
            a pass. With --spec-option weaken-..., a deliberately weakened spec is checked, \
            and also the target REFINES-SPEC: every step of it is a step the spec allows.

            Exit codes: 0 every property holds, 1 a property is violated, 2 undecided (a \
            `sometimes` property not reached, a solver UNKNOWN, a cover not reached), 3 \
            internal error (a trace that does not replay), 65 bad scope or property name.
            """)

    enum Engine: String, ExpressibleByArgument, CaseIterable {
        case explicit, bmc
    }

    @Option(name: .long, help: "The engine: \(Engine.allCases.map(\.rawValue).joined(separator: ", ")).")
    var engine: Engine = .explicit

    @Option(name: .long, help: "The scope, NAME=VALUE,... (granules, realms, recs, ipas, aux, unprotected, wide, failures); several separated by ';'. Default: the built-in plan.")
    var scope: String = ""

    @Option(name: .long, help: "Depth bound (calls from the initial state).")
    var depth: Int?

    @Option(name: .customLong("max-states"), help: "Bound on distinct states.")
    var maxStates: Int?

    @Flag(name: .customLong("no-symmetry"), help: "Store every state, not one per symmetry class.")
    var noSymmetry = false

    @Flag(name: .customLong("no-realm-symmetry"), help: "With symmetry: rename Granules only, not also the Realms' VMIDs.")
    var noRealmSymmetry = false

    @Flag(name: .customLong("compare-symmetry"), help: "Also count the states of the first scope without symmetry (with, under --no-symmetry) and print both counts and the reduction.")
    var compareSymmetry = false

    @Option(name: .customLong("property"), help: "A property to check (INV-G1 or G1); repeatable. Default: all.")
    var property: [String] = []

    @Option(name: .long, help: "Folder for counterexample and witness traces.")
    var out: String = "out"

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var workers: Int?

    @Flag(name: .long, help: "Also count the states without symmetry by adding up the orbit sizes of the representatives (N! renamings each; no second search).")
    var orbits = false

    @Flag(name: .customLong("count-only"), help: "Check no property: only count the reachable states (a benchmark of the search itself).")
    var countOnly = false

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    @OptionGroup(title: "Symbolic engines (--engine bmc)")
    var solver: SolverOptions

    func run() throws {
        let plan: [ExplicitScope]
        do { plan = engine != .explicit ? [] : try ExplicitScope.parsePlan(scope.isEmpty ? ExplicitScope.defaultPlan : scope) } catch {
            note("rmi-check: --scope: \(error)")
            throw Exit.badInput
        }
        let props = try parseProperties(property)
        if let d = depth, d < 0 { note("rmi-check: --depth must be >= 0"); throw Exit.badInput }
        if let m = maxStates, m <= 0 { note("rmi-check: --max-states must be > 0"); throw Exit.badInput }
        if let w = workers, w <= 0 { note("rmi-check: --workers must be > 0"); throw Exit.badInput }
        switch engine {
        case .explicit: try runExplicit(plan, countOnly ? [] : props.isEmpty ? Invariant.specProperties : props)
        case .bmc: try runBMC(props.isEmpty ? Invariant.specProperties : props)
        }
    }

    func search(_ sc: ExplicitScope, _ props: [Invariant], symmetry: Bool) throws -> ExplicitResult {
        var o = ExplicitOptions(scope: sc)
        o.symmetry = symmetry
        o.realmSymmetry = !noRealmSymmetry
        o.maxDepth = depth
        o.maxStates = maxStates
        o.properties = props
        // The default plan also counts the states without symmetry (from orbit sizes).
        o.countOrbits = orbits || (scope.isEmpty && symmetry && !props.isEmpty)
        if let workers { o.workers = workers }
        if !quiet { o.progress = { p in note(p.description) } }
        note("check: explicit search, scope \(sc), \(symmetry ? (noRealmSymmetry ? "Granule symmetry" : "Granule and Realm symmetry") : "no symmetry"), \(o.workers) worker(s)"
             + (depth.map { ", depth <= \($0)" } ?? "") + (maxStates.map { ", <= \($0) states" } ?? "")
             + (props.isEmpty ? ", counting states only" : ""))
        do { return try ExplicitSearch(o).run() } catch let e as ExplicitError {
            print("INTERNAL ERROR: \(e)")
            throw Exit.internalError
        }
    }

    func runExplicit(_ plan: [ExplicitScope], _ props: [Invariant]) throws {
        struct Merged {
            var kind = "", violated: Trace? = nil, witness: Trace? = nil
            var cover: String? = nil
            var hasCover = false
        }
        var merged: [String: Merged] = [:]
        var order: [String] = []
        var bounds: [String] = []
        for (i, sc) in plan.enumerated() {
            let r = try search(sc, props, symmetry: !noSymmetry)
            let bound = r.cut.map { "up to \($0) (bounded, not exhaustive)" } ?? "exhaustive"
            bounds.append(r.cut == nil ? "" : "\(sc): \(bound)")
            print("scope \(sc): \(r.distinct) distinct states (\(r.symmetry ? "symmetry reduced" : "no symmetry")), "
                  + "\(r.states) transitions, depth \(r.depth), \(bound), \(String(format: "%.2f", r.seconds)) s, "
                  + "\(Int(r.statesPerSecond)) states/s (\(Int(r.statesPerCPUSecond)) per CPU-second), \(String(format: "%.1f", r.bytesPerState)) bytes/state, "
                  + "collision probability <= \(String(format: "%.1e", r.collisionBound))"
                  + (r.inexactCanonical > 0 ? ", \(r.inexactCanonical) inexact canonicalisations" : ""))
            if let u = r.unreducedByOrbits {
                print("scope \(sc): distinct states \(r.distinct) with symmetry, \(u) without (by orbit sizes; "
                      + "reduction \(String(format: "%.2f", Double(u) / Double(max(r.distinct, 1))))x)")
            }
            if compareSymmetry && i == 0 {
                // The other search only counts states: same alphabet, no properties.
                let other = try search(sc, [], symmetry: noSymmetry)
                let (withSym, without) = r.symmetry ? (r.distinct, other.distinct) : (other.distinct, r.distinct)
                print("scope \(sc): distinct states \(withSym) with symmetry, \(without) without "
                      + "(reduction \(String(format: "%.2f", Double(without) / Double(max(withSym, 1))))x)"
                      + (other.cut != nil || r.cut != nil ? " (bounded searches)" : ""))
            }
            for o in r.outcomes {
                if merged[o.name] == nil { order.append(o.name); merged[o.name] = Merged(kind: o.kind, hasCover: o.hasCover) }
                var m = merged[o.name]!
                if m.cover == nil, let d = o.coverDepth { m.cover = "reached at depth \(d) (\(sc))" }
                switch o.verdict {
                case .violated(let t): if m.violated == nil || t.steps.count < m.violated!.steps.count { m.violated = t }
                case .witnessed(let t): if m.witness == nil || t.steps.count < m.witness!.steps.count { m.witness = t }
                case .holds, .notReached: break
                }
                merged[o.name] = m
            }
        }
        let cutNotes = bounds.filter { !$0.isEmpty }
        let bound = cutNotes.isEmpty ? "exhaustive within the scope\(plan.count > 1 ? "s" : "")"
            : "bounded (\(cutNotes.joined(separator: "; ")))"
        var violated = false, unknown = false, uncovered = 0
        for name in order {
            let m = merged[name]!
            let coverNote = m.hasCover ? "; cover " + (m.cover ?? "NOT REACHED") : ""
            if m.hasCover && m.cover == nil { uncovered += 1 }
            if let t = m.violated {
                violated = true
                let path = (out as NSString).appendingPathComponent("explicit-\(name).json")
                try t.write(to: path)
                print("VIOLATED  \(name) (\(m.kind)): shortest counterexample, \(t.steps.count) steps, replayed: \(path)")
                print("  replay: rmi-check replay \(path)")
            } else if m.kind == "sometimes" {
                if let t = m.witness {
                    let path = (out as NSString).appendingPathComponent("explicit-\(name)-witness.json")
                    try t.write(to: path)
                    print("HOLDS     \(name) (sometimes): shortest witness, \(t.steps.count) steps, replayed: \(path)")
                } else {
                    unknown = true
                    print("UNKNOWN   \(name) (sometimes): not reached, \(bound)")
                }
            } else {
                print("HOLDS     \(name) (\(m.kind)), \(bound)\(coverNote)")
            }
        }
        if uncovered > 0 { print("\(uncovered) cover target(s) not reached: the scope is too small for them") }
        if violated { throw Exit.violated }
        if unknown { throw Exit.unknown }
    }
}
