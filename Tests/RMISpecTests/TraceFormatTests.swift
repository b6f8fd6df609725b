import Foundation
import Testing
@testable import RMISpec
import TestSupport

@Suite struct TraceFormatTests {
    func decodeError(_ json: String) -> TraceError? {
        do {
            _ = try Trace.decode(Data(json.utf8), file: "t.json")
            return nil
        } catch let e as TraceError {
            return e
        } catch {
            return nil
        }
    }

    @Test func aTraceSurvivesItsJSONForm() throws {
        for scenario in CanonicalScenarios.all {
            let t = try Trace.decode(scenario.trace.encoded(), file: "x")
            #expect(t.steps.count == scenario.trace.steps.count)
            #expect(t.encoded() == scenario.trace.encoded())
        }
    }

    @Test func badJSONIsNamed() {
        let e = decodeError("{ \"steps\": [ ")
        #expect(e?.file == "t.json")
        #expect(e?.description.contains("not valid JSON") == true)
    }

    @Test func unknownCommandNamesStepAndField() {
        let e = decodeError(#"{"steps": [{"call": "RMI_GRANULE_DELEGATE", "args": {"addr": 0}}, {"call": "RMI_FROB", "args": {}}]}"#)
        #expect(e?.step == 1)
        #expect(e?.field == "call")
        #expect(e?.description == "t.json: step 1: field 'call': unknown command 'RMI_FROB'")
    }

    @Test func missingArgumentIsNamed() {
        let e = decodeError(#"{"steps": [{"call": "RMI_DATA_DESTROY", "args": {"rd": "0x80000000"}}]}"#)
        #expect(e?.step == 0)
        #expect(e?.field == "args.ipa")
        #expect(e?.reason.contains("missing") == true)
    }

    @Test func badNumberIsNamed() {
        let e = decodeError(#"{"steps": [{"call": "RMI_GRANULE_DELEGATE", "args": {"addr": "0xZZ"}}]}"#)
        #expect(e?.field == "args.addr")
        #expect(e?.reason == "not a number: '0xZZ'")
        let b = decodeError(#"{"steps": [{"call": "RMI_GRANULE_DELEGATE", "args": {"addr": true}}]}"#)
        #expect(b?.field == "args.addr", "a JSON boolean is not a number")
    }

    @Test func unknownFieldsAreRefused() {
        #expect(decodeError(#"{"steps": [], "stpes": []}"#)?.field == "stpes")
        #expect(decodeError(#"{"steps": [{"call": "RMI_VERSION", "args": {"req": 1, "x": 2}}]}"#)?.field == "args.x")
        #expect(decodeError(#"{"steps": [{"call": "RMI_VERSION", "args": {"req": 1}, "expect": {"status": "RMI_OK"}}]}"#)?.field == "expect.status")
        #expect(decodeError(#"{"steps": [{"call": "RMI_VERSION", "args": {"req": 1}, "realm": {"action": "irq"}}]}"#)?.field == "realm")
    }

    @Test func namesAndNumbersInEveryForm() throws {
        let json = #"""
        {"format": "rmi-check-trace/1", "steps": [
          {"call": "granule_delegate", "args": {"addr": 2147483648}, "expect": {"status": "SUCCESS"}},
          {"call": "0xC4000152", "args": {"addr": "0x80000000"}, "expect": {"status": "RMI_SUCCESS"}},
          {"event": "set_gpt", "addr": "0x80001000", "gpt": "GPT_SECURE"},
          {"call": "RMI_GRANULE_DELEGATE", "args": {"addr": "0x80001000"}, "expect": {"status": "RMI_ERROR_INPUT", "label": "gran_gpt"}}
        ]}
        """#
        let t = try Trace.decode(Data(json.utf8), file: "t.json")
        let r = t.replay()
        #expect(r.agrees)
        #expect(r.calls == 3)
    }

    @Test func replayReportsTheFirstDifferingStep() throws {
        let json = #"""
        {"steps": [
          {"call": "RMI_GRANULE_DELEGATE", "args": {"addr": "0x80000000"}, "expect": {"status": "RMI_SUCCESS"}},
          {"call": "RMI_GRANULE_DELEGATE", "args": {"addr": "0x80000000"}, "expect": {"status": "RMI_SUCCESS"}}
        ]}
        """#
        let r = try Trace.decode(Data(json.utf8), file: "t.json").replay()
        #expect(r.mismatch?.step == 1)
        #expect(r.mismatch?.actual.contains("gran_state") == true)
    }

    @Test func itfHasOneStatePerStepPlusTheInitialOne() throws {
        let s = CanonicalScenarios.concatenatedStart()
        let doc = s.trace.itf()
        let states = doc.json["states"] as? [[String: any Sendable]]
        #expect(states?.count == s.trace.steps.count + 1)
        let data = doc.data()
        let back = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(back?["vars"] as? [String] == ["action", "result", "granules", "realms", "recs", "rtts"])
    }

    @Test func writingIsAtomicAndReplacesWhole() throws {
        let dir = scratchDirectory("trace")
        let path = dir.appendingPathComponent("t.json").path
        try CanonicalScenarios.concatenatedStart().trace.write(to: path)
        try CanonicalScenarios.buildAndTeardown().trace.write(to: path)
        let t = try Trace.load(path: path)
        #expect(t.description == CanonicalScenarios.buildAndTeardown().trace.description)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
        try? FileManager.default.removeItem(at: dir)
    }
}
