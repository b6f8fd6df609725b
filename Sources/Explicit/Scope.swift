import Foundation
import RMISpec

/// What an explicit-state search explores: a finite action alphabet over a bounded set of
/// addresses. The Host's calls draw their arguments from `pool` (the first `granules`
/// Granules of the platform's DRAM) plus two fixed failure addresses; parameter blocks are
/// written to fixed NS pages outside the pool before each call that reads one.
public struct ExplicitScope: Sendable, Hashable, CustomStringConvertible {
    /// The keys shared with the symbolic engines' scope (`granules`, `realms`, `recs`,
    /// `aux`), parsed by the same parser (`Scope.items`); `entries` and `secure` are not used
    /// here.
    public var base = Scope(granules: 5, realms: 1, recs: 1, entries: 4, aux: 1, secure: 0)
    public var granules: Int { get { base.granules } set { base.granules = newValue } }
    public var realms: Int { get { base.realms } set { base.realms = newValue } }
    /// RECs per Realm (MPIDRs 0..recs-1).
    public var recs: Int { get { base.recs } set { base.recs = newValue } }
    /// RecAuxCount of the scope's platform.
    public var aux: Int { get { base.aux } set { base.aux = newValue } }
    /// Protected IPAs 0, 0x1000, ... (one Granule apart, all under one level-3 RTT).
    public var ipas: Int = 1
    /// Whether the unprotected IPA (MAP/UNMAP_UNPROTECTED) is in the alphabet.
    public var unprotected: Bool = true
    /// Whether Realms may also be created with the 40-bit geometry (w = 40, SL = 0).
    public var wide: Bool = false
    /// Whether the alphabet includes the failure calls (non-delegable and unaligned
    /// addresses, wrong-state undelegates, wrong-level RTT calls).
    public var failures: Bool = true
    /// Realm actions of REC_ENTER.
    public var realmActions: Set<RealmActionKind> = [.irq, .psciCpuOn, .psciAffinityInfo, .psciCpuOff, .stayRunning,
                                                      .psciSystemOff, .ripasChange, .hostCall, .mmioAbort]

    public init() {}

    public static let standardBase: UInt64 = Platform.standard.delegable[0].base

    /// The platform of the scope: the standard one with RecAuxCount = `aux`.
    public var platform: Platform {
        var p = Platform.standard
        p.recAuxCount = UInt64(aux)
        return p
    }

    public var pool: [UInt64] { (0..<UInt64(granules)).map { ExplicitScope.standardBase + $0 * 0x1000 } }
    /// Fixed addresses outside the pool.
    public static let nonDelegable: UInt64 = 0x1000
    public var unaligned: UInt64 { ExplicitScope.standardBase + UInt64(granules) * 0x1000 + 0x8 }
    public static let realmParamsPage: UInt64 = standardBase + 0x1000_0000
    public static let recParamsPage: UInt64 = standardBase + 0x1000_1000
    public static let runPage: UInt64 = standardBase + 0x1000_2000
    public static let dataSrcPage: UInt64 = standardBase + 0x1000_3000
    /// The NS address ASSIGNED_NS entries map when they do not map a pool Granule.
    public static let nsTarget: UInt64 = 0x9000_0000 | 0b111 << 2 | 0b11 << 6
    public static let unprotectedIPA: UInt64 = 1 << 31

    public var protectedIPAs: [UInt64] { (0..<UInt64(ipas)).map { $0 * 0x1000 } }
    public var allIPAs: [UInt64] { protectedIPAs + (unprotected ? [ExplicitScope.unprotectedIPA] : []) }

    /// Realm geometries (s2sz, SL, rtt_num_start): the cheapest valid one (one level-1
    /// starting RTT for a 32-bit IPA space) and, with `wide`, a 40-bit one at level 0.
    public var geometries: [(UInt64, Int64, UInt64)] { [(32, 1, 1)] + (wide ? [(40, 0, 1)] : []) }

    public var description: String {
        "granules=\(granules),realms=\(realms),recs=\(recs),ipas=\(ipas),aux=\(aux)"
            + (unprotected ? "" : ",unprotected=0") + (wide ? ",wide=1" : "") + (failures ? "" : ",failures=0")
    }

    /// The default check plan: small scopes, each searched exhaustively, that together reach
    /// every cover target. One Realm with one REC over 5 Granules is the main scope (every
    /// command's success path, RTTs down to level 3, DATA, unprotected mappings); two
    /// Realms (INV-R5), two RECs (INV-R1, R2, C4: PSCI requests between RECs) and 7 Granules
    /// (INV-G3 needs a REC, its aux Granule and a DATA Granule mapped by a level-3 RTT at
    /// once) each need more than 5 Granules' worth of objects, so they get scopes of their
    /// own with the rest of the alphabet cut down.
    public static let defaultPlan = "granules=5;granules=4,realms=2;granules=4,recs=2,aux=0,ipas=0,unprotected=0;granules=7,unprotected=0"

    /// Parses a plan: scopes separated by ';'.
    public static func parsePlan(_ text: String) throws(ParseError) -> [ExplicitScope] {
        var plan: [ExplicitScope] = []
        for part in text.split(separator: ";", omittingEmptySubsequences: false) { plan.append(try parse(String(part))) }
        return plan
    }

    public typealias ParseError = Scope.ParseError

    /// The keys of an explicit scope: the symbolic scope's shared keys, then the explicit
    /// engine's own.
    public static let keys = ["granules", "realms", "recs", "aux", "ipas", "unprotected", "wide", "failures"]

    /// The range of each key's value.
    static func range(_ key: String) -> ClosedRange<Int> {
        switch key {
        case "granules": 1...16
        case "realms", "recs", "aux": 0...4
        case "ipas": 0...8
        default: 0...1
        }
    }

    /// Parses `granules=4,realms=1,recs=1,ipas=2` (any subset, any order) on top of the
    /// defaults, with `Scope.items`, the parser the symbolic scope uses.
    public static func parse(_ text: String) throws(ParseError) -> ExplicitScope {
        var s = ExplicitScope()
        for (key, v) in try Scope.items(text, keys: keys) {
            if let problem = Scope.rangeError(key, v, range(key)) { throw ParseError(message: problem) }
            switch key {
            case "granules": s.granules = v
            case "realms": s.realms = v
            case "recs": s.recs = v
            case "aux": s.aux = v
            case "ipas": s.ipas = v
            case "unprotected": s.unprotected = v == 1
            case "wide": s.wide = v == 1
            default: s.failures = v == 1
            }
        }
        return s
    }
}
