import Testing
@testable import RMMImpl

/// Reference 1.1-1.3: function IDs, the register convention, return codes.
@Suite struct Handler {
    @Test(arguments: [0xC400_0156, 0xC400_0160, 0xC400_0163, 0xC400_016A, 0xC400_018F, 0x8400_0150,
                      0xC400_0190, 0xC400_0000, 0] as [UInt64])
    func undefinedFunctionIDs(fid: UInt64) {
        let rmm = RMM()
        let r = rmm.handle(fid: fid, 1, 2, 3, 4, 5)
        #expect(r.x0 == RMM.notSupported && r.x1 == 0 && r.x2 == 0 && r.x3 == 0 && r.x4 == 4)
    }

    @Test func sveHintIsStripped() {
        let rmm = RMM()
        let r = rmm.call(RMM.FID.version | RMM.FID.sveHint, 0x10000)
        #expect(r == RMIResult(x0: 0, x1: 0x10000, x2: 0x10000))
        #expect(rmm.call(RMM.FID.granuleDelegate | RMM.FID.sveHint, 0x8000_0000).x0 == 0)
        #expect(rmm.inspectGranule(0x8000_0000)?.state == .delegated)
    }

    @Test func functionIDIsW0() {
        let rmm = RMM()
        #expect(rmm.call(0xFFFF_FFFF_0000_0000 | RMM.FID.version, 0x10000).x0 == 0)
    }

    @Test func allCommandsAreDispatched() {
        // Every one of the 23 FIDs answers with an RMI return code (bits 63:16 zero), never
        // NOT_SUPPORTED, even with nonsense arguments.
        let rmm = RMM()
        #expect(RMM.FID.all.count == 23)
        for fid in RMM.FID.all {
            let r = rmm.call(fid, 0x123, 0x456, 0x789, 0xABC, 0xDEF)
            #expect(r.x0 >> 16 == 0, "\(String(fid, radix: 16))")
        }
    }

    @Test func version() {
        let rmm = RMM()
        #expect(rmm.call(RMM.FID.version, 0x10000) == RMIResult(x0: 0, x1: 0x10000, x2: 0x10000))
        #expect(rmm.call(RMM.FID.version, 0x10001) == RMIResult(x0: 1, x1: 0x10000, x2: 0x10000))
        #expect(rmm.call(RMM.FID.version, 0x20000) == RMIResult(x0: 1, x1: 0x10000, x2: 0x10000))
        #expect(rmm.call(RMM.FID.version, 1 << 63 | 0x10000).x0 == 1)
    }

    @Test func features() {
        let f0 = RMMPlatform.encodeFeatures0(s2sz: 44, lpa2: false, sve: true, sveVL: 3, numBPs: 2, numWPs: 2,
                                             pmu: false, pmuNumCtrs: 0, sha256: true, sha512: false,
                                             gicv3NumLRs: 3, maxRecsOrder: 4)
        var p = RMMPlatform.standard
        p.features0 = f0
        let rmm = RMM(platform: p)
        #expect(rmm.call(RMM.FID.features, 0) == RMIResult(x0: 0, x1: f0))
        #expect(rmm.call(RMM.FID.features, 1) == RMIResult(x0: 0, x1: 0))
        #expect(rmm.call(RMM.FID.features, ~0) == RMIResult(x0: 0, x1: 0))
        #expect(f0 & 0xFF == 44 && (f0 >> 9) & 1 == 1 && (f0 >> 10) & 0xF == 3 && (f0 >> 38) & 0xF == 4)
    }

    @Test func registerConvention() {
        // X1..X3 read 0 unless written; X4 comes back as passed unless the command writes it.
        let rmm = RMM()
        #expect(rmm.call(RMM.FID.granuleDelegate, 0x8000_0000, 7, 8, 0xDEAD) == RMIResult(x0: 0, x4: 0xDEAD))
        #expect(rmm.call(RMM.FID.granuleDelegate, 0x8000_0000, 7, 8, 0xDEAD) == RMIResult(x0: 1, x4: 0xDEAD))
        // RTT_READ_ENTRY writes X4 (ripas), also on failure it leaves it.
        #expect(rmm.call(RMM.FID.rttReadEntry, 0x8000_0000, 0, 3, 0xBEEF) == RMIResult(x0: 1, x4: 0xBEEF))
    }

    @Test func returnCodeEncoding() {
        #expect(RMM.returnCode(.errorRtt, index: 3) == 0x304)
        #expect(RMM.returnCode(.errorRealm, index: 1) == 0x102)
        #expect(RMM.rttError(-1) == 0xFF04)
        #expect(RMM.decode(0x204)! == (.errorRtt, 2))
        #expect(RMM.decode(RMM.notSupported) == nil)
        #expect(RMM.decode(5) == nil)
    }
}

/// Reference 5.3, 5.4: GRANULE_DELEGATE and GRANULE_UNDELEGATE; the GPT environment step.
@Suite struct GranuleCommands {
    @Test func delegateFailures() {
        let h = Host()
        #expect(h.call(FID.granuleDelegate, 0x8000_0008).x0 == RC.input)  // gran_align
        #expect(h.call(FID.granuleDelegate, 0x1000).x0 == RC.input)  // gran_bound
        #expect(h.call(FID.granuleDelegate, 0x1000_0000).x0 == RC.input)  // gran_bound: device memory
        #expect(h.call(FID.granuleDelegate, 0xC000_0000).x0 == RC.input)  // gran_bound: past DRAM
        #expect(h.call(FID.granuleDelegate, 0x8000_0000).x0 == RC.success)
        #expect(h.call(FID.granuleDelegate, 0x8000_0000).x0 == RC.input)  // gran_state
        #expect(h.call(FID.granuleDelegate, 0xBFFF_0000).x0 == RC.input)  // gran_gpt: Secure carve-out
        #expect(h.state(0xBFFF_0000) == .undelegated && h.rmm.inspectGranule(0xBFFF_0000)?.gpt == .secure)
    }

    @Test func gptEnvironment() {
        let h = Host()
        let g: UInt64 = 0x8000_1000
        #expect(h.rmm.setGPT(g, .root))
        #expect(h.call(FID.granuleDelegate, g).x0 == RC.input)  // gran_gpt
        #expect(h.rmm.hostRead(g) == nil && !h.rmm.hostWrite(g, 1))
        #expect(h.rmm.setGPT(g, .any))
        #expect(h.rmm.hostWrite(g, 5) && h.rmm.hostRead(g) == 5)
        #expect(h.call(FID.granuleDelegate, g).x0 == RC.input)  // GPT_AAP is not GPT_NS
        #expect(!h.rmm.setGPT(g, .realm))  // never to GPT_REALM
        #expect(h.rmm.setGPT(g, .ns))
        #expect(h.call(FID.granuleDelegate, g).x0 == RC.success)
        #expect(!h.rmm.setGPT(g, .ns))  // only UNDELEGATED granules change
        #expect(h.rmm.inspectGranule(g)?.gpt == .realm)
    }

    @Test func delegationScrubsAndBlocksHostAccess() {
        let h = Host()
        let g: UInt64 = 0x8000_2000
        #expect(h.rmm.hostWrite(g + 0x10, 0x55))
        #expect(h.rmm.contentDigest(at: g) != 0)
        #expect(h.call(FID.granuleDelegate, g).x0 == RC.success)
        #expect(h.rmm.contentDigest(at: g) == 0)
        #expect(h.rmm.hostRead(g) == nil && !h.rmm.hostWrite(g, 1))
        #expect(h.call(FID.granuleUndelegate, g).x0 == RC.success)
        #expect(h.rmm.hostRead(g + 0x10) == 0)
        // Device memory is NS-accessible; other addresses fault.
        #expect(h.rmm.hostWrite(0x1000_0008, 9) && h.rmm.hostRead(0x1000_0008) == 9)
        #expect(h.rmm.hostRead(0x2000_0000) == nil && h.rmm.hostRead(0x8000_0004) == nil)
    }

    @Test func undelegateFailures() {
        let h = Host()
        let (rd, rtt) = h.createRealm()
        #expect(h.call(FID.granuleUndelegate, rd + 8).x0 == RC.input)  // gran_align
        #expect(h.call(FID.granuleUndelegate, 0x1000).x0 == RC.input)  // gran_bound
        #expect(h.call(FID.granuleUndelegate, 0x9000_0000).x0 == RC.input)  // gran_state: UNDELEGATED
        #expect(h.call(FID.granuleUndelegate, rd).x0 == RC.input)  // gran_state: RD
        #expect(h.call(FID.granuleUndelegate, rtt).x0 == RC.input)  // gran_state: RTT
        #expect(h.state(rd) == .rd && h.state(rtt) == .rtt)
        let d = h.delegated()
        #expect(h.call(FID.granuleUndelegate, d).x0 == RC.success)
        #expect(h.state(d) == .undelegated && h.rmm.inspectGranule(d)?.gpt == .ns)
    }
}
