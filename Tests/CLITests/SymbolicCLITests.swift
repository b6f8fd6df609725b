import Foundation
import Testing
import TestSupport

/// `check --engine bmc` and `cover` on scopes and alphabets small enough for a test.
@Suite struct SymbolicCLITests {
    func tmp(_ name: String) -> String {
        scratchDirectory("\(name)").path
    }
    let tiny = ["--scope", "granules=2,realms=0,recs=0,entries=1", "--commands", "GRANULE_DELEGATE,GRANULE_UNDELEGATE"]

    @Test func bmcHoldsWithCoversAndPrintsTimesPerDepth() throws {
        let (code, stdout, stderr) = try rmiCheck(["check", "--engine", "bmc", "--depth", "3", "--property", "G1",
                                                   "--property", "L2", "--seed", "3", "--out", tmp("bmc")] + tiny)
        #expect(code == 0, "\(stdout)\n\(stderr)")
        #expect(stdout.contains("HOLDS     INV-G1 (always), all runs of <= 3 calls; cover reached in 1 steps"))
        #expect(stdout.contains("HOLDS     INV-L2 (step), all runs of <= 3 calls; cover reached in 2 steps"))
        #expect(stdout.contains("seconds per depth: 0:"))
        #expect(stderr.contains("seed 3"))
    }

    @Test func proveWithSpacer() throws {
        let (code, stdout, stderr) = try rmiCheck(["prove", "--method", "spacer", "--property", "G1", "--cover-depth", "1",
                                                   "--out", tmp("spacer")] + tiny)
        #expect(code == 0, "\(stdout)\n\(stderr)")
        #expect(stdout.contains("PROVED    INV-G1 (always) by Spacer (CHC), invariant re-checked by a fresh solver"))
        let (bad, _, err) = try rmiCheck(["prove", "--method", "spacer", "--k", "2"] + tiny)
        #expect(bad == 65 && err.contains("--k and --assume are for --method induction"))
    }

    /// Every address: the Granule invariants for any memory size; a command the arrays cannot
    /// hold is refused before anything is solved.
    @Test func proveForEveryAddress() throws {
        let (code, stdout, stderr) = try rmiCheck(["prove", "--method", "spacer", "--every-address", "--property", "G1",
                                                   "--property", "L2", "--cover-depth", "2", "--out", tmp("arrays")] + tiny)
        #expect(code == 0, "\(stdout)\n\(stderr)")
        #expect(stdout.contains("PROVED    INV-G1 (always) by Spacer (CHC), invariant re-checked by a fresh solver, covering every address of the standard platform"))
        let (bad, _, err) = try rmiCheck(["prove", "--method", "spacer", "--every-address", "--scope", "granules=2", "--commands", "REALM_CREATE"])
        #expect(bad == 65 && err.contains("RMI_REALM_CREATE uses") && err.contains("which the Granule arrays do not hold"))
    }

    /// Every address by induction: the whole state as arrays, each verdict saying it covers
    /// any memory size; a property one address cannot state is refused.
    @Test func proveForEveryAddressByInduction() throws {
        let (code, stdout, stderr) = try rmiCheck(["prove", "--every-address", "--property", "G1", "--property", "L2",
                                                   "--assume", "G1", "--assume", "G2", "--encoding-lemma", "rec-aux-state",
                                                   "--cover-depth", "2", "--out", tmp("arrays-induction")] + tiny)
        #expect(code == 0, "\(stdout)\n\(stderr)")
        #expect(stdout.contains("PROVED    INV-G1 (always) by 1-induction over every address") && stdout.contains("any memory size"))
        #expect(stdout.contains("with INV-G2, REC-AUX-STATE as lemmas") && stderr.contains("1 encoding lemmas"), "\(stdout)")
        // By default the properties stated one address (and entry) at a time, and INV-R2 and
        // INV-C2 through their four lemmas: the 20, not the four stated per pair, which are
        // proved when named.
        let (_, _, defaults) = try rmiCheck(["prove", "--every-address", "--commands", "RMI_VERSION", "--no-gpt-events",
                                             "--no-rec-exit-events", "--cover-depth", "0", "--budget", "1"])
        #expect(defaults.contains("20 properties, 23 encoding lemmas"), "\(defaults)")
        let (bad, _, err) = try rmiCheck(["prove", "--every-address", "--property", "R1"] + tiny)
        #expect(bad == 65 && err.contains("relates more than two addresses"))
        let (unknown, _, why) = try rmiCheck(["prove", "--every-address", "--encoding-lemma", "ENTRY-TABLE-PARENT"] + tiny)
        #expect(unknown == 65 && why.contains("unknown encoding lemma 'ENTRY-TABLE-PARENT'") && why.contains("ENTRY-TABLE-CHILD"), "\(why)")
        let (scoped, _, whyScoped) = try rmiCheck(["prove", "--encoding-lemma", "none"] + tiny)
        #expect(scoped == 65 && whyScoped.contains("--encoding-lemma is for --every-address"), "\(whyScoped)")
    }

    /// Z3 past `--memory-limit` is undecided (exit 2, saying why), never a crash, a kill or
    /// a "violated" exit.
    @Test func aProofPastTheMemoryLimitIsUndecided() throws {
        let (code, stdout, stderr) = try rmiCheck(["prove", "--scope", "granules=3,realms=1,recs=1,entries=2", "--commands", "GRANULE_DELEGATE",
                                                   "--cover-depth", "0", "--memory-limit", "64", "--quiet"])
        #expect(code == 2 && (stdout + stderr).contains("memory limit"), "\(code)\n\(stdout)\n\(stderr)")
        let (bad, _, err) = try rmiCheck(["prove", "--memory-limit", "10"] + tiny)
        #expect(bad == 64 && err.contains("--memory-limit must be at least 64"), "\(bad) \(err)")
    }

    /// A weakened spec: the violation is found, written, and `replay` reproduces it.
    @Test func bmcFindsAWeakeningAndTheTraceReplays() throws {
        let out = tmp("bmc-weak")
        let (code, stdout, stderr) = try rmiCheck(["check", "--engine", "bmc", "--depth", "2", "--property", "L2",
                                                   "--spec-option", "weaken-undelegate-any-state", "--out", out] + tiny)
        #expect(code == 1, "\(stdout)\n\(stderr)")
        #expect(stdout.contains("VIOLATED  INV-L2 (step)"))
        #expect(stdout.contains("VIOLATED  REFINES-SPEC (step)"))
        let path = (out as NSString).appendingPathComponent("bmc-INV-L2.json")
        let (rc, rout, rerr) = try rmiCheck(["replay", path])
        #expect(rc == 0, "\(rout)\n\(rerr)")
    }

    /// The CLI never turns a solver that gave up into a pass.
    @Test func bmcUnderATinyResourceLimitIsUnknown() throws {
        let (code, stdout, _) = try rmiCheck(["check", "--engine", "bmc", "--depth", "2", "--property", "G1",
                                              "--rlimit", "1", "--quiet", "--out", tmp("bmc-rlimit")] + tiny)
        #expect(code == 2)
        #expect(stdout.contains("UNKNOWN   INV-G1"))
        #expect(!stdout.contains("HOLDS"))
    }

    @Test func coverReachesEveryGranuleLabelAndTheBuiltinAgrees() throws {
        let out = tmp("cover")
        let (code, stdout, stderr) = try rmiCheck(["cover", "--depth", "2", "--property", "G1", "--impl", "builtin",
                                                   "--quiet", "--out", out] + tiny)
        #expect(code == 0, "\(stdout)\n\(stderr)")
        for label in ["gran_align", "gran_bound", "gran_state", "gran_gpt", "success"] {
            #expect(stdout.contains("REACHED      RMI_GRANULE_DELEGATE/\(label)"), "\(label)")
        }
        #expect(stdout.contains("10 of 10 targets reached"))
        #expect(stdout.contains("10 witnesses agree on the implementation, 0 differ"))
        #expect(FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent("RMI_GRANULE_UNDELEGATE--success.json")))
    }

    /// From the checked-in seeds, one call reaches every label of REALM_ACTIVATE and
    /// REC_CREATE but num_recs, which is printed UNREACHABLE with the scope's reason; each
    /// witness begins with its seed and agrees on the built-in RMM.
    @Test func coverFromTheSeedsReachesEveryLabelOrSaysWhyNot() throws {
        var root = URL(fileURLWithPath: #filePath)
        while root.pathComponents.count > 1, !FileManager.default.fileExists(atPath: root.appendingPathComponent("Specs/seeds").path) {
            root.deleteLastPathComponent()
        }
        let out = tmp("cover-seeds")
        let (code, stdout, stderr) = try rmiCheck(["cover", "--labels-only", "--seeds", root.appendingPathComponent("Specs/seeds").path,
                                                   "--scope", "granules=10,realms=1,recs=2,entries=3,aux=1", "--depth", "1",
                                                   "--commands", "REALM_ACTIVATE,REC_CREATE", "--rlimit", "200000000",
                                                   "--impl", "builtin", "--quiet", "--out", out])
        #expect(code == 0, "\(stdout)\n\(stderr)")
        #expect(stdout.contains("REACHED      RMI_REALM_ACTIVATE/realm_state"))
        #expect(stdout.contains("(from cover seed: the Realm active, 17 steps)"))
        #expect(stdout.contains("UNREACHABLE  RMI_REC_CREATE/num_recs") && stdout.contains("needs a Realm with 1023 RECs"))
        #expect(stdout.contains("21 of 22 targets reached (19 of 20 failure labels), 1 proved unreachable"))
        #expect(stdout.contains("21 witnesses agree on the implementation, 0 differ"))
    }

    /// From the seed whose REC a REC_ENTER left running, with REC_ENTER the only command:
    /// re-entering it (success, and the labels of what its exit leaves: system_off,
    /// rec_psci) and a pending PSCI or RIPAS request (the covers of INV-C4 and INV-C5) need
    /// its `rec_exit` first. Each witness agrees on the built-in RMM; with
    /// --no-rec-exit-events none of them is reached.
    @Test func coverThroughARecExitFromTheRunningRecSeed() throws {
        var root = URL(fileURLWithPath: #filePath)
        while root.pathComponents.count > 1, !FileManager.default.fileExists(atPath: root.appendingPathComponent("Specs/seeds").path) {
            root.deleteLastPathComponent()
        }
        let args = ["cover", "--from", root.appendingPathComponent("Specs/seeds/07-rec-running.json").path,
                    "--scope", "granules=10,realms=1,recs=2,entries=3,aux=1", "--depth", "2", "--commands", "REC_ENTER",
                    "--property", "C4", "--property", "C5", "--impl", "builtin", "--quiet"]
        let targets = ["RMI_REC_ENTER/success", "RMI_REC_ENTER/system_off", "RMI_REC_ENTER/rec_psci", "INV-C4", "INV-C5"]
        let (_, stdout, stderr) = try rmiCheck(args + ["--out", tmp("cover-rec-exit")])
        for t in targets { #expect(stdout.contains("REACHED      \(t) "), "\(t)\n\(stdout)\n\(stderr)") }
        #expect(stdout.contains("15 witnesses agree on the implementation, 0 differ"))
        let (_, without, _) = try rmiCheck(args + ["--no-rec-exit-events", "--out", tmp("cover-no-rec-exit")])
        for t in targets { #expect(without.contains("UNKNOWN      \(t) "), "\(t)\n\(without)") }
    }

    /// The two weakenings that need a built Realm, checked from the checked-in seeds: each
    /// violates REFINES-SPEC with a counterexample that replays.
    @Test(arguments: [("weaken-data-create-walk-before-ipa-bound", "02-realm-new", "DATA_CREATE", 1),
                      ("weaken-data-destroy-no-refcount-decrement", "04-data", "DATA_DESTROY,RTT_DESTROY", 2)])
    func weakeningsFromASeedViolateRefinement(_ option: String, _ seed: String, _ commands: String, _ depth: Int) throws {
        var root = URL(fileURLWithPath: #filePath)
        while root.pathComponents.count > 1, !FileManager.default.fileExists(atPath: root.appendingPathComponent("Specs/seeds").path) {
            root.deleteLastPathComponent()
        }
        let from = root.appendingPathComponent("Specs/seeds/\(seed).json").path
        let out = tmp("weakened")
        let (code, stdout, stderr) = try rmiCheck(["check", "--engine", "bmc", "--scope", "granules=10,realms=1,recs=2,entries=3,aux=1",
                                                   "--from", from, "--spec-option", option, "--commands", commands,
                                                   "--depth", "\(depth)", "--property", "G1", "--quiet", "--out", out])
        #expect(code == 1, "\(stdout)\n\(stderr)")
        #expect(stdout.contains("VIOLATED  REFINES-SPEC"))
        let trace = (out as NSString).appendingPathComponent("bmc-REFINES-SPEC.json")
        let (replayed, _, e) = try rmiCheck(["replay", trace])
        #expect(replayed == 0, "\(e)")
        // --from is given once to check.
        let (twice, _, e2) = try rmiCheck(["check", "--engine", "bmc", "--from", from, "--from", from])
        #expect(twice == 65 && e2.contains("--from is given once"))
    }

    @Test func badSymbolicInputIsExit65() throws {
        let (c1, _, e1) = try rmiCheck(["check", "--engine", "bmc", "--scope", "granules=2,colours=1"])
        #expect(c1 == 65)
        #expect(e1.contains("unknown key \"colours\""))
        let (c2, _, e2) = try rmiCheck(["cover", "--commands", "RMI_NOPE"])
        #expect(c2 == 65)
        #expect(e2.contains("unknown command"))
        let (c3, _, e3) = try rmiCheck(["check", "--engine", "bmc", "--spec-option", "weaken-everything"])
        #expect(c3 == 65)
        #expect(e3.contains("unknown option"))
    }
}
