import Foundation
import RMICheckCI
import Testing

@Suite struct YAMLPlanTests {
    @Test func aYAMLPlanReadsLikeItsJSON() throws {
        let yaml = """
            format: rmi-check-plan/1
            budget_seconds: 60
            checks:
              - id: c
                kind: conformance
                random: 500
                seed: 0x10
                state: false
                deviation: [undelegate-no-wipe]
              - {id: e, kind: explicit, scopes: ["granules=3", "granules=2"], properties: [G1, l4]}
              - id: h
                kind: host
                variant: M9
                expect: fail
                bound: 8
                description: ~
            """
        let json = """
            {"format": "rmi-check-plan/1", "budget_seconds": 60, "checks": [
              {"id": "c", "kind": "conformance", "random": 500, "seed": "0x10", "state": false, "deviation": ["undelegate-no-wipe"]},
              {"id": "e", "kind": "explicit", "scopes": ["granules=3", "granules=2"], "properties": ["G1", "l4"]},
              {"id": "h", "kind": "host", "variant": "M9", "expect": "fail", "bound": 8, "description": null}]}
            """
        let a = try CheckPlan.decode(Data(yaml.utf8), file: "/p/plan.yaml")
        let b = try CheckPlan.decode(Data(json.utf8), file: "/p/plan.json")
        #expect(a.entries.map(\.obligationIDs) == b.entries.map(\.obligationIDs))
        #expect(a.entries.map(\.obligationIDs) == [["c"], ["e/INV-G1", "e/INV-L4"], ["h"]])
        #expect(a.budgetSeconds == 60)
        // The same plan read as JSON is not JSON.
        #expect(throws: PlanError.self) { try CheckPlan.decode(Data(yaml.utf8), file: "/p/plan.json") }
    }

    @Test func yamlErrorsNameTheFileAndTheLineOrTheField() {
        func error(_ text: String) -> PlanError? {
            do { _ = try CheckPlan.decode(Data(text.utf8), file: "/p/plan.yml"); return nil } catch let e as PlanError { return e } catch { return nil }
        }
        let syntax = error("checks:\n  - id: a\n    kind: [cover\n")
        #expect(syntax?.file == "/p/plan.yml")
        #expect(syntax?.reason.contains("not valid YAML") == true)
        #expect(syntax?.reason.contains("line 4") == true, "\(syntax.map(String.init(describing:)) ?? "")")
        // A quoted number is a string: the field is then of the wrong type.
        let quoted = error("checks:\n  - {id: a, kind: conformance, random: \"100\"}\n")
        #expect(quoted?.field == "checks[0].random")
        #expect(quoted?.reason == "expected an integer")
        let twice = error("checks: []\nchecks: []\n")
        #expect(twice?.field == "checks" && twice?.reason.contains("given twice") == true)
        #expect(error("- 1\n- 2\n")?.reason.contains("expected an object") == true)
        #expect(error("checks:\n  - {id: a, kind: proof}\n")?.field == "checks[0].kind")
    }
}
