// The platform an RMMImpl instance runs on: its physical memory map and the values the
// RMM reports or assumes (RmiFeatureRegister0, RecAuxCount, VMID width, PA width).
//
// This is RMMImpl's own description of a platform. It does not share a type with the
// specification side on purpose (the two are written independently).

/// A platform description: which physical addresses are DRAM the RMM manages (delegable),
/// which are device memory (NS-accessible, never delegable), which DRAM granules start out
/// in the Secure PAS (their GPT transition to Realm fails), and the feature values.
public struct RMMPlatform: Sendable, Hashable {
    /// A half-open physical address range `[base, base + size)`.
    public struct Range: Sendable, Hashable {
        public var base: UInt64
        public var size: UInt64
        public init(base: UInt64, size: UInt64) { self.base = base; self.size = size }
        public var end: UInt64 { base &+ size }
        public func contains(_ pa: UInt64) -> Bool { pa >= base && pa - base < size }
    }

    /// DRAM banks the RMM manages (`PaIsDelegable`). Bases and sizes must be 4 KB aligned.
    public var delegable: [Range]
    /// Device (MMIO) ranges: NS-accessible to the Host, never delegable.
    public var device: [Range]
    /// Parts of `delegable` whose GPT entry starts as GPT_SECURE (a carve-out given to the
    /// Secure world): GRANULE_DELEGATE of them fails because EL3 refuses the transition.
    public var secure: [Range]
    /// RmiFeatureRegister0 as RMI_FEATURES(0) returns it; REALM_CREATE validates against it.
    public var features0: UInt64
    /// `RecAuxCount`: the number of auxiliary granules every REC needs (TF-RMM: 16). At most 16.
    public var recAuxCount: Int
    /// 16 with FEAT_VMID16, else 8.
    public var vmidBits: Int
    /// Physical address width (ID_AA64MMFR0_EL1.PARange); SL = 0 needs at least 44.
    public var paWidth: Int
    /// FEAT_HPMN0: a Realm may ask for PMU with 0 event counters.
    public var featHpmn0: Bool
    /// GICv3 virtual priority bits (ICH_VTR_EL2.PRIbits + 1); the low `8 - n` bits of an
    /// LR's priority are RES0.
    public var gicPriorityBits: Int
    /// GICv3 virtual INTID width (16 or 24 bits).
    public var gicIntidBits: Int

    public init(delegable: [Range], device: [Range] = [], secure: [Range] = [],
                features0: UInt64 = RMMPlatform.defaultFeatures0, recAuxCount: Int = 2,
                vmidBits: Int = 16, paWidth: Int = 48, featHpmn0: Bool = false,
                gicPriorityBits: Int = 5, gicIntidBits: Int = 16) {
        self.delegable = delegable
        self.device = device
        self.secure = secure
        self.features0 = features0
        self.recAuxCount = recAuxCount
        self.vmidBits = vmidBits
        self.paWidth = paWidth
        self.featHpmn0 = featHpmn0
        self.gicPriorityBits = gicPriorityBits
        self.gicIntidBits = gicIntidBits
    }

    /// 1 GiB of DRAM at 0x8000_0000 whose last 16 granules are a Secure carve-out, 16 MiB of
    /// device memory at 0x1000_0000, the default feature register, 2 aux granules per REC,
    /// 16-bit VMIDs, 48-bit PAs.
    public static let standard = RMMPlatform(
        delegable: [Range(base: 0x8000_0000, size: 0x4000_0000)],
        device: [Range(base: 0x1000_0000, size: 0x100_0000)],
        secure: [Range(base: 0xBFFF_0000, size: 0x1_0000)])

    /// S2SZ 48, no LPA2, no SVE, NUM_BPS 5, NUM_WPS 3, PMU with 8 counters, SHA-256 and
    /// SHA-512, 15 (+1) list registers, MAX_RECS_ORDER 10.
    public static let defaultFeatures0: UInt64 = encodeFeatures0(
        s2sz: 48, lpa2: false, sve: false, sveVL: 0, numBPs: 5, numWPs: 3, pmu: true, pmuNumCtrs: 8,
        sha256: true, sha512: true, gicv3NumLRs: 15, maxRecsOrder: 10)

    /// RmiFeatureRegister0 (B4.4.6) from its fields.
    public static func encodeFeatures0(s2sz: UInt64, lpa2: Bool, sve: Bool, sveVL: UInt64, numBPs: UInt64,
                                       numWPs: UInt64, pmu: Bool, pmuNumCtrs: UInt64, sha256: Bool,
                                       sha512: Bool, gicv3NumLRs: UInt64, maxRecsOrder: UInt64) -> UInt64 {
        func b(_ x: Bool) -> UInt64 { x ? 1 : 0 }
        return (s2sz & 0xFF) | b(lpa2) << 8 | b(sve) << 9 | (sveVL & 0xF) << 10 | (numBPs & 0x3F) << 14
            | (numWPs & 0x3F) << 20 | b(pmu) << 26 | (pmuNumCtrs & 0x1F) << 27 | b(sha256) << 32
            | b(sha512) << 33 | (gicv3NumLRs & 0xF) << 34 | (maxRecsOrder & 0xF) << 38
    }

    public func isDelegable(_ pa: UInt64) -> Bool { delegable.contains { $0.contains(pa) } }
    public func isDevice(_ pa: UInt64) -> Bool { device.contains { $0.contains(pa) } }
    public func startsSecure(_ pa: UInt64) -> Bool { secure.contains { $0.contains(pa) } }
}

/// Field accessors of RmiFeatureRegister0, as the RMM reads its own register.
struct Features0 {
    let raw: UInt64
    private func f(_ hi: UInt64, _ lo: UInt64) -> UInt64 { (raw >> lo) & ((1 << (hi - lo + 1)) - 1) }
    var s2sz: UInt64 { f(7, 0) }
    var lpa2: Bool { f(8, 8) == 1 }
    var sveEnabled: Bool { f(9, 9) == 1 }
    var sveVL: UInt64 { f(13, 10) }
    var numBPs: UInt64 { f(19, 14) }
    var numWPs: UInt64 { f(25, 20) }
    var pmuEnabled: Bool { f(26, 26) == 1 }
    var pmuNumCtrs: UInt64 { f(31, 27) }
    var sha256: Bool { f(32, 32) == 1 }
    var sha512: Bool { f(33, 33) == 1 }
    var gicv3NumLRs: UInt64 { f(37, 34) }
    var maxRecsOrder: UInt64 { f(41, 38) }
}

/// One DRAM bank as the granule array sees it: granules of `[base, end)` are
/// `granules[offset ..< offset + (end - base) / 4K]`.
struct Bank {
    let base: UInt64
    let end: UInt64
    let offset: Int
}
