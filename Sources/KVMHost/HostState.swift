import RMISpec

/// The host realm state of KVM (`realm.state`, reference §7.1): NONE -> NEW (CREATE) ->
/// ACTIVE (ACTIVATE) -> DYING (destroy) -> DEAD.
public enum HostRealmState: UInt8, Hashable, Sendable, CustomStringConvertible {
    case none, new, active, dying, dead
    public var description: String { ["NONE", "NEW", "ACTIVE", "DYING", "DEAD"][Int(rawValue)] }
}

/// What the host uses a page for (its ownership, reference §7.1: allocator / host-held /
/// pinned-leak). A page absent from `HostState.pages` is in the page allocator.
public enum PageUse: Hashable, Sendable, CustomStringConvertible {
    /// KVM's stage-2 PGD: the root RTTs once delegated (§2.1 step 4).
    case pgd
    /// The `realm_params` page (§1.1, freed on CREATE success, §2.1 step 9).
    case realmParams
    case rd
    /// A non-root RTT, created for `ipa` at `level` (§2.2).
    case rtt(level: Int, ipa: UInt64)
    case rec(vcpu: Int)
    case aux(vcpu: Int)
    /// The `rec_run` page: shared with the RMM, stays NS (§2.6).
    case run(vcpu: Int)
    case recParams(vcpu: Int)
    /// A guest_memfd page backing the protected IPA (§1.4, §3.5).
    case gmem(ipa: UInt64)
    /// VMM memory behind the shared alias of a GPA (a VMA page; populate's source, §1.4).
    case user(gpa: UInt64)
    /// WARN, and the page is never handed back (§4.3): `get_page` or skipped `free_page`.
    case leaked
    /// Neither held nor freed nor marked leaked: the host lost track of it (the v9 leak, M2).
    case lost

    public var description: String {
        switch self {
        case .pgd: "pgd"
        case .realmParams: "realm_params"
        case .rd: "rd"
        case .rtt(let l, let ipa): "rtt(L\(l), \(hex(ipa)))"
        case .rec(let v): "rec(vcpu\(v))"
        case .aux(let v): "aux(vcpu\(v))"
        case .run(let v): "rec_run(vcpu\(v))"
        case .recParams(let v): "rec_params(vcpu\(v))"
        case .gmem(let ipa): "gmem(\(hex(ipa)))"
        case .user(let gpa): "user(\(hex(gpa)))"
        case .leaked: "leaked"
        case .lost: "lost"
        }
    }
}

/// What the last REC exit left for the next `kvm_rec_pre_enter` (§3.1 step 2).
public enum LastExit: Hashable, Sendable {
    case none, irq, sync, psci, hostCall, mmio(emulatable: Bool)
    case ripasChange(base: UInt64, top: UInt64, ripas: UInt64)
}

/// A protected-memory fault whose handling (`realm_map_protected`, §3.5) stopped at the RTT
/// creation: another thread may run in between (§7.4, races as concurrent host threads).
public struct PendingFault: Hashable, Sendable {
    public var ipa: UInt64
    public var pa: UInt64
    /// RMI_RETURN_INDEX of the DATA_CREATE_UNKNOWN that returned ERROR_RTT.
    public var level: Int
}

public struct Vcpu: Hashable, Sendable {
    public var id: Int
    /// MPIDR affinity: Aff0 = vcpu id.
    public var mpidr: UInt64 { UInt64(id) }
    public var rec: UInt64?
    public var aux: [UInt64] = []
    public var run: UInt64?
    /// `rec.mpidr != INVALID_HWID`: the REC is created (§2.6 step 6).
    public var finalized = false
    /// PSCI power state as KVM sees it: vCPU 0 starts on, the others off until CPU_ON.
    public var poweredOn: Bool
    public var lastExit: LastExit = .none
    public var fault: PendingFault?
    /// The vCPU got KVM_EXIT_SHUTDOWN or an error: the VMM does not run it again.
    public var stopped = false
    public init(id: Int) { self.id = id; poweredOn = id == 0 }
}

/// KVM's per-VM realm state (`struct realm` and the parts of `struct kvm` the flow uses).
public struct VMState: Hashable, Sendable {
    public var state: HostRealmState = .none
    public var ipaBits: UInt64
    public var startLevel: Int
    /// `mmu.pgd_phys` (one granule at the modelled IPA size); nil once pass 2 dropped it.
    public var pgd: UInt64?
    public var params: UInt64?
    public var rd: UInt64?
    public var vmid: UInt64?
    public var numAux: Int = 0
    public var hashAlgo: UInt64 = 0
    public var rpv: UInt64 = 0
    public var vcpus: [Vcpu] = []
    /// guest_memfd: the page backing each protected GPA (allocated at first use, §3.5).
    public var gmem: [UInt64: UInt64] = [:]
    /// VMM memory behind shared GPAs.
    public var user: [UInt64: UInt64] = [:]
    /// `kvm_destroy_vm` has run.
    public var destroyed = false
    /// The VMM's mm was released (pass 1 ran from the MMU notifier).
    public var mmReleased = false
    /// Pass 1 from that release has unmapped; its RTT_DESTROY walk goes on at this IPA.
    public var rttWalkNext: UInt64?
    /// The VMM's construction step (§2: 5 INIT_RIPAS, 6 POPULATE, 7 FINALIZE, 8 ACTIVATE):
    /// the environment issues them in this order.
    public var vmmStep = 0
}

/// Ghost state the properties need (not part of KVM): what the RMM was asked and answered.
public struct Ghost: Hashable, Sendable {
    /// Every granule the host successfully delegated, with the VM it did it for (P1).
    public var everDelegated: [UInt64: Int] = [:]
    /// Pages WARNed about on an undelegate path (P1 allows them to stay delegated).
    public var warnedLeak: Set<UInt64> = []
    /// REC -> the PSCI request (target MPIDR) its last exit left to complete (P12).
    public var psciPending: [UInt64: UInt64] = [:]
    /// REC -> the RIPAS window [base, top) of its last RIPAS_CHANGE exit (P11).
    public var ripasWindow: [UInt64: [UInt64]] = [:]
    /// RDs REALM_DESTROY succeeded on (P4, P8, P19).
    public var destroyedRDs: Set<UInt64> = []
    /// The VMs whose realm the RMM holds (REALM_CREATE succeeded, no REALM_DESTROY yet) (P17).
    public var realmCreated: Set<Int> = []
    /// RDs REC_AUX_COUNT succeeded on since their REALM_CREATE (P9).
    public var auxCounted: Set<UInt64> = []
    /// RD -> MPIDRs of the RECs created in it so far (P9).
    public var recMpidrs: [UInt64: [UInt64]] = [:]
    /// PAs the RMM handed back (RTT_DESTROY / RTT_FOLD / DATA_DESTROY outputs) not yet undelegated (P3, P16).
    public var returned: Set<UInt64> = []
}

/// Everything the host holds: the VMs (`KVMEnv.maxVMs`), the page ownership map, and the
/// environment's pending nondeterministic choice.
public struct HostState: Hashable, Sendable {
    public var initialized = false
    public var rmeAvailable = false
    /// The VMs, by index; an operation works on `vms[cur]` (`vm`), and `cur` is 0 between
    /// operations.
    public var vms: [VMState?] = Array(repeating: nil, count: KVMEnv.maxVMs)
    public var cur = 0
    public var vm: VMState? {
        get { vms[cur] }
        set { vms[cur] = newValue }
        _modify { yield &vms[cur] }
    }
    /// `num_aux` kept host-wide after the first realm (only M13 uses it).
    public var hostNumAux: Int?
    /// Host-held pages and their use; absent = in the page allocator.
    public var pages: [UInt64: PageUse] = [:]
    /// The environment made EL3 refuse the next delegation (the allocator returns a page the
    /// GPT keeps Secure, §5 "GRANULE_DELEGATE fails").
    public var refuseNextDelegate = false
    public var ghost = Ghost()
    public init() {}
}

/// Layout of the modelled VM (§1.1, §2.1).
public enum KVMLayout {
    /// IPA size of the modelled realm: level 1 start, one root RTT (§2.1 step 1).
    public static let ipaBits: UInt64 = 35
    /// Pages the host allocator hands out: the start of DRAM.
    public static let poolBase: UInt64 = 0x8000_0000
    public static let poolPages = 64
    /// Pages the GPT keeps Secure (EL3 refuses their delegation): the platform's carve-out.
    public static let securePool: UInt64 = 0xBFFF_0000
    public static let page: UInt64 = 0x1000

    public static func levelSize(_ l: Int) -> UInt64 { UInt64(1) << UInt64(12 + 9 * (3 - l)) }
    public static func startLevel(ipaBits: UInt64) -> Int { 4 - Int((ipaBits - 8) / 9) }
    public static func sharedBit(_ ipaBits: UInt64) -> UInt64 { UInt64(1) << (ipaBits - 1) }
}
