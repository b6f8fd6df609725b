// The SMC entry point: RMI function IDs, the dispatcher, and the register convention of
// TF-RMM's `handle_ns_smc` (reference 1.1): X1..X3 of the result read 0 unless the command
// writes them, X4 comes back as the caller passed it unless the command writes it.

/// The result registers while a command runs.
struct Regs {
    var x0: UInt64, x1: UInt64, x2: UInt64, x3: UInt64, x4: UInt64
    @inline(__always) init(x4: UInt64) { x0 = 0; x1 = 0; x2 = 0; x3 = 0; self.x4 = x4 }
}

extension RMM {
    /// RMI function IDs (SMC64, Standard Secure Service, owning entity 4; B4.3).
    public enum FID {
        public static let version: UInt64 = 0xC400_0150
        public static let granuleDelegate: UInt64 = 0xC400_0151
        public static let granuleUndelegate: UInt64 = 0xC400_0152
        public static let dataCreate: UInt64 = 0xC400_0153
        public static let dataCreateUnknown: UInt64 = 0xC400_0154
        public static let dataDestroy: UInt64 = 0xC400_0155
        public static let realmActivate: UInt64 = 0xC400_0157
        public static let realmCreate: UInt64 = 0xC400_0158
        public static let realmDestroy: UInt64 = 0xC400_0159
        public static let recCreate: UInt64 = 0xC400_015A
        public static let recDestroy: UInt64 = 0xC400_015B
        public static let recEnter: UInt64 = 0xC400_015C
        public static let rttCreate: UInt64 = 0xC400_015D
        public static let rttDestroy: UInt64 = 0xC400_015E
        public static let rttMapUnprotected: UInt64 = 0xC400_015F
        public static let rttReadEntry: UInt64 = 0xC400_0161
        public static let rttUnmapUnprotected: UInt64 = 0xC400_0162
        public static let psciComplete: UInt64 = 0xC400_0164
        public static let features: UInt64 = 0xC400_0165
        public static let rttFold: UInt64 = 0xC400_0166
        public static let recAuxCount: UInt64 = 0xC400_0167
        public static let rttInitRipas: UInt64 = 0xC400_0168
        public static let rttSetRipas: UInt64 = 0xC400_0169

        /// The 23 commands, in FID order.
        public static let all: [UInt64] = [
            version, granuleDelegate, granuleUndelegate, dataCreate, dataCreateUnknown, dataDestroy,
            realmActivate, realmCreate, realmDestroy, recCreate, recDestroy, recEnter, rttCreate, rttDestroy,
            rttMapUnprotected, rttReadEntry, rttUnmapUnprotected, psciComplete, features, rttFold, recAuxCount,
            rttInitRipas, rttSetRipas,
        ]
        /// SMCCC v1.3 SVE hint bit; stripped before dispatch.
        public static let sveHint: UInt64 = 1 << 16
    }

    /// The SMC entry: function ID in W0 (the upper 32 bits of X0 are ignored, as SMCCC
    /// says), arguments in X1..X5. Returns X0..X4.
    public func handle(fid: UInt64, _ x1: UInt64 = 0, _ x2: UInt64 = 0, _ x3: UInt64 = 0, _ x4: UInt64 = 0,
                       _ x5: UInt64 = 0) -> (x0: UInt64, x1: UInt64, x2: UInt64, x3: UInt64, x4: UInt64) {
        let out = core.dispatch(fid, x1, x2, x3, x4, x5)
        return (out.x0, out.x1, out.x2, out.x3, out.x4)
    }

    /// `handle` with the result as a value.
    public func call(_ fid: UInt64, _ x1: UInt64 = 0, _ x2: UInt64 = 0, _ x3: UInt64 = 0, _ x4: UInt64 = 0,
                     _ x5: UInt64 = 0) -> RMIResult {
        let r = core.dispatch(fid, x1, x2, x3, x4, x5)
        return RMIResult(x0: r.x0, x1: r.x1, x2: r.x2, x3: r.x3, x4: r.x4)
    }
}

extension Core {
    typealias FID = RMM.FID

    /// `handle_ns_smc`.
    mutating func dispatch(_ fid: UInt64, _ x1: UInt64, _ x2: UInt64, _ x3: UInt64, _ x4: UInt64, _ x5: UInt64) -> Regs {
        var out = Regs(x4: x4)
        let id = fid & 0xFFFF_FFFF & ~FID.sveHint
        switch id {
        case FID.version:
            out.x0 = x1 == RMM.interfaceVersion ? RMM.success : RMM.errInput
            out.x1 = RMM.interfaceVersion
            out.x2 = RMM.interfaceVersion
        case FID.granuleDelegate: out.x0 = smcGranuleDelegate(x1)
        case FID.granuleUndelegate: out.x0 = smcGranuleUndelegate(x1)
        case FID.dataCreate: out.x0 = smcDataCreate(x1, x2, x3, x4, x5)
        case FID.dataCreateUnknown: out.x0 = dataCreate(x1, x2, x3, src: nil, flags: 0)
        case FID.dataDestroy: smcDataDestroy(x1, x2, &out)
        case FID.realmActivate: out.x0 = smcRealmActivate(x1)
        case FID.realmCreate: out.x0 = smcRealmCreate(x1, x2)
        case FID.realmDestroy: out.x0 = smcRealmDestroy(x1)
        case FID.recCreate: out.x0 = smcRecCreate(x1, x2, x3)
        case FID.recDestroy: out.x0 = smcRecDestroy(x1)
        case FID.recEnter: out.x0 = smcRecEnter(x1, x2)
        case FID.rttCreate: out.x0 = smcRttCreate(x1, x2, x3, x4)
        case FID.rttDestroy: smcRttDestroy(x1, x2, x3, &out)
        case FID.rttMapUnprotected: out.x0 = smcRttMapUnprotected(x1, x2, x3, x4)
        case FID.rttReadEntry: smcRttReadEntry(x1, x2, x3, &out)
        case FID.rttUnmapUnprotected: smcRttUnmapUnprotected(x1, x2, x3, &out)
        case FID.psciComplete: out.x0 = smcPsciComplete(x1, x2, x3)
        case FID.features: out.x1 = x1 == 0 ? platform.features0 : 0
        case FID.rttFold: smcRttFold(x1, x2, x3, &out)
        case FID.recAuxCount: smcRecAuxCount(x1, &out)
        case FID.rttInitRipas: smcRttInitRipas(x1, x2, x3, &out)
        case FID.rttSetRipas: smcRttSetRipas(x1, x2, x3, x4, &out)
        default: out.x0 = RMM.notSupported
        }
        assert(locksHeld == 0, "a command returned with granules locked")
        return out
    }

    /// RMI_GRANULE_DELEGATE (B4.3.6).
    mutating func smcGranuleDelegate(_ addr: UInt64) -> UInt64 {
        // gran_align, gran_bound, gran_state.
        let g = findLockGranule(addr, .undelegated)
        if g < 0 { return RMM.errInput }
        // gran_gpt: EL3 moves the granule to the Realm PAS only from the NS PAS.
        if granules[g].gpt != .ns {
            unlock(g)
            return RMM.errInput
        }
        touch(g)
        granules[g].gpt = .realm
        scrub(g)
        unlockTransition(g, to: .delegated)
        return RMM.success
    }

    /// RMI_GRANULE_UNDELEGATE (B4.3.7).
    mutating func smcGranuleUndelegate(_ addr: UInt64) -> UInt64 {
        // gran_align, gran_bound, gran_state.
        let g: Int
        if bugs.contains(.undelegateAnyState) {
            g = granuleIndex(addr)
            if g < 0 || granules[g].state == .undelegated { return RMM.errInput }
            lock(g)
        } else {
            g = findLockGranule(addr, .delegated)
            if g < 0 { return RMM.errInput }
        }
        // Nothing of the Realm world leaves with the granule.
        if !bugs.contains(.undelegateNoWipe) { scrub(g) }
        touch(g)
        granules[g].gpt = .ns
        unlockTransition(g, to: .undelegated)
        return RMM.success
    }
}
