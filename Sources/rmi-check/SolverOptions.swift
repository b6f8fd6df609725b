import ArgumentParser
import Foundation
import RMICheck
import RMISpec
import SMT

/// The traces at `paths`; exit 65, naming `option`, for one that does not load.
func loadTraces(_ paths: [String], option: String) throws -> [Trace] {
    try paths.map { path in
        do { return try Trace.load(path: path) } catch {
            note("rmi-check: \(option): \(error)")
            throw Exit.badInput
        }
    }
}

/// The options every symbolic engine takes (check --engine bmc, prove, cover).
struct SolverOptions: ParsableArguments {
    @Option(name: .customLong("query-timeout"), help: "Seconds per solver query (wall clock; a backstop). A query that runs out is UNKNOWN.")
    var timeout: Double?

    @Option(name: .long, help: "Z3 resource limit per query (reproducible, unlike --timeout).")
    var rlimit: UInt64?

    @Option(name: .long, help: "Total time budget in seconds; what is undecided when it is spent is UNKNOWN.")
    var budget: Double?

    @Option(name: .long, help: "The solver's random seed (printed; the same seed gives the same traces).")
    var seed: UInt32 = 0

    @Option(name: .customLong("memory-limit"), help: "Megabytes Z3 may use (all queries together); a query that needs more is UNKNOWN (out of memory) rather than the process being killed. Default: three quarters of this machine's memory.")
    var memoryLimit: Int?

    @Option(name: .customLong("spec-option"), help: "A named spec option (see `rmi-check spec`), e.g. strict-listing-order; repeatable.")
    var specOption: [String] = []

    @Option(name: .customLong("commands"), help: "Restrict the commands a step may call (comma-separated spec names or short names such as GRANULE_DELEGATE). Default: all 23.")
    var commands: String?

    @Flag(name: .customLong("no-gpt-events"), help: "Leave out other agents' GPT changes of UNDELEGATED Granules (set_gpt events) from the runs.")
    var noGPTEvents = false

    @Flag(name: .customLong("no-rec-exit-events"), help: "Leave out the exits of RECs that a REC_ENTER left running (stay_running) from the runs (rec_exit events); such a REC then never returns.")
    var noRecExitEvents = false

    @Option(name: .long, help: "Start every run where this trace ends (a trace built on the scope's platform, e.g. one that creates a Realm and a REC) instead of at the initial state; the traces found begin with its steps. `cover` takes it more than once (one search per trace, in order).")
    var from: [String] = []

    func validate() throws {
        if let t = timeout, !(t > 0) { throw ValidationError("--query-timeout must be > 0 seconds") }
        if let b = budget, !(b > 0) { throw ValidationError("--budget must be > 0 seconds") }
        if let m = memoryLimit, m < 64 { throw ValidationError("--memory-limit must be at least 64 (megabytes): a Z3 context alone takes about 20") }
    }

    /// The `--from` traces, loaded (exit 65 for one that does not load).
    func startingTraces() throws -> [Trace] { try loadTraces(from, option: "--from") }

    /// The settings for a scope string (RMISpec's scope syntax) and properties. `--from`
    /// is given at most once unless `manyStarts` (the caller then reads `startingTraces`).
    func settings(scope text: String, properties: [Invariant], quiet: Bool, manyStarts: Bool = false) throws -> SymbolicSettings {
        setZ3MemoryLimit(megabytes: memoryLimit ?? defaultZ3MemoryLimit())
        var s = SymbolicSettings()
        do { s.scope = try Scope(parsing: text) } catch {
            note("rmi-check: --scope: \(error)")
            throw Exit.badInput
        }
        for name in specOption {
            guard let o = SpecOptions.named.first(where: { $0.0 == name }) else {
                note("rmi-check: --spec-option: unknown option '\(name)' (known: \(SpecOptions.named.map(\.0).joined(separator: ", ")))")
                throw Exit.badInput
            }
            s.specOptions.insert(o.1)
        }
        s.properties = properties
        s.gptEvents = !noGPTEvents
        s.recExitEvents = !noRecExitEvents
        if from.count > 1 && !manyStarts { note("rmi-check: --from is given once here"); throw Exit.badInput }
        if from.count == 1 { s.from = try startingTraces()[0] }
        if let commands {
            var list: [RMICommand] = []
            for raw in commands.split(separator: ",") {
                guard let c = RMICommand(name: raw.trimmingCharacters(in: .whitespaces)) else {
                    note("rmi-check: --commands: unknown command '\(raw)' (e.g. RMI_GRANULE_DELEGATE or GRANULE_DELEGATE)")
                    throw Exit.badInput
                }
                if !list.contains(c) { list.append(c) }
            }
            if list.isEmpty { note("rmi-check: --commands: no command given"); throw Exit.badInput }
            s.commands = list
        }
        s.timeoutMs = timeout.map { UInt32(min($0 * 1000, Double(UInt32.max))) }
        s.rlimit = rlimit
        s.budgetSeconds = budget
        s.seed = seed
        if !quiet { s.progress = { note($0) } }
        return s
    }
}

/// Three quarters of the machine's memory, in megabytes: Z3's limit unless --memory-limit
/// says otherwise (the rest for the process's own state and the system).
func defaultZ3MemoryLimit() -> Int {
    Int(ProcessInfo.processInfo.physicalMemory / (1 << 20) * 3 / 4)
}
