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

            --every-address proves over every address instead of the scope's slots, so for \
            any memory size. With the default method, 1-induction runs on the whole state as \
            Z3 arrays indexed by all 2^64 addresses (Granule state, GPT and contents, every \
            Realm, REC and RTT field, the RTT entries), with every command of --commands, the \
            GPT changes, the REC exits and the Host's writes. A property is stated at one \
            address or at two different ones (and, if it asks "every entry" of an RTT, at one \
            entry), so only the properties that hold in a state exactly when they hold at each \
            address, or each two (and entry), can be targets (INV-G1, G2, G5, R4, C1, C3, C4, \
            C5, R6, R7, L1, L2, L4; per entry T2, T3, T4, T7, L3; and, through lemmas that \
            imply them, R2, which relates a Realm and two of its RECs, and C2, a count over \
            every REC that a ghost owner of each aux Granule gives: the default with this \
            flag; per pair R3, R5, G4, T1, and G3 through ghost owners and covering entries, \
            when named); the others (counts, searches over every address or for some entry) \
            are refused with exit 65. The \
            lemmas are the per-address ones, the targets, and nineteen about RECs' aux Granules, \
            ranks and PSCI requests, Realms' geometry and starting RTTs, RTTs' levels, parents \
            and roots, RTT entries and blocks, and field values (--encoding-lemma; by default \
            all but ENTRY-ASSIGNED-LEVEL-3 when RTT_FOLD, which makes blocks, is in --commands), \
            assumed at \
            the addresses and \
            entries each step reads; a lemma that is not proved itself leaves the pool and \
            everything is asked again without it, so a PROVED verdict rests only on proved \
            lemmas. The commands' RTT entry searches and Realm/REC searches answer any value (an \
            over-approximation: sound, but it can give counterexamples to induction that no \
            run reaches, reported as UNKNOWN). Covers are searched on --scope.

            With --method spacer, --every-address holds only Granule state, GPT and contents \
            as arrays and Spacer infers the invariant quantified over them: it serves the \
            commands that touch only Granules (GRANULE_DELEGATE, GRANULE_UNDELEGATE, \
            RMI_VERSION, RMI_FEATURES) and the properties over Granule state, GPT and \
            contents (INV-G1, G2, G5, L1-L4: the default there).

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

    @Flag(name: .customLong("every-address"), help: "Prove over every address (any memory size): the state as Z3 arrays over all addresses, for the properties stated one address at a time.")
    var everyAddress = false

    @Option(name: .customLong("encoding-lemma"), help: ArgumentHelp("With --every-address: an encoding lemma to put in the pool (e.g. REC-AUX-STATE); repeatable, or `none`. Default: all of them. Fewer lemmas make each question smaller; a target that needs a missing one gets a counterexample to induction (UNKNOWN).", valueName: "name"))
    var encodingLemma: [String] = []

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
        // --every-address proves by default what `provedByDefault` says; the rest when named.
        let all = !everyAddress ? Invariant.specProperties
            : method == .spacer ? Invariant.specProperties.filter(SpacerProver.readsOnlyGranules)
            : Invariant.specProperties.filter { EveryAddressProver.provedByDefault($0) }
        let chosen = (props.isEmpty ? all : props).filter { $0.kind == .always || $0.kind == .step }
        let settings = try solver.settings(scope: scope, properties: chosen, quiet: quiet)
        if !encodingLemma.isEmpty && !(everyAddress && method == .induction) {
            note("rmi-check: --encoding-lemma is for --every-address with --method induction"); throw Exit.badInput
        }
        if everyAddress && method == .induction {
            guard k == 1 else { note("rmi-check: --every-address proves by 1-induction; --k does not apply"); throw Exit.badInput }
            let lemmas = try parseProperties(assume)
            let encoding: [EveryAddressProver.EncodingLemma]
            do { encoding = encodingLemma.isEmpty ? EveryAddressProver.EncodingLemma.defaultPool(for: settings.commands) : try EveryAddressProver.encodingLemmas(named: encodingLemma) } catch {
                note("rmi-check: --encoding-lemma: \(error)"); throw Exit.badInput
            }
            let pool = EveryAddressProver.encodingPool(encoding, for: chosen + lemmas)
            note("prove: 1-induction over every address, \(chosen.count) properties, \(pool.count) encoding lemmas, seed \(settings.seed)")
            let report = try runSymbolic(engine: "prove", out: out) {
                try EveryAddressProver(settings: settings, lemmas: lemmas.isEmpty ? nil : lemmas, coverDepth: max(0, coverDepth),
                                       encodingLemmas: encoding).run()
            }
            try printOutcomes(report.outcomes, engine: "prove", out: out)
            for (property, lines) in report.ctiStates.sorted(by: { $0.key < $1.key }) {
                print("counterexample to induction for \(property): \(lines.first ?? ""), from a state holding")
                for line in lines.dropFirst() { print("    \(line)") }
            }
            print("inductive steps \(String(format: "%.2f", report.seconds)) s")
            try exitFor(report.outcomes)
            return
        }
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
