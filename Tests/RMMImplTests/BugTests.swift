import Testing
@testable import RMMImpl

/// Every named deviation changes an observable result: each test runs the same scenario on
/// the correct RMM and on the one with the bug, and checks both.
@Suite struct NamedDeviations {
    @Test func everyBugHasAName() {
        #expect(RMMBugs.named.count == 8)
        for (name, bug) in RMMBugs.named { #expect(RMMBugs(name: name) == bug) }
        #expect(RMMBugs(name: "nope") == nil)
        let all = RMMBugs.named.reduce(RMMBugs()) { $0.union($1.bug) }
        #expect(all.rawValue == 0xFF)
    }

    /// Populate, destroy and undelegate a DATA granule; what can the Host read there?
    func leftover(_ bugs: RMMBugs) -> UInt64? {
        let h = Host(bugs: bugs)
        let (rd, _, data) = h.populatedRealm()
        #expect(h.call(FID.dataDestroy, rd, 0).x0 == RC.success)
        #expect(h.call(FID.granuleUndelegate, data[0]).x0 == RC.success)
        return h.rmm.hostRead(data[0])
    }

    @Test func undelegateNoWipe() {
        #expect(leftover([]) == 0)
        #expect(leftover(.undelegateNoWipe) == 0xAA)  // the Realm's data
    }

    @Test func undelegateAnyState() {
        for bugs: RMMBugs in [[], .undelegateAnyState] {
            let h = Host(bugs: bugs)
            let (rd, rtts, data) = h.populatedRealm()
            let r = h.call(FID.granuleUndelegate, data[1]).x0
            if bugs.isEmpty {
                #expect(r == RC.input && h.state(data[1]) == .data && h.rmm.hostRead(data[1]) == nil)
                #expect(h.call(FID.granuleUndelegate, rd).x0 == RC.input)
            } else {
                #expect(r == RC.success && h.state(data[1]) == .undelegated)
                // The Host can now read (and write) memory the Realm still maps.
                #expect(h.rmm.hostRead(data[1]) == 0)
                #expect(h.call(FID.rttReadEntry, rd, 0x1000, 3).x3 == data[1])
                // Undelegating an RTT still in use, and the RD itself, goes through too; the
                // RMM must not crash on what is left.
                #expect(h.call(FID.granuleUndelegate, rtts[2]).x0 == RC.success)
                #expect(h.call(FID.dataDestroy, rd, 0x1000).x0 >> 16 == 0)
                #expect(h.call(FID.rttDestroy, rd, 0, 3).x0 >> 16 == 0)
                #expect(h.call(FID.granuleUndelegate, rd).x0 == RC.success)
                #expect(h.call(FID.realmDestroy, rd).x0 == RC.input)
            }
        }
    }

    @Test func dataDestroyNoRefcountDecrement() {
        for bugs: RMMBugs in [[], .dataDestroyNoRefcountDecrement] {
            let h = Host(bugs: bugs)
            let (rd, rtts, _) = h.populatedRealm()
            #expect(h.call(FID.dataDestroy, rd, 0).x0 == RC.success)
            #expect(h.call(FID.dataDestroy, rd, 0x1000).x0 == RC.success)
            let r = h.call(FID.rttDestroy, rd, 0, 3)
            if bugs.isEmpty {
                #expect(r == RMIResult(x0: RC.success, x1: rtts[2], x2: 0x4000_0000))
            } else {
                #expect(h.refcount(rtts[2]) == 2)
                #expect(r == RMIResult(x0: RC.rtt(3), x2: 0))  // the empty RTT counts as live
                #expect(h.call(FID.rttFold, rd, 0, 3).x0 == RC.rtt(3))
            }
        }
    }

    @Test func dataCreateWalkBeforeIpaBound() {
        for bugs: RMMBugs in [[], .dataCreateWalkBeforeIpaBound] {
            let h = Host(bugs: bugs)
            let (rd, _) = h.createRealm()
            let d = h.delegated()
            // An Unprotected IPA: ipa_bound must win over the walk conditions.
            let r = h.call(FID.dataCreateUnknown, rd, d, 1 << 39).x0
            let r2 = h.call(FID.dataCreate, rd, d, 1 << 39, h.nsPage(), 0).x0
            if bugs.isEmpty {
                #expect(r == RC.input && r2 == RC.input)
            } else {
                #expect(r == RC.rtt(0) && r2 == RC.rtt(0))
            }
            // A Protected IPA behaves the same either way.
            #expect(h.call(FID.dataCreateUnknown, rd, d, 0).x0 == RC.rtt(0))
            #expect(h.state(d) == .delegated)
        }
    }

    @Test func rttDestroyLiveTable() {
        for bugs: RMMBugs in [[], .rttDestroyLiveTable] {
            let h = Host(bugs: bugs)
            let (rd, rtts, data) = h.populatedRealm()
            let r = h.call(FID.rttDestroy, rd, 0, 3)
            if bugs.isEmpty {
                #expect(r == RMIResult(x0: RC.rtt(3), x2: 0))
            } else {
                #expect(r == RMIResult(x0: RC.success, x1: rtts[2], x2: 0x4000_0000))
                // The DATA granules are orphaned: still DATA, mapped by nothing.
                #expect(data.allSatisfy { h.state($0) == .data })
                #expect(h.call(FID.dataDestroy, rd, 0).x0 == RC.rtt(2))
            }
        }
    }

    @Test func realmDestroyWithRecs() {
        for bugs: RMMBugs in [[], .realmDestroyWithRecs] {
            let h = Host(bugs: bugs)
            let (rd, _) = h.createRealm()
            let (rec, _) = h.createRec(rd, index: 0)
            let r = h.call(FID.realmDestroy, rd).x0
            if bugs.isEmpty {
                #expect(r == RC.realm && h.state(rd) == .rd)
            } else {
                #expect(r == RC.success && h.state(rd) == .delegated && h.state(rec) == .rec)
                // The REC's owner is gone; using it must not crash the RMM.
                _ = h.enter(rec, h.runPage(), .irq)
                #expect(h.call(FID.recDestroy, rec).x0 == RC.success)
                #expect(h.call(FID.granuleUndelegate, rd).x0 == RC.success)
            }
        }
    }

    @Test func psciCompleteNoOwnerCheck() {
        for bugs: RMMBugs in [[], .psciCompleteNoOwnerCheck] {
            let h = Host(bugs: bugs)
            let (a, _) = h.createRealm(vmid: 1)
            let a0 = h.createRec(a, index: 0).rec
            _ = h.createRec(a, index: 1, runnable: false)
            let (b, _) = h.createRealm(vmid: 2)
            _ = h.createRec(b, index: 0)
            let b1 = h.createRec(b, index: 1, runnable: false).rec
            #expect(h.call(FID.realmActivate, a).x0 == RC.success)
            #expect(h.enter(a0, h.runPage(), .psciCpuOn(target: 1, entry: 0x4000, context: 0)).x0 == RC.success)
            let r = h.call(FID.psciComplete, a0, b1, 0).x0
            if bugs.isEmpty {
                #expect(r == RC.input && !h.rmm.rec(at: b1)!.runnable)
            } else {
                // Realm A's request started a REC of Realm B at A's entry point.
                #expect(r == RC.success && h.rmm.rec(at: b1)!.runnable && h.rmm.rec(at: b1)!.pc == 0x4000)
            }
        }
    }

    @Test func mapUnprotectedInPar() {
        for bugs: RMMBugs in [[], .mapUnprotectedInPar] {
            let h = Host(bugs: bugs)
            let (rd, _) = h.createRealm()
            h.createRtts(rd, 0)
            let r = h.call(FID.rttMapUnprotected, rd, 0x5000, 3, 0x9000_0000 | 0xD8).x0
            if bugs.isEmpty {
                #expect(r == RC.input)
            } else {
                #expect(r == RC.success)
                #expect(h.call(FID.rttReadEntry, rd, 0x5000, 3) == RMIResult(x0: 0, x1: 3, x2: 1, x3: 0x9000_00D8))
            }
        }
    }

    @Test func correctRmmKeepsItsBooks() {
        // With no bug, a long mixed run never trips the lock or refcount diagnostics.
        let h = Host()
        for _ in 0 ..< 3 {
            let (rd, _, _) = h.populatedRealm()
            #expect(h.call(FID.dataDestroy, rd, 0).x0 == RC.success)
            #expect(h.call(FID.dataDestroy, rd, 0x1000).x0 == RC.success)
            for l: UInt64 in [3, 2, 1] { #expect(h.call(FID.rttDestroy, rd, 0, l).x0 == RC.success) }
            #expect(h.call(FID.realmDestroy, rd).x0 == RC.success)
        }
        #expect(h.rmm.lockViolations == 0 && h.rmm.refcountViolations == 0)
    }
}
