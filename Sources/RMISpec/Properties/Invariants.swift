/// The invariants of section 7 of the reference, as named properties.
///
/// A state invariant is a predicate on one state; a step invariant relates the state
/// before a call, the call's outcome and the state after it. Each comes with a cover
/// target: a state (or step) in which its premise holds non-trivially, so that a check
/// that finds the invariant true also shows it was not true for want of examples.
/// Both are written once against `Machine`, so the concrete and the symbolic engines
/// read the same definitions.
public enum Invariant: String, CaseIterable, Sendable {
    case g1 = "INV-G1", g2 = "INV-G2", g3 = "INV-G3", g4 = "INV-G4", g5 = "INV-G5"
    case r1 = "INV-R1", r2 = "INV-R2", r3 = "INV-R3", r4 = "INV-R4", r5 = "INV-R5", r6 = "INV-R6", r7 = "INV-R7"
    case c1 = "INV-C1", c2 = "INV-C2", c3 = "INV-C3", c4 = "INV-C4", c5 = "INV-C5"
    case t1 = "INV-T1", t2 = "INV-T2", t3 = "INV-T3", t4 = "INV-T4", t5 = "INV-T5", t6 = "INV-T6", t7 = "INV-T7", t8 = "INV-T8"
    case l1 = "INV-L1", l2 = "INV-L2", l3 = "INV-L3", l4 = "INV-L4", l5 = "INV-L5"

    public enum Kind: String, Sendable {
        /// Holds in every reachable state.
        case always
        /// Relates every step's pre-state, outcome and post-state.
        case step
        /// Some reachable state satisfies it (a reachability property, Stateright's "sometimes").
        case sometimes
        /// About implementation state the abstract spec does not have (TF-RMM refcounts,
        /// determinism of an implementation): checked on implementations through the
        /// abstraction function, not on the spec.
        case implementation
    }

    public var kind: Kind {
        switch self {
        case .r6, .r7, .l1, .l2, .l3, .l4: .step
        case .t8: .sometimes
        case .t6, .l5: .implementation
        default: .always
        }
    }

    public var summary: String {
        switch self {
        case .g1: "a delegable Granule is not UNDELEGATED exactly when its GPT entry is GPT_REALM"
        case .g2: "non-delegable memory never leaves UNDELEGATED"
        case .g3: "every RD, REC, REC_AUX, DATA and RTT Granule has an owning RD in state RD"
        case .g4: "a DELEGATED Granule is referenced by nothing (no aux list, no TABLE or ASSIGNED entry, no starting-RTT range)"
        case .g5: "a DELEGATED Granule is zero-filled"
        case .r1: "num_recs of a Realm equals the number of its RECs"
        case .r2: "num_recs <= rec_index; the REC indices of a Realm's RECs are distinct and below rec_index"
        case .r3: "the starting RTTs of a Realm are RTTs of the starting level owned by it, targets of no TABLE entry, and the RD is not among them"
        case .r4: "(ipa_width, rtt_level_start, rtt_num_start, lpa2) of every Realm is a valid combination"
        case .r5: "live Realms have distinct VMIDs"
        case .r6: "a Realm's state only moves NEW -> ACTIVE -> SYSTEM_OFF, and an RD is destroyed only by REALM_DESTROY"
        case .r7: "the RIM of a Realm that is not NEW never changes"
        case .c1: "a REC's owner is an RD; its aux Granules are REC_AUX, pairwise distinct and not the REC"
        case .c2: "every REC_AUX Granule is in the aux list of exactly one REC"
        case .c3: "a running REC is runnable, has no PSCI request pending, and its Realm is ACTIVE or SYSTEM_OFF"
        case .c4: "a pending PSCI request is CPU_ON or AFFINITY_INFO for another REC of the Realm with index < rec_index"
        case .c5: "a pending RIPAS request is an aligned range inside the protected half, in a Realm that is ACTIVE or SYSTEM_OFF"
        case .t1: "RTTs form a tree per Realm: each non-starting RTT is the target of exactly one TABLE entry, on its walk path"
        case .t2: "a TABLE entry is at level <= 2 and points to an RTT of the next level, same owner, covering the entry's IPA range"
        case .t3: "protected entries are UNASSIGNED, ASSIGNED or TABLE; unprotected ones UNASSIGNED_NS, ASSIGNED_NS or TABLE"
        case .t4: "ASSIGNED and ASSIGNED_NS entries are at levels 1-3 with addresses aligned to the level's size"
        case .t5: "each ASSIGNED entry covers only DATA Granules, and each DATA Granule is covered by exactly one ASSIGNED entry"
        case .t6: "(TF-RMM) an RTT's refcount equals its number of TABLE and ASSIGNED entries"
        case .t7: "protected non-TABLE entries have RIPAS EMPTY, RAM or DESTROYED; other entries carry none"
        case .t8: "ASSIGNED_NS addresses are unconstrained: an ASSIGNED_NS entry can point at a delegated Granule"
        case .l1: "a successful REALM_DESTROY leaves no REC or RTT owned by the destroyed RD"
        case .l2: "GRANULE_UNDELEGATE succeeds only on a DELEGATED Granule"
        case .l3: "RIPAS changes only through the commands the spec allows, in the Realm states it allows them"
        case .l4: "a failed command changes no abstract state"
        case .l5: "(implementation) the same command with the same inputs in the same state gives the same result"
        }
    }

    /// The properties the spec face checks.
    public static var specProperties: [Invariant] { allCases.filter { $0.kind != .implementation } }
}

extension Machine {
    typealias WD = Word<D>

    func isState(_ a: WD, _ s: GranuleState) -> Bit<D> { granuleIs(a, s) }
    /// The aux Granules of REC `c` (the first RecAuxCount).
    func recAux(_ c: WD) -> [WD] { (0..<Int(platform.recAuxCount)).map { rec(c, .aux($0)) } }
    /// `any(recAux(c), p)`: concretely without building the array (the same value); other
    /// domains build exactly the terms `any(recAux(c), p)` builds.
    func anyAux(_ c: WD, _ p: (WD) -> Bit<D>) -> Bit<D> {
        if D.self == Concrete.self {
            for i in 0..<Int(platform.recAuxCount) where p(rec(c, .aux(i))).isTrue { return Bit(true) }
            return Bit(false)
        }
        return any(recAux(c), p)
    }
    /// `n` plus the number of aux slots of `c` that name `a` when `c` is a REC: INV-C2's count,
    /// REC by REC (the encoding's REC-AUX-OWNER states it at one REC).
    public func auxSlots(of c: Word<D>, naming a: Word<D>, adding n: Word<D> = 0) -> Word<D> {
        var n = n
        for i in 0..<Int(platform.recAuxCount) { n = n + (isState(c, .rec) && rec(c, .aux(i)) == a).word }
        return n
    }
    /// The IPA of entry `i` of RTT `t`.
    func entryIPA(_ t: WD, _ i: WD) -> WD { rtt(t, .ipaBase) + i * levelSize(rtt(t, .level)) }
    func sum(_ xs: [Bit<D>]) -> WD { xs.reduce(WD(0)) { $0 + $1.word } }
    var rttAddresses: [WD] { addresses }
    /// RTT `t` is starting RTT of its owner.
    func isStartingRtt(_ t: WD) -> Bit<D> {
        let r = rtt(t, .owner)
        let base = realm(r, .rttBase)
        return t >= base && (t - base) < realm(r, .numStart) * Self.granule
    }
}

extension Invariant {
    /// The invariant on one state (for `.always`); true for other kinds.
    @_specialize(where M == SpecState)
    public func holds<M: Machine>(in m: M) -> Bit<M.D> { holds(in: m, addresses: m.addresses) }

    /// `holds(in:)`, given the state's `addresses` (a caller that checks several properties
    /// of one state reads them once).
    @_specialize(where M == SpecState)
    public func holds<M: Machine>(in m: M, addresses addrs: [Word<M.D>]) -> Bit<M.D> {
        typealias W = Word<M.D>
        switch self {
        case .g1:
            return all(addrs, { a in
                implies(m.isDelegable(a), !m.isState(a, .undelegated) == (m.granuleGPT(a) == W(GPT.realm.rawValue)))
            })
        case .g2:
            return all(addrs, { a in implies(!m.isState(a, .undelegated), m.isDelegable(a)) })
        case .g3:
            return all(addrs, { a in
                let rdOK = implies(m.isState(a, .rec), m.isState(m.rec(a, .owner), .rd))
                let rttOK = implies(m.isState(a, .rtt), m.isState(m.rtt(a, .owner), .rd))
                let auxOK = given(m.isState(a, .recAux)) {
                    any(addrs, { c in
                        m.isState(c, .rec) && m.isState(m.rec(c, .owner), .rd) && m.anyAux(c) { $0 == a }
                    })
                }
                let dataOK = given(m.isState(a, .data)) {
                    any(addrs, { t in
                        given(m.isState(t, .rtt)) {
                            let size = m.levelSize(m.rtt(t, .level))
                            return m.isState(m.rtt(t, .owner), .rd) && !m.everyEntry(t) { e in
                                !(e.is(.assigned) && e.addr <= a && a - e.addr < size)
                            }
                        } && m.isState(t, .rtt)
                    })
                }
                return rdOK && rttOK && auxOK && dataOK
            })
        case .g4:
            return all(addrs, { a in
                given(m.isState(a, .delegated)) {
                    let inAux = any(addrs, { c in m.isState(c, .rec) && m.anyAux(c) { $0 == a } })
                    let target = any(addrs, { t in
                        !given(m.isState(t, .rtt)) {
                            m.everyEntry(t) { e in !((e.is(.table) || e.is(.assigned)) && e.addr == a) }
                        }
                    })
                    let inStart = any(addrs, { r in
                        m.isState(r, .rd) && a >= m.realm(r, .rttBase) && (a - m.realm(r, .rttBase)) < m.realm(r, .numStart) * M.granule
                    })
                    return !inAux && !target && !inStart
                }
            })
        case .g5:
            return all(addrs, { a in implies(m.isState(a, .delegated), m.granuleContent(a) == 0) })
        case .r1:
            return all(addrs, { r in
                given(m.isState(r, .rd)) { m.realm(r, .numRecs) == m.sum(addrs.map { c in m.isState(c, .rec) && m.rec(c, .owner) == r }) }
            })
        case .r2:
            return all(addrs, { r in given(m.isState(r, .rd)) {
                let own = { (c: W) in m.isState(c, .rec) && m.rec(c, .owner) == r }
                let below = all(addrs, { c in implies(own(c), m.recIndex(m.rec(c, .mpidr)) < m.realm(r, .recIndex)) })
                var distinct = Bit<M.D>(true)
                for (i, c) in addrs.enumerated() {
                    for d in addrs[(i + 1)...] {
                        distinct = distinct && implies(own(c) && own(d), m.recIndex(m.rec(c, .mpidr)) != m.recIndex(m.rec(d, .mpidr)))
                    }
                }
                return m.realm(r, .numRecs) <= m.realm(r, .recIndex) && below && distinct
            } })
        case .r3:
            return all(addrs, { r in given(m.isState(r, .rd)) {
                m.allStartingRtts(base: m.realm(r, .rttBase), count: m.realm(r, .numStart)) { t in
                    let shape = m.isState(t, .rtt) && m.rtt(t, .level) == m.sl(r) && m.rtt(t, .owner) == r
                    let notTarget = all(addrs, { u in
                        given(m.isState(u, .rtt)) { m.everyEntry(u) { e in !(e.is(.table) && e.addr == t) } }
                    })
                    return shape && notTarget && t != r
                }
            } })
        case .r4:
            return all(addrs, { r in
                given(m.isState(r, .rd)) { m.rttConfigIsValid(w: m.ipaWidth(r), sl: m.sl(r), n: m.realm(r, .numStart),
                                                              lpa2: m.realm(r, .lpa2) != 0) }
            })
        case .r5:
            var ok = Bit<M.D>(true)
            for (i, r) in addrs.enumerated() {
                for q in addrs[(i + 1)...] {
                    ok = ok && implies(m.isState(r, .rd) && m.isState(q, .rd), m.realm(r, .vmid) != m.realm(q, .vmid))
                }
            }
            return ok
        case .c1:
            return all(addrs, { c in given(m.isState(c, .rec)) {
                let aux = m.recAux(c)
                var ok = m.isState(m.rec(c, .owner), .rd)
                for (i, a) in aux.enumerated() {
                    ok = ok && m.isState(a, .recAux) && a != c
                    for b in aux[(i + 1)...] { ok = ok && a != b }
                }
                return ok
            } })
        case .c2:
            return all(addrs, { a in given(m.isState(a, .recAux)) {
                // The (REC, aux slot) pairs that name `a`, summed from 0 in order: the terms
                // `sum` builds over them, without collecting them.
                addrs.reduce(W(0)) { n, c in m.auxSlots(of: c, naming: a, adding: n) } == 1
            } })
        case .c3:
            return all(addrs, { c in
                given(m.isState(c, .rec) && m.rec(c, .state) == W(RecState.running.rawValue)) {
                    m.rec(c, .runnable) == 1 && m.rec(c, .psciPending) == 0
                        && (m.realmIs(m.rec(c, .owner), .active) || m.realmIs(m.rec(c, .owner), .systemOff))
                }
            })
        case .c4:
            return all(addrs, { c in given(m.isState(c, .rec) && m.rec(c, .psciPending) != 0) {
                let fid = m.rec(c, .gpr(0)), target = m.recIndex(m.rec(c, .gpr(1)))
                return (fid == W(PSCI.cpuOn) || fid == W(PSCI.affinityInfo))
                    && target < m.realm(m.rec(c, .owner), .recIndex) && target != m.recIndex(m.rec(c, .mpidr))
            } })
        case .c5:
            return all(addrs, { c in
                let lo = m.rec(c, .ripasAddr), hi = m.rec(c, .ripasTop), r = m.rec(c, .owner)
                return given(m.isState(c, .rec) && hi != 0) {
                    lo <= hi && m.aligned(lo) && m.aligned(hi) && hi <= (W(1) << (m.ipaWidth(r) - 1))
                        && (m.realmIs(r, .active) || m.realmIs(r, .systemOff))
                }
            })
        case .t1:
            return all(addrs, { t in
                given(m.isState(t, .rtt) && !m.isStartingRtt(t)) {
                    let owner = m.rtt(t, .owner), level = m.rtt(t, .level), base = m.rtt(t, .ipaBase)
                    let w = m.walk(owner, base, to: level - 1)
                    let onPath = w.level == level - 1 && w.entry.is(.table) && w.entry.addr == t
                    let unique = all(addrs, { u in
                        given(m.isState(u, .rtt)) {
                            // True at every index, at none, or at w.index alone.
                            m.allEntriesOnIntervals(u, { i, e in implies(e.is(.table) && e.addr == t, u == w.rtt && i == w.index) })
                        }
                    })
                    return onPath && unique
                }
            })
        case .t2:
            return all(addrs, { u in
                given(m.isState(u, .rtt)) {
                    // Per-table reads hoisted out of the per-entry predicate (same meaning).
                    let lu = m.rtt(u, .level), owner = m.rtt(u, .owner), base = m.rtt(u, .ipaBase), size = m.levelSize(lu)
                    // True at every index, or at the one index whose IPA is the table's base.
                    return m.allEntriesOnIntervals(u, { i, e in
                        given(e.is(.table)) {
                            lu.sle(2) && m.isState(e.addr, .rtt) && m.rtt(e.addr, .level) == lu + 1
                                && m.rtt(e.addr, .owner) == owner && m.rtt(e.addr, .ipaBase) == base + i * size
                        }
                    })
                }
            })
        case .t3:
            return all(addrs, { u in
                given(m.isState(u, .rtt)) {
                    let owner = m.rtt(u, .owner), base = m.rtt(u, .ipaBase)
                    let top = W(1) << (m.ipaWidth(owner) - 1)  // AddrIsProtected: ipa < 2^(w-1)
                    // Entry i maps IPAs from base + i * size (as integers, not modulo 2^64), so
                    // the protected entries are those with i <= last: one comparison per entry
                    // instead of an IPA computation.
                    let last = (top - base - 1) >> m.levelShift(m.rtt(u, .level))
                    // True at the indices up to `last`, or past it, or at all, or at none.
                    return m.allEntriesOnIntervals(u, { i, e in
                        ite(base < top && i <= last, e.is(.unassigned) || e.is(.assigned) || e.is(.table),
                            e.is(.unassignedNS) || e.is(.assignedNS) || e.is(.table))
                    })
                }
            })
        case .t4:
            return all(addrs, { u in
                given(m.isState(u, .rtt)) {
                    let lu = m.rtt(u, .level), size = m.levelSize(lu)
                    return m.everyEntry(u) { e in
                        implies(e.is(.assigned) || e.is(.assignedNS), Word(1).sle(lu) && lu.sle(3) && e.addr.isAligned(to: size))
                    }
                }
            })
        case .t5:
            let covers = { (t: W, a: W) -> W in
                let size = m.levelSize(m.rtt(t, .level))
                return m.countEntries(t, matching: { e in e.is(.assigned) && e.addr <= a && a - e.addr < size })
            }
            let dataCovered = all(addrs, { a in
                given(m.isState(a, .data)) {
                    addrs.reduce(W(0)) { acc, t in acc + ite(m.isState(t, .rtt), then: { covers(t, a) }, else: 0) } == 1
                }
            })
            // Each ASSIGNED entry covers only DATA: the number of DATA Granules in its range
            // equals the range's size in Granules.
            let entriesOK = all(addrs, { t in
                given(m.isState(t, .rtt)) {
                    let size = m.levelSize(m.rtt(t, .level))
                    return m.everyEntry(t) { e in
                        given(e.is(.assigned)) {
                            m.sum(addrs.map { a in m.isState(a, .data) && e.addr <= a && a - e.addr < size }) == size >> 12
                        }
                    }
                }
            })
            return dataCovered && entriesOK
        case .t7:
            return all(addrs, { u in
                given(m.isState(u, .rtt)) { m.everyEntry(u) { e in
                    ite(e.is(.unassigned) || e.is(.assigned), e.ripas <= W(Ripas.destroyed.rawValue), e.ripas == 0)
                } }
            })
        case .t8, .r6, .r7, .l1, .l2, .l3, .l4, .t6, .l5:
            return Bit(true)
        }
    }

    /// The cover target: a state in which the invariant's premise holds non-trivially.
    @_specialize(where M == SpecState)
    public func cover<M: Machine>(in m: M) -> Bit<M.D> { cover(in: m, addresses: m.addresses) }

    /// `cover(in:)`, given the state's `addresses`.
    @_specialize(where M == SpecState)
    public func cover<M: Machine>(in m: M, addresses addrs: [Word<M.D>]) -> Bit<M.D> {
        typealias W = Word<M.D>
        let someState = { (s: GranuleState) in any(addrs, { m.isState($0, s) }) }
        switch self {
        case .g1, .g2: return someState(.delegated) || someState(.rd)
        case .g3: return someState(.rec) && someState(.data) && someState(.recAux)
        case .g4, .g5: return someState(.delegated) && someState(.rd)
        case .r1, .r2: return any(addrs, { r in m.isState(r, .rd) && m.realm(r, .numRecs) >= 2 })
        case .r3, .r4: return someState(.rd)
        case .r5: return m.sum(addrs.map { m.isState($0, .rd) }) >= 2
        case .c1, .c2: return someState(.rec)
        case .c3: return any(addrs, { c in m.isState(c, .rec) && m.rec(c, .state) == W(RecState.running.rawValue) })
        case .c4: return any(addrs, { c in m.isState(c, .rec) && m.rec(c, .psciPending) != 0 })
        case .c5: return any(addrs, { c in m.isState(c, .rec) && m.rec(c, .ripasTop) != 0 })
        case .t1, .t2: return any(addrs, { t in m.isState(t, .rtt) && !m.isStartingRtt(t) && m.rtt(t, .level) == 3 })
        case .t3, .t7: return any(addrs, { t in m.isState(t, .rtt) && m.countEntries(t, matching: { e in e.is(.assignedNS) }) != 0 })
        case .t4, .t5: return someState(.data)
        case .t8:
            return any(addrs, { t in
                m.isState(t, .rtt) && m.countEntries(t, matching: { e in both(e.is(.assignedNS)) { !m.isState(e.addr, .undelegated) } }) != 0
            })
        case .r6, .r7, .l1, .l2, .l3, .l4, .t6, .l5: return Bit(true)
        }
    }
}
