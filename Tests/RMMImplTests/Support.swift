import Testing
@testable import RMMImpl

// Hand-written expectations from the reference (rmi-v1.0-reference.md), not from RMISpec.

let GS: UInt64 = 0x1000
typealias FID = RMM.FID

/// X0 values.
enum RC {
    static let success: UInt64 = 0
    static let input: UInt64 = 1
    static let realm: UInt64 = 2
    static let rec: UInt64 = 3
    static func realm(_ i: UInt64) -> UInt64 { 2 | i << 8 }
    static func rtt(_ level: UInt64) -> UInt64 { 4 | level << 8 }
}

/// A Host driving one RMM: hands out granules of the standard platform, writes parameter
/// blocks into NS pages, and wraps the common call sequences.
final class Host {
    let rmm: RMM
    /// Next granule for the RMM (delegated on demand).
    var nextGranule: UInt64 = 0x8000_0000
    /// Next NS page for parameter blocks, run structures and source data.
    var nextNS: UInt64 = 0xA000_0000

    init(bugs: RMMBugs = [], platform: RMMPlatform = .standard) {
        rmm = RMM(platform: platform, bugs: bugs)
    }

    func granule() -> UInt64 {
        defer { nextGranule += GS }
        return nextGranule
    }

    func nsPage() -> UInt64 {
        defer { nextNS += GS }
        return nextNS
    }

    @discardableResult
    func call(_ fid: UInt64, _ x1: UInt64 = 0, _ x2: UInt64 = 0, _ x3: UInt64 = 0, _ x4: UInt64 = 0,
              _ x5: UInt64 = 0) -> RMIResult {
        rmm.call(fid, x1, x2, x3, x4, x5)
    }

    /// A new granule, delegated.
    func delegated() -> UInt64 {
        let g = granule()
        let r = call(FID.granuleDelegate, g)
        #expect(r.x0 == RC.success, "delegate \(String(g, radix: 16))")
        return g
    }

    func write(_ page: UInt64, _ words: [(Int, UInt64)]) {
        for (off, v) in words { #expect(rmm.hostWrite(page + UInt64(off), v)) }
    }

    struct RealmParams {
        var flags: UInt64 = 0, s2sz: UInt64 = 40, sveVL: UInt64 = 0, numBPs: UInt64 = 1, numWPs: UInt64 = 1
        var pmuNumCtrs: UInt64 = 0, hashAlgo: UInt64 = 0, vmid: UInt64 = 1
        var rttBase: UInt64 = 0, rttLevelStart: Int64 = 0, rttNumStart: UInt64 = 1
    }

    /// Writes RmiRealmParams into a fresh NS page and returns its address.
    func realmParams(_ p: RealmParams) -> UInt64 {
        let page = nsPage()
        write(page, [(0x000, p.flags), (0x008, p.s2sz), (0x010, p.sveVL), (0x018, p.numBPs), (0x020, p.numWPs),
                     (0x028, p.pmuNumCtrs), (0x030, p.hashAlgo), (0x400, 0x1234), (0x800, p.vmid),
                     (0x808, p.rttBase), (0x810, UInt64(bitPattern: p.rttLevelStart)), (0x818, p.rttNumStart)])
        return page
    }

    /// Writes RmiRecParams into a fresh NS page.
    func recParams(mpidr: UInt64, runnable: Bool, aux: [UInt64], numAux: UInt64? = nil, pc: UInt64 = 0x1000,
                   gprs: [UInt64] = []) -> UInt64 {
        let page = nsPage()
        var w: [(Int, UInt64)] = [(0x000, runnable ? 1 : 0), (0x100, mpidr), (0x200, pc),
                                  (0x800, numAux ?? UInt64(aux.count))]
        for (i, g) in gprs.enumerated() { w.append((0x300 + 8 * i, g)) }
        for (i, a) in aux.enumerated() { w.append((0x808 + 8 * i, a)) }
        write(page, w)
        return page
    }

    /// A NEW Realm with w = 40, SL = 0, one starting RTT (the reference's example
    /// configuration), unless `params` says otherwise.
    func createRealm(vmid: UInt64 = 1, _ tweak: (inout RealmParams) -> Void = { _ in }) -> (rd: UInt64, rtt: UInt64) {
        let rd = delegated()
        let rtt = delegated()
        var p = RealmParams(vmid: vmid, rttBase: rtt)
        tweak(&p)
        let r = call(FID.realmCreate, rd, realmParams(p))
        #expect(r.x0 == RC.success)
        return (rd, rtt)
    }

    /// RTTs at levels from...to for `ipa` (level 1 first); returns their addresses.
    @discardableResult
    func createRtts(_ rd: UInt64, _ ipa: UInt64, from: Int = 1, to: Int = 3) -> [UInt64] {
        var out: [UInt64] = []
        for level in from ... to {
            let t = delegated()
            let size: UInt64 = 1 << UInt64(12 + 9 * (3 - (level - 1)))
            let r = call(FID.rttCreate, rd, t, ipa & ~(size - 1), UInt64(level))
            #expect(r.x0 == RC.success, "RTT_CREATE level \(level) at \(String(ipa, radix: 16)): \(r)")
            out.append(t)
        }
        return out
    }

    /// A REC with index `index` and fresh aux granules.
    func createRec(_ rd: UInt64, index: UInt64, runnable: Bool = true, pc: UInt64 = 0x1000,
                   gprs: [UInt64] = []) -> (rec: UInt64, aux: [UInt64]) {
        let n = call(FID.recAuxCount, rd).x1
        let aux = (0 ..< n).map { _ in delegated() }
        let rec = delegated()
        let p = recParams(mpidr: RMM.mpidr(forIndex: index), runnable: runnable, aux: aux, pc: pc, gprs: gprs)
        let r = call(FID.recCreate, rd, rec, p)
        #expect(r.x0 == RC.success, "REC_CREATE \(index): \(r)")
        return (rec, aux)
    }

    /// A fresh NS page to use as RmiRecRun, with the given enter flags.
    func runPage(flags: UInt64 = 0) -> UInt64 {
        let p = nsPage()
        if flags != 0 { write(p, [(0, flags)]) }
        return p
    }

    /// REC_ENTER with the Realm doing `b`.
    @discardableResult
    func enter(_ rec: UInt64, _ run: UInt64, _ b: RealmBehaviour) -> RMIResult {
        rmm.nextBehaviour = b
        return call(FID.recEnter, rec, run)
    }

    func exitReason(_ run: UInt64) -> UInt64? { rmm.hostRead(run + 0x800) }
    func exitWord(_ run: UInt64, _ off: UInt64) -> UInt64? { rmm.hostRead(run + 0x800 + off) }

    func state(_ pa: UInt64) -> RMM.GranuleState? { rmm.inspectGranule(pa)?.state }
    func refcount(_ pa: UInt64) -> Int? { rmm.inspectGranule(pa)?.refcount }

    /// A NEW Realm with a level-3 RTT for IPA 0 and two DATA pages at 0x0 and 0x1000.
    func populatedRealm() -> (rd: UInt64, rtts: [UInt64], data: [UInt64]) {
        let (rd, _) = createRealm()
        let rtts = createRtts(rd, 0)
        let src = nsPage()
        write(src, [(0, 0xAA), (8, 0xBB)])
        var data: [UInt64] = []
        for ipa: UInt64 in [0, 0x1000] {
            let d = delegated()
            #expect(call(FID.dataCreate, rd, d, ipa, src, 1).x0 == RC.success)
            data.append(d)
        }
        return (rd, rtts, data)
    }
}
