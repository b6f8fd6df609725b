import Foundation
import RMISpec

/// Starting points for `cover --seeds`: milestones of one Realm's life, each a trace on the
/// platform of `CoverSeeds.scope`, built by running it on the spec (every call required to
/// succeed). From these states the labels that need a built Realm, RTT levels, DATA, RECs or
/// pending exits are one symbolic call away. `rmi-check cover --write-seeds DIR`
/// writes them; `Specs/seeds` holds them.
///
/// Slots: 0 the starting RTT (level 1), 1 the RD, 2 the one NS Granule (every parameter
/// block, the REC run page and the DATA source), 3 and 4 the level-2 and level-3 RTTs of
/// IPA 0, 5 the DATA Granule, 6 and 7 the first REC's aux Granule and REC, 8 and 9 the
/// second's. Each seed also delegates the Granule the next object needs, so that creating
/// it is one call away.
public enum CoverSeeds {
    /// 10 Granules, one Realm with two RECs, three tracked entries per RTT (IPA 2^31, the
    /// first Unprotected one of a 32-bit Realm, is entry 2 of the starting RTT).
    public static let scope = Scope(granules: 10, realms: 1, recs: 2, entries: 3, aux: 1)

    /// The paths of the seed traces in `folder`: its `*.json` files in name order, the order
    /// `cover --seeds` searches them (empty when there are none or no such folder).
    public static func files(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { (folder as NSString).appendingPathComponent($0) }
    }

    /// The seeds in search order, each with its file name.
    public static func milestones() -> [(name: String, trace: Trace)] {
        let p = scope.platform
        let slot = scope.slotAddress
        let rtt1 = slot(0), rd = slot(1), ns = slot(2), rtt2 = slot(3), rtt3 = slot(4), data = slot(5)
        let recs = [slot(7), slot(9)], aux = [slot(6), slot(8)]
        let unprotected: UInt64 = 1 << 31
        var out: [(String, Trace)] = []
        var s = Scenario(platform: p)
        func keep(_ name: String, _ what: String) {
            precondition(s.problems.isEmpty, "cover seed \(name): \(s.problems)")
            var t = s.trace
            t.description = "cover seed: \(what)"
            out.append((name, t))
        }
        keep("00-empty", "the initial state")
        s.must(.granuleDelegate, rtt1)
        s.must(.granuleDelegate, rd)
        keep("01-delegated", "the RD and the starting RTT delegated")
        let params = RealmParamsValues(rttBase: rtt1, s2sz: 32, rttLevelStart: 1, rttNumStart: 1, vmid: 1)
        s.must(.realmCreate, rd, ns, writes: [.realmParams(at: ns, params)])
        s.must(.granuleDelegate, rtt2)
        keep("02-realm-new", "a NEW Realm (IPA width 32, starting level 1), a Granule delegated for an RTT")
        s.must(.rttCreate, rd, rtt2, 0, 2)
        s.must(.granuleDelegate, rtt3)
        s.must(.rttCreate, rd, rtt3, 0, 3)
        s.must(.granuleDelegate, data)
        keep("03-rtt-level3", "RTTs of IPA 0 down to level 3, a Granule delegated for DATA")
        s.must(.dataCreate, rd, data, 0, ns, 0)
        // A 1 GB NS block (normal memory, read-write) at the first Unprotected IPA.
        s.must(.rttMapUnprotected, rd, unprotected, 1, 0x4000_0000 | 0b111 << 2 | 0b11 << 6)
        s.must(.granuleDelegate, aux[0])
        s.must(.granuleDelegate, recs[0])
        keep("04-data", "DATA at IPA 0, an NS block at IPA 2^31, Granules delegated for a REC")
        for i in 0..<2 {
            if i == 1 {
                s.must(.granuleDelegate, aux[1])
                s.must(.granuleDelegate, recs[1])
            }
            let rp = RecParamsValues(mpidr: UInt64(i), runnable: i == 0, aux: [aux[i]], pc: 0x1000)
            s.must(.recCreate, rd, recs[i], ns, writes: [.recParams(at: ns, rp)])
        }
        keep("05-recs-new", "two RECs (the second not runnable) in the NEW Realm")
        s.must(.realmActivate, rd)
        keep("06-active", "the Realm active")
        let run = s
        let enter = RecEnterValues()
        s.must(.recEnter, recs[0], ns, writes: [.recRun(at: ns, enter)], realm: RealmActionValue(.stayRunning))
        keep("07-rec-running", "the first REC running (its REC_ENTER has not returned)")
        s = run
        s.must(.recEnter, recs[0], ns, writes: [.recRun(at: ns, enter)],
               realm: RealmActionValue(.ripasChange, [0, 0x2000, Ripas.ram.rawValue, 0]))
        keep("08-ripas-pending", "a RIPAS change to RAM of [0, 0x2000) pending on the first REC")
        s = run
        // 2 MB + 4 KB: its walk stops at level 2 (no level-3 RTT there), where the base is not aligned.
        s.must(.recEnter, recs[0], ns, writes: [.recRun(at: ns, enter)],
               realm: RealmActionValue(.ripasChange, [0x20_1000, 0x20_2000, Ripas.ram.rawValue, 0]))
        keep("09-ripas-pending-unaligned", "a RIPAS change to RAM of [0x201000, 0x202000) pending, below no level-3 RTT")
        s = run
        s.must(.recEnter, recs[0], ns, writes: [.recRun(at: ns, enter)], realm: RealmActionValue(.psciCpuOn, [1, 0x2000, 0]))
        keep("10-psci-pending", "a PSCI_CPU_ON of the second REC pending on the first")
        s = run
        s.must(.recEnter, recs[0], ns, writes: [.recRun(at: ns, enter)], realm: RealmActionValue(.psciSystemOff))
        keep("11-system-off", "the Realm off (PSCI_SYSTEM_OFF)")
        for r in recs { s.must(.recDestroy, r) }
        s.must(.dataDestroy, rd, 0)
        s.must(.rttUnmapUnprotected, rd, unprotected, 1)
        s.must(.rttDestroy, rd, 0, 3)
        s.must(.rttDestroy, rd, 0, 2)
        s.must(.realmDestroy, rd)
        keep("12-destroyed", "the Realm torn down and destroyed, its Granules DELEGATED")
        return out
    }
}
