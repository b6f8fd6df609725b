// Encodings of the spec's enumerations. Where RMI defines a value (RmiStatusCode,
// RmiRttEntryState, RmiRipas, RmiRecExitReason, PsciReturnCode) the raw value is the
// spec's; the internal states (granule, GPT, realm, HIPAS) use a compact numbering of ours.

/// RmmGranuleState (A2.2).
public enum GranuleState: UInt64, CaseIterable, Sendable, Codable {
    case undelegated = 0, delegated, rd, rec, recAux, data, rtt
    public var specName: String {
        switch self {
        case .undelegated: "UNDELEGATED"
        case .delegated: "DELEGATED"
        case .rd: "RD"
        case .rec: "REC"
        case .recAux: "REC_AUX"
        case .data: "DATA"
        case .rtt: "RTT"
        }
    }
}

/// RmmGptEntry (C1.5).
public enum GPT: UInt64, CaseIterable, Sendable, Codable {
    case ns = 0, realm, secure, root, aap
    public var specName: String {
        switch self {
        case .ns: "GPT_NS"
        case .realm: "GPT_REALM"
        case .secure: "GPT_SECURE"
        case .root: "GPT_ROOT"
        case .aap: "GPT_AAP"
        }
    }
}

/// RmmRealmState (A2.1.5), numbered as TF-RMM does.
public enum RealmState: UInt64, CaseIterable, Sendable, Codable {
    case new = 0, active, systemOff
    public var specName: String {
        switch self {
        case .new: "REALM_NEW"
        case .active: "REALM_ACTIVE"
        case .systemOff: "REALM_SYSTEM_OFF"
        }
    }
}

/// RmmRecState (A2.3.4).
public enum RecState: UInt64, CaseIterable, Sendable, Codable {
    case ready = 0, running
    public var specName: String { self == .ready ? "REC_READY" : "REC_RUNNING" }
}

/// RmmRttEntryState (A5.5.4): the abstract entry states, including the NS ones.
public enum RttEntryState: UInt64, CaseIterable, Sendable, Codable {
    case unassigned = 0, assigned, unassignedNS, assignedNS, table
    public var specName: String {
        switch self {
        case .unassigned: "UNASSIGNED"
        case .assigned: "ASSIGNED"
        case .unassignedNS: "UNASSIGNED_NS"
        case .assignedNS: "ASSIGNED_NS"
        case .table: "TABLE"
        }
    }
    /// RmiRttEntryState, as RTT_READ_ENTRY reports it.
    public var rmiValue: UInt64 {
        switch self {
        case .unassigned, .unassignedNS: 0
        case .assigned, .assignedNS: 1
        case .table: 2
        }
    }
}

/// RmiRipas (C1.26 / B4.4.23). DEV is not reachable at v1.0.
public enum Ripas: UInt64, CaseIterable, Sendable, Codable {
    case empty = 0, ram = 1, destroyed = 2
    public var specName: String {
        switch self {
        case .empty: "RIPAS_EMPTY"
        case .ram: "RIPAS_RAM"
        case .destroyed: "RIPAS_DESTROYED"
        }
    }
}

/// RmiStatusCode (B4.4.25).
public enum Status: UInt64, CaseIterable, Sendable, Codable, Comparable {
    case success = 0, errorInput, errorRealm, errorRec, errorRtt
    public var specName: String {
        switch self {
        case .success: "RMI_SUCCESS"
        case .errorInput: "RMI_ERROR_INPUT"
        case .errorRealm: "RMI_ERROR_REALM"
        case .errorRec: "RMI_ERROR_REC"
        case .errorRtt: "RMI_ERROR_RTT"
        }
    }
    public init?(specName: String) {
        guard let s = Status.allCases.first(where: { $0.specName == specName || $0.shortName == specName }) else { return nil }
        self = s
    }
    /// The name without the `RMI_` / `RMI_ERROR_` prefix, as the reference tables write it.
    public var shortName: String {
        switch self {
        case .success: "SUCCESS"
        case .errorInput: "INPUT"
        case .errorRealm: "REALM"
        case .errorRec: "REC"
        case .errorRtt: "RTT"
        }
    }
    public static func < (a: Status, b: Status) -> Bool { a.rawValue < b.rawValue }
}

/// RmiRecExitReason (B4.4.17).
public enum ExitReason: UInt64, CaseIterable, Sendable, Codable {
    case sync = 0, irq, fiq, psci, ripasChange, hostCall, serror
    public var specName: String {
        switch self {
        case .sync: "RMI_EXIT_SYNC"
        case .irq: "RMI_EXIT_IRQ"
        case .fiq: "RMI_EXIT_FIQ"
        case .psci: "RMI_EXIT_PSCI"
        case .ripasChange: "RMI_EXIT_RIPAS_CHANGE"
        case .hostCall: "RMI_EXIT_HOST_CALL"
        case .serror: "RMI_EXIT_SERROR"
        }
    }
}

/// PSCI function IDs the Realm can call (SMC64 where both exist) and PsciReturnCode.
public enum PSCI {
    public static let version: UInt64 = 0x8400_0000
    public static let cpuSuspend: UInt64 = 0xC400_0001
    public static let cpuOff: UInt64 = 0x8400_0002
    public static let cpuOn: UInt64 = 0xC400_0003
    public static let affinityInfo: UInt64 = 0xC400_0004
    public static let systemOff: UInt64 = 0x8400_0008
    public static let systemReset: UInt64 = 0x8400_0009

    public static let success: UInt64 = 0
    public static let off: UInt64 = 1
    public static let notSupported: UInt64 = UInt64(bitPattern: -1)
    public static let invalidParameters: UInt64 = UInt64(bitPattern: -2)
    public static let denied: UInt64 = UInt64(bitPattern: -3)
    public static let alreadyOn: UInt64 = UInt64(bitPattern: -4)
    public static let invalidAddress: UInt64 = UInt64(bitPattern: -9)
}

/// Sizes and layout constants.
public enum Layout {
    public static let granuleSize: UInt64 = 0x1000
    public static let entriesPerRtt: UInt64 = 512
    /// RMI interface version 1.0 (RmiInterfaceVersion: major 30:16, minor 15:0).
    public static let version10: UInt64 = 0x10000
    /// RTT entry descriptor fields the Host controls in RTT_MAP_UNPROTECTED (A5.5.11).
    public static let descMemAttrMask: UInt64 = 0b111 << 2
    public static let descS2APMask: UInt64 = 0b11 << 6
    public static let descAttrMask: UInt64 = descMemAttrMask | descS2APMask
    /// MemAttr value 0b100 is reserved (FWB encoding) and rejected by attr_valid.
    public static let descMemAttrReserved: UInt64 = 0b100 << 2
}
