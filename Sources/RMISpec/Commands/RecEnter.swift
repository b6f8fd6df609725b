// RMI_REC_ENTER (reference 5.14), what the RMM does on entry (6.1), what the Realm does
// while the REC runs and the REC exit it causes (6.2), and the `rec_exit` event that ends a
// REC_ENTER whose Realm action was `stay_running`.
//
// The Realm's behaviour is an input (`Call.realm`): one action per run. `RecEnter.realmExit`
// performs an action and writes the exit; it is written once and used both by REC_ENTER and
// by the `rec_exit` event (`RMISpec.recExit`, `RMISpec.symbolicRecExit`).

/// Encodings the REC exit needs beyond RMI's own (RSI, ESR_EL2, GICv3 list registers).
public enum RecExitEncoding {
    /// RSI function IDs (B5.3) and RsiCommandReturnCode / RsiResponse values.
    public static let rsiIpaStateSet: UInt64 = 0xC400_0197
    public static let rsiHostCall: UInt64 = 0xC400_0199
    public static let rsiSuccess: UInt64 = 0, rsiErrorInput: UInt64 = 1
    public static let rsiAccept: UInt64 = 0, rsiReject: UInt64 = 1

    /// ESR_EL2.EC values (shifted into place) and ISV.
    public static let esrWfx: UInt64 = 0x01 << 26
    public static let esrDataAbort: UInt64 = 0x24 << 26
    public static let esrIsv: UInt64 = 1 << 24

    /// `Gicv3ConfigIsValid` (reduced from TF-RMM `gic_validate_state`).
    /// ICH_HCR_EL2 bits the Host may set: UIE, LRENPIE, NPIE, VGrp0EIE, VGrp0DIE, VGrp1EIE,
    /// VGrp1DIE (bits 7:1) and TDIR (bit 14).
    public static let gicHcrHostBits: UInt64 = 0b1111_1110 | 1 << 14
    /// ICH_LR<n>_EL2 fields: State 63:62, HW 61, Priority 55:48, pINTID 44:32 (EOI is bit 41),
    /// vINTID 31:0.
    public static let lrHw = 61, lrPriorityLo = 48, lrEoi: UInt64 = 1 << 41
    /// Platform assumptions where TF-RMM reads the hardware (ICH_VTR_EL2, ICC_CTLR_EL1): 5
    /// priority bits (the architectural minimum; priority bits 2:0 are RES0), 16 INTID bits
    /// (largest vINTID 65535), no extended INTID range.
    public static let lrPriorityRes0: UInt64 = 0b111
    public static let maxVIntid: UInt64 = 0xFFFF
    public static let maxSpiId: UInt64 = 1019, minLpiId: UInt64 = 8192
}

/// RmiRecEnter (B4.4.14): the parts the RMM checks or uses.
struct RecEnterBlock<D: Domain> {
    var flags: Word<D>
    var gicv3Hcr: Word<D>
    var gicv3Lrs: [Word<D>]

    init<M: Machine>(_ m: M, at run: Word<D>) where M.D == D {
        typealias L = RecRunLayout
        flags = m.nsRead(run + Word(L.enterFlags))
        gicv3Hcr = m.nsRead(run + Word(L.enterGicv3Hcr))
        gicv3Lrs = (0..<m.gicv3ImplementedLrs).map { m.nsRead(run + Word(L.enterGicv3Lrs + 8 * UInt64($0))) }
    }

    var emulMmio: Bit<D> { (flags & Word(RecRunLayout.flagEmulMmio)) != 0 }
    var injectSea: Bit<D> { (flags & Word(RecRunLayout.flagInjectSea)) != 0 }
    /// RMI_REJECT when set.
    var ripasReject: Bit<D> { (flags & Word(RecRunLayout.flagRipasReject)) != 0 }
}

extension Machine {
    /// The number of list registers the platform implements: RmiFeatureRegister0.GICV3_NUM_LRS + 1.
    public var gicv3ImplementedLrs: Int { Int(min(platform.features.gicv3NumLRs + 1, 16)) }

    /// `Gicv3ConfigIsValid(gicv3_hcr, gicv3_lrs)`, in the form TF-RMM checks it
    /// (`gic_validate_state`): ICH_HCR_EL2 has only Host-controllable bits set, and every
    /// implemented list register that is not Invalid has HW = 0, no RES0 priority bit set, no
    /// pINTID bit other than EOI set, a valid vINTID (SGI/PPI/SPI 0..1019 or LPI 8192..max),
    /// and a vINTID no other valid list register has. Left out: the platform's real priority
    /// width, INTID width and extended INTID ranges (fixed by the assumptions in
    /// `RecExitEncoding`); list registers beyond the implemented ones are not looked at.
    public func gicv3ConfigIsValid(hcr: Word<D>, lrs: [Word<D>]) -> Bit<D> {
        typealias E = RecExitEncoding
        var ok = (hcr & ~Word(E.gicHcrHostBits)) == 0
        // (Each register's state and vINTID are read where used, not collected into arrays:
        // the concrete face runs this on every REC_ENTER a search tries.)
        func valid(_ i: Int) -> Bit<D> { lrs[i].bits(63, 62) != 0 }
        func vintid(_ i: Int) -> Word<D> { lrs[i].bits(31, 0) }
        for (i, lr) in lrs.enumerated() {
            ok = ok && given(valid(i)) {
                let v = vintid(i)
                let vintidOK = v <= Word(E.maxSpiId) || (Word(E.minLpiId) <= v && v <= Word(E.maxVIntid))
                var lrOK = !lr.bit(E.lrHw)
                    && (lr.bits(55, E.lrPriorityLo) & Word(E.lrPriorityRes0)) == 0
                    && (lr.bits(44, 32) & ~Word(E.lrEoi >> 32)) == 0
                    && vintidOK
                for j in (i + 1)..<max(i + 1, lrs.count) { lrOK = lrOK && implies(valid(j), vintid(j) != v) }
                return lrOK
            }
        }
        return ok
    }
}

/// RMI_REC_ENTER (B4.3.14).
enum RecEnter {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        typealias W = Word<M.D>
        let rec = c.x[0], runPtr = c.x[1]
        let rd = m.rec(rec, .owner)
        let enter = RecEnterBlock(m, at: runPtr)
        var conditions = m.nsArgument("run", runPtr) + m.granuleArgument("rec", rec, is: .rec, stateLabel: "rec_gran_state")
        conditions += [
            Condition("realm_new", .errorRealm, m.realmIs(rd, .new), index: 0),
            Condition("system_off", .errorRealm, m.realmIs(rd, .systemOff), index: 1),
            Condition("rec_state", .errorRec, m.recIs(rec, .running)),
            Condition("rec_runnable", .errorRec, !m.recIsRunnable(rec)),
            // "The last exit was an Emulatable Data Abort": the REC's emulatable_abort, which
            // every exit rewrites.
            Condition("rec_mmio", .errorRec, enter.emulMmio && m.rec(rec, .emulatableAbort) == 0),
            Condition("rec_gicv3", .errorRec, !m.gicv3ConfigIsValid(hcr: enter.gicv3Hcr, lrs: enter.gicv3Lrs)),
            Condition("rec_psci", .errorRec, m.rec(rec, .psciPending) != 0),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }

        // 6.1 On entry. GIC state, WFI/WFE trapping and SEA injection change nothing the model
        // holds. Emulated MMIO (6.1 item 3) would write enter.gprs[0] into the target register
        // of a read and advance the PC: neither the access nor the PC after the Realm has run
        // is modelled, so it has no effect here (rec_mmio above is the part RMI can observe).
        let response = enter.ripasReject
        m.setRec(rec, .ripasResponse, response.word, when: ok)
        // 6.1 item 4: complete a pending RIPAS change request (the last exit was RIPAS_CHANGE):
        // X0 = RSI_SUCCESS, X1 = ripas_addr, X2 = REJECT iff (RAM, not finished, Host rejects).
        // ripas_addr and ripas_top themselves change only at the next exit (A4.3/A5.4), so a
        // REC_ENTER that fails leaves the request open, and a REC that stays running still
        // shows it until it exits.
        let ripasPending = m.rec(rec, .lastExit) == W(ExitReason.ripasChange.rawValue + 1)
        let addr = m.rec(rec, .ripasAddr)
        let reject = m.rec(rec, .ripasValue) == W(Ripas.ram.rawValue) && addr != m.rec(rec, .ripasTop) && response
        m.setRec(rec, .gpr(0), W(RecExitEncoding.rsiSuccess), when: ok && ripasPending)
        m.setRec(rec, .gpr(1), addr, when: ok && ripasPending)
        m.setRec(rec, .gpr(2), ite(reject, W(RecExitEncoding.rsiReject), W(RecExitEncoding.rsiAccept)),
                 when: ok && ripasPending)
        // 6.1 item 5: a pending Host call takes enter.gprs into the Realm's RsiHostCall
        // structure (Realm memory, not modelled) and is no longer pending. The case where that
        // structure's IPA is not mapped (a Data Abort exit instead) is not modelled.
        m.setRec(rec, .hostCallPending, 0, when: ok)

        // 6.2: the Realm runs. `stay_running` leaves the REC RUNNING (another CPU issues the
        // next calls); a later `rec_exit` event performs the exit.
        let stay = c.realm.is(.stayRunning)
        m.setRec(rec, .state, W(RecState.running.rawValue), when: ok && stay)
        m.setRec(rec, .runPtr, runPtr, when: ok && stay)
        realmExit(&m, rec: rec, runPtr: runPtr, action: c.realm, when: ok && !stay)
        return Evaluation(conditions)
    }

    /// The end of a REC_ENTER whose REC is still running: the Realm performs `action` and the
    /// REC exits to the Host, writing the exit record at the `run_ptr` of that REC_ENTER.
    /// Not an RMI command: its two conditions are unlisted and say that the event is
    /// malformed (the REC is not running, or the action is `stay_running` again).
    static func exitRunning<M: Machine>(_ m: inout M, rec: Word<M.D>, action: RealmAction<M.D>) -> Evaluation<M.D> {
        let running = m.granuleIs(rec, .rec) && m.recIs(rec, .running)
        let conditions: [Condition<M.D>] = [
            Condition("rec_exit_not_running", .errorInput, !running, listed: false),
            Condition("rec_exit_stays_running", .errorInput, action.is(.stayRunning), listed: false),
        ]
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }
        realmExit(&m, rec: rec, runPtr: m.rec(rec, .runPtr), action: action, when: ok)
        return Evaluation(conditions)
    }

    /// Section 6.2: REC `rec` runs until the Realm performs `a`; the REC exits to the Host
    /// with the exit record written at `runPtr`. All writes are guarded by `g`.
    ///
    /// Requests the RMM answers itself (a PSCI or RSI call with invalid arguments, PSCI_CPU_ON
    /// of the caller itself, ...) do not exit: the RMM writes its answer into the REC's X0
    /// and the Realm continues; the run then ends with RMI_EXIT_IRQ, as if an interrupt for
    /// the Host came next (the model's choice of the next exit). An action whose abort would
    /// not reach the Host (an "MMIO" abort at a Protected IPA, a Protected abort where RIPAS
    /// is EMPTY, which the RMM reflects to the Realm as an SEA, or where the page is mapped)
    /// likewise ends in RMI_EXIT_IRQ; so does an unknown action kind.
    ///
    /// Registers: for a PSCI or RSI_IPA_STATE_SET call the REC's X0.. hold the call (FID and
    /// arguments), with X0 replaced by the RMM's answer where it answers at once; for a PSCI
    /// exit the exit record carries the FID and, for CPU_ON / AFFINITY_INFO, the arguments.
    /// Other register contents after a run (the Realm's own computation) are not modelled.
    static func realmExit<M: Machine>(_ m: inout M, rec: Word<M.D>, runPtr: Word<M.D>,
                                      action a: RealmAction<M.D>, when g: Bit<M.D>) {
        typealias W = Word<M.D>
        typealias E = RecExitEncoding
        let rd = m.rec(rec, .owner)
        let a0 = a.args[0], a1 = a.args[1], a2 = a.args[2], a3 = a.args[3]
        let selfIndex = m.recIndex(m.rec(rec, .mpidr))
        let recCount = m.realm(rd, .recIndex)

        // PSCI_CPU_ON(target = a0, entry = a1, context = a2) and PSCI_AFFINITY_INFO(target = a0,
        // lowest level = a1). Checks and answers as TF-RMM psci.c (reference 6.2).
        let cpuOn = a.is(.psciCpuOn), aff = a.is(.psciAffinityInfo)
        let targetIndex = m.recIndex(a0)
        let targetUnknown = !(targetIndex < recCount)
        let targetSelf = targetIndex == selfIndex
        let entryUnprotected = !m.isProtected(rd, a1)
        let cpuOnValid = !entryUnprotected && !targetUnknown && !targetSelf
        let cpuOnAnswer: W = ite(entryUnprotected, W(PSCI.invalidAddress),
                                 ite(targetUnknown, W(PSCI.invalidParameters), W(PSCI.alreadyOn)))
        let affBadLevel = a1 != 0
        let affValid = !affBadLevel && !targetUnknown && !targetSelf
        // AFFINITY_INFO of itself answers ON (0).
        let affAnswer: W = ite(affBadLevel || targetUnknown, W(PSCI.invalidParameters), W(PSCI.success))
        let cpuOff = a.is(.psciCpuOff), suspend = a.is(.psciCpuSuspend)
        let sysOff = a.is(.psciSystemOff), sysReset = a.is(.psciSystemReset)
        let psciCall = cpuOn || aff || cpuOff || suspend || sysOff || sysReset
        let psciRequest = (cpuOn && cpuOnValid) || (aff && affValid)
        let psciExit = psciRequest || cpuOff || suspend || sysOff || sysReset
        let fid: W = ite(cpuOn, W(PSCI.cpuOn), ite(aff, W(PSCI.affinityInfo), ite(cpuOff, W(PSCI.cpuOff),
                     ite(suspend, W(PSCI.cpuSuspend), ite(sysOff, W(PSCI.systemOff), W(PSCI.systemReset))))))

        // RSI_IPA_STATE_SET(base = a0, top = a1, ripas = a2, flags = a3): valid when base < top,
        // both 4 KB aligned, [base, top) inside PAR and ripas in {EMPTY, RAM} (TF-RMM
        // memory.c). CHANGE_DESTROYED is flags bit 0 (reference Q4: reserved bits unchecked).
        let ripasCall = a.is(.ripasChange)
        let par = W(1) << (m.ipaWidth(rd) - 1)
        let ripasArgsValid = a0 < a1 && m.aligned(a0) && m.aligned(a1) && a1 <= par
            && a2 <= W(Ripas.ram.rawValue)
        let ripasRequest = ripasCall && ripasArgsValid

        // Data Aborts. At an Unprotected IPA inside the IPA space: reported, emulatable iff
        // ISV (a1 bit 0). At a Protected IPA: reported iff the entry there is UNASSIGNED with
        // RIPAS RAM, or has RIPAS DESTROYED.
        let mmio = a.is(.mmioAbort) && !m.isProtected(rd, a0) && m.ipaInRange(rd, a0)
        let isv = a1.bit(0)
        let e = m.walk(rd, a0, to: 3).entry
        let protectedAbort = a.is(.protectedAbort) && m.isProtected(rd, a0)
            && ((e.is(.unassigned) && e.ripas == W(Ripas.ram.rawValue)) || e.ripas == W(Ripas.destroyed.rawValue))
        let abort = mmio || protectedAbort

        let hostCall = a.is(.hostCall)
        let sync = a.is(.wfi) || abort
        let reason: W = ite(sync, W(ExitReason.sync.rawValue),
                        ite(a.is(.fiq), W(ExitReason.fiq.rawValue),
                        ite(a.is(.serror), W(ExitReason.serror.rawValue),
                        ite(psciExit, W(ExitReason.psci.rawValue),
                        ite(ripasRequest, W(ExitReason.ripasChange.rawValue),
                        ite(hostCall, W(ExitReason.hostCall.rawValue), W(ExitReason.irq.rawValue)))))))

        // The REC and its Realm.
        m.setRec(rec, .state, W(RecState.ready.rawValue), when: g)
        m.setRec(rec, .runPtr, 0, when: g)
        m.setRec(rec, .lastExit, reason + 1, when: g)
        m.setRec(rec, .emulatableAbort, (mmio && isv).word, when: g)
        m.setRec(rec, .psciPending, psciRequest.word, when: g)
        m.setRec(rec, .runnable, 0, when: g && cpuOff)
        m.setRealm(rd, .state, W(RealmState.systemOff.rawValue), when: g && (sysOff || sysReset))
        // After any exit other than RIPAS_CHANGE, ripas_addr = ripas_top = 0 (reference 6.2).
        // ripas_value and ripas_destroyed keep their values: nothing reads them then except
        // RTT_SET_RIPAS's base_align / no_progress, as the spec has it.
        m.setRec(rec, .ripasAddr, ite(ripasRequest, a0, 0), when: g)
        m.setRec(rec, .ripasTop, ite(ripasRequest, a1, 0), when: g)
        m.setRec(rec, .ripasValue, a2, when: g && ripasRequest)
        m.setRec(rec, .ripasDestroyed, a3.bit(0).word, when: g && ripasRequest)
        m.setRec(rec, .hostCallPending, 1, when: g && hostCall)

        // The REC's registers for the calls the RMM handles.
        let psciX0: W = ite(cpuOn, ite(cpuOnValid, fid, cpuOnAnswer),
                        ite(aff, ite(affValid, fid, affAnswer),
                        ite(cpuOff || suspend, W(PSCI.success), fid)))
        let ripasX0: W = ite(ripasArgsValid, W(E.rsiIpaStateSet), W(E.rsiErrorInput))
        m.setRec(rec, .gpr(0), ite(psciCall, psciX0, ripasX0), when: g && (psciCall || ripasCall))
        m.setRec(rec, .gpr(1), a0, when: g && (psciCall || ripasCall))
        m.setRec(rec, .gpr(2), a1, when: g && (psciCall || ripasCall))
        m.setRec(rec, .gpr(3), a2, when: g && (psciCall || ripasCall))
        m.setRec(rec, .gpr(4), a3, when: g && ripasCall)

        // The exit record (RmiRecExit), every modelled field written (TF-RMM zeroes it).
        typealias L = RecRunLayout
        func put(_ off: UInt64, _ v: W) { m.nsWrite(runPtr + W(off), v, when: g) }
        put(L.exitReason, reason)
        put(L.exitEsr, ite(a.is(.wfi), W(E.esrWfx),
                       ite(mmio, W(E.esrDataAbort) | ite(isv, W(E.esrIsv), 0),
                       ite(protectedAbort, W(E.esrDataAbort), 0))))
        // FAR is a virtual address the model does not have.
        put(L.exitFar, 0)
        // HPFAR_EL2.FIPA (bits 43:4) = IPA[51:12].
        put(L.exitHpfar, ite(abort, (a0 >> 8) & ~W(0xF), 0))
        // PSCI: gprs[0] = FID; CPU_ON / AFFINITY_INFO requests also pass their arguments.
        // (The data of an emulatable write and the Host call's gprs, both in Realm state the
        // model does not hold, are given as 0.)
        let args: [W] = [a0, a1, ite(cpuOn, a2, 0)]
        for i in 0..<RecField.gprCount {
            let v: W = i == 0 ? ite(psciExit, fid, 0) : (i <= 3 ? ite(psciRequest, args[i - 1], 0) : 0)
            put(L.exitGprs + 8 * UInt64(i), v)
        }
        put(L.exitRipasBase, ite(ripasRequest, a0, 0))
        put(L.exitRipasTop, ite(ripasRequest, a1, 0))
        put(L.exitRipasValue, ite(ripasRequest, a2, 0))
        // RsiHostCall.imm is 16 bits.
        put(L.exitImm, ite(hostCall, a0 & 0xFFFF, 0))
    }
}

extension RMISpec {
    /// The end of a REC_ENTER that left its REC running (`stay_running`): the Realm performs
    /// `realm`, the REC becomes READY and the exit record is written at the REC_ENTER's
    /// `run_ptr`, which the result names. If the REC is not running (or `realm` is
    /// `stay_running` again) the event is malformed: the result is INPUT with label
    /// `rec_exit_not_running` (`rec_exit_stays_running`) and the state is unchanged.
    public static func recExit(_ s: SpecState, rec: UInt64, realm: RealmAction<Concrete>) -> StepResult {
        var m = s
        let runPtr = s.rec(CWord(rec), .runPtr).raw
        let e = RecEnter.exitRunning(&m, rec: CWord(rec), action: realm)
        var r = result(.recEnter, e, next: m, options: s.options)
        if r.succeeded { r.runPtr = runPtr }
        return r
    }

    /// `recExit` on the flat state of a pool, in place: whether the event is well formed
    /// (the state is then the one after it).
    public static func recExitSucceeds(_ s: inout PoolState, rec: UInt64, realm: RealmAction<Concrete>) -> Bool {
        let e = RecEnter.exitRunning(&s, rec: CWord(rec), action: realm)
        return !e.conditions.contains { $0.fails.raw }
    }
}
