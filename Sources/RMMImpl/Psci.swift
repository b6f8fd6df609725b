// PSCI: the Realm's PSCI calls as the RMM handles them during a run (TF-RMM
// runtime/rsi/psci.c), and RMI_PSCI_COMPLETE, by which the Host completes a PSCI_CPU_ON or
// PSCI_AFFINITY_INFO request (runtime/rmi/rec.c, `psci_complete_request`).

/// PSCI function IDs and return codes.
enum PSCI {
    static let version: UInt64 = 0x8400_0000
    static let cpuSuspend: UInt64 = 0xC400_0001
    static let cpuOff: UInt64 = 0x8400_0002
    static let cpuOn: UInt64 = 0xC400_0003, cpuOn32: UInt64 = 0x8400_0003
    static let affinityInfo: UInt64 = 0xC400_0004, affinityInfo32: UInt64 = 0x8400_0004
    static let systemOff: UInt64 = 0x8400_0008
    static let systemReset: UInt64 = 0x8400_0009

    static let success: UInt64 = 0
    /// AFFINITY_INFO: the target is off.
    static let off: UInt64 = 1
    static let notSupported = UInt64(bitPattern: -1)
    static let invalidParameters = UInt64(bitPattern: -2)
    static let denied = UInt64(bitPattern: -3)
    static let alreadyOn = UInt64(bitPattern: -4)
    static let invalidAddress = UInt64(bitPattern: -9)
}

extension Core {
    /// A PSCI call from the Realm on REC slot `rs`. The REC's X0..X3 hold the call (FID and
    /// arguments); X0 is replaced by the result where the RMM answers at once. Calls that
    /// need the Host (CPU_ON, AFFINITY_INFO of another REC) become pending; CPU_OFF,
    /// CPU_SUSPEND, SYSTEM_OFF and SYSTEM_RESET exit to notify the Host.
    mutating func handlePsci(_ rs: Int, _ b: RealmBehaviour, _ exit: inout ExitRecord) {
        let fid: UInt64
        var a: (UInt64, UInt64, UInt64) = (0, 0, 0)
        switch b {
        case .psciCpuOn(let t, let e, let c): fid = PSCI.cpuOn; a = (t, e, c)
        case .psciAffinityInfo(let t, let l): fid = PSCI.affinityInfo; a = (t, l, 0)
        case .psciCpuOff: fid = PSCI.cpuOff
        case .psciCpuSuspend: fid = PSCI.cpuSuspend
        case .psciSystemOff: fid = PSCI.systemOff
        case .psciSystemReset: fid = PSCI.systemReset
        default: return
        }
        recs[rs].gprs[0] = fid
        recs[rs].gprs[1] = a.0
        recs[rs].gprs[2] = a.1
        recs[rs].gprs[3] = a.2
        let rd = rds[recs[rs].rdSlot]
        let selfIndex = recs[rs].index

        /// Answer in X0 and let the Realm continue (it is interrupted next: IRQ exit).
        func answer(_ v: UInt64) {
            recs[rs].gprs[0] = v
            exit.reason = .irq
        }
        /// Exit to the Host with the FID in exit.gprs[0] and, for a pending request, the
        /// arguments in exit.gprs[1..3].
        func notify(request: Bool) {
            exit.reason = .psci
            exit.gprs = request ? (fid, a.0, a.1, a.2) : (fid, 0, 0, 0)
            recs[rs].psciPending = request
        }

        switch fid {
        case PSCI.cpuOn:
            // The entry point must be a Protected IPA; the target an existing REC other than
            // the caller.
            let target = RMM.recIndex(mpidr: a.0)
            if !rd.isProtected(a.1) { return answer(PSCI.invalidAddress) }
            if target >= rd.recIndex { return answer(PSCI.invalidParameters) }
            if target == selfIndex { return answer(PSCI.alreadyOn) }
            notify(request: true)
        case PSCI.affinityInfo:
            let target = RMM.recIndex(mpidr: a.0)
            if a.1 != 0 { return answer(PSCI.invalidParameters) }
            if target >= rd.recIndex { return answer(PSCI.invalidParameters) }
            // The caller is running, hence on.
            if target == selfIndex { return answer(PSCI.success) }
            notify(request: true)
        case PSCI.cpuOff:
            recs[rs].runnable = false
            recs[rs].gprs[0] = PSCI.success
            notify(request: false)
        case PSCI.cpuSuspend:
            recs[rs].gprs[0] = PSCI.success
            notify(request: false)
        default:
            // SYSTEM_OFF / SYSTEM_RESET: no REC of this Realm runs again.
            let gRd = recs[rs].rdGranule
            lock(gRd)
            rds[recs[rs].rdSlot].state = .systemOff
            unlock(gRd)
            notify(request: false)
        }
    }

    /// RMI_PSCI_COMPLETE (B4.3.15).
    mutating func smcPsciComplete(_ callingAddr: UInt64, _ targetAddr: UInt64, _ status: UInt64) -> UInt64 {
        // calling_align, target_align.
        if callingAddr & 0xFFF != 0 || targetAddr & 0xFFF != 0 { return RMM.errInput }
        // alias, calling_bound/state, target_bound/state: both RECs, locked in address order.
        guard let (gc, gt) = findLockTwoGranules(callingAddr, .rec, targetAddr, .rec) else { return RMM.errInput }
        defer {
            unlock(gc)
            unlock(gt)
        }
        // A running calling REC cannot have a pending request.
        if granules[gc].refcount != 0 { return RMM.errInput }
        let cs = recSlot(gc), ts = recSlot(gt)
        // pending.
        if !recs[cs].psciPending { return RMM.errInput }
        // owner.
        if recs[ts].owner != recs[cs].owner && !bugs.contains(.psciCompleteNoOwnerCheck) { return RMM.errInput }
        // target: the MPIDR the Realm passed is the target REC's.
        if recs[ts].mpidr != recs[cs].gprs[1] { return RMM.errInput }
        let callFid = recs[cs].gprs[0]
        let isCpuOn = callFid == PSCI.cpuOn || callFid == PSCI.cpuOn32
        // A running target is on (it was runnable when it was entered).
        let targetOn = recs[ts].runnable || granules[gt].refcount != 0
        // status: SUCCESS, or DENIED for a CPU_ON of a target that is off.
        if !(status == PSCI.success || (status == PSCI.denied && isCpuOn && !targetOn)) { return RMM.errInput }

        let result: UInt64
        if isCpuOn {
            if targetOn {
                result = PSCI.alreadyOn
            } else if status == PSCI.denied {
                result = PSCI.denied
            } else {
                // The target starts at the entry point with the context id in X0.
                recs[ts].pc = recs[cs].gprs[2]
                recs[ts].gprs[0] = recs[cs].gprs[3]
                for i in 1 ..< recs[ts].gprs.count { recs[ts].gprs[i] = 0 }
                recs[ts].runnable = true
                result = PSCI.success
            }
        } else {
            result = targetOn ? PSCI.success : PSCI.off
        }
        recs[cs].gprs[0] = result
        recs[cs].gprs[1] = 0
        recs[cs].gprs[2] = 0
        recs[cs].gprs[3] = 0
        recs[cs].psciPending = false
        return RMM.success
    }
}
