/// The built-in scenarios: the canonical call sequences of section 8 of the reference,
/// each requiring SUCCESS at every step and ending with every Granule UNDELEGATED.
public enum CanonicalScenarios {
    public static var all: [Scenario] { [buildAndTeardown(), concatenatedStart(), twoRealmsRunning()] }

    /// 8.1 and 8.2: build a Realm (w = 40, SL = 0), populate, run, tear down.
    public static func buildAndTeardown() -> Scenario {
        var s = Scenario("build, populate, run and tear down a Realm (reference 8.1, 8.2)")
        s.must(.version, Layout.version10)
        s.must(.features, 0)
        let rtt0 = s.granule(), rd = s.granule(), params = s.granule()
        for g in [rd, rtt0] { s.must(.granuleDelegate, g) }
        let p = RealmParamsValues(rttBase: rtt0, s2sz: 40, rttLevelStart: 0, rttNumStart: 1, vmid: 7)
        s.must(.realmCreate, rd, params, writes: [.realmParams(at: params, p)])

        // RTTs for IPA 0 (protected) down to level 3, then for 2^39 (unprotected).
        var tables: [(ipa: UInt64, level: UInt64, rtt: UInt64)] = []
        for base in [UInt64(0), UInt64(1) << 39] {
            for level in UInt64(1)...3 {
                let t = s.granule()
                s.must(.granuleDelegate, t)
                s.must(.rttCreate, rd, t, base, level)
                tables.append((base, level, t))
            }
        }
        s.must(.rttInitRipas, rd, 0x1000, 0x8000)
        let src = s.granule(), data = s.granule()
        s.write(.data(at: src, content: 0x5EED))
        s.must(.granuleDelegate, data)
        s.must(.dataCreate, rd, data, 0, src, 1)

        s.must(.recAuxCount, rd)
        var recs: [UInt64] = []
        var aux: [UInt64] = []
        for i in UInt64(0)..<2 {
            let a = (0..<s.state.platform.recAuxCount).map { _ in s.granule() }
            let rec = s.granule(), recParams = s.granule()
            for g in a + [rec] { s.must(.granuleDelegate, g) }
            s.must(.recCreate, rd, rec, recParams,
                   writes: [.recParams(at: recParams, RecParamsValues(mpidr: i, runnable: i == 0, aux: a, pc: 0x1000))])
            recs.append(rec)
            aux += a
        }
        s.must(.rttMapUnprotected, rd, UInt64(1) << 39, 3, 0x9000_0000 | 0b111 << 2 | 0b11 << 6)
        s.must(.realmActivate, rd)

        let run0 = s.granule(), run1 = s.granule()
        s.must(.recEnter, recs[0], run0, writes: [.recRun(at: run0, RecEnterValues())], realm: RealmActionValue(.irq))
        s.must(.recEnter, recs[0], run0, realm: RealmActionValue(.psciCpuOn, [1, 0x2000, 0x42]))
        s.must(.psciComplete, recs[0], recs[1], PSCI.success)
        s.must(.recEnter, recs[1], run1, writes: [.recRun(at: run1, RecEnterValues())],
               realm: RealmActionValue(.psciSystemOff))
        s.must(.recEnter, recs[0], run0, realm: RealmActionValue(.irq), give: .errorRealm, index: 1)

        for rec in recs { s.must(.recDestroy, rec) }
        s.must(.dataDestroy, rd, 0)
        s.must(.rttUnmapUnprotected, rd, UInt64(1) << 39, 3)
        for t in tables.reversed() { s.must(.rttDestroy, rd, t.ipa, t.level) }
        s.must(.realmDestroy, rd)
        for g in [data] + aux + recs + tables.map(\.rtt) + [rd, rtt0] { s.must(.granuleUndelegate, g) }
        return s
    }

    /// A Realm with four concatenated starting RTTs (w = 41, SL = 1), created and destroyed.
    public static func concatenatedStart() -> Scenario {
        var s = Scenario("a Realm with rtt_num_start = 4 (w = 41, SL = 1)")
        let rtts = s.granules(4, alignment: 4 * Layout.granuleSize)
        let rd = s.granule(), params = s.granule()
        for g in rtts + [rd] { s.must(.granuleDelegate, g) }
        let p = RealmParamsValues(rttBase: rtts[0], s2sz: 41, rttLevelStart: 1, rttNumStart: 4, vmid: 9)
        s.must(.realmCreate, rd, params, writes: [.realmParams(at: params, p)])
        // The last starting table covers [3 * 512 GB, 2 TB): its level-2 RTT at 1.5 TB + 1 GB.
        let ipa: UInt64 = 3 << 39 | 1 << 30
        let t = s.granule()
        s.must(.granuleDelegate, t)
        s.must(.rttCreate, rd, t, ipa, 2)
        s.must(.rttDestroy, rd, ipa, 2)
        s.must(.realmDestroy, rd)
        for g in [t, rd] + rtts { s.must(.granuleUndelegate, g) }
        return s
    }

    /// Two Realms side by side: a RIPAS change completed by RTT_SET_RIPAS, a REC left
    /// running while the Host calls on another CPU, and an NS mapping of a Granule the
    /// Host has delegated (the RMM holds no reference on NS memory); then teardown.
    public static func twoRealmsRunning() -> Scenario {
        var s = Scenario("two Realms: RIPAS change, a running REC, an NS mapping of delegated memory")
        // Realm A: w = 40, SL = 0.
        let rttA = s.granule(), rdA = s.granule(), paramsA = s.granule()
        for g in [rttA, rdA] { s.must(.granuleDelegate, g) }
        s.must(.realmCreate, rdA, paramsA,
               writes: [.realmParams(at: paramsA, RealmParamsValues(rttBase: rttA, s2sz: 40, rttLevelStart: 0, rttNumStart: 1, vmid: 1))])
        var tablesA: [(UInt64, UInt64, UInt64)] = []
        for level in UInt64(1)...3 {
            let t = s.granule()
            s.must(.granuleDelegate, t)
            s.must(.rttCreate, rdA, t, 0, level)
            tablesA.append((0, level, t))
        }
        s.must(.rttInitRipas, rdA, 0, 0x4000)
        let aux = (0..<s.state.platform.recAuxCount).map { _ in s.granule() }
        let rec = s.granule(), recParams = s.granule(), run = s.granule()
        for g in aux + [rec] { s.must(.granuleDelegate, g) }
        s.must(.recCreate, rdA, rec, recParams, writes: [.recParams(at: recParams, RecParamsValues(mpidr: 0, aux: aux, pc: 0x1000))])
        s.must(.realmActivate, rdA)

        // The Realm asks for [0x1000, 0x3000) to become EMPTY; the Host completes it.
        s.must(.recEnter, rec, run, writes: [.recRun(at: run, RecEnterValues())],
               realm: RealmActionValue(.ripasChange, [0x1000, 0x3000, Ripas.empty.rawValue, 0]))
        s.must(.rttSetRipas, rdA, rec, 0x1000, 0x3000)
        s.must(.recEnter, rec, run, realm: RealmActionValue(.irq))

        // The REC keeps running; another CPU cannot destroy it meanwhile.
        s.must(.recEnter, rec, run, realm: RealmActionValue(.stayRunning))
        s.must(.recDestroy, rec, give: .errorRec)
        s.recExit(rec: rec, realm: RealmActionValue(.irq))

        // Realm B: w = 32, SL = 1; its unprotected half starts at 2 GB.
        let rttB = s.granule(), rdB = s.granule(), paramsB = s.granule()
        for g in [rttB, rdB] { s.must(.granuleDelegate, g) }
        s.must(.realmCreate, rdB, paramsB,
               writes: [.realmParams(at: paramsB, RealmParamsValues(rttBase: rttB, s2sz: 32, rttLevelStart: 1, rttNumStart: 1, vmid: 2))])
        let ns: UInt64 = 0x8000_0000
        var tablesB: [(UInt64, UInt64, UInt64)] = []
        for level in UInt64(2)...3 {
            let t = s.granule()
            s.must(.granuleDelegate, t)
            s.must(.rttCreate, rdB, t, ns, level)
            tablesB.append((ns, level, t))
        }
        // Map Realm A's RD into Realm B's unprotected half: allowed, the GPT protects it.
        s.must(.rttMapUnprotected, rdB, ns, 3, rdA | 0b111 << 2 | 0b11 << 6)

        // Teardown. ASSIGNED_NS does not make an RTT live, so no unmap is needed.
        s.must(.recDestroy, rec)
        for t in tablesA.reversed() { s.must(.rttDestroy, rdA, t.0, t.1) }
        for t in tablesB.reversed() { s.must(.rttDestroy, rdB, t.0, t.1) }
        s.must(.realmDestroy, rdA)
        s.must(.realmDestroy, rdB)
        for g in aux + [rec] + tablesA.map(\.2) + tablesB.map(\.2) + [rdA, rttA, rdB, rttB] { s.must(.granuleUndelegate, g) }
        return s
    }
}
