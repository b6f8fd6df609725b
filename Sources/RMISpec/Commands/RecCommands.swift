// REC lifecycle: RMI_REC_CREATE and RMI_REC_DESTROY (reference 5.12, 5.13, 3.3).
// REC_ENTER, the Realm's behaviour and REC exits are in RecEnter.swift; PSCI_COMPLETE in
// PsciComplete.swift.

/// RmiRecParams (B4.4.19) as the RMM reads it from NS memory.
struct RecParams<D: Domain> {
    var flags, mpidr, pc, numAux: Word<D>
    /// gprs[0..7].
    var gprs: [Word<D>]
    /// aux[0..<RecAuxCount]: the only entries any condition or effect looks at.
    var aux: [Word<D>]

    init<M: Machine>(_ m: M, at p: Word<D>) where M.D == D {
        typealias L = RecParamsLayout
        func read(_ off: UInt64) -> Word<D> { m.nsRead(p + Word(off)) }
        flags = read(L.flags)
        mpidr = read(L.mpidr)
        pc = read(L.pc)
        // The full UInt64 (spec). TF-RMM truncates num_aux to 32 bits (reference 5.12, A5);
        // that deviation is not modelled.
        numAux = read(L.numAux)
        gprs = (0..<L.gprCount).map { read(L.gprs + 8 * UInt64($0)) }
        aux = (0..<m.recAuxCount).map { read(L.aux + 8 * UInt64($0)) }
    }

    /// RmiRecCreateFlags.runnable (bit 0); bits 63:1 are SBZ and not checked (as TF-RMM).
    var runnable: Bit<D> { flags.bit(0) }
}

extension Machine {
    /// `RecAuxCount(rd)`: a platform constant here (the same for every Realm), at most 16.
    public var recAuxCount: Int { Int(min(platform.recAuxCount, UInt64(RecField.auxMax))) }

    public func recIs(_ r: Word<D>, _ s: RecState) -> Bit<D> { rec(r, .state) == Word(s.rawValue) }
    public func recIsRunnable(_ r: Word<D>) -> Bit<D> { rec(r, .runnable) != 0 }
}

/// RMI_REC_CREATE (B4.3.12).
enum RecCreate {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        typealias W = Word<M.D>
        let rd = c.x[0], rec = c.x[1], ptr = c.x[2]
        let p = RecParams(m, at: ptr)
        let n = m.recAuxCount
        let maxRecs = (UInt64(1) << m.platform.features.maxRecsOrder) - 1

        // The aux conditions look at aux[0..<RecAuxCount]. The spec says i < num_aux; the two
        // readings differ only when num_aux != RecAuxCount, and then num_aux fails with the same
        // result (INPUT) anyway.
        var auxUnaligned = Bit<M.D>(false), auxAlias = Bit<M.D>(false), auxState = Bit<M.D>(false)
        for i in 0..<n {
            let a = p.aux[i]
            auxUnaligned = auxUnaligned || !m.aligned(a)
            auxAlias = auxAlias || a == rec
            for j in 0..<i { auxAlias = auxAlias || a == p.aux[j] }
            auxState = auxState || !m.isDelegable(a) || !m.granuleIs(a, .delegated)
        }

        var conditions = m.nsArgument("params", ptr) + m.granuleArgument("rec", rec, is: .delegated)
        conditions += m.granuleArgument("rd", rd, is: .rd)
        conditions += [
            Condition("realm_state", .errorRealm, !m.realmIs(rd, .new)),
            Condition("num_recs", .errorRealm, m.realm(rd, .numRecs) == W(maxRecs)),
            // The spec compares RecIndex only; the reserved MPIDR bits (7:4, 63:32) are not a
            // spec condition (TF-RMM rejects them with INPUT as well, so the result agrees).
            Condition("mpidr_index", .errorInput, m.recIndex(p.mpidr) != m.realm(rd, .recIndex)),
            Condition("num_aux", .errorInput, p.numAux != W(UInt64(n))),
            Condition("aux_align", .errorInput, auxUnaligned),
            Condition("aux_alias", .errorInput, auxAlias),
            Condition("aux_state", .errorInput, auxState),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }

        m.setGranuleState(rec, .rec, when: ok)
        for i in 0..<n { m.setGranuleState(p.aux[i], .recAux, when: ok) }

        // Every field is written, so nothing of an earlier REC in this Granule survives.
        var fields: [(RecField, W)] = [
            (.owner, rd), (.state, W(RecState.ready.rawValue)), (.runnable, p.runnable.word),
            (.mpidr, p.mpidr), (.pc, p.pc), (.psciPending, 0), (.emulatableAbort, 0),
            (.ripasAddr, 0), (.ripasTop, 0), (.ripasValue, 0), (.ripasDestroyed, 0), (.ripasResponse, 0),
            (.hostCallPending, 0), (.lastExit, 0), (.runPtr, 0),
        ]
        for i in 0..<RecField.gprCount { fields.append((.gpr(i), i < p.gprs.count ? p.gprs[i] : 0)) }
        for i in 0..<RecField.auxMax { fields.append((.aux(i), i < n ? p.aux[i] : 0)) }
        for (f, v) in fields { m.setRec(rec, f, v, when: ok) }

        m.setRealm(rd, .recIndex, m.realm(rd, .recIndex) + 1, when: ok)
        m.setRealm(rd, .numRecs, m.realm(rd, .numRecs) + 1, when: ok)
        // RimExtendRec (A7.1.2): the spec hashes a measurement descriptor of type 1 holding the
        // old RIM and the hash of a zero-filled RmiRecParams copy with gprs, pc and flags. The
        // stand-in folds the same inputs (tag 1, flags, pc, gprs[0..7]) into the old RIM; only
        // "equal inputs, equal RIM" matters to the checker.
        let rim = m.realm(rd, .rim)
        m.setRealm(rd, .rim, m.measure(rim, [1, p.flags, p.pc] + p.gprs), when: ok && p.runnable)
        return Evaluation(conditions)
    }
}

/// RMI_REC_DESTROY (B4.3.13).
enum RecDestroy {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        let rec = c.x[0]
        let conditions: [Condition<M.D>] = m.granuleArgument("rec", rec, is: .rec, stateLabel: "rec_gran_state") + [
            Condition("rec_state", .errorRec, m.recIs(rec, .running)),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }

        let rd = m.rec(rec, .owner)
        for i in 0..<m.recAuxCount {
            let a = m.rec(rec, .aux(i))
            m.setGranuleState(a, .delegated, when: ok)
            m.setGranuleContent(a, 0, when: ok)
        }
        // Allowed in any Realm state; rec_index is unchanged.
        m.setRealm(rd, .numRecs, m.realm(rd, .numRecs) - 1, when: ok)
        m.setGranuleState(rec, .delegated, when: ok)
        m.setGranuleContent(rec, 0, when: ok)
        return Evaluation(conditions)
    }
}
