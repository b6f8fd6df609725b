/// SplitMix64: a small, fast, seedable generator, so that every random run can be
/// repeated from its printed seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    public mutating func pick<T>(_ xs: [T]) -> T? { xs.isEmpty ? nil : xs[Int(next() % UInt64(xs.count))] }
}

/// Random traces that go deep: a Host that mostly makes calls whose preconditions hold
/// (so Realms get built, populated, run and torn down), and sometimes breaks one argument
/// (unaligned, non-delegable, wrong state, wrong level) to reach the failure paths.
///
/// It reads the spec's state only to choose plausible arguments; the results come from
/// whatever runs the trace.
public struct RandomWalk: Sendable {
    public private(set) var scenario: Scenario
    public private(set) var rng: SplitMix64
    /// Granules the walk draws from: the first `pool` Granules of the first DRAM range.
    public let pool: [UInt64]
    /// Probability that one argument of a call is made bad.
    public var noise: Double

    /// IPAs the walk uses: a few pages at the bottom of the protected half, the top page of
    /// a 40-bit Realm's protected half, and pages of the unprotected half.
    static let ipas: [UInt64] = [0x0, 0x1000, 0x2000, 0x3000, 0x20_0000, 0x4000_0000, (1 << 39) - 0x1000,
                                 1 << 39, (1 << 39) + 0x1000, 0x1_0000_0000]

    public init(seed: UInt64, pool: Int = 48, noise: Double = 0.1, platform: Platform = .standard, options: SpecOptions = []) {
        rng = SplitMix64(seed: seed)
        scenario = Scenario("random walk, seed \(seed)", platform: platform, options: options)
        let base = platform.delegable.first?.base ?? 0
        self.pool = (0..<UInt64(pool)).map { base + $0 * Layout.granuleSize }
        self.noise = noise
    }

    var state: SpecState { scenario.state }

    func inState(_ s: GranuleState) -> [UInt64] { pool.filter { state.granule($0).state == s } }
    var realms: [UInt64] { state.realms.keys.sorted() }
    var recs: [UInt64] { state.recs.keys.sorted() }

    mutating func any() -> UInt64 { rng.pick(pool)! }
    /// Usually `x`; with probability `noise` a bad variant of it.
    mutating func maybeBad(_ x: UInt64) -> UInt64 {
        guard rng.chance(noise) else { return x }
        switch rng.next() % 4 {
        case 0: return x | 0x8            // unaligned
        case 1: return 0x1000             // not delegable
        case 2: return any()              // probably the wrong state
        default: return x &+ 0x1000
        }
    }

    /// Runs `n` random steps.
    public mutating func run(steps n: Int) {
        for _ in 0..<n { step() }
    }

    /// Runs one random call (or Host event).
    public mutating func step() {
        let choice = rng.next() % 100
        switch choice {
        case 0..<14: delegate()
        case 14..<18: undelegate()
        case 18..<26: realmCreate()
        case 26..<29: call(.realmActivate, [maybeBad(rng.pick(realms) ?? any())])
        case 29..<32: call(.realmDestroy, [maybeBad(rng.pick(realms) ?? any())])
        case 32..<44: rttCreate()
        case 44..<49: rttDestroyOrFold(fold: rng.chance(0.3))
        case 49..<57: dataCreate()
        case 57..<61: dataDestroy()
        case 61..<64: initRipas()
        case 64..<70: recCreate()
        case 70..<73: call(.recDestroy, [maybeBad(rng.pick(recs) ?? any())])
        case 73..<82: recEnter()
        case 82..<85: psciComplete()
        case 85..<88: setRipas()
        case 88..<92: mapOrUnmap()
        case 92..<95: readEntry()
        case 95..<97: call(.recAuxCount, [maybeBad(rng.pick(realms) ?? any())])
        case 97: call(.version, [rng.chance(0.8) ? Layout.version10 : rng.next()])
        case 98: call(.features, [rng.chance(0.8) ? 0 : rng.next() % 4])
        default:
            let g = any()
            if state.granule(g).state == .undelegated { scenario.setGPT(g, rng.chance(0.5) ? .secure : .ns) }
        }
    }

    mutating func call(_ cmd: RMICommand, _ args: [UInt64], writes: [HostWrite] = [], realm: RealmActionValue? = nil) {
        scenario.call(cmd, args: args, writes: writes, realm: realm)
    }

    mutating func delegate() {
        let undelegated = inState(.undelegated)
        call(.granuleDelegate, [maybeBad(rng.pick(undelegated) ?? any())])
    }
    mutating func undelegate() {
        call(.granuleUndelegate, [maybeBad(rng.pick(inState(.delegated)) ?? any())])
    }

    /// A free NS Granule for parameter blocks.
    mutating func nsPage() -> UInt64 { rng.pick(inState(.undelegated)) ?? any() }

    mutating func realmCreate() {
        let delegated = inState(.delegated)
        guard delegated.count >= 2 else { return delegate() }
        // Geometries: (w, SL, rtt_num_start).
        let geometry: (UInt64, Int64, UInt64) = rng.pick([(40, 0, 1), (40, 0, 1), (32, 1, 1), (41, 1, 2), (33, 2, 8)])!
        var rtts: [UInt64] = []
        // Consecutive DELEGATED Granules for the starting RTTs, aligned to their number.
        for g in delegated where g % (geometry.2 * Layout.granuleSize) == 0 {
            let run = (0..<geometry.2).map { g + $0 * Layout.granuleSize }
            if run.allSatisfy({ state.granule($0).state == .delegated }) { rtts = run; break }
        }
        if rtts.isEmpty { rtts = [delegated[0]] }
        let rd = rng.pick(delegated.filter { !rtts.contains($0) }) ?? delegated.last!
        let p = nsPage()
        var params = RealmParamsValues(rttBase: maybeBad(rtts[0]), s2sz: geometry.0, rttLevelStart: geometry.1,
                                       rttNumStart: geometry.2, vmid: rng.next() % 4)
        if rng.chance(noise) { params.hashAlgo = 2 }
        call(.realmCreate, [maybeBad(rd), p], writes: [.realmParams(at: p, params)])
    }

    /// The level a call at `ipa` should name to make progress: one below where the walk stops.
    func walkLevel(_ rd: UInt64, _ ipa: UInt64) -> Int64 {
        Int64(bitPattern: state.walk(CWord(rd), CWord(ipa), to: 3).level.raw)
    }

    mutating func rttCreate() {
        guard let rd = rng.pick(realms), let t = rng.pick(inState(.delegated)) else { return delegate() }
        let ipa = rng.pick(RandomWalk.ipas)!
        var level = walkLevel(rd, ipa) + 1
        if rng.chance(noise) { level = Int64(rng.next() % 6) - 1 }
        let size = UInt64(1) << UInt64(max(0, min(63, 12 + 9 * (3 - (level - 1)))))
        call(.rttCreate, [maybeBad(rd), maybeBad(t), ipa & ~(size &- 1), UInt64(bitPattern: level)])
    }

    mutating func rttDestroyOrFold(fold: Bool) {
        guard let rd = rng.pick(realms) else { return rttCreate() }
        let tables = state.rtts.filter { $0.value.owner == rd && !isStarting($0.key, rd) }.sorted { $0.key < $1.key }
        guard let (_, t) = rng.pick(tables) else { return rttCreate() }
        var level = Int64(bitPattern: t.level)
        if rng.chance(noise) { level += rng.chance(0.5) ? 1 : -1 }
        call(fold ? .rttFold : .rttDestroy, [maybeBad(rd), t.ipaBase, UInt64(bitPattern: level)])
    }

    func isStarting(_ t: UInt64, _ rd: UInt64) -> Bool {
        guard let r = state.realms[rd] else { return false }
        let base = r.fields[RealmField.rttBase.rawValue], n = r.fields[RealmField.numStart.rawValue]
        return t >= base && t - base < n * Layout.granuleSize
    }

    mutating func dataCreate() {
        guard let rd = rng.pick(realms), let d = rng.pick(inState(.delegated)) else { return delegate() }
        let ipa = rng.pick(RandomWalk.ipas)!
        if rng.chance(0.5) {
            let src = nsPage()
            call(.dataCreate, [maybeBad(rd), maybeBad(d), ipa, maybeBad(src), rng.next() % 2],
                 writes: [.data(at: src, content: rng.next() % 16)])
        } else {
            call(.dataCreateUnknown, [maybeBad(rd), maybeBad(d), ipa])
        }
    }

    mutating func dataDestroy() {
        guard let rd = rng.pick(realms) else { return dataCreate() }
        call(.dataDestroy, [maybeBad(rd), rng.pick(RandomWalk.ipas)!])
    }

    mutating func initRipas() {
        guard let rd = rng.pick(realms) else { return realmCreate() }
        let base = rng.pick(RandomWalk.ipas.filter { $0 < 1 << 31 })!
        let top = base + Layout.granuleSize * (1 + rng.next() % 4)
        call(.rttInitRipas, [maybeBad(rd), base, rng.chance(noise) ? base : top])
    }

    mutating func recCreate() {
        guard let rd = rng.pick(realms) else { return realmCreate() }
        let n = Int(state.platform.recAuxCount)
        let delegated = inState(.delegated)
        guard delegated.count >= n + 1 else { return delegate() }
        let rec = delegated[0]
        let aux = Array(delegated[1...n])
        let index = state.realms[rd]?.fields[RealmField.recIndex.rawValue] ?? 0
        var mpidr = index % 16 | (index / 16) << 8
        if rng.chance(noise) { mpidr += 1 }
        let p = nsPage()
        let params = RecParamsValues(mpidr: mpidr, runnable: rng.chance(0.6), aux: aux, pc: 0x1000)
        call(.recCreate, [maybeBad(rd), maybeBad(rec), p], writes: [.recParams(at: p, params)])
    }

    mutating func recEnter() {
        guard let rec = rng.pick(recs) else { return recCreate() }
        let run = nsPage()
        let owner = state.recs[rec]?.owner ?? 0
        let others = recs.filter { $0 != rec && state.recs[$0]?.owner == owner }
        let target = others.isEmpty ? 0 : state.recs[rng.pick(others)!]!.mpidr
        let action: RealmActionValue
        switch rng.next() % 12 {
        case 0: action = RealmActionValue(.psciCpuOn, [target, 0x2000, 0x42])
        case 1: action = RealmActionValue(.psciAffinityInfo, [target, 0])
        case 2: action = RealmActionValue(.psciCpuOff)
        case 3: action = RealmActionValue(.psciSystemOff)
        case 4: action = RealmActionValue(.ripasChange, [0x1000, 0x1000 + Layout.granuleSize * (1 + rng.next() % 3),
                                                         rng.next() % 2, rng.next() % 2])
        case 5: action = RealmActionValue(.hostCall, [rng.next() % 256])
        case 6: action = RealmActionValue(.mmioAbort, [1 << 39, rng.next() % 2])
        case 7: action = RealmActionValue(.wfi)
        default: action = RealmActionValue(.irq)
        }
        var enter = RecEnterValues(flags: rng.chance(0.2) ? RecRunLayout.flagEmulMmio : 0)
        if rng.chance(noise) { enter.gicv3Hcr = ~0 }
        call(.recEnter, [maybeBad(rec), run], writes: [.recRun(at: run, enter)], realm: action)
    }

    mutating func psciComplete() {
        guard let caller = rng.pick(recs.filter { state.recs[$0]?.psciPending == 1 }) ?? rng.pick(recs) else { return recEnter() }
        let owner = state.recs[caller]?.owner ?? 0
        let want = state.recs[caller]?.gprs[1] ?? 0
        // Usually the REC the request names; sometimes a REC of another Realm with the same MPIDR.
        let named = recs.filter { state.recs[$0]?.mpidr == want }
        let own = named.first { state.recs[$0]?.owner == owner }
        let target = (rng.chance(0.3) ? rng.pick(named) : own) ?? own ?? rng.pick(recs)!
        call(.psciComplete, [caller, maybeBad(target), rng.chance(0.8) ? PSCI.success : PSCI.denied])
    }

    mutating func setRipas() {
        guard let rec = rng.pick(recs.filter { state.recs[$0]?.ripasTop != 0 }) ?? rng.pick(recs) else { return recEnter() }
        let r = state.recs[rec]!
        call(.rttSetRipas, [maybeBad(r.owner), rec, r.ripasAddr, rng.chance(0.8) ? r.ripasTop : r.ripasAddr + 0x1000])
    }

    mutating func mapOrUnmap() {
        guard let rd = rng.pick(realms) else { return realmCreate() }
        // Unprotected IPAs, or now and then any IPA (a protected one must be refused).
        let ipa = rng.pick(RandomWalk.ipas.filter { $0 >= 1 << 39 || rng.chance(noise) })!
        if rng.chance(0.6) {
            call(.rttMapUnprotected, [maybeBad(rd), ipa, 3, (0x9000_0000 + (rng.next() % 16) << 12) | 0b111 << 2 | 0b11 << 6])
        } else {
            call(.rttUnmapUnprotected, [maybeBad(rd), ipa, 3])
        }
    }

    mutating func readEntry() {
        guard let rd = rng.pick(realms) else { return realmCreate() }
        call(.rttReadEntry, [maybeBad(rd), rng.pick(RandomWalk.ipas)!, UInt64(bitPattern: Int64(rng.next() % 5) - 1)])
    }
}
