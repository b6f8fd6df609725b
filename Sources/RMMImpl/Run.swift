// RMI_REC_ENTER: the entry checks, what the RMM does on entry (completing a RIPAS change,
// a Host call, MMIO emulation), running the Realm, and the REC exit with its exit record
// (TF-RMM runtime/rmi/run.c, runtime/core/exit.c, runtime/rsi/memory.c).
//
// The Realm itself is a stand-in: a pluggable `RealmGuest` says what the Realm does during
// one run (one `RealmBehaviour`), and the RMM handles it the way TF-RMM handles the
// corresponding exception or SMC from the Realm. Requests the RMM answers itself (PSCI or
// RSI calls with invalid arguments, CPU_ON of the caller itself, ...) do not exit; the
// Realm then continues and the run ends with an IRQ for the Host. An abort the RMM does not
// report to the Host (an "MMIO" abort at a Protected IPA or beyond the IPA space, a Protected
// abort where the page is mapped or RIPAS is EMPTY) likewise ends in an IRQ exit.
//
// Not modelled: the Realm's own progress (its PC and registers change only through the
// calls above and RMI commands), emulated MMIO reads (the stand-in's MMIO accesses are writes
// of a value the model does not hold), the virtual GIC and timer state in the exit record,
// and Realm memory (an RSI_HOST_CALL's argument block).

/// What the Realm does while one of its RECs runs.
public enum RealmBehaviour: Sendable, Hashable {
    /// An interrupt for the Host: RMI_EXIT_IRQ.
    case irq
    case fiq
    case serror
    /// A trapped WFI/WFE: RMI_EXIT_SYNC.
    case wfi
    /// RSI_HOST_CALL with immediate `imm`: RMI_EXIT_HOST_CALL.
    case hostCall(imm: UInt64)
    /// PSCI_CPU_ON(target MPIDR, entry point, context id).
    case psciCpuOn(target: UInt64, entry: UInt64, context: UInt64)
    /// PSCI_AFFINITY_INFO(target MPIDR, lowest affinity level).
    case psciAffinityInfo(target: UInt64, lowestLevel: UInt64)
    case psciCpuOff
    case psciCpuSuspend
    case psciSystemOff
    case psciSystemReset
    /// RSI_IPA_STATE_SET(base, top, ripas, flags); flags bit 0 is CHANGE_DESTROYED.
    case ripasChange(base: UInt64, top: UInt64, ripas: UInt64, flags: UInt64)
    /// A Data Abort at an Unprotected IPA; emulatable when `isv`.
    case mmioAbort(ipa: UInt64, isv: Bool)
    /// A Data Abort at a Protected IPA.
    case protectedAbort(ipa: UInt64)
    /// The REC keeps running after REC_ENTER returns SUCCESS (as if REC_ENTER were still in
    /// progress on another CPU); `RMM.completeRun(rec:_:)` ends the run later.
    case stayRunning
}

/// What a guest is told about the REC it runs.
public struct RecRunContext: Sendable, Hashable {
    public var rec: UInt64
    public var rd: UInt64
    public var index: UInt64
    public var mpidr: UInt64
    public var pc: UInt64
    public var gprs: [UInt64]
}

/// The Realm's behaviour, supplied by tests and the checker. `run` is called while the RMM
/// is in the middle of REC_ENTER: it must not call back into the RMM (everything it may need
/// is in the `RecRunContext`).
public protocol RealmGuest {
    /// What the Realm does during this run of `rec`.
    mutating func run(_ rec: RecRunContext) -> RealmBehaviour
}

/// A Realm that is always interrupted at once (RMI_EXIT_IRQ).
public struct IdleGuest: RealmGuest {
    public init() {}
    public func run(_ rec: RecRunContext) -> RealmBehaviour { .irq }
}

/// A Realm that performs the behaviours of `script` in turn, then `otherwise`.
public struct ScriptedGuest: RealmGuest {
    public var script: [RealmBehaviour]
    public var next = 0
    public var otherwise: RealmBehaviour
    public init(_ script: [RealmBehaviour], otherwise: RealmBehaviour = .irq) {
        self.script = script
        self.otherwise = otherwise
    }
    public mutating func run(_ rec: RecRunContext) -> RealmBehaviour {
        guard next < script.count else { return otherwise }
        next += 1
        return script[next - 1]
    }
}

/// A Realm whose behaviour a closure decides.
public struct ClosureGuest: RealmGuest {
    public let body: (RecRunContext) -> RealmBehaviour
    public init(_ body: @escaping (RecRunContext) -> RealmBehaviour) { self.body = body }
    public func run(_ rec: RecRunContext) -> RealmBehaviour { body(rec) }
}

/// RmiRecRun (B4.4.20) word offsets (byte offset / 8).
enum RecRun {
    // RmiRecEnter
    static let enterFlags = 0x000 >> 3, enterGprs = 0x200 >> 3, enterGicv3Hcr = 0x300 >> 3
    static let enterGicv3Lrs = 0x308 >> 3
    // RmiRecExit
    static let exitBase = 0x800 >> 3
    static let exitReason = 0x800 >> 3, exitEsr = 0x900 >> 3, exitFar = 0x908 >> 3, exitHpfar = 0x910 >> 3
    static let exitGprs = 0xA00 >> 3
    static let exitRipasBase = 0xD00 >> 3, exitRipasTop = 0xD08 >> 3, exitRipasValue = 0xD10 >> 3
    static let exitImm = 0xE00 >> 3

    // RmiRecEnterFlags
    static let flagEmulMmio: UInt64 = 1 << 0, flagInjectSea: UInt64 = 1 << 1
    static let flagTrapWfi: UInt64 = 1 << 2, flagTrapWfe: UInt64 = 1 << 3, flagRipasReject: UInt64 = 1 << 4
}

/// Encodings the REC exit uses (RSI, ESR_EL2, GICv3).
enum Arch {
    static let rsiIpaStateSet: UInt64 = 0xC400_0197
    static let rsiSuccess: UInt64 = 0, rsiErrorInput: UInt64 = 1
    static let rsiAccept: UInt64 = 0, rsiReject: UInt64 = 1
    /// ESR_EL2.EC for a trapped WFI/WFE and for a Data Abort from a lower EL; ISV.
    static let esrWfx: UInt64 = 0x01 << 26
    static let esrDataAbort: UInt64 = 0x24 << 26
    static let esrIsv: UInt64 = 1 << 24
    /// ICH_HCR_EL2 bits the Host controls: UIE, LRENPIE, NPIE, VGrp0EIE, VGrp0DIE,
    /// VGrp1EIE, VGrp1DIE, TDIR.
    static let ichHcrHostMask: UInt64 = 0b1111_1110 | 1 << 14
    static let lrStateShift: UInt64 = 62, lrHw: UInt64 = 1 << 61, lrEoi: UInt64 = 1 << 41
    static let lrPintidMask: UInt64 = 0x1FFF << 32
    static let maxSpiId: UInt64 = 1019, minLpiId: UInt64 = 8192
}

/// The fields of RmiRecExit the RMM writes (all others are written as 0).
struct ExitRecord {
    var reason: RMM.ExitReason = .irq
    var esr: UInt64 = 0
    var hpfar: UInt64 = 0
    var gprs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var ripasBase: UInt64 = 0, ripasTop: UInt64 = 0, ripasValue: UInt64 = 0
    var imm: UInt64 = 0
}

extension Core {
    /// `gic_validate_state`: `Gicv3ConfigIsValid(enter.gicv3_hcr, enter.gicv3_lrs)`.
    func gicStateValid(_ gRun: Int) -> Bool {
        let hcr = word(gRun, RecRun.enterGicv3Hcr)
        if hcr & ~Arch.ichHcrHostMask != 0 { return false }
        let nrLrs = min(Int(features.gicv3NumLRs) + 1, 16)
        let priRes0: UInt64 = (1 << UInt64(8 - min(max(platform.gicPriorityBits, 1), 8))) - 1
        let maxVintid: UInt64 = (1 << UInt64(platform.gicIntidBits)) - 1
        for i in 0 ..< nrLrs {
            let lr = word(gRun, RecRun.enterGicv3Lrs + i)
            if lr >> Arch.lrStateShift == 0 { continue }
            let vintid = lr & 0xFFFF_FFFF
            let validId = vintid <= Arch.maxSpiId || (vintid >= Arch.minLpiId && vintid <= maxVintid)
            if lr & Arch.lrHw != 0 || (lr >> 48) & 0xFF & priRes0 != 0
                || lr & Arch.lrPintidMask & ~Arch.lrEoi != 0 || !validId {
                return false
            }
            for j in i + 1 ..< nrLrs {
                let other = word(gRun, RecRun.enterGicv3Lrs + j)
                if other >> Arch.lrStateShift != 0 && other & 0xFFFF_FFFF == vintid { return false }
            }
        }
        return true
    }

    /// RMI_REC_ENTER (B4.3.14).
    mutating func smcRecEnter(_ recAddr: UInt64, _ runAddr: UInt64) -> UInt64 {
        let override = nextBehaviour
        nextBehaviour = nil
        // run_align, run_bound, run_pas (state).
        let gRun = findNSGranule(runAddr)
        if gRun < 0 { return RMM.errInput }
        // rec_align, rec_bound, rec_gran_state; rec_state (running: refcount != 0).
        let gRec: Int
        switch findLockUnusedGranule(recAddr, .rec) {
        case .invalid: return RMM.errInput
        case .busy: return RMM.errRec
        case .locked(let g): gRec = g
        }
        // The REC is RUNNING from here: hold a reference, then unlock the granule.
        refcountGet(gRec)
        unlock(gRec)
        func fail(_ code: UInt64) -> UInt64 {
            refcountPut(gRec)
            return code
        }
        // Reading rec_run.enter faults unless the run granule is NS-accessible (run_pas).
        if !nsAccessible(gRun) { return fail(RMM.errInput) }
        let flags = word(gRun, RecRun.enterFlags)
        let rs = recSlot(gRec)
        let ds = recs[rs].rdSlot
        // realm_new, system_off.
        switch rds[ds].state {
        case .new: return fail(RMM.returnCode(.errorRealm, index: 0))
        case .systemOff: return fail(RMM.returnCode(.errorRealm, index: 1))
        case .active: break
        }
        // rec_runnable.
        if !recs[rs].runnable { return fail(RMM.errRec) }
        // rec_psci: a REC with a pending PSCI request is not schedulable.
        if recs[rs].psciPending { return fail(RMM.errRec) }
        // rec_gicv3.
        if !gicStateValid(gRun) { return fail(RMM.errRec) }
        recs[rs].gicv3Hcr = word(gRun, RecRun.enterGicv3Hcr)
        let nrLrs = min(Int(features.gicv3NumLRs) + 1, 16)
        if recs[rs].gicv3Lrs.count != nrLrs { recs[rs].gicv3Lrs = [UInt64](repeating: 0, count: nrLrs) }
        for i in 0 ..< nrLrs { recs[rs].gicv3Lrs[i] = word(gRun, RecRun.enterGicv3Lrs + i) }
        // rec_mmio: emul_mmio is only allowed after an emulatable Data Abort. (inject_sea is
        // not a failure condition in the spec; the SEA it injects is not modelled, and with it
        // set the MMIO emulation is skipped.)
        if flags & RecRun.flagEmulMmio != 0 && !recs[rs].emulatableAbort { return fail(RMM.errRec) }

        // Entry: the Host's answer to a RIPAS change request goes to the Realm.
        let reject = flags & RecRun.flagRipasReject != 0
        recs[rs].ripasResponseReject = reject
        if recs[rs].lastExit == .ripasChange {
            let rejected = recs[rs].ripasValue == Ripas.ram && recs[rs].ripasAddr != recs[rs].ripasTop && reject
            recs[rs].gprs[0] = Arch.rsiSuccess
            recs[rs].gprs[1] = recs[rs].ripasAddr
            recs[rs].gprs[2] = rejected ? Arch.rsiReject : Arch.rsiAccept
        }
        // A pending Host call takes the Host's enter.gprs (into Realm memory, not modelled).
        recs[rs].hostCallPending = false

        // The Realm runs.
        let behaviour: RealmBehaviour
        if let b = override {
            behaviour = b
        } else {
            let r = recs[rs]
            behaviour = guest.run(RecRunContext(rec: recAddr, rd: r.owner, index: r.index, mpidr: r.mpidr,
                                                pc: r.pc, gprs: r.gprs))
        }
        if case .stayRunning = behaviour {
            recs[rs].runPtr = runAddr
            return RMM.success
        }
        return finishRun(gRec, rs, gRun, behaviour)
    }

    /// Ends the run of a REC that a REC_ENTER left running (`RealmBehaviour.stayRunning`):
    /// the Realm does `behaviour`, the REC exits and the exit record is written to that
    /// REC_ENTER's run granule. Returns X0 of the REC_ENTER: SUCCESS, or RMI_ERROR_INPUT if
    /// writing the exit record faults (the Realm's effects stay) or if `rec` is not a running
    /// REC or `behaviour` is `stayRunning` (then nothing changes).
    mutating func completeRun(rec recAddr: UInt64, _ behaviour: RealmBehaviour) -> UInt64 {
        if case .stayRunning = behaviour { return RMM.errInput }
        let g = granuleIndex(recAddr)
        guard g >= 0, granules[g].state == .rec, granules[g].refcount != 0, granules[g].obj >= 0 else {
            return RMM.errInput
        }
        let rs = recSlot(g)
        let gRun = granuleIndex(recs[rs].runPtr)
        guard gRun >= 0 else { return RMM.errInput }
        return finishRun(g, rs, gRun, behaviour)
    }

    /// The REC exit: perform `b`, write the exit record, drop the running reference.
    mutating func finishRun(_ gRec: Int, _ rs: Int, _ gRun: Int, _ b: RealmBehaviour) -> UInt64 {
        let exit = realmRun(rs, b)
        recs[rs].runPtr = 0
        refcountPut(gRec)
        // Writing rec_run.exit faults unless the run granule is still NS-accessible.
        if !nsAccessible(gRun) { return RMM.errInput }
        let base = pageBase(gRun)
        for i in RecRun.exitBase ..< 512 { pageMem[base + i] = 0 }
        pageMem[base + RecRun.exitReason] = exit.reason.rawValue
        pageMem[base + RecRun.exitEsr] = exit.esr
        pageMem[base + RecRun.exitHpfar] = exit.hpfar
        pageMem[base + RecRun.exitGprs] = exit.gprs.0
        pageMem[base + RecRun.exitGprs + 1] = exit.gprs.1
        pageMem[base + RecRun.exitGprs + 2] = exit.gprs.2
        pageMem[base + RecRun.exitGprs + 3] = exit.gprs.3
        pageMem[base + RecRun.exitRipasBase] = exit.ripasBase
        pageMem[base + RecRun.exitRipasTop] = exit.ripasTop
        pageMem[base + RecRun.exitRipasValue] = exit.ripasValue
        pageMem[base + RecRun.exitImm] = exit.imm
        return RMM.success
    }

    /// The Realm performs `b` on REC slot `rs` until the REC exits to the Host.
    mutating func realmRun(_ rs: Int, _ b: RealmBehaviour) -> ExitRecord {
        var exit = ExitRecord()
        var emulatable = false
        var ripasRequest = false
        switch b {
        case .irq, .stayRunning:
            exit.reason = .irq
        case .fiq:
            exit.reason = .fiq
        case .serror:
            exit.reason = .serror
        case .wfi:
            exit.reason = .sync
            exit.esr = Arch.esrWfx
        case .hostCall(let imm):
            exit.reason = .hostCall
            exit.imm = imm & 0xFFFF
            recs[rs].hostCallPending = true
        case .psciCpuOn, .psciAffinityInfo, .psciCpuOff, .psciCpuSuspend, .psciSystemOff, .psciSystemReset:
            handlePsci(rs, b, &exit)
        case .ripasChange(let base, let top, let ripas, let flags):
            ripasRequest = handleIpaStateSet(rs, base, top, ripas, flags, &exit)
        case .mmioAbort(let ipa, let isv):
            let rd = rds[recs[rs].rdSlot]
            if !rd.isProtected(ipa) && ipa < rd.ipaSize {
                exit.reason = .sync
                exit.esr = Arch.esrDataAbort | (isv ? Arch.esrIsv : 0)
                exit.hpfar = (ipa >> 8) & ~0xF
                emulatable = isv
            }
        case .protectedAbort(let ipa):
            let rd = rds[recs[rs].rdSlot]
            if rd.isProtected(ipa) {
                let w = walk(rd, ipa, to: S2TT.pageLevel)
                let e = entry(w)
                unlock(w.table)
                let r = S2TTE.ripas(e)
                // Reported to the Host: RIPAS RAM with HIPAS UNASSIGNED, or RIPAS DESTROYED.
                if S2TTE.hasRipas(e, w.level)
                    && ((S2TTE.isUnassigned(e) && r == Ripas.ram) || r == Ripas.destroyed) {
                    exit.reason = .sync
                    exit.esr = Arch.esrDataAbort
                    exit.hpfar = (ipa >> 8) & ~0xF
                }
            }
        }
        // State every exit leaves.
        recs[rs].lastExit = exit.reason
        recs[rs].lastEsr = exit.esr
        recs[rs].lastHpfar = exit.hpfar
        recs[rs].emulatableAbort = emulatable
        if !ripasRequest {
            // After any exit other than RIPAS_CHANGE there is no pending RIPAS request.
            recs[rs].ripasAddr = 0
            recs[rs].ripasTop = 0
        }
        return exit
    }

    /// RSI_IPA_STATE_SET (`handle_rsi_ipa_state_set`). Returns whether the request is valid
    /// (and the REC exits with RMI_EXIT_RIPAS_CHANGE).
    mutating func handleIpaStateSet(_ rs: Int, _ base: UInt64, _ top: UInt64, _ ripas: UInt64, _ flags: UInt64,
                           _ exit: inout ExitRecord) -> Bool {
        recs[rs].gprs[0] = Arch.rsiIpaStateSet
        recs[rs].gprs[1] = base
        recs[rs].gprs[2] = top
        recs[rs].gprs[3] = ripas
        recs[rs].gprs[4] = flags
        let rd = rds[recs[rs].rdSlot]
        let valid = ripas <= Ripas.ram && base & 0xFFF == 0 && top & 0xFFF == 0 && base < top && top <= rd.parSize
        if !valid {
            recs[rs].gprs[0] = Arch.rsiErrorInput
            exit.reason = .irq
            return false
        }
        recs[rs].ripasAddr = base
        recs[rs].ripasTop = top
        recs[rs].ripasValue = ripas
        recs[rs].ripasChangeDestroyed = flags & 1 != 0
        exit.reason = .ripasChange
        exit.ripasBase = base
        exit.ripasTop = top
        exit.ripasValue = ripas
        return true
    }
}
