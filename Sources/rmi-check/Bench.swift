import ArgumentParser
import Explicit
import Foundation
import RMICheck
import RMISpec
import SMT
import RMMImpl

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput: the implementation RMM, the spec, and conformance.",
        discussion: """
            Runs each workload for about --seconds seconds on one core and prints a table and, \
            with --json, a JSON record with the machine and the commit. Build in release mode \
            for meaningful figures: swift run -c release rmi-check bench.

            Workloads: RMMImpl calls/s on the canonical build, populate, run and teardown \
            sequence (each round ends with every Granule UNDELEGATED again, so rounds repeat \
            without a reset); the spec's concrete face on the same calls; conformance steps/s \
            on seeded random walks, without and with state comparison; explicit-state search \
            (every property checked) at 4, 5 and 6 Granules with symmetry (repeated for about \
            --seconds each; states/s counts transitions, i.e. successor states computed), its \
            bytes per stored state and its symmetry reduction (the unreduced count from orbit \
            sizes), and the 5-Granule scope without symmetry (66,552 distinct states).

            The whole run takes about a minute at the default --seconds (well under 10 minutes).
            """)

    @Option(name: .long, help: "Seconds per workload.")
    var seconds: Double = 3

    @Option(name: .long, help: "Also write the figures as JSON to this file.")
    var json: String?

    @Option(name: .long, help: "Run only the workloads whose name contains this text (e.g. spec, RMMImpl, conformance).")
    var only: String?

    func wanted(_ name: String) -> Bool { only.map { name.contains($0) } ?? true }

    struct Figure: Codable { var name: String; var value: Double; var unit: String }

    func run() throws {
        var figures: [Figure] = []
        let scenario = CanonicalScenarios.buildAndTeardown()
        let calls: [(RMICommand, [UInt64], RealmActionValue?)] = scenario.trace.steps.compactMap {
            if case .call(let c) = $0 { return (c.command, c.args, c.realm) }
            return nil
        }
        let writes: [HostWrite] = scenario.trace.steps.flatMap { step -> [HostWrite] in
            if case .call(let c) = step { return c.writes }
            if case .write(let w) = step { return [w] }
            return []
        }

        // RMMImpl: the Host writes once (they persist in NS memory), then rounds of calls.
        var impl = BuiltinRMM()
        for w in writes { try impl.write(w) }
        let rmm = impl.rmm
        let raw = calls.map { c -> (UInt64, [UInt64], RealmBehaviour?) in
            let a = c.1 + Array(repeating: 0, count: 5 - c.1.count)
            return (c.0.fid, a, c.0 == .recEnter ? BuiltinRMM.behaviour(c.2 ?? RealmActionValue(.irq)) : nil)
        }
        var n = 0
        var failures = 0
        let implName = "RMMImpl calls (canonical build/run/teardown mix)"
        let implRate = !wanted(implName) ? 0 : measure {
            for (fid, a, b) in raw {
                if let b { rmm.nextBehaviour = b }
                let r = rmm.handle(fid: fid, a[0], a[1], a[2], a[3], a[4])
                if r.x0 & 0xFF != 0 { failures += 1 }
            }
            n += raw.count
            return raw.count
        }
        guard failures == n / raw.count else {
            print("internal error: the canonical sequence did not run as required on RMMImpl (\(failures) failures)")
            throw Exit.internalError
        }
        if wanted(implName) { figures.append(Figure(name: implName, value: implRate, unit: "calls/s")) }

        // The spec's concrete face on the same calls, state updated in place.
        var runner = TraceRunner()
        for w in writes { runner.apply(w) }
        let specSteps = calls.map { TraceStep.call(CallStep(command: $0.0, args: $0.1, realm: $0.2)) }
        let specName = "spec calls (same mix)"
        let specRate = !wanted(specName) ? 0 : measure {
            for s in specSteps { runner.run(s) }
            return specSteps.count
        }
        if wanted(specName) { figures.append(Figure(name: specName, value: specRate, unit: "calls/s")) }

        // Conformance replay of the canonical trace (spec and RMMImpl in lockstep).
        var replay = Conformance(impl: BuiltinRMM(), compareState: false)
        let replayName = "conformance replay steps (canonical trace), without state comparison"
        if wanted(replayName) {
        let replayRate = try measureThrowing {
            if let v = try replay.check(scenario.trace) {
                print("internal error: the built-in RMM differs from the spec: \(v)"); throw Exit.internalError
            }
            return scenario.trace.steps.count
        }
        figures.append(Figure(name: replayName, value: replayRate, unit: "steps/s"))
        }

        for compareState in [false, true] {
            let name = "conformance steps, random walks, \(compareState ? "with" : "without") state comparison"
            guard wanted(name) else { continue }
            var engine = Conformance(impl: BuiltinRMM(), compareState: compareState)
            var seed: UInt64 = 1
            let rate = try measureThrowing {
                let (k, v) = try engine.random(steps: 2_000, seed: seed)
                seed += 1
                if let v { print("internal error: the built-in RMM differs from the spec: \(v)"); throw Exit.internalError }
                return k
            }
            figures.append(Figure(name: name, value: rate, unit: "steps/s"))
        }

        // Explicit-state search.
        let explicit = try explicitFigures()

        let machine = machineDescription()
        print("rmi-check bench (\(machine), commit \(commit()), \(seconds) s per workload)")
        for f in figures { print("  \(f.name.padding(toLength: 64, withPad: " ", startingAt: 0)) \(String(format: "%12.0f", f.value)) \(f.unit)") }
        if specRate > 0 && implRate > 0 { print("  ratio spec/RMMImpl: \(String(format: "%.3f", specRate / implRate))") }
        if !explicit.isEmpty {
            print("explicit-state search (every property checked; states/s = transitions/s; \(explicit[0].workers) workers)")
            print("  " + ["scope", "symmetry", "distinct", "unreduced", "reduction", "transitions", "states/s", "per CPU-s",
                         "bytes/state"].enumerated().map { $0.offset == 0 ? $0.element.padding(toLength: 12, withPad: " ", startingAt: 0)
                            : String(repeating: " ", count: max(0, 12 - $0.element.count)) + $0.element }.joined())
            for e in explicit {
                let cols = [e.symmetry ? "on" : "off", "\(e.distinct)", e.unreduced.map { "\($0)" } ?? "-",
                            e.unreduced.map { String(format: "%.1fx", Double($0) / Double(e.distinct)) } ?? "-",
                            "\(e.transitions)", String(format: "%.0f", e.statesPerSecond), String(format: "%.0f", e.statesPerCPUSecond),
                            String(format: "%.1f", e.bytesPerState)]
                print("  " + e.scope.padding(toLength: 12, withPad: " ", startingAt: 0)
                      + cols.map { String(repeating: " ", count: max(0, 12 - $0.count)) + $0 }.joined())
            }
        }
        let symbolic = try wanted("symbolic") ? symbolicFigures() : []
        if !symbolic.isEmpty {
            print("symbolic engines (Z3 \(z3Version()))")
            for f in symbolic { print("  \(f.line)") }
        }
        if let json {
            let record: [String: Any] = ["machine": machine, "commit": commit(), "seconds": seconds,
                                         "figures": figures.map { ["name": $0.name, "value": $0.value, "unit": $0.unit] },
                                         "explicit": explicit.map(\.json),
                                         "symbolic": symbolic.map(\.json)]
            try atomicWrite(try JSONSerialization.data(withJSONObject: record, options: [.prettyPrinted, .sortedKeys]), to: json)
        }
    }

    struct SymbolicFigure {
        var name: String, scope: String, commands: String
        var secondsPerDepth: [Double]
        var outcome: String
        var line: String {
            let depths = secondsPerDepth.enumerated().map { "\($0.offset):\(String(format: "%.2f", $0.element))" }.joined(separator: " ")
            return "\(name), scope \(scope), \(commands): \(outcome); seconds per depth \(depths) (total \(String(format: "%.1f", secondsPerDepth.reduce(0, +))) s)"
        }
        var json: [String: Any] {
            ["name": name, "scope": scope, "commands": commands, "secondsPerDepth": secondsPerDepth, "outcome": outcome]
        }
    }

    /// BMC time per depth and proof time per property, each under a budget (also the
    /// per-query timeout) so that the bench stays within minutes: the figures say how deep
    /// each run got. Deeper runs with every property exhaust memory on this machine.
    func symbolicFigures() throws -> [SymbolicFigure] {
        var out: [SymbolicFigure] = []
        func settings(_ scope: String, _ commands: [RMICommand], _ props: [Invariant], budget: Double) throws -> SymbolicSettings {
            var s = SymbolicSettings()
            s.scope = try Scope(parsing: scope)
            s.commands = commands
            s.properties = props
            s.budgetSeconds = budget
            s.timeoutMs = UInt32(budget * 1000)
            s.covers = false
            return s
        }
        func verdicts(_ o: [RMICheck.PropertyOutcome]) -> String {
            Dictionary(grouping: o, by: { $0.verdict.name }).sorted { $0.key < $1.key }.map { "\($0.value.count) \($0.key)" }.joined(separator: ", ")
        }
        // All 23 commands at the default scope, one property: how deep in about two minutes.
        let all = RMICommand.allCases
        let deep = try BoundedModelChecker(settings: settings("", all, [.g1], budget: 90), depth: 12).run()
        out.append(SymbolicFigure(name: "bmc INV-G1, depth <= 12, budget 90 s", scope: Scope.default.description,
                                  commands: "all 23 commands", secondsPerDepth: deep.secondsPerDepth,
                                  outcome: "depth \(deep.depthReached) reached, \(verdicts(deep.outcomes))"))
        // Every property, a smaller scope.
        let small = "granules=3,realms=1,recs=1,entries=2"
        let wide = try BoundedModelChecker(settings: settings(small, all, Invariant.specProperties, budget: 90), depth: 2).run()
        out.append(SymbolicFigure(name: "bmc every property, depth <= 2, budget 90 s", scope: small, commands: "all 23 commands",
                                  secondsPerDepth: wide.secondsPerDepth,
                                  outcome: "depth \(wide.depthReached) reached, \(verdicts(wide.outcomes))"))
        // Proofs: the Granule invariants for the Granule commands.
        let g = [RMICommand.granuleDelegate, .granuleUndelegate]
        let props: [Invariant] = [.g1, .g2, .g5, .l2, .l4]
        let t0 = Date()
        let proof = try InductionProver(settings: settings("granules=2,realms=0,recs=0,entries=1", g, props, budget: 120),
                                        k: 1, strengthening: [.g1, .g2, .g5]).run()
        out.append(SymbolicFigure(name: "prove (1-induction) \(props.count) properties", scope: "granules=2,realms=0,recs=0,entries=1",
                                  commands: "GRANULE_DELEGATE/UNDELEGATE", secondsPerDepth: [Date().timeIntervalSince(t0)],
                                  outcome: verdicts(proof.outcomes)))
        // The same four Granule invariants by Spacer at the default scope: no lemmas, the
        // invariant inferred and re-checked.
        let spacerProps: [Invariant] = [.g1, .g2, .g4, .g5]
        let t2 = Date()
        let spacer = try SpacerProver(settings: settings("", g, spacerProps, budget: 120), coverDepth: 0).run()
        out.append(SymbolicFigure(name: "prove (Spacer) \(spacerProps.count) properties", scope: Scope.default.description,
                                  commands: "GRANULE_DELEGATE/UNDELEGATE", secondsPerDepth: [Date().timeIntervalSince(t2)],
                                  outcome: verdicts(spacer.outcomes)))
        // The same over Granule arrays at every address (any memory size).
        let arrayProps: [Invariant] = [.g1, .g2, .g5, .l2, .l4]
        let t3 = Date()
        let arrays = try SpacerProver(settings: settings("", g, arrayProps, budget: 120), coverDepth: 0, everyAddress: true).run()
        out.append(SymbolicFigure(name: "prove (Spacer, every address) \(arrayProps.count) properties", scope: "every address of the standard platform",
                                  commands: "GRANULE_DELEGATE/UNDELEGATE", secondsPerDepth: [Date().timeIntervalSince(t3)],
                                  outcome: verdicts(arrays.outcomes)))
        // Induction over the whole state at every address, with the REC commands: every
        // property a single address states, as targets and lemma pool.
        let recCommands = g + [.recCreate, .recDestroy]
        let perAddress = Invariant.specProperties.filter {
            EveryAddressProver.unsupported($0) == nil && !EveryAddressProver.statedPerEntry($0) && EveryAddressProver.arity($0) == 1
        }
        let t4 = Date()
        let whole = try EveryAddressProver(settings: settings("", recCommands, perAddress, budget: 300), coverDepth: 0).run()
        out.append(SymbolicFigure(name: "prove (1-induction, every address) \(perAddress.count) properties", scope: "every address of the standard platform",
                                  commands: "GRANULE_DELEGATE/UNDELEGATE, REC_CREATE/DESTROY", secondsPerDepth: [Date().timeIntervalSince(t4)],
                                  outcome: verdicts(whole.outcomes)))
        // Properties stated at one RTT entry: the protected/unprotected split and RIPAS.
        let perEntry: [Invariant] = [.t3, .t7]
        let t5 = Date()
        let entries = try EveryAddressProver(settings: settings("", [.rttMapUnprotected, .rttUnmapUnprotected], perEntry, budget: 300),
                                             lemmas: perEntry, coverDepth: 0, encodingLemmas: []).run()
        out.append(SymbolicFigure(name: "prove (1-induction, every address and entry) INV-T3, T7", scope: "every address of the standard platform",
                                  commands: "RTT_MAP/UNMAP_UNPROTECTED", secondsPerDepth: [Date().timeIntervalSince(t5)],
                                  outcome: verdicts(entries.outcomes)))
        // Proofs with every invariant as lemma pool and target: the step's fixed cost (a
        // call that changes nothing) and calls that change a Granule's state; each target
        // with the lemmas its CTIs ask for, then with every lemma assumed (`--all-lemmas`).
        for (scope, command) in [(small, RMICommand.version), ("granules=2,realms=1,recs=1,entries=1", .granuleDelegate),
                                 ("granules=2,realms=1,recs=1,entries=1", .granuleUndelegate)] {
            for select in [true, false] {
                var s = try settings(scope, [command], Invariant.specProperties, budget: 150)
                s.gptEvents = false
                s.recExitEvents = false
                let t1 = Date()
                var prover = InductionProver(settings: s, k: 1, coverDepth: 0)
                prover.selectLemmas = select
                let r = try prover.run()
                out.append(SymbolicFigure(name: "prove (1-induction) every INV-*, one command's step, \(select ? "lemmas chosen by CTIs" : "every lemma assumed")",
                                          scope: scope, commands: command.rawValue, secondsPerDepth: [Date().timeIntervalSince(t1)],
                                          outcome: verdicts(r.outcomes)))
            }
        }
        return out
    }

    struct ExplicitFigure {
        var scope: String, symmetry: Bool, workers: Int
        var distinct: Int, unreduced: Int?, transitions: Int
        var seconds: Double, cpuSeconds: Double, bytesPerState: Double
        var statesPerSecond: Double { Double(transitions) / max(seconds, 1e-9) }
        var statesPerCPUSecond: Double { Double(transitions) / max(cpuSeconds, 1e-9) }
        var json: [String: Any] {
            var j: [String: Any] = ["scope": scope, "symmetry": symmetry, "workers": workers, "distinct": distinct,
                                    "transitions": transitions, "seconds": seconds, "cpuSeconds": cpuSeconds,
                                    "statesPerSecond": statesPerSecond, "statesPerCPUSecond": statesPerCPUSecond,
                                    "bytesPerState": bytesPerState]
            if let unreduced {
                j["unreduced"] = unreduced
                j["reduction"] = Double(unreduced) / Double(distinct)
            }
            return j
        }
    }

    /// Explicit search at 4, 5 and 6 Granules with symmetry (each repeated for about
    /// `seconds`; the unreduced count from a separate orbit-counting run), then 5 Granules
    /// without symmetry once. Every property is checked; a violation is an internal error.
    func explicitFigures() throws -> [ExplicitFigure] {
        var out: [ExplicitFigure] = []
        let runs: [(String, Bool)] = [("granules=4", true), ("granules=5", true), ("granules=6", true), ("granules=5", false)]
        for (text, symmetry) in runs {
            guard wanted("explicit search \(text)\(symmetry ? "" : " no symmetry")") else { continue }
            let scope = try ExplicitScope.parse(text)
            var o = ExplicitOptions(scope: scope)
            o.symmetry = symmetry
            var transitions = 0, wall = 0.0, cpu = 0.0
            var last: ExplicitResult? = nil
            repeat {
                let r = try ExplicitSearch(o).run()
                for p in r.outcomes {
                    if case .violated = p.verdict {
                        print("internal error: \(p.name) violated in the bench's explicit search of \(text)"); throw Exit.internalError
                    }
                }
                transitions += r.states; wall += r.seconds; cpu += r.cpuSeconds
                last = r
            } while symmetry && wall < seconds
            var unreduced: Int? = nil
            if symmetry {
                var c = o
                c.properties = []
                c.countOrbits = true
                unreduced = try ExplicitSearch(c).run().unreducedByOrbits
            }
            out.append(ExplicitFigure(scope: text, symmetry: symmetry, workers: o.workers, distinct: last!.distinct,
                                      unreduced: unreduced, transitions: transitions, seconds: wall, cpuSeconds: cpu,
                                      bytesPerState: last!.bytesPerState))
        }
        return out
    }

    /// Runs `body` (which returns how many units it did) until `seconds` pass; units per second.
    func measure(_ body: () -> Int) -> Double {
        let start = Date()
        var units = 0
        repeat { units += body() } while Date().timeIntervalSince(start) < seconds
        return Double(units) / Date().timeIntervalSince(start)
    }
    func measureThrowing(_ body: () throws -> Int) throws -> Double {
        let start = Date()
        var units = 0
        repeat { units += try body() } while Date().timeIntervalSince(start) < seconds
        return Double(units) / Date().timeIntervalSince(start)
    }

    func machineDescription() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        return "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }

    /// The commit of the checkout the binary was built in, "-dirty" when its files differ
    /// from it (found from the binary's folder, `.build/release` inside the checkout, so that
    /// a run from another folder names it too), or "unknown".
    func commit() -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let folder = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent().path ?? "."
        p.arguments = ["git", "-C", folder, "describe", "--always", "--dirty", "--abbrev=7"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return "unknown" }
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        p.waitUntilExit()
        return p.terminationStatus == 0 && !out.isEmpty ? out : "unknown"
    }
}
