// RECs: the REC stored in its granule with its auxiliary granules, RmiRecParams, and
// RMI_REC_CREATE / RMI_REC_DESTROY (TF-RMM runtime/rmi/rec.c).

extension RMM {
    /// RmiRecExitReason (B4.4.17).
    public enum ExitReason: UInt64, Sendable, CaseIterable {
        case sync = 0, irq, fiq, psci, ripasChange, hostCall, serror
    }
}

/// A REC, as stored in a REC granule.
public struct RecInfo: Sendable, Hashable {
    /// Physical address of the REC granule.
    public internal(set) var address: UInt64
    /// Physical address of the owning RD.
    public internal(set) var owner: UInt64
    /// The REC's index in its Realm (`RecIndex(mpidr)` at creation).
    public internal(set) var index: UInt64
    public internal(set) var mpidr: UInt64
    /// The PC the REC starts from (REC_CREATE, or a completed PSCI_CPU_ON).
    public internal(set) var pc: UInt64
    /// X0..X30.
    public internal(set) var gprs: [UInt64]
    /// RUNNABLE (true) or NOT_RUNNABLE.
    public internal(set) var runnable: Bool
    /// Physical addresses of the auxiliary granules.
    public internal(set) var aux: [UInt64]
    /// A PSCI_CPU_ON or PSCI_AFFINITY_INFO request waits for RMI_PSCI_COMPLETE.
    public internal(set) var psciPending: Bool
    /// The last exit was an emulatable Data Abort (Unprotected IPA, ISV = 1).
    public internal(set) var emulatableAbort: Bool
    /// The reason of the last REC exit, nil before the first one.
    public internal(set) var lastExit: RMM.ExitReason?
    /// ESR and HPFAR reported at the last exit.
    public internal(set) var lastEsr: UInt64
    public internal(set) var lastHpfar: UInt64
    /// The pending RIPAS change request: next address, top (both 0 when none is pending),
    /// requested RIPAS, CHANGE_DESTROYED, and the Host's response at the last entry.
    public internal(set) var ripasAddr: UInt64
    public internal(set) var ripasTop: UInt64
    public internal(set) var ripasValue: UInt64
    public internal(set) var ripasChangeDestroyed: Bool
    public internal(set) var ripasResponseReject: Bool
    /// An RSI_HOST_CALL waits for the Host's answer (the next REC_ENTER).
    public internal(set) var hostCallPending: Bool
    /// GIC state from the last REC_ENTER.
    public internal(set) var gicv3Hcr: UInt64
    public internal(set) var gicv3Lrs: [UInt64]
    /// REC_RUNNING (the REC granule's refcount is 1); filled in by `rec(at:)`.
    public internal(set) var running: Bool
    /// The `run_ptr` of the REC_ENTER that left the REC running (`stayRunning`), else 0.
    public internal(set) var runPtr: UInt64

    /// Granule index and RD slot of the owner.
    var rdGranule: Int
    var rdSlot: Int
}

/// RmiRecParams (B4.4.19) offsets.
enum RecParams {
    static let flags = 0x000, mpidr = 0x100, pc = 0x200, gprs = 0x300, numAux = 0x800, aux = 0x808
    static let gprCount = 8
    static let maxAux = 16
}

extension RMM {
    /// `RecIndex(mpidr)`: aff0 (bits 3:0) + 16 * aff1 (15:8) + 4096 * aff2 (23:16)
    /// + 2^20 * aff3 (31:24).
    @inline(__always)
    public static func recIndex(mpidr: UInt64) -> UInt64 {
        (mpidr & 0xF) + ((mpidr >> 8) & 0xFF) * 16 + ((mpidr >> 16) & 0xFF) * 4096 + ((mpidr >> 24) & 0xFF) << 20
    }

    /// The RmiRecMpidr value of the REC with index `i` (the inverse of `recIndex`).
    public static func mpidr(forIndex i: UInt64) -> UInt64 {
        (i & 0xF) | ((i >> 4) & 0xFF) << 8 | ((i >> 12) & 0xFF) << 16 | ((i >> 20) & 0xFF) << 24
    }

}

extension Core {
    @inline(__always) func recSlot(_ g: Int) -> Int { Int(granules[g].obj) }

    mutating func allocRec(_ r: RecInfo) -> Int32 {
        if let s = freeRecs.popLast() { recs[Int(s)] = r; return s }
        recs.append(r)
        return Int32(recs.count - 1)
    }

    /// RMI_REC_CREATE (B4.3.12).
    mutating func smcRecCreate(_ rdAddr: UInt64, _ recAddr: UInt64, _ paramsAddr: UInt64) -> UInt64 {
        // params_align, params_bound, params_pas, then the read.
        let gp = findNSGranule(paramsAddr)
        if gp < 0 || !nsAccessible(gp) { return RMM.errInput }
        let flags = paramWord(gp, RecParams.flags >> 3)
        let mpidr = paramWord(gp, RecParams.mpidr >> 3)
        let pc = paramWord(gp, RecParams.pc >> 3)
        let numAux = paramWord(gp, RecParams.numAux >> 3)
        // More aux granules than any Realm can need (the full 64-bit value is compared).
        if numAux > UInt64(RecParams.maxAux) { return RMM.errInput }
        let n = Int(numAux)

        // aux_align, aux_state, aux_alias: each aux granule must be DELEGATED; it becomes
        // REC_AUX at once, so a duplicate (or the REC itself, below) is no longer DELEGATED.
        var aux = [Int](repeating: -1, count: n)
        var auxAddrs = [UInt64](repeating: 0, count: n)
        func releaseAux(_ count: Int) {
            for k in 0 ..< count {
                lock(aux[k])
                unlockTransition(aux[k], to: .delegated)
            }
        }
        for i in 0 ..< n {
            let a = paramWord(gp, (RecParams.aux >> 3) + i)
            let g = findLockGranule(a, .delegated)
            if g < 0 {
                releaseAux(i)
                return RMM.errInput
            }
            unlockTransition(g, to: .recAux)
            aux[i] = g
            auxAddrs[i] = a
        }

        // rec_align/bound/state and rd_align/bound/state, locked in address order.
        guard let (gRec, gRd) = findLockTwoGranules(recAddr, .delegated, rdAddr, .rd) else {
            releaseAux(n)
            return RMM.errInput
        }
        func fail(_ code: UInt64) -> UInt64 {
            unlock(gRd)
            unlock(gRec)
            releaseAux(n)
            return code
        }
        // num_recs: the RD refcount counts RECs, up to 2^MAX_RECS_ORDER - 1.
        let maxRecs = min((UInt64(1) << features.maxRecsOrder) - 1, UInt64(UInt16.max))
        if UInt64(granules[gRd].refcount) >= maxRecs { return fail(RMM.errRealm) }
        let rs = rdSlot(gRd)
        // realm_state.
        if rds[rs].state != .new { return fail(RMM.errRealm) }
        // mpidr_index: the n-th REC must have index n. (Reserved MPIDR bits are SBZ, not an
        // invalid encoding: only the index is compared.)
        let index = rds[rs].recIndex
        if RMM.recIndex(mpidr: mpidr) != index { return fail(RMM.errInput) }
        // num_aux.
        if numAux != UInt64(rds[rs].numRecAux) { return fail(RMM.errInput) }

        // Success.
        var gprs = [UInt64](repeating: 0, count: 31)
        for i in 0 ..< RecParams.gprCount { gprs[i] = paramWord(gp, (RecParams.gprs >> 3) + i) }
        let runnable = flags & 1 != 0
        let rec = RecInfo(
            address: recAddr, owner: rdAddr, index: index, mpidr: mpidr, pc: pc, gprs: gprs, runnable: runnable,
            aux: auxAddrs, psciPending: false, emulatableAbort: false, lastExit: nil, lastEsr: 0, lastHpfar: 0,
            ripasAddr: 0, ripasTop: 0, ripasValue: 0, ripasChangeDestroyed: false, ripasResponseReject: false,
            hostCallPending: false, gicv3Hcr: 0, gicv3Lrs: [], running: false, runPtr: 0,
            rdGranule: gRd, rdSlot: rs)
        if runnable {
            // RimExtendRec: flags, pc, gprs[0..7].
            var h = Measurement.extend(Measurement.extend(Measurement.extend(rds[rs].rim, 1), flags), pc)
            for i in 0 ..< RecParams.gprCount { h = Measurement.extend(h, gprs[i]) }
            rds[rs].rim = h
            if recordsMeasurementLog {
                rds[rs].rimLog.append(.rec(flags: flags, pc: pc, gprs: Array(gprs[0 ..< RecParams.gprCount])))
            }
        }
        touch(gRec)
        granules[gRec].obj = allocRec(rec)
        refcountGet(gRd)
        rds[rs].recIndex = index + 1
        unlock(gRd)
        unlockTransition(gRec, to: .rec)
        return RMM.success
    }

    /// `word(g, i)` of the parameter block, read through the inout state: a non-mutating
    /// call here made the compiler copy the whole state for each read.
    @inline(__always)
    private mutating func paramWord(_ g: Int, _ i: Int) -> UInt64 { word(g, i) }

    /// RMI_REC_DESTROY (B4.3.13).
    mutating func smcRecDestroy(_ recAddr: UInt64) -> UInt64 {
        let g: Int
        switch findLockUnusedGranule(recAddr, .rec) {
        case .invalid: return RMM.errInput
        case .busy: return RMM.errRec  // rec_state: the REC is running
        case .locked(let x): g = x
        }
        let s = recSlot(g)
        let rec = recs[s]
        for a in rec.aux {
            let ga = granuleIndex(a)
            if ga < 0 { continue }
            lock(ga)
            if granules[ga].state == .recAux {
                unlockTransition(ga, to: .delegated)
            } else {
                unlock(ga)  // only a corrupted state (named deviation) gets here
            }
        }
        freeRecs.append(granules[g].obj)
        granules[g].obj = -1
        unlockTransition(g, to: .delegated)
        // The Realm has one REC less (the RD is accessed lock-free for this, as in TF-RMM).
        refcountPut(rec.rdGranule)
        return RMM.success
    }
}
