/// What the spec leaves to the platform: which physical addresses are delegable, which
/// granules the firmware refuses to move to the Realm PAS, RmiFeatureRegister0, and the
/// implementation-defined constants (RecAuxCount, VMID width).
public struct Platform: Hashable, Sendable, Codable {
    /// A half-open physical address range `[base, base + size)`.
    public struct Range: Hashable, Sendable, Codable {
        public var base: UInt64
        public var size: UInt64
        public init(base: UInt64, size: UInt64) { self.base = base; self.size = size }
        public func contains(_ a: UInt64) -> Bool { a >= base && a - base < size }
    }

    /// Memory presented to the Host as RAM (`PaIsDelegable`).
    public var delegable: [Range]
    /// Delegable granules whose GPT entry starts as GPT_SECURE: delegation of them fails
    /// `gran_gpt`, as when EL3 refuses the transition.
    public var secure: [Range]
    /// RmiFeatureRegister0 as RMI_FEATURES(0) reports it.
    public var features0: UInt64
    /// `RecAuxCount(rd)`; the same for every Realm (TF-RMM: 16).
    public var recAuxCount: UInt64
    /// 16 with FEAT_VMID16, else 8.
    public var vmidBits: UInt64
    /// Physical address width; SL = 0 needs at least 44 bits.
    public var paWidth: UInt64

    public init(delegable: [Range], secure: [Range] = [], features0: UInt64 = Platform.defaultFeatures0,
                recAuxCount: UInt64 = 2, vmidBits: UInt64 = 16, paWidth: UInt64 = 48) {
        self.delegable = delegable
        self.secure = secure
        self.features0 = features0
        self.recAuxCount = recAuxCount
        self.vmidBits = vmidBits
        self.paWidth = paWidth
    }

    /// 1 GiB of DRAM at 0x8000_0000, a 16-granule Secure carve-out at its end.
    public static let standard = Platform(
        delegable: [Range(base: 0x8000_0000, size: 0x4000_0000)],
        secure: [Range(base: 0xBFFF_0000, size: 0x1_0000)])

    /// RmiFeatureRegister0: S2SZ 48, no LPA2, no SVE, NUM_BPS 5, NUM_WPS 3, PMU with 8
    /// counters, SHA-256 and SHA-512, 15 list registers, MAX_RECS_ORDER 10.
    public static let defaultFeatures0: UInt64 = FeatureRegister0(
        s2sz: 48, lpa2: false, sveEnabled: false, sveVL: 0, numBPs: 5, numWPs: 3,
        pmuEnabled: true, pmuNumCtrs: 8, sha256: true, sha512: true, gicv3NumLRs: 15,
        maxRecsOrder: 10).encoded

    public func isDelegable(_ a: UInt64) -> Bool { delegable.contains { $0.contains(a) } }
    public func initialGPT(_ a: UInt64) -> GPT { secure.contains { $0.contains(a) } ? .secure : .ns }
    public var features: FeatureRegister0 { FeatureRegister0(encoded: features0) }
}

/// RmiFeatureRegister0 (B4.4.6), field by field.
public struct FeatureRegister0: Hashable, Sendable {
    public var s2sz: UInt64, lpa2: Bool, sveEnabled: Bool, sveVL: UInt64
    public var numBPs: UInt64, numWPs: UInt64, pmuEnabled: Bool, pmuNumCtrs: UInt64
    public var sha256: Bool, sha512: Bool, gicv3NumLRs: UInt64, maxRecsOrder: UInt64

    public init(s2sz: UInt64, lpa2: Bool, sveEnabled: Bool, sveVL: UInt64, numBPs: UInt64, numWPs: UInt64,
                pmuEnabled: Bool, pmuNumCtrs: UInt64, sha256: Bool, sha512: Bool, gicv3NumLRs: UInt64,
                maxRecsOrder: UInt64) {
        self.s2sz = s2sz; self.lpa2 = lpa2; self.sveEnabled = sveEnabled; self.sveVL = sveVL
        self.numBPs = numBPs; self.numWPs = numWPs; self.pmuEnabled = pmuEnabled; self.pmuNumCtrs = pmuNumCtrs
        self.sha256 = sha256; self.sha512 = sha512; self.gicv3NumLRs = gicv3NumLRs; self.maxRecsOrder = maxRecsOrder
    }

    public init(encoded v: UInt64) {
        func f(_ hi: UInt64, _ lo: UInt64) -> UInt64 { (v >> lo) & ((1 << (hi - lo + 1)) - 1) }
        self.init(s2sz: f(7, 0), lpa2: f(8, 8) == 1, sveEnabled: f(9, 9) == 1, sveVL: f(13, 10),
                  numBPs: f(19, 14), numWPs: f(25, 20), pmuEnabled: f(26, 26) == 1, pmuNumCtrs: f(31, 27),
                  sha256: f(32, 32) == 1, sha512: f(33, 33) == 1, gicv3NumLRs: f(37, 34), maxRecsOrder: f(41, 38))
    }

    public var encoded: UInt64 {
        func b(_ x: Bool) -> UInt64 { x ? 1 : 0 }
        return s2sz | b(lpa2) << 8 | b(sveEnabled) << 9 | sveVL << 10 | numBPs << 14 | numWPs << 20
            | b(pmuEnabled) << 26 | pmuNumCtrs << 27 | b(sha256) << 32 | b(sha512) << 33
            | gicv3NumLRs << 34 | maxRecsOrder << 38
    }
}
