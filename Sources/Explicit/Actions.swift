import RMISpec

/// The scope's action alphabet in a state: every call the search tries from it.
///
/// Arguments come from the state (the RDs, the DELEGATED Granules, the RECs, the IPAs of the
/// scope) and never from the order of the pool, so the alphabet commutes with a renaming of
/// the pool's Granules: that is what makes the symmetry reduction sound. The order of the
/// list is deterministic, so an action is stored as its index.
extension ExplicitScope {
    public func actions(_ s: SpecState) -> [TraceStep] {
        var out: [TraceStep] = []
        out.reserveCapacity(64)
        let pool = self.pool
        var undelegated: [UInt64] = [], delegated: [UInt64] = [], others: [UInt64] = []
        for g in pool {
            switch s.granule(g).state {
            case .undelegated: undelegated.append(g)
            case .delegated: delegated.append(g)
            default: others.append(g)
            }
        }
        let rds = pool.filter { s.granule($0).state == .rd }
        let recGranules = pool.filter { s.granule($0).state == .rec }
        func call(_ cmd: RMICommand, _ args: [UInt64], writes: [HostWrite] = [], realm: RealmActionValue? = nil) {
            out.append(.call(CallStep(command: cmd, args: args, writes: writes, realm: realm)))
        }

        // Granules.
        for g in undelegated { call(.granuleDelegate, [g]) }
        for g in delegated { call(.granuleUndelegate, [g]) }
        if failures {
            call(.granuleDelegate, [ExplicitScope.nonDelegable])
            call(.granuleDelegate, [unaligned])
            for g in others { call(.granuleUndelegate, [g]) }
        }

        // Realms.
        if rds.count < realms {
            for rd in delegated {
                for rtt in delegated where rtt != rd {
                    for (w, sl, n) in geometries {
                        for vmid in 0..<UInt64(max(realms, 1)) {
                            let p = RealmParamsValues(rttBase: rtt, s2sz: w, rttLevelStart: sl, rttNumStart: n, vmid: vmid)
                            call(.realmCreate, [rd, ExplicitScope.realmParamsPage],
                                 writes: [.realmParams(at: ExplicitScope.realmParamsPage, p)])
                        }
                    }
                }
            }
        }
        for rd in rds {
            call(.realmActivate, [rd])
            call(.realmDestroy, [rd])
        }

        // RTTs: create the next table down each scope IPA's walk; destroy and fold the
        // non-starting tables.
        for rd in rds {
            guard let r = s.realms[rd] else { continue }
            let sl = Int64(bitPattern: r.fields[RealmField.levelStart.rawValue])
            for ipa in allIPAs {
                let walked = s.walkLevel(rd, ipa)
                var levels: [Int64] = walked < 3 ? [walked + 1] : []
                if failures && ipa == 0 { levels.append(sl) }  // the starting level: rtt_level
                for level in levels {
                    let size = UInt64(1) << UInt64(12 + 9 * (3 - (level - 1)))
                    for t in delegated { call(.rttCreate, [rd, t, ipa & ~(size - 1), UInt64(bitPattern: level)]) }
                }
            }
            let base = r.fields[RealmField.rttBase.rawValue], n = r.fields[RealmField.numStart.rawValue]
            for t in pool {
                guard let tt = s.rtts[t], tt.owner == rd, !(t >= base && t - base < n * 0x1000) else { continue }
                call(.rttDestroy, [rd, tt.ipaBase, tt.level])
                call(.rttFold, [rd, tt.ipaBase, tt.level])
            }
        }

        // Data and RIPAS.
        for rd in rds {
            for ipa in protectedIPAs {
                for d in delegated {
                    call(.dataCreate, [rd, d, ipa, ExplicitScope.dataSrcPage, 0], writes: ExplicitScope.dataWrites)
                    call(.dataCreateUnknown, [rd, d, ipa])
                }
                call(.dataDestroy, [rd, ipa])
                call(.rttInitRipas, [rd, ipa, ipa + 0x1000])
            }
            if unprotected {
                let ipa = ExplicitScope.unprotectedIPA
                call(.rttMapUnprotected, [rd, ipa, 3, ExplicitScope.nsTarget])
                for g in delegated { call(.rttMapUnprotected, [rd, ipa, 3, g | 0b111 << 2 | 0b11 << 6]) }
                call(.rttUnmapUnprotected, [rd, ipa, 3])
            }
        }

        // RECs.
        for rd in rds {
            guard let r = s.realms[rd] else { continue }
            let index = r.fields[RealmField.recIndex.rawValue]
            guard index < UInt64(recs), delegated.count > aux else { continue }
            let mpidr = index % 16 | (index / 16) << 8
            for rec in delegated {
                for auxList in ExplicitScope.tuples(delegated.filter { $0 != rec }, aux) {
                    for runnable in [true, false] {
                        let p = RecParamsValues(mpidr: mpidr, runnable: runnable, aux: auxList, pc: 0x1000)
                        call(.recCreate, [rd, rec, ExplicitScope.recParamsPage],
                             writes: [.recParams(at: ExplicitScope.recParamsPage, p)])
                    }
                }
            }
        }
        for rec in recGranules {
            guard let c = s.recs[rec] else { continue }
            call(.recDestroy, [rec])
            if c.state == RecState.running.rawValue {
                out.append(.recExit(rec: rec, realm: RealmActionValue(.irq), expect: nil))
                continue
            }
            let siblings = recGranules.filter { $0 != rec && s.recs[$0]?.owner == c.owner }.compactMap { s.recs[$0]?.mpidr }
            for a in realmActionValues(siblings: siblings) {
                call(.recEnter, [rec, ExplicitScope.runPage], writes: ExplicitScope.recRunWrites, realm: a)
            }
            if c.psciPending != 0 {
                for t in recGranules where s.recs[t]?.owner == c.owner && t != rec {
                    call(.psciComplete, [rec, t, PSCI.success])
                }
            }
            if c.ripasTop != 0 && c.ripasAddr != c.ripasTop {
                call(.rttSetRipas, [c.owner, rec, c.ripasAddr, c.ripasTop])
            }
        }
        return out
    }

    /// The Host writes of DATA_CREATE and REC_ENTER actions, the same for every such action:
    /// made once (each action shares them).
    static let dataWrites: [HostWrite] = [.data(at: ExplicitScope.dataSrcPage, content: 1)]
    static let recRunWrites: [HostWrite] = [.recRun(at: ExplicitScope.runPage, RecEnterValues())]

    func realmActionValues(siblings: [UInt64]) -> [RealmActionValue] {
        var v: [RealmActionValue] = []
        for k in RealmActionKind.allCases where realmActions.contains(k) {
            switch k {
            case .psciCpuOn: for m in siblings { v.append(RealmActionValue(.psciCpuOn, [m, 0x2000, 0x42])) }
            case .psciAffinityInfo: for m in siblings { v.append(RealmActionValue(.psciAffinityInfo, [m, 0])) }
            case .ripasChange:
                if ipas > 0 {
                    v.append(RealmActionValue(.ripasChange, [0, UInt64(ipas) * 0x1000, Ripas.ram.rawValue, 0]))
                    v.append(RealmActionValue(.ripasChange, [0, UInt64(ipas) * 0x1000, Ripas.empty.rawValue, 0]))
                }
            case .hostCall: v.append(RealmActionValue(.hostCall, [0]))
            case .mmioAbort: if unprotected { v.append(RealmActionValue(.mmioAbort, [ExplicitScope.unprotectedIPA, 1])) }
            default: v.append(RealmActionValue(k))
            }
        }
        return v
    }

    /// Ordered k-tuples of distinct elements of `xs`.
    static func tuples(_ xs: [UInt64], _ k: Int) -> [[UInt64]] {
        if k == 0 { return [[]] }
        var out: [[UInt64]] = []
        for (i, x) in xs.enumerated() {
            var rest = xs
            rest.remove(at: i)
            for t in tuples(rest, k - 1) { out.append([x] + t) }
        }
        return out
    }
}
