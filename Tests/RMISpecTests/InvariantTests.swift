import Foundation
import Testing
@testable import RMISpec

@Suite struct InvariantTests {
    /// Every trace the tests build: the canonical scenarios and every label case.
    static var traces: [Trace] {
        CanonicalScenarios.all.map(\.trace) + LabelCoverageTests.all.map { $0.build().trace }
    }

    /// The properties checked along every test trace: once for both tests, the traces in
    /// parallel.
    static let report: PropertyReport = {
        final class Merged: @unchecked Sendable {
            let lock = NSLock()
            var report = PropertyReport()
        }
        let traces = InvariantTests.traces
        let merged = Merged()
        DispatchQueue.concurrentPerform(iterations: traces.count) { i in
            let r = traces[i].checkProperties()
            merged.lock.withLock { merged.report.merge(r) }
        }
        return merged.report
    }()

    @Test func invariantsHoldAlongEveryTestTrace() {
        let report = InvariantTests.report
        #expect(report.violations.isEmpty, "\(report.violations.prefix(5))")
        #expect(report.statesChecked > 500)
    }

    @Test func everyCoverTargetIsReached() {
        let report = InvariantTests.report
        let missing = Invariant.specProperties.filter { !report.covered.contains($0) }
        #expect(missing.isEmpty, "not covered: \(missing.map(\.rawValue))")
    }

    // Each invariant can fail: a state broken on purpose violates it.

    /// A state with one Realm, RTTs to level 3 and one DATA Granule at IPA 0x3000.
    func populated() -> (SpecState, rd: UInt64, data: UInt64, rtt3: UInt64) {
        var s = Scenario()
        let r = realmWithTables(&s)
        let data = s.granule()
        s.delegate(data)
        s.call(.dataCreateUnknown, r.rd, data, 0x3000)
        let w = s.state.walk(CWord(r.rd), CWord(0x3000), to: 3)
        return (s.state, r.rd, data, w.rtt.raw)
    }

    @Test func brokenStatesAreCaught() {
        let (base, rd, data, rtt3) = populated()
        #expect(Invariant.allCases.filter { $0.kind == .always }.allSatisfy { $0.holds(in: base).raw })

        var s = base
        s.setGranuleGPT(CWord(data), CWord(GPT.ns.rawValue), when: true)
        #expect(!Invariant.g1.holds(in: s).raw)

        s = base
        s.setGranuleState(CWord(data), .delegated, when: true)   // DATA freed while still mapped
        #expect(!Invariant.g4.holds(in: s).raw)
        #expect(!Invariant.t5.holds(in: s).raw)

        s = base
        s.setGranuleContent(CWord(data), 7, when: true)
        s.setGranuleState(CWord(data), .delegated, when: true)
        #expect(!Invariant.g5.holds(in: s).raw)

        s = base
        s.setRealm(CWord(rd), .numRecs, 1, when: true)
        #expect(!Invariant.r1.holds(in: s).raw)
        #expect(!Invariant.r2.holds(in: s).raw)

        s = base
        s.setRealm(CWord(rd), .numStart, 2, when: true)
        #expect(!Invariant.r4.holds(in: s).raw)

        s = base
        s.setEntry(CWord(rtt3), 5, RttEntry(state: CWord(RttEntryState.unassignedNS.rawValue)), when: true)
        #expect(!Invariant.t3.holds(in: s).raw)

        s = base
        s.setEntry(CWord(rtt3), 6, RttEntry(state: CWord(RttEntryState.unassigned.rawValue), ripas: 3), when: true)
        #expect(!Invariant.t7.holds(in: s).raw)

        s = base
        s.setEntry(CWord(rtt3), 7, RttEntry(state: CWord(RttEntryState.assigned.rawValue), addr: CWord(data)), when: true)
        #expect(!Invariant.t5.holds(in: s).raw, "a DATA Granule covered twice")

        s = base
        s.setEntry(CWord(rtt3), 8, RttEntry(state: CWord(RttEntryState.table.rawValue), addr: CWord(rtt3)), when: true)
        #expect(!Invariant.t1.holds(in: s).raw)
        #expect(!Invariant.t2.holds(in: s).raw)
    }

    @Test func brokenStepsAreCaught() {
        let (base, rd, _, _) = populated()
        var post = base
        post.setRealm(CWord(rd), .state, CWord(RealmState.active.rawValue), when: true)
        var back = post
        back.setRealm(CWord(rd), .state, CWord(RealmState.new.rawValue), when: true)
        let r6 = StepView(pre: post, post: back, command: .realmActivate, args: [CWord(rd)], succeeded: true, unchanged: false)
        #expect(!Invariant.r6.holds(on: r6).raw)

        var rim = post
        rim.setRealm(CWord(rd), .rim, 42, when: true)
        let r7 = StepView(pre: post, post: rim, command: .dataCreate, args: [], succeeded: true, unchanged: false)
        #expect(!Invariant.r7.holds(on: r7).raw)

        let l4 = StepView(pre: base, post: post, command: .realmActivate, args: [CWord(rd)], succeeded: false, unchanged: false)
        #expect(!Invariant.l4.holds(on: l4).raw)

        let l2 = StepView(pre: base, post: base, command: .granuleUndelegate, args: [CWord(rd)], succeeded: true, unchanged: true)
        #expect(!Invariant.l2.holds(on: l2).raw)
    }
}
