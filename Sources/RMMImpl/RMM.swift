// RMMImpl: an implementation of the Realm Management Monitor for DEN0137 1.0-rel0, written
// the way a firmware RMM is written (TF-RMM style): a physical granule array with state,
// refcount and lock; Realm Descriptors, RECs and RTTs stored in their granules; RTTs as
// 512-entry tables of 64-bit stage-2 descriptors walked level by level; results encoded as
// `status | index << 8` in X0. It is independent of the specification model (RMISpec) and
// must never import it.
//
// The model is single-threaded, but the lock discipline of a multi-core RMM is kept visible:
// every command locks the granules it works on (two granules in address order; RTTs hand over
// hand from the RD down the walk) and unlocks them before it returns.
//
// Where TF-RMM at tag rmm-spec-v1.0-rel0 departs from the spec (reference section 9),
// RMMImpl does what the spec says: RTT_SET_RIPAS checks top_gran_align and applies the
// "already has that RIPAS" exemption; RTT_INIT_RIPAS turns UNASSIGNED/DESTROYED into RAM;
// RTT_READ_ENTRY reports the address of an ASSIGNED/DESTROYED entry; REALM_CREATE checks
// rtt_align; MAP/UNMAP_UNPROTECTED compare the level with SL; RTT_FOLD reports (RTT, level)
// for every non-homogeneous child; REC_CREATE compares the full 64-bit num_aux;
// PSCI_COMPLETE has no side effects when it fails; REC_ENTER has no inject_sea failure and
// a Protected-IPA abort is never emulatable. Where the spec leaves the order of two failure
// conditions open, RMMImpl checks them in TF-RMM's order.
//
// Contents of granules: a granule's words are scrubbed when it is delegated, when it leaves
// the Realm PAS (GRANULE_UNDELEGATE) and when it is handed to a new owner with unknown
// contents (DATA_CREATE_UNKNOWN); DATA_CREATE and RTT creation overwrite them. A granule
// going back to DELEGATED keeps its words until then (nobody can see them), which is what
// makes `RMMBugs.undelegateNoWipe` observable.
//
// Files: RMM.swift (the facade and the state), Handler.swift (SMC dispatch), Granule.swift,
// MemoryMap.swift, S2TT.swift, Realm.swift, Rec.swift, Run.swift, Psci.swift, Data.swift,
// RttStructure.swift, RttMap.swift, RttRipas.swift, Measurement.swift, Introspection.swift,
// Bugs.swift.

/// An RMM instance: its memory, its objects and its SMC entry point (`handle`).
///
/// The state lives in a value (`Core`); this class is the handle callers share. (Keeping the
/// state in a struct lets the compiler check exclusive access statically: a class's stored
/// properties are checked at run time on every access, which cost two thirds of the time.)
public final class RMM {
    var core: Core

    /// A freshly booted RMM: every granule UNDELEGATED, GPT NS (Secure in `platform.secure`),
    /// no Realms.
    public init(platform: RMMPlatform = .standard, bugs: RMMBugs = [], guest: any RealmGuest = IdleGuest()) {
        core = Core(platform: platform, bugs: bugs, guest: guest)
    }

    init(core: Core) { self.core = core }

    /// Another RMM in the same state, independent of this one from now on (the state is a
    /// value, so the two share its storage until one of them changes it).
    public func copy() -> RMM { RMM(core: core) }

    /// The memory map and feature values this RMM runs with.
    public var platform: RMMPlatform { core.platform }
    /// Named deviations compiled into this instance (empty: the correct RMM).
    public var bugs: RMMBugs { core.bugs }
    /// What the Realm does when one of its RECs runs (REC_ENTER).
    public var guest: any RealmGuest {
        get { core.guest }
        set { core.guest = newValue }
    }
    /// If set, the next REC_ENTER that gets as far as running the Realm uses this behaviour
    /// instead of asking `guest`. Every REC_ENTER clears it, whether it ran the Realm or not.
    public var nextBehaviour: RealmBehaviour? {
        get { core.nextBehaviour }
        set { core.nextBehaviour = newValue }
    }
    /// Record the inputs of every measurement extension in the RD (`RealmDescriptor.rimLog`),
    /// so that an abstraction can recompute the RIM with another hash. Off by default.
    public var recordsMeasurementLog: Bool {
        get { core.recordsMeasurementLog }
        set { core.recordsMeasurementLog = newValue }
    }
    /// Times a granule was locked that was already locked (a deadlock on a real multi-core
    /// RMM), or unlocked that was not locked. Always 0 unless a named deviation corrupted
    /// the state.
    public var lockViolations: Int { core.lockViolations }
    /// Times a refcount would have gone below 0 or above its maximum. Always 0 unless a named
    /// deviation corrupted the state.
    public var refcountViolations: Int { core.refcountViolations }
    /// Granules locked at the moment (0 between calls).
    public var locksHeld: Int { core.locksHeld }

    /// Back to the state right after boot (the configuration and the guest are kept).
    public func reset() { core.reset() }

    /// Ends the run of a REC that a REC_ENTER left running (`RealmBehaviour.stayRunning`):
    /// the Realm does `behaviour`, the REC exits and the exit record is written to that
    /// REC_ENTER's run granule. Returns X0 of the REC_ENTER: SUCCESS, or RMI_ERROR_INPUT if
    /// writing the exit record faults (the Realm's effects stay) or if `rec` is not a running
    /// REC or `behaviour` is `stayRunning` (then nothing changes).
    public func completeRun(rec: UInt64, _ behaviour: RealmBehaviour) -> UInt64 {
        core.completeRun(rec: rec, behaviour)
    }
}

/// The RMM's state and all the code that works on it.
struct Core {
    typealias GranuleState = RMM.GranuleState
    typealias GPT = RMM.GPT
    typealias RealmState = RMM.RealmState
    typealias ExitReason = RMM.ExitReason

    // MARK: Configuration

    let platform: RMMPlatform
    let bugs: RMMBugs
    var guest: any RealmGuest
    var nextBehaviour: RealmBehaviour?
    var recordsMeasurementLog = false
    let features: Features0
    let banks: [Bank]

    // MARK: Physical memory

    /// One entry per 4 KB granule of every DRAM bank, banks in `platform.delegable` order.
    var granules: [Granule]
    /// Granules changed since the last reset (for a cheap `reset()`).
    var touched: [Int32] = []
    /// The contents of granules, 512 words per page slot; a granule with `page < 0` reads 0.
    var pageMem: [UInt64] = []
    /// Page slots not in use (all words zero).
    var freePages: [Int32] = []
    /// Device memory words the Host wrote (NS-accessible, not delegable).
    var deviceMem: [UInt64: UInt64] = [:]

    // MARK: Objects living in granules

    /// Realm Descriptors, one slot per RD granule (`Granule.obj`).
    var rds: [RealmDescriptor] = []
    var freeRds: [Int32] = []
    /// RECs, one slot per REC granule (`Granule.obj`).
    var recs: [RecInfo] = []
    var freeRecs: [Int32] = []
    /// VMIDs in use, one bit each.
    var vmidBitmap: [UInt64]

    // MARK: Diagnostics

    var lockViolations = 0
    var refcountViolations = 0
    var locksHeld = 0

    init(platform: RMMPlatform, bugs: RMMBugs, guest: any RealmGuest) {
        self.platform = platform
        self.bugs = bugs
        self.guest = guest
        self.features = Features0(raw: platform.features0)
        var banks: [Bank] = []
        var count = 0
        for r in platform.delegable {
            precondition(r.base & 0xFFF == 0 && r.size & 0xFFF == 0, "DRAM banks must be 4 KB aligned")
            banks.append(Bank(base: r.base, end: r.end, offset: count))
            count += Int(r.size >> 12)
        }
        self.banks = banks
        var granules: [Granule] = []
        granules.reserveCapacity(count)
        for r in platform.delegable {
            var pa = r.base
            while pa < r.end {
                granules.append(Granule(gpt: platform.startsSecure(pa) ? .secure : .ns))
                pa += 0x1000
            }
        }
        self.granules = granules
        self.vmidBitmap = [UInt64](repeating: 0, count: (1 << 16) / 64)
    }

    mutating func reset() {
        for g in touched {
            let i = Int(g)
            granules[i] = Granule(gpt: platform.startsSecure(granuleAddress(i)) ? .secure : .ns)
        }
        touched.removeAll(keepingCapacity: true)
        pageMem.removeAll(keepingCapacity: true)
        freePages.removeAll(keepingCapacity: true)
        deviceMem.removeAll()
        rds.removeAll(keepingCapacity: true)
        freeRds.removeAll(keepingCapacity: true)
        recs.removeAll(keepingCapacity: true)
        freeRecs.removeAll(keepingCapacity: true)
        for i in vmidBitmap.indices { vmidBitmap[i] = 0 }
        nextBehaviour = nil
        lockViolations = 0
        refcountViolations = 0
        locksHeld = 0
    }
}

// MARK: - Result encoding

extension RMM {
    /// RmiStatusCode (B4.4.25).
    public enum Status: UInt8, Sendable, CaseIterable {
        case success = 0, errorInput, errorRealm, errorRec, errorRtt
    }

    /// The X0 value of a result: `status | index << 8` (RmiCommandReturnCode, B4.4.1).
    @inline(__always)
    public static func returnCode(_ s: Status, index: UInt8 = 0) -> UInt64 {
        UInt64(s.rawValue) | UInt64(index) << 8
    }

    /// `(RMI_ERROR_RTT, level)`, the level cast to 8 bits (level -1 gives 0xFF, as TF-RMM).
    @inline(__always)
    static func rttError(_ level: Int) -> UInt64 {
        4 | UInt64(UInt8(truncatingIfNeeded: level)) << 8
    }

    static let success: UInt64 = 0
    static let errInput: UInt64 = 1
    static let errRealm: UInt64 = 2
    static let errRec: UInt64 = 3

    /// The SMCCC answer to a function ID the RMM does not implement.
    public static let notSupported: UInt64 = 0xFFFF_FFFF_FFFF_FFFF

    /// The RMI interface revision this RMM implements (1.0).
    public static let interfaceVersion: UInt64 = 0x1_0000

    /// Decodes X0 into (status, index); nil for a value that is not an RMI return code
    /// (such as `notSupported`).
    public static func decode(_ x0: UInt64) -> (status: Status, index: UInt8)? {
        guard x0 >> 16 == 0, let s = Status(rawValue: UInt8(x0 & 0xFF)) else { return nil }
        return (s, UInt8(x0 >> 8 & 0xFF))
    }
}

/// The registers an RMI call returns.
public struct RMIResult: Sendable, Hashable, CustomStringConvertible {
    public var x0: UInt64, x1: UInt64, x2: UInt64, x3: UInt64, x4: UInt64
    public init(x0: UInt64, x1: UInt64 = 0, x2: UInt64 = 0, x3: UInt64 = 0, x4: UInt64 = 0) {
        self.x0 = x0; self.x1 = x1; self.x2 = x2; self.x3 = x3; self.x4 = x4
    }
    public var status: RMM.Status? { RMM.decode(x0)?.status }
    public var index: UInt8? { RMM.decode(x0)?.index }
    public var description: String {
        func h(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        return "x0=\(h(x0)) x1=\(h(x1)) x2=\(h(x2)) x3=\(h(x3)) x4=\(h(x4))"
    }
}
