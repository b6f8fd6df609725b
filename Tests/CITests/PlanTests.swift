import Foundation
import RMICheckCI
import RMISpec
import Testing
import TestSupport

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

func decode(_ text: String) throws -> CheckPlan {
    try CheckPlan.decode(Data(text.utf8), file: "/plans/p.json")
}

func planError(_ text: String) -> PlanError? {
    do { _ = try decode(text); return nil } catch let e as PlanError { return e } catch { return nil }
}

@Suite struct PlanTests {
    @Test func theRepositoryPlanMatchesItsBaseline() throws {
        let plan = try CheckPlan.load(path: root + "/Specs/rmi-check.json")
        let baselinePath = try #require(plan.baseline)
        #expect(baselinePath.hasSuffix("Specs/baseline.json"))
        let baseline = try Baseline.load(path: baselinePath)
        let ids = plan.entries.flatMap(\.obligationIDs)
        #expect(Set(ids).count == ids.count, "obligation ids are unique")
        #expect(ids.sorted() == baseline.obligations, "Specs/baseline.json is the plan's obligations: run `rmi-check ci --update-baseline`")
        // Every kind of this repository's engines is used.
        #expect(Set(plan.entries.map(\.kind)) == Set(CheckKinds.all.map { $0.kind }))
        #expect(ids.contains("spec-properties/INV-G1") && ids.contains("corpus-spec/canonical/four-starting-rtts"))
        // Several corpus folders: obligations named by each folder's name.
        #expect(ids.contains("corpus-adapter/regressions/undelegate-no-wipe"))
        #expect(!ids.contains { $0.hasPrefix("corpus-adapter/covers/") })
    }

    @Test func decodingErrorsNameTheFieldAndTheReason() {
        let cases: [(String, String, String)] = [
            (#"{"checks": [{"id": "x", "kind": "prove-it"}]}"#, "checks[0].kind", "unknown kind 'prove-it'"),
            (#"{"checks": [{"id": "x", "kind": "bmc", "scope": "granules=99"}]}"#, "checks[0].scope", "out of range"),
            (#"{"checks": [{"id": "x", "kind": "bmc", "commands": ["RMI_NOPE"]}]}"#, "checks[0].commands[0]", "unknown command"),
            (#"{"checks": [{"id": "x", "kind": "bmc", "spec_options": ["weaken-all"]}]}"#, "checks[0].spec_options[0]", "unknown option"),
            (#"{"checks": [{"id": "x", "kind": "explicit", "scopes": "granules=99"}]}"#, "checks[0].scopes", "out of range 1...16"),
            (#"{"checks": [{"id": "x", "kind": "explicit", "properties": ["INV-Q1"]}]}"#, "checks[0].properties[0]", "unknown property 'INV-Q1'"),
            (#"{"checks": [{"id": "x", "kind": "conformance"}]}"#, "checks[0].random", "missing"),
            (#"{"checks": [{"id": "x", "kind": "conformance", "random": "many"}]}"#, "checks[0].random", "expected an integer"),
            (#"{"checks": [{"id": "x", "kind": "conformance", "random": 5, "deviation": "typo"}]}"#, "checks[0].deviation[0]", "unknown deviation 'typo'"),
            (#"{"checks": [{"id": "x", "kind": "conformance", "random": 5, "state": 1}]}"#, "checks[0].state", "expected true or false"),
            (#"{"checks": [{"id": "x", "kind": "host", "variant": "M99", "expect": "fail"}]}"#, "checks[0].variant", "unknown variant 'M99'"),
            (#"{"checks": [{"id": "x", "kind": "host", "variant": "M9"}]}"#, "checks[0].expect", "missing"),
            (#"{"checks": [{"id": "x", "kind": "host", "variant": "M14", "expect": "fail", "vms": 3}]}"#, "checks[0].vms", "at most 2"),
            (#"{"checks": [{"id": "x", "kind": "corpus", "against": "spec", "path": "/nonexistent"}]}"#, "checks[0].path", "no such file or folder"),
            (#"{"checks": [{"id": "x", "kind": "corpus", "against": "spec", "path": ["\#(root)/Specs/traces/canonical", "\#(root)/Specs/traces/canonical"]}]}"#,
             "checks[0].path[1]", "two traces would be named"),
            (#"{"checks": [{"id": "x", "kind": "corpus", "against": "spec", "deviation": ["undelegate-no-wipe"]}]}"#, "checks[0].against", "against the spec"),
            (#"{"checks": [{"id": "a/b", "kind": "cover"}]}"#, "checks[0].id", "not a check id"),
            (#"{"checks": [{"id": "a", "kind": "cover"}, {"id": "a", "kind": "cover"}]}"#, "checks[1].id", "duplicate id"),
            (#"{"checks": [{"id": "a", "kind": "cover", "targets": ["T8"]}]}"#, "checks[0].targets[0]", "sometimes"),
            (#"{"format": "rmi-check-plan/9", "checks": []}"#, "format", "unknown format"),
            (#"{"checks": [{"id": "x", "kind": "prove", "method": "guess"}]}"#, "checks[0].method", "unknown method 'guess'"),
            (#"{"checks": [{"id": "x", "kind": "prove", "method": "spacer", "assume": ["INV-G1"]}]}"#, "checks[0].method", "'assume' and 'k' are for induction"),
            (#"{"checks": [{"id": "x", "kind": "prove", "every_address": true, "properties": ["INV-R1"]}]}"#, "checks[0].properties", "relates more than two addresses"),
            (#"{"checks": [{"id": "x", "kind": "prove", "every_address": true, "k": 2, "properties": ["INV-G1"]}]}"#, "checks[0].k", "1-induction"),
            (#"{"checks": [{"id": "x", "kind": "prove", "every_address": true, "properties": ["INV-G1"], "encoding_lemmas": ["REC-AUX", "REC-AUX-STATE"]}]}"#,
             "checks[0].encoding_lemmas", "unknown encoding lemma 'REC-AUX'"),
            (#"{"checks": [{"id": "x", "kind": "prove", "properties": ["INV-G1"], "encoding_lemmas": ["REC-AUX-STATE"]}]}"#,
             "checks[0].encoding_lemmas", "only every_address"),
            (#"{"checks": [], "colour": "blue"}"#, "colour", "unknown field"),
            (#"{"timeout_seconds": -1, "checks": []}"#, "timeout_seconds", "positive"),
            (#"[1, 2]"#, "", "expected an object"),
            (#"{"checks": "#, "", "not valid JSON"),
        ]
        for (text, field, reason) in cases {
            let e = planError(text)
            #expect(e?.file == "/plans/p.json", "\(text)")
            #expect(e?.field == field, "\(text): \(e.map(String.init(describing:)) ?? "no error")")
            #expect(e?.reason.contains(reason) == true, "\(text): \(e.map(String.init(describing:)) ?? "no error")")
        }
    }

    @Test func pathsAreRelativeToThePlan() throws {
        let plan = try CheckPlan.decode(Data(#"{"baseline": "b.json", "checks": [{"id": "c", "kind": "corpus", "against": "spec"}]}"#.utf8),
                                        file: root + "/Specs/p.json")
        #expect(plan.baseline == root + "/Specs/b.json")
        // `path` defaults to `traces` next to the plan: Specs/traces.
        #expect(plan.entries[0].obligationIDs.contains("c/canonical/build-populate-run-teardown"))
    }

    @Test func aCheckWithOneObligationIsNamedByItsID() throws {
        let plan = try decode(#"{"checks": [{"id": "c", "kind": "conformance", "random": 5}, {"id": "e", "kind": "explicit", "properties": ["G1", "l4"]}]}"#)
        #expect(plan.entries.map(\.obligationIDs) == [["c"], ["e/INV-G1", "e/INV-L4"]])
    }
}

@Suite struct ShardTests {
    @Test func shardsPartitionTheChecks() {
        let ids = Set((0..<37).map { "check-\($0 * 7919 % 101)" })
        for n in 1...5 {
            var owners: [String: Int] = [:]
            for i in 1...n {
                let s = Shard(index: i, count: n)
                for id in ids where s.owns(check: id, among: ids) { owners[id, default: 0] += 1 }
            }
            #expect(owners.count == ids.count && owners.values.allSatisfy { $0 == 1 }, "every check in exactly one of \(n) shards")
        }
        #expect(Shard("2/3") == Shard(index: 2, count: 3))
        #expect(Shard("0/3") == nil && Shard("4/3") == nil && Shard("x") == nil && Shard("1/0") == nil)
        #expect(Shard.checkID(of: "corpus/canonical/a") == "corpus")
    }

    @Test func aDroppedCheckIsStillSomeShardsToReport() throws {
        let plan = try decode(#"{"checks": [{"id": "a", "kind": "conformance", "random": 5}, {"id": "b", "kind": "conformance", "random": 5}]}"#)
        let baseline = Baseline(obligations: ["a", "b", "gone/INV-G1"])
        let runners = (1...2).map { CIRunner(plan: plan, shard: Shard(index: $0, count: 2), baseline: baseline, out: "/tmp") }
        let ran = runners.flatMap { $0.entries.map(\.id) }
        #expect(ran.sorted() == ["a", "b"])
        // Sorted deal over a, b, gone: shard 1 has a and gone, shard 2 has b.
        #expect(runners[0].entries.map(\.id) == ["a"])
        let ledger = runners[0].run()
        #expect(ledger.baseline?.missing == ["gone/INV-G1"])
        #expect(ledger.status == .violated)
        let other = runners[1].run()
        #expect(other.baseline?.missing == [])
        #expect(other.status == .passed)
    }
}

/// A kind for the runner's own tests: it returns what it is told to, or never returns.
struct ScriptedCheck: CheckKind {
    static let kind = "scripted"
    static let summary = "a test double"
    var obligations: [String]
    var results: [ObligationResult]
    var hang = false
    init(_ entry: PlanEntry) throws { obligations = []; results = [] }
    init(obligations: [String], results: [ObligationResult], hang: Bool = false) {
        self.obligations = obligations; self.results = results; self.hang = hang
    }
    func run(_ context: CheckContext) throws -> [ObligationResult] {
        if hang { DispatchSemaphore(value: 0).wait() }
        return results
    }
}

@Suite struct RunnerTests {
    func result(_ name: String, _ v: Verdict) -> ObligationResult {
        ObligationResult(name: name, verdict: v, method: "m", engine: "e", message: "msg")
    }

    @Test func aMissingOrUnexpectedResultIsAnInternalErrorNotAPass() {
        let check = ScriptedCheck(obligations: ["a", "b"], results: [result("a", .holds), result("c", .holds)])
        let plan = CheckPlan(file: "/tmp/p.json", entries: [.init(id: "s", kind: "scripted", check: check)])
        let l = CIRunner(plan: plan, out: "/tmp").run()
        #expect(l.obligations.map(\.id) == ["s/a", "s/b", "s/c"])
        #expect(l.obligations.map(\.internalError) == [nil, true, true])
        #expect(l.status == .internalError)
    }

    @Test func aCheckPastItsBudgetIsUnknownAndTheRunGoesOn() {
        let plan = CheckPlan(file: "/tmp/p.json", entries: [
            .init(id: "slow", kind: "scripted", timeoutSeconds: 0.2, check: ScriptedCheck(obligations: [""], results: [], hang: true)),
            .init(id: "fast", kind: "scripted", check: ScriptedCheck(obligations: [""], results: [result("", .holds)])),
        ])
        var runner = CIRunner(plan: plan, out: "/tmp")
        runner.graceSeconds = 0.1
        let l = runner.run()
        #expect(l.obligations.map(\.verdict) == [.unknown, .holds])
        #expect(l.obligations[0].message.contains("time budget"))
        #expect(l.status == .unknown)
    }

    @Test func aThrowingCheckIsAnInternalError() {
        struct Boom: Error {}
        struct Throwing: CheckKind {
            static let kind = "throwing"
            static let summary = ""
            init(_ entry: PlanEntry) throws {}
            init() {}
            var obligations: [String] { ["x"] }
            func run(_ context: CheckContext) throws -> [ObligationResult] { throw Boom() }
        }
        let plan = CheckPlan(file: "/tmp/p.json", entries: [.init(id: "t", kind: "throwing", check: Throwing())])
        let l = CIRunner(plan: plan, out: "/tmp").run()
        #expect(l.obligations.count == 1 && l.obligations[0].internalError == true)
        #expect(Reports.junit(l).contains("<error type=\"internal\""))
        #expect(l.status == .internalError)
    }
}

@Suite struct LabelsCheckTests {
    /// A `labels` check from two seeds (the initial state and a NEW Realm): REC_AUX_COUNT's
    /// labels and success are all reached (HOLDS); REALM_ACTIVATE's realm_state needs an
    /// active Realm, two calls from the Realm seed, so that command is VACUOUS.
    @Test func labelsFromSeedsHoldOrAreVacuous() throws {
        let dir = scratchDirectory("labels").path
        try FileManager.default.createDirectory(atPath: dir + "/seeds", withIntermediateDirectories: true)
        let scope = try Scope(parsing: "granules=3,realms=1,recs=0,entries=2")
        var sc = Scenario("a NEW Realm", platform: scope.platform)
        #expect(sc.createRealm(s2sz: 32, sl: 1).1.succeeded)
        try Trace(description: "initial state", platform: scope.platform).write(to: dir + "/seeds/a.json")
        try sc.trace.write(to: dir + "/seeds/b.json")
        let text = #"{"checks": [{"id": "l", "kind": "labels", "scope": "granules=3,realms=1,recs=0,entries=2", "seeds": "seeds", "commands": ["REC_AUX_COUNT", "REALM_ACTIVATE"], "seed": 1}]}"#
        let plan = try CheckPlan.decode(Data(text.utf8), file: dir + "/plan.json")
        let l = CIRunner(plan: plan, out: dir + "/out").run()
        #expect(l.obligations.map(\.id) == ["l/RMI_REC_AUX_COUNT", "l/RMI_REALM_ACTIVATE"])
        #expect(l.obligations.map(\.verdict) == [.holds, .vacuous])
        #expect(l.obligations[1].message.contains("not reached: realm_state"))
        // A seeds folder without traces is a bad plan, named by its field.
        let bad = #"{"checks": [{"id": "l", "kind": "labels", "seeds": "no-such-folder"}]}"#
        #expect(throws: PlanError.self) { try CheckPlan.decode(Data(bad.utf8), file: dir + "/plan.json") }
    }
}
