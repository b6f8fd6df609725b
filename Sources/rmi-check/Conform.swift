import ArgumentParser
import Foundation
import RMICheck
import RMISpec

struct Conform: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check an implementation RMM against the spec, call by call and state by state.",
        discussion: """
            Runs traces on the spec and on the implementation in lockstep. At each step the \
            implementation's status and index must be one the spec allows, the outputs the \
            spec defines for that result must match, the REC exit record must match after \
            REC_ENTER, and (for the built-in RMM, whose state can be inspected) its state \
            mapped to the spec's abstract state must equal the spec's.

            Traces come from files (--traces FILE or DIR) and from seeded random walks \
            (--random N --seed S): a Host that mostly makes calls whose preconditions hold, \
            so Realms get built, populated, run and torn down, and sometimes breaks one \
            argument. The first difference is reported, its trace is written to --out, and \
            the command that replays it is printed.

            Exit codes: 0 no difference, 1 a difference (or the implementation crashed, hung \
            or answered garbage), 65 a malformed trace file.
            """)

    @OptionGroup var implementation: ImplOptions

    @Option(name: .long, help: "A trace file or a folder of trace files (*.json) to replay.")
    var traces: String?

    @Option(name: .long, help: "Random steps to run.")
    var random: Int = 0

    @Option(name: .long, help: "Seed of the random walks (printed, so any run can be repeated).")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Steps per random walk before a reset to the initial state.")
    var depth: Int = 200

    @Flag(name: .customLong("no-state"), help: "Compare results only, not states (faster).")
    var noState = false

    @Option(name: .long, help: "Folder for the trace of a difference.")
    var out: String = "out"

    func validate() throws {
        if traces == nil && random == 0 { throw ValidationError("nothing to check: give --traces PATH and/or --random N") }
        if random < 0 || depth <= 0 { throw ValidationError("--random must be >= 0 and --depth > 0") }
    }

    func run() throws {
        var impl: any RMMUnderTest
        do { impl = try implementation.make() } catch let e as ImplError {
            print("FAILED to start the implementation: \(e)")
            throw Exit.violated
        }
        var engine = Conformance(impl: impl, compareState: !noState)
        var checkedTraces = 0
        do {
            for path in try traceFiles() {
                let t: Trace
                do { t = try Trace.load(path: path) } catch let e as TraceError {
                    note("rmi-check: \(e)")
                    throw Exit.badInput
                }
                if implementation.implCmd == nil && t.platform != engine.impl.platform {
                    engine.impl = try implementation.make(platform: t.platform)
                }
                if let v = try engine.check(t) { try report(v, source: path) }
                checkedTraces += 1
            }
            if random > 0 {
                note("conform: \(impl.name), \(random) random steps, seed \(seed), depth \(depth)\(noState ? ", results only" : "")")
                let start = Date()
                let (n, v) = try engine.random(steps: random, seed: seed, depth: depth) { n in
                    let rate = Double(n) / max(Date().timeIntervalSince(start), 1e-9)
                    note("conform: \(n) steps, no difference, \(Int(rate)) steps/s")
                }
                if let v { try report(v, source: "random walk, seed \(seed), after \(n) steps") }
            }
        } catch let e as ImplError {
            print("VIOLATED: \(e)")
            throw Exit.violated
        }
        var parts: [String] = []
        if checkedTraces > 0 { parts.append("\(checkedTraces) trace(s)") }
        if random > 0 { parts.append("\(random) random steps (seed \(seed))") }
        print("CONFORMS: \(impl.name) agrees with the spec on \(parts.joined(separator: " and "))")
    }

    func traceFiles() throws -> [String] {
        guard let traces else { return [] }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: traces, isDirectory: &isDir) else {
            note("rmi-check: \(traces): no such file or folder")
            throw Exit.badInput
        }
        if !isDir.boolValue { return [traces] }
        // Every *.json below the folder, in path order.
        let found = (FileManager.default.enumerator(atPath: traces)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".json") }.sorted().map { (traces as NSString).appendingPathComponent($0) }
        if found.isEmpty {
            note("rmi-check: \(traces): no trace files (*.json) in this folder")
            throw Exit.badInput
        }
        return found
    }

    func report(_ v: ConformanceViolation, source: String) throws -> Never {
        let name = "conform-\(v.trace.steps.count)-steps-seed\(seed).json"
        let path = (out as NSString).appendingPathComponent(name)
        try v.trace.write(to: path)
        print("VIOLATED (\(source)): \(v)")
        print("  trace: \(path) (\(v.trace.steps.count) steps)")
        print("  replay: rmi-check replay \(path) --against impl \(implementation.replayFlags)")
        throw Exit.violated
    }
}
