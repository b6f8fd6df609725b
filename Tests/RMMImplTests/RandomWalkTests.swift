import Testing
@testable import RMMImpl

/// Random call sequences over a small pool of addresses: the RMM never traps, never returns
/// with a granule locked, always answers with an RMI return code, and (without named
/// deviations) keeps the invariants of reference section 7 that its own bookkeeping states.
@Suite struct RandomWalk {
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
        mutating func chance(_ p: Int) -> Bool { below(100) < p }
    }

    static let pool: [UInt64] = (0 ..< 64).map { 0x8000_0000 + $0 * 0x1000 }
    static let nsPages: [UInt64] = (0 ..< 6).map { 0xA000_0000 + $0 * 0x1000 }
    static let ipas: [UInt64] = [0, 0x1000, 0x2000, 0x3000, 0x1F_F000, 0x20_0000, 0x4000_0000, 1 << 39,
                                 (1 << 39) + 0x1000, (1 << 39) + 0x20_0000, 1 << 40, 0x800]

    /// One random call; returns which kind of call it was (0..<22) and whether it succeeded.
    @discardableResult
    func step(_ rmm: RMM, _ rng: inout SplitMix) -> (kind: Int, success: Bool) {
        let g = { (r: inout SplitMix) in r.pick(RandomWalk.pool) }
        // Mostly a granule in the state the argument wants, to go deep.
        func of(_ s: RMM.GranuleState, _ r: inout SplitMix) -> UInt64 {
            let c = RandomWalk.pool.filter { rmm.core.granules[rmm.core.granuleIndex($0)].state == s }
            return c.isEmpty || r.chance(15) ? r.pick(RandomWalk.pool) : r.pick(c)
        }
        let rdArg = { (r: inout SplitMix) in of(.rd, &r) }
        let recArg = { (r: inout SplitMix) in of(.rec, &r) }
        let fresh = { (r: inout SplitMix) in of(.delegated, &r) }
        let ns = { (r: inout SplitMix) in r.pick(RandomWalk.nsPages) }
        let ipa = { (r: inout SplitMix) in r.pick(RandomWalk.ipas) }
        let level = { (r: inout SplitMix) in r.chance(80) ? UInt64(1 + r.below(3)) : UInt64(r.below(5)) }
        let behaviours: [RealmBehaviour] = [
            .irq, .wfi, .hostCall(imm: 1), .psciCpuOn(target: 1, entry: 0x1000, context: 2),
            .psciAffinityInfo(target: 0, lowestLevel: 0), .psciAffinityInfo(target: 1, lowestLevel: 0),
            .psciCpuOff, .psciCpuSuspend, .psciSystemOff, .ripasChange(base: 0, top: 0x3000, ripas: 1, flags: 1),
            .ripasChange(base: 0x1000, top: 0x20_0000, ripas: 0, flags: 0), .mmioAbort(ipa: 1 << 39, isv: true),
            .protectedAbort(ipa: 0x1000), .stayRunning, .stayRunning, .stayRunning,
        ]
        let r: RMIResult
        let kind = rng.below(22)
        switch kind {
        case 0, 1: r = rmm.call(RMM.FID.granuleDelegate, g(&rng))
        case 2: r = rmm.call(RMM.FID.granuleUndelegate, g(&rng))
        case 3:
            let p = ns(&rng)
            let words: [(UInt64, UInt64)] = [(0, 0), (8, rng.chance(90) ? 40 : 33), (0x18, 1), (0x20, 1),
                                             (0x800, UInt64(rng.below(8))), (0x808, fresh(&rng)), (0x810, 0), (0x818, 1)]
            for (o, v) in words { rmm.hostWrite(p + o, v) }
            r = rmm.call(RMM.FID.realmCreate, fresh(&rng), p)
        case 4:
            // Mostly only Realms that have a REC.
            let rd = rdArg(&rng)
            if rng.chance(80) && (rmm.rd(at: rd)?.numRecs ?? 0) == 0 {
                r = rmm.call(RMM.FID.realmActivate, 0)
            } else {
                r = rmm.call(RMM.FID.realmActivate, rd)
            }
        case 5: r = rmm.call(RMM.FID.realmDestroy, rdArg(&rng))
        case 6:
            let rd = rdArg(&rng), a = ipa(&rng)
            if rng.chance(70), let (l, _) = rmm.readEntry(rd: rd, ipa: a), l < 3 {
                // The next level down where the tree ends.
                let size: UInt64 = 1 << UInt64(12 + 9 * (3 - l))
                r = rmm.call(RMM.FID.rttCreate, rd, fresh(&rng), a & ~(size - 1), UInt64(l + 1))
            } else {
                r = rmm.call(RMM.FID.rttCreate, rd, fresh(&rng), a, level(&rng))
            }
        case 7, 8:
            let rd = rdArg(&rng), a = ipa(&rng)
            if rng.chance(70), let (l, _) = rmm.readEntry(rd: rd, ipa: a), l >= 1 {
                // The deepest RTT on the way to `a`.
                let size: UInt64 = 1 << UInt64(12 + 9 * (3 - (l - 1)))
                r = rmm.call(kind == 7 ? RMM.FID.rttFold : RMM.FID.rttDestroy, rd, a & ~(size - 1), UInt64(l))
            } else {
                r = rmm.call(RMM.FID.rttDestroy, rd, a, level(&rng))
            }
        case 9: r = rmm.call(RMM.FID.rttFold, rdArg(&rng), ipa(&rng), level(&rng))
        case 10:
            let a = rng.chance(70) ? UInt64(rng.below(4)) << 12 : ipa(&rng)
            r = rmm.call(RMM.FID.dataCreate, rdArg(&rng), fresh(&rng), a, ns(&rng), UInt64(rng.below(2)))
        case 11: r = rmm.call(RMM.FID.dataCreateUnknown, rdArg(&rng), fresh(&rng), ipa(&rng))
        case 12: r = rmm.call(RMM.FID.dataDestroy, rdArg(&rng), ipa(&rng))
        case 13:
            let p = ns(&rng)
            let rd = rdArg(&rng)
            let index = rng.chance(80) ? (rmm.rd(at: rd)?.recIndex ?? 0) : UInt64(rng.below(3))
            let words: [(UInt64, UInt64)] = [(0, rng.chance(70) ? 1 : 0), (0x100, index), (0x800, 2),
                                             (0x808, fresh(&rng)), (0x810, fresh(&rng))]
            for (o, v) in words { rmm.hostWrite(p + o, v) }
            r = rmm.call(RMM.FID.recCreate, rd, fresh(&rng), p)
        case 14: r = rmm.call(RMM.FID.recDestroy, recArg(&rng))
        case 15:
            rmm.nextBehaviour = rng.pick(behaviours)
            let run = ns(&rng)
            rmm.hostWrite(run, rng.chance(20) ? 1 : 0)
            r = rmm.call(RMM.FID.recEnter, recArg(&rng), run)
        case 16:
            r = RMIResult(x0: rmm.completeRun(rec: recArg(&rng), rng.pick(behaviours)))
        case 17:
            let status = rng.chance(80) ? 0 : UInt64(bitPattern: -3)
            let recs = RandomWalk.pool.compactMap { rmm.rec(at: $0) }
            if rng.chance(70), let c = recs.first(where: { $0.psciPending }),
               let t = recs.first(where: { $0.owner == c.owner && $0.mpidr == c.gprs[1] }) {
                r = rmm.call(RMM.FID.psciComplete, c.address, t.address, status)
            } else {
                r = rmm.call(RMM.FID.psciComplete, recArg(&rng), recArg(&rng), status)
            }
        case 18:
            r = rmm.call(RMM.FID.rttMapUnprotected, rdArg(&rng), ipa(&rng), level(&rng), 0x9000_0000 | 0xD8)
        case 19: r = rmm.call(RMM.FID.rttUnmapUnprotected, rdArg(&rng), ipa(&rng), level(&rng))
        case 20: r = rmm.call(RMM.FID.rttInitRipas, rdArg(&rng), ipa(&rng), ipa(&rng) &+ 0x1000)
        default:
            if rng.chance(50) {
                let recs = RandomWalk.pool.compactMap { rmm.rec(at: $0) }
                if let c = recs.first(where: { $0.ripasTop != 0 }), rng.chance(80) {
                    r = rmm.call(RMM.FID.rttSetRipas, c.owner, c.address, c.ripasAddr, c.ripasTop)
                } else {
                    r = rmm.call(RMM.FID.rttSetRipas, rdArg(&rng), recArg(&rng), ipa(&rng), ipa(&rng) &+ 0x1000)
                }
            } else {
                rmm.setGPT(rng.pick(RandomWalk.nsPages + RandomWalk.pool), rng.pick([.ns, .ns, .secure, .any]))
                r = rmm.call(RMM.FID.rttReadEntry, rdArg(&rng), ipa(&rng), level(&rng))
            }
        }
        #expect(r.x0 >> 16 == 0)
        #expect(rmm.locksHeld == 0)
        return (kind, r.x0 == 0)
    }

    /// Invariants of reference section 7 in terms of RMMImpl's own state.
    func checkInvariants(_ rmm: RMM) -> [String] {
        var bad: [String] = []
        var rttOwner: [UInt64: Int] = [:]
        var dataCover: [UInt64: Int] = [:]
        var auxOwner: [UInt64: Int] = [:]
        var recsOf: [UInt64: Int] = [:]
        for pa in rmm.touchedGranules {
            if let r = rmm.rec(at: pa) {
                recsOf[r.owner, default: 0] += 1
                for a in r.aux { auxOwner[a, default: 0] += 1 }
                if rmm.rd(at: r.owner) == nil { bad.append("REC \(pa) without RD") }
            }
        }
        for pa in rmm.touchedGranules {
            let g = rmm.inspectGranule(pa)!
            if (g.state != .undelegated) != (g.gpt == .realm) { bad.append("INV-G1 \(pa)") }
            switch g.state {
            case .rd:
                if UInt64(g.refcount) != UInt64(recsOf[pa] ?? 0) { bad.append("INV-R1 \(pa)") }
                for node in rmm.realmRtts(rd: pa) {
                    rttOwner[node.address, default: 0] += 1
                    var live = 0
                    for e in node.entries {
                        let v = RMM.decodeEntry(e, level: node.level)
                        if v.state == .table || v.state == .assigned { live += 1 }
                        if v.state == .assigned {
                            let n = node.level == 3 ? 1 : (node.level == 2 ? 512 : 512 * 512)
                            for k in 0 ..< UInt64(n) { dataCover[v.addr + k * 0x1000, default: 0] += 1 }
                        }
                    }
                    if live != rmm.inspectGranule(node.address)!.refcount { bad.append("INV-T6 \(node.address)") }
                }
            case .rec:
                if g.refcount > 1 { bad.append("INV-C3 \(pa)") }
            case .delegated, .undelegated, .recAux, .data:
                if g.refcount != 0 { bad.append("INV-G5 \(pa)") }
            case .rtt:
                break
            }
        }
        for pa in rmm.touchedGranules {
            let g = rmm.inspectGranule(pa)!
            switch g.state {
            case .rtt: if rttOwner[pa] != 1 { bad.append("INV-T1 \(pa)") }
            case .data: if dataCover[pa] != 1 { bad.append("INV-T5 \(pa)") }
            case .recAux: if auxOwner[pa] != 1 { bad.append("INV-C2 \(pa)") }
            default: break
            }
        }
        return bad
    }

    @Test(arguments: [RMMBugs()] + RMMBugs.named.map(\.bug))
    func neverTraps(bugs: RMMBugs) {
        let rmm = RMM(bugs: bugs)
        var rng = SplitMix(state: 0x5EED ^ bugs.rawValue)
        var succeeded = 0
        for i in 0 ..< 6000 {
            step(rmm, &rng)
            if i % 500 == 499 {
                if bugs.isEmpty {
                    let bad = checkInvariants(rmm)
                    #expect(bad.isEmpty, "step \(i): \(bad.prefix(5))")
                    #expect(rmm.lockViolations == 0 && rmm.refcountViolations == 0)
                }
                // A few resets along the way.
                if rng.chance(30) { rmm.reset() }
            }
            succeeded += 1
        }
        #expect(succeeded == 6000)
    }

    @Test func reachesDeepStates() {
        // The walk builds Realms, RTTs, DATA and RECs (otherwise it proves little).
        let rmm = RMM()
        var rng = SplitMix(state: 42)
        var seen = Set<RMM.GranuleState>()
        var exits = Set<UInt64>()
        var succeeded = Set<Int>()
        for _ in 0 ..< 20000 {
            let (kind, ok) = step(rmm, &rng)
            if ok { succeeded.insert(kind) }
            for p in RandomWalk.nsPages { if let e = rmm.hostRead(p + 0x800) { exits.insert(e) } }
            if rng.chance(5) {
                for pa in rmm.touchedGranules { seen.insert(rmm.inspectGranule(pa)!.state) }
            }
        }
        #expect(seen.isSuperset(of: [.rd, .rtt, .rec, .recAux, .delegated, .data]), "\(seen)")
        #expect(exits.count >= 4, "\(exits)")
        // Most kinds of call succeeded at some point (the deep ones, PSCI_COMPLETE or
        // RTT_SET_RIPAS, need several earlier calls to line up).
        #expect(succeeded.count >= 15, "\(Set(0 ..< 22).subtracting(succeeded).sorted())")
    }
}
