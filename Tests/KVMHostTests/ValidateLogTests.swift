import Foundation
import Testing
import KVMHost
import RMICheck
import RMISpec

/// A log of the v10 flow run against RMMImpl validates against the spec, and the same log
/// with one result changed is rejected, naming the call.
@Suite struct ValidateLogTests {
    func happyLog() -> CallLog {
        var h = KVMHost(rmm: LoggingRMM(BuiltinRMM(platform: KVMPlatform.platform)), variant: .v10)
        for op in KVMHostTests.happyPath { _ = h.perform(op) }
        return h.rmm.log
    }

    @Test func theV10LogAgainstRMMImplIsAccepted() throws {
        let log = happyLog()
        let calls = log.entries.filter { if case .call = $0 { return true } else { return false } }
        #expect(calls.count > 50)
        #expect(log.validate(platform: KVMPlatform.platform) == nil)
        // Its text form parses back to the same verdict.
        let back = try CallLog.parse(log.text, file: "v10.log")
        #expect(back.entries.count == log.entries.count)
        #expect(back.validate(platform: KVMPlatform.platform) == nil)
    }

    @Test func oneChangedResultIsRejectedNamingTheCall() throws {
        var log = happyLog()
        // Turn the first successful RTT_CREATE into an RMI_ERROR_INPUT.
        let i = try #require(log.entries.firstIndex { e in
            if case .call(_, .rttCreate, _, let r, _) = e { return r[0] == 0 }
            return false
        })
        guard case .call(let line, let cmd, let args, _, let realm) = log.entries[i] else { return }
        log.entries[i] = .call(line: line, command: cmd, args: args, result: [1], realm: realm)
        let bad = try #require(log.validate(platform: KVMPlatform.platform))
        #expect(bad.line == line)
        #expect(bad.message.contains("RMI_RTT_CREATE"))
    }

    @Test func ftraceLinesAndErrors() throws {
        let text = """
            kvm-1234 [001] .... 12.5: rmi_call: fid=0xc4000151 x1=0x80000000 -> x0=0x0
            kvm-1234 [001] .... 12.6: rmi_call: fid=0xc4000151 x1=0x80000000 -> x0=0x0
            """
        let log = try CallLog.parse(text, file: "trace.txt")
        let bad = try #require(log.validate())
        #expect(bad.line == 2 && bad.message.contains("gran_state"))
        #expect(throws: TraceError.self) { try CallLog.parse("RMI_GRANULE_DELEGATE 0x80000000", file: "x") }
        #expect(throws: TraceError.self) { try CallLog.parse("RMI_FROB 1 -> 0", file: "x") }
    }
}

/// The host properties a log shows by itself, and logs that start from a given state.
@Suite struct ValidateLogHostPropertyTests {
    func happyLog() -> CallLog { ValidateLogTests().happyLog() }

    @Test func theV10LogBreaksNoHostProperty() throws {
        let r = happyLog().check(from: SpecState(platform: KVMPlatform.platform))
        #expect(r.rejected == nil)
        #expect(r.calls > 50)
        #expect(r.hostViolations.isEmpty, "\(r.hostViolations)")
    }

    /// A call with the RD after its REALM_DESTROY: the spec allows its (failed) result, the
    /// host property P19 does not allow the call.
    @Test func aCallAfterRealmDestroyBreaksP19() throws {
        var log = happyLog()
        let i = try #require(log.entries.firstIndex { e in
            if case .call(_, .realmDestroy, _, let r, _) = e { return r[0] == 0 }
            return false
        })
        guard case .call(let line, _, let args, _, _) = log.entries[i] else { return }
        log.entries.insert(.call(line: line, command: .rttReadEntry, args: [args[0], 0, 3], result: [1], realm: nil), at: i + 1)
        let r = log.check(from: SpecState(platform: KVMPlatform.platform))
        #expect(r.rejected == nil, "\(String(describing: r.rejected))")
        #expect(r.hostViolations.map(\.property) == ["P19"])
        #expect(r.hostViolations.first?.line == line)
    }

    /// Undelegating a Granule still in use (the RD) is allowed to fail by the spec, but the
    /// host must never issue it (P3); with --complete, the leaked Granules break P1 unless
    /// the failed undelegate warned about them.
    @Test func undelegateOfALiveGranuleBreaksP3() throws {
        var log = happyLog()
        let i = try #require(log.entries.firstIndex { e in
            if case .call(_, .realmCreate, _, let r, _) = e { return r[0] == 0 }
            return false
        })
        guard case .call(let line, _, let args, _, _) = log.entries[i] else { return }
        log.entries.insert(.call(line: line, command: .granuleUndelegate, args: [args[0]], result: [1], realm: nil), at: i + 1)
        let r = log.check(from: SpecState(platform: KVMPlatform.platform))
        #expect(r.rejected == nil, "\(String(describing: r.rejected))")
        #expect(r.hostViolations.map(\.property) == ["P3"], "\(r.hostViolations)")
        #expect(r.hostViolations.first?.line == line)
    }

    @Test func aLogCanStartFromTheStateATraceReaches() throws {
        let log = try CallLog.parse("RMI_GRANULE_UNDELEGATE 0x80000000 -> 0x0", file: "tail.log")
        // From the initial state the Granule is not delegated: rejected.
        #expect(log.check(from: SpecState()).rejected != nil)
        // After a trace that delegated it, accepted.
        var runner = TraceRunner()
        runner.run(.call(CallStep(command: .granuleDelegate, args: [0x8000_0000])))
        let r = log.check(from: runner.state, complete: true)
        #expect(r.rejected == nil)
        #expect(r.hostViolations.isEmpty)
    }
}
