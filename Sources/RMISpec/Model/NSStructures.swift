/// Byte offsets of the fields of the parameter blocks the Host writes in NS memory
/// (B4.4.12 RmiRealmParams, B4.4.19 RmiRecParams, B4.4.20 RmiRecRun). The spec reads
/// them at these offsets; trace writers write them at the same ones.
public enum RealmParamsLayout {
    public static let flags: UInt64 = 0x000, s2sz: UInt64 = 0x008, sveVL: UInt64 = 0x010
    public static let numBPs: UInt64 = 0x018, numWPs: UInt64 = 0x020, pmuNumCtrs: UInt64 = 0x028
    public static let hashAlgo: UInt64 = 0x030, rpv: UInt64 = 0x400, vmid: UInt64 = 0x800
    public static let rttBase: UInt64 = 0x808, rttLevelStart: UInt64 = 0x810, rttNumStart: UInt64 = 0x818
}

public enum RecParamsLayout {
    public static let flags: UInt64 = 0x000, mpidr: UInt64 = 0x100, pc: UInt64 = 0x200
    public static let gprs: UInt64 = 0x300, numAux: UInt64 = 0x800, aux: UInt64 = 0x808
    public static let gprCount = 8
}

public enum RecRunLayout {
    // RmiRecEnter
    public static let enterFlags: UInt64 = 0x000, enterGprs: UInt64 = 0x200
    public static let enterGicv3Hcr: UInt64 = 0x300, enterGicv3Lrs: UInt64 = 0x308
    // RmiRecExit
    public static let exit: UInt64 = 0x800
    public static let exitReason: UInt64 = exit + 0x000, exitEsr: UInt64 = exit + 0x100
    public static let exitFar: UInt64 = exit + 0x108, exitHpfar: UInt64 = exit + 0x110
    public static let exitGprs: UInt64 = exit + 0x200
    public static let exitRipasBase: UInt64 = exit + 0x500, exitRipasTop: UInt64 = exit + 0x508
    public static let exitRipasValue: UInt64 = exit + 0x510, exitImm: UInt64 = exit + 0x600
    /// RmiRecEnterFlags bits.
    public static let flagEmulMmio: UInt64 = 1 << 0, flagInjectSea: UInt64 = 1 << 1
    public static let flagTrapWfi: UInt64 = 1 << 2, flagTrapWfe: UInt64 = 1 << 3
    public static let flagRipasReject: UInt64 = 1 << 4
}

/// RmiRealmParams as plain values, for building traces and tests.
public struct RealmParamsValues: Hashable, Sendable, Codable {
    public var flags: UInt64 = 0, s2sz: UInt64 = 40, sveVL: UInt64 = 0, numBPs: UInt64 = 1, numWPs: UInt64 = 1
    public var pmuNumCtrs: UInt64 = 0, hashAlgo: UInt64 = 0, rpv: UInt64 = 0, vmid: UInt64 = 1
    public var rttBase: UInt64 = 0, rttLevelStart: Int64 = 0, rttNumStart: UInt64 = 1

    public init(rttBase: UInt64, s2sz: UInt64 = 40, rttLevelStart: Int64 = 0, rttNumStart: UInt64 = 1, vmid: UInt64 = 1) {
        self.rttBase = rttBase; self.s2sz = s2sz; self.rttLevelStart = rttLevelStart
        self.rttNumStart = rttNumStart; self.vmid = vmid
    }

    public var words: [(offset: UInt64, value: UInt64)] {
        var w: [(offset: UInt64, value: UInt64)] = []
        forEachWord { w.append(($0, $1)) }
        return w
    }

    /// Calls `body(offset, value)` for each word of `words`, in the same order.
    @inlinable public func forEachWord(_ body: (UInt64, UInt64) -> Void) {
        typealias L = RealmParamsLayout
        body(L.flags, flags); body(L.s2sz, s2sz); body(L.sveVL, sveVL); body(L.numBPs, numBPs)
        body(L.numWPs, numWPs); body(L.pmuNumCtrs, pmuNumCtrs); body(L.hashAlgo, hashAlgo); body(L.rpv, rpv)
        body(L.vmid, vmid); body(L.rttBase, rttBase); body(L.rttLevelStart, UInt64(bitPattern: rttLevelStart))
        body(L.rttNumStart, rttNumStart)
    }
}

/// RmiRecParams as plain values.
public struct RecParamsValues: Hashable, Sendable, Codable {
    public var flags: UInt64 = 1, mpidr: UInt64 = 0, pc: UInt64 = 0
    public var gprs: [UInt64] = Array(repeating: 0, count: RecParamsLayout.gprCount)
    public var numAux: UInt64 = 0
    public var aux: [UInt64] = []

    public init(mpidr: UInt64, runnable: Bool = true, aux: [UInt64], pc: UInt64 = 0) {
        self.mpidr = mpidr; self.flags = runnable ? 1 : 0; self.aux = aux
        self.numAux = UInt64(aux.count); self.pc = pc
    }

    public var words: [(offset: UInt64, value: UInt64)] {
        var w: [(offset: UInt64, value: UInt64)] = []
        forEachWord { w.append(($0, $1)) }
        return w
    }

    /// Calls `body(offset, value)` for each word of `words`, in the same order.
    @inlinable public func forEachWord(_ body: (UInt64, UInt64) -> Void) {
        typealias L = RecParamsLayout
        body(L.flags, flags); body(L.mpidr, mpidr); body(L.pc, pc); body(L.numAux, numAux)
        for (i, g) in gprs.prefix(L.gprCount).enumerated() { body(L.gprs + 8 * UInt64(i), g) }
        for (i, a) in aux.prefix(RecField.auxMax).enumerated() { body(L.aux + 8 * UInt64(i), a) }
    }
}

/// RmiRecEnter as plain values.
public struct RecEnterValues: Hashable, Sendable, Codable {
    public var flags: UInt64 = 0
    public var gprs: [UInt64] = Array(repeating: 0, count: RecField.gprCount)
    public var gicv3Hcr: UInt64 = 0
    public var gicv3Lrs: [UInt64] = Array(repeating: 0, count: 16)
    public init(flags: UInt64 = 0) { self.flags = flags }

    public var words: [(offset: UInt64, value: UInt64)] {
        var w: [(offset: UInt64, value: UInt64)] = []
        forEachWord { w.append(($0, $1)) }
        return w
    }

    /// Calls `body(offset, value)` for each word of `words`, in the same order.
    @inlinable public func forEachWord(_ body: (UInt64, UInt64) -> Void) {
        typealias L = RecRunLayout
        body(L.enterFlags, flags); body(L.enterGicv3Hcr, gicv3Hcr)
        for (i, g) in gprs.enumerated() { body(L.enterGprs + 8 * UInt64(i), g) }
        for (i, l) in gicv3Lrs.enumerated() { body(L.enterGicv3Lrs + 8 * UInt64(i), l) }
    }
}

/// Named fields of RmiRecExit, for expectations in traces.
public enum ExitRecord {
    public static func offset(of name: String) -> UInt64? {
        typealias L = RecRunLayout
        switch name {
        case "exit_reason": return L.exitReason
        case "esr": return L.exitEsr
        case "far": return L.exitFar
        case "hpfar": return L.exitHpfar
        case "ripas_base": return L.exitRipasBase
        case "ripas_top": return L.exitRipasTop
        case "ripas_value": return L.exitRipasValue
        case "imm": return L.exitImm
        default:
            if name.hasPrefix("gprs"), let i = UInt64(name.dropFirst(4)), i < 31 { return L.exitGprs + 8 * i }
            return nil
        }
    }
}
