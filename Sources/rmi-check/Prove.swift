import ArgumentParser
import Foundation
import RMICheck
import RMISpec

struct Prove: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prove properties for every reachable state of a scope, by k-induction or Spacer with Z3.",
        discussion: """
            A property is PROVED when the base case (BMC: no run of fewer than --k calls \
            violates it) and the inductive step are both UNSAT. The step starts from any \
            well-formed state of the scope in which every `always` and `step` property INV-* \
            holds (the invariants strengthen each other), takes --k calls of any command of \
            --commands with any arguments and Host moves (or set_gpt and rec_exit events \
            instead of calls), and asks whether the property can \
            break. The proof covers every run that stays in the scope (--scope, as for \
            `check --engine bmc`), at any depth; each verdict says so. Each property's cover \
            target is searched too (to --k calls, at least 1), so that no proof is vacuous \
            unnoticed.

            When the step is SAT, the model's pre-state is a counterexample to induction (CTI): \
            printed as its changes from the initial state, with the call(s) that break the \
            property. Either the CTI is unreachable, and a lemma that excludes it is missing, or \
            it is reachable and deeper BMC finds the bug. The verdict is then UNKNOWN, never \
            a pass.

            With --k 1, each target is asked with only the lemmas it needs: first itself, \
            then every invariant of the pool (--assume, default every INV-*) that a \
            counterexample's pre-state violates. A CTI is reported only when its pre-state \
            meets the whole pool. Each PROVED verdict names the lemmas it used. \
            --all-lemmas assumes the whole pool for every target instead.

            --method spacer is the second method: Z3's Spacer engine solves Horn clauses for \
            the reachable states of the scope and infers the inductive invariant itself (no \
            lemmas; --k and --assume do not apply). A property is PROVED only when Spacer \
            answers UNSAT and its invariant passes a re-check by a fresh solver (initial \
            state, every step, the property); when Spacer derives a violation, BMC looks for \
            its trace (to depth 8), replayed as always, and the verdict is VIOLATED with it or \
            else UNKNOWN. Spacer copes with small scopes and few commands (e.g. --scope granules=1 \
            --commands GRANULE_DELEGATE,GRANULE_UNDELEGATE).

            --every-address (with --method spacer) proves over every address instead of the \
            scope's slots: Granule state, GPT and contents are Z3 arrays indexed by all 2^64 \
            addresses of the standard platform, and the invariant Spacer infers is quantified \
            over them, so the proof holds for any memory size. It serves the commands that \
            touch only Granules (GRANULE_DELEGATE, GRANULE_UNDELEGATE, RMI_VERSION, \
            RMI_FEATURES) and the properties over Granule state, GPT and contents (INV-G1, \
            G2, G5, L1-L4: the default with this flag); anything else is refused with exit 65. The base case and the \
            covers still run on --scope.

            Exit codes: 0 every property proved with its cover reached, 1 violated (base \
            case), 2 not proved (CTI, solver unknown, cover not reached), 3 internal error, \
            65 bad input.
            """)

    @Option(name: .long, help: "The symbolic scope (see `check --help`).")
    var scope: String = ""

    @Option(name: .customLong("property"), help: "A property to prove (INV-G1 or G1); repeatable. Default: all.")
    var property: [String] = []

    @Option(name: .customLong("assume"), help: "An invariant to assume in the inductive step (a lemma); repeatable. Default: every always and step property.")
    var assume: [String] = []

    @Option(name: .customLong("k"), help: "The induction depth.")
    var k: Int = 1

    @Option(name: .customLong("cover-depth"), help: "How deep the base case also searches (for violations and each property's cover target).")
    var coverDepth: Int = 3

    enum Method: String, ExpressibleByArgument, CaseIterable { case induction, spacer }

    @Option(name: .long, help: "induction (k-induction with the INV-* as strengthening) or spacer (Z3's CHC engine infers the invariant).")
    var method: Method = .induction

    @Flag(name: .customLong("every-address"), help: "With --method spacer: Granule state, GPT and contents as arrays over every address (any memory size), for the Granule commands.")
    var everyAddress = false

    @Flag(name: .customLong("all-lemmas"), help: "With --k 1: assume every lemma (--assume, default every INV-*) for every target, instead of giving each target only the lemmas its counterexamples to induction ask for.")
    var allLemmas = false

    @Option(name: .long, help: "Folder for counterexamples, cover witnesses and CTI steps.")
    var out: String = "out/prove"

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    @OptionGroup(title: "Solver")
    var solver: SolverOptions

    func run() throws {
        guard k >= 1 else { note("rmi-check: --k must be >= 1"); throw Exit.badInput }
        guard solver.from.isEmpty else { note("rmi-check: prove starts from every state of the scope; --from does not apply"); throw Exit.badInput }
        let props = try parseProperties(property)
        // --every-address proves by default the properties its arrays can state.
        let all = everyAddress ? Invariant.specProperties.filter(SpacerProver.readsOnlyGranules) : Invariant.specProperties
        let chosen = (props.isEmpty ? all : props).filter { $0.kind == .always || $0.kind == .step }
        let settings = try solver.settings(scope: scope, properties: chosen, quiet: quiet)
        if everyAddress && method != .spacer { note("rmi-check: --every-address is for --method spacer"); throw Exit.badInput }
        if method == .spacer {
            guard k == 1, assume.isEmpty else { note("rmi-check: --k and --assume are for --method induction; Spacer infers its own invariant"); throw Exit.badInput }
            note("prove: Spacer, scope \(settings.scope), \(chosen.count) properties, seed \(settings.seed)")
            let report = try runSymbolic(engine: "prove", out: out) {
                try SpacerProver(settings: settings, coverDepth: max(0, coverDepth), everyAddress: everyAddress).run()
            }
            try printOutcomes(report.outcomes, engine: "prove", out: out)
            print("base case \(String(format: "%.2f", report.baseSeconds)) s, Spacer and re-checks \(String(format: "%.2f", report.spacerSeconds)) s")
            try exitFor(report.outcomes)
            return
        }
        note("prove: \(k)-induction, scope \(settings.scope), \(chosen.count) properties, seed \(settings.seed)")
        let lemmas = try parseProperties(assume)
        let report = try runSymbolic(engine: "prove", out: out) {
            var prover = InductionProver(settings: settings, k: k, strengthening: lemmas.isEmpty ? nil : lemmas, coverDepth: max(0, coverDepth))
            prover.selectLemmas = !allLemmas
            return try prover.run()
        }
        try printOutcomes(report.outcomes, engine: "prove", out: out)
        for c in report.ctis {
            print("counterexample to induction for \(c.property): from the state")
            for line in c.preState.prefix(40) { print("    \(line)") }
            if c.preState.count > 40 { print("    ... (\(c.preState.count - 40) more changes)") }
            let path = (out as NSString).appendingPathComponent("prove-\(c.property)-cti-step.json")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try c.step.write(to: path)
            for st in c.step.steps { if case .call(let call) = st { print("  the call \(call.command.rawValue) \(call.args.map { hex($0) }.joined(separator: " ")) breaks it (step written to \(path))") } }
        }
        print("base case \(String(format: "%.2f", report.baseSeconds)) s, inductive step \(String(format: "%.2f", report.stepSeconds)) s")
        try exitFor(report.outcomes)
    }
}
