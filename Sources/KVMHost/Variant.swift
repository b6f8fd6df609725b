/// A code path of the host flow that a mutation changes (reference §7.3).
public enum HostBug: String, CaseIterable, Hashable, Sendable {
    /// M1: v9 pass 2 walks (and frees) the stage-2 tables from the PGD after the root RTTs
    /// were undelegated (§4.4). Real, fixed in v10 ("Avoid walking the stage 2 page tables
    /// when destroying the realm", v12 07/46 changelog).
    case m1WalkPgdAfterUndelegate = "M1"
    /// M2: no `free_rtt` when RTT_CREATE says the table already exists (§2.2). Real, v9
    /// (zhuangyiwei, v9 #55: "There's a missing call to free_rtt()").
    case m2NoFreeRttOnExists = "M2"
    /// M3: no `r = -ENXIO` after REC_AUX_COUNT fails (§2.1 step 7). Real, v9.
    case m3NoErrorOnAuxCount = "M3"
    /// M4: REALM_DESTROY before the vCPUs are destroyed and before pass 1 (§4.1 reordered).
    case m4TeardownReordered = "M4"
    /// M5: free the page after a failed undelegate, as tf-a-tests' host helpers do (§4.3).
    case m5FreeAfterFailedUndelegate = "M5"
    /// M6: `kvm_create_rec`'s error exit frees `rec->run` but leaves the pointer (§2.6,
    /// latent in v10; [LATER] clears it).
    case m6RecRunLeftSet = "M6"
    /// M7: `ripas_change` returns early without writing `*top_ipa`, read uninitialised by
    /// `realm_set_ipa_state` (§3.3, latent in v10 and v12).
    case m7UninitialisedTopIpa = "M7"
    /// M8: no PSCI_COMPLETE after a CPU_ON / AFFINITY_INFO exit (§3.4).
    case m8DropPsciComplete = "M8"
    /// M9: `realm_map_non_secure` without the shared bit (§3.6).
    case m9AliasMixUp = "M9"
    /// M10: every DELEGATE failure in `realm_map_protected` is read as a race and the fault
    /// returns 0 (§3.5; the real v10 behaviour).
    case m10DelegateFailureIsRace = "M10"
    /// M11: CONFIG / CREATE_REALM are not refused after creation (§6 issue 3, the QEMU
    /// dump-guest-memory pattern, if KVM stopped refusing).
    case m11RecreateAllowed = "M11"
    // M12–M15 are this project's, not the reference's: each breaks one part of a property
    // that none of M1–M11 reaches, so that the check of that part is shown to fail.
    /// M12: the RTT_DESTROY walk retries a live table once before recursing into its
    /// children (P6, children destroyed first).
    case m12RetryBeforeChildren = "M12"
    /// M13: `num_aux` is read once per host (REC_AUX_COUNT of the first realm only) and
    /// reused for every later realm (P9, RECs created after REC_AUX_COUNT on their realm).
    case m13AuxCountOncePerHost = "M13"
    /// M14: `rme_vmid_reserve` finds a free VMID but does not mark it used (P17, VMIDs of
    /// live realms pairwise distinct).
    case m14VmidNotMarked = "M14"
    /// M15: `kvm_free_stage2_pgd` treats a DEAD realm like a live one, so pass 2 unmaps the
    /// stage 2 again after REALM_DESTROY (P19).
    case m15Pass2UnmapsAgain = "M15"
}

/// A host flow to check: v10 as posted, v10 with its latent bugs fixed, or the fixed flow
/// with one mutation.
public struct HostVariant: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var bugs: Set<HostBug>

    /// The v10 flow as posted (§2–§4): it contains the latent M6 and M7 paths and the M10
    /// race reading, so checking it reports those as findings.
    public static let v10 = HostVariant(name: "v10", bugs: [.m6RecRunLeftSet, .m7UninitialisedTopIpa, .m10DelegateFailureIsRace])
    /// v10 with the latent paths fixed as [LATER] does (REC error path clears its fields,
    /// `*top_ipa` is always written) and a DELEGATE failure in `realm_map_protected`
    /// treated as a race only when the page is already DATA of this realm.
    public static let fixed = HostVariant(name: "fixed", bugs: [])

    /// `fixed` plus one mutation, so that each mutation is found on its own.
    public static func mutation(_ b: HostBug) -> HostVariant { HostVariant(name: b.rawValue, bugs: [b]) }

    public static var all: [HostVariant] { [.v10, .fixed] + HostBug.allCases.map(mutation) }

    public init(name: String, bugs: Set<HostBug>) { self.name = name; self.bugs = bugs }

    /// `v10`, `fixed`, `M1`...`M11`, or a `+`-joined combination of mutations (`M4+M5`).
    public init?(named s: String) {
        let lower = s.lowercased()
        if lower == "v10" { self = .v10; return }
        if lower == "fixed" { self = .fixed; return }
        var bugs: Set<HostBug> = []
        for part in s.split(separator: "+") {
            guard let b = HostBug(rawValue: part.uppercased()) else { return nil }
            bugs.insert(b)
        }
        if bugs.isEmpty { return nil }
        self.init(name: s.uppercased(), bugs: bugs)
    }

    public func has(_ b: HostBug) -> Bool { bugs.contains(b) }
    public var description: String { name }

    /// The property each mutation is expected to violate first (reference §7.3).
    public static func expectedProperty(_ b: HostBug) -> [String] {
        switch b {
        case .m1WalkPgdAfterUndelegate: ["P5", "P2"]
        case .m2NoFreeRttOnExists: ["P15", "P1", "P18"]
        case .m3NoErrorOnAuxCount: ["P8"]
        case .m4TeardownReordered: ["P4", "P1", "P3"]
        case .m5FreeAfterFailedUndelegate: ["P2"]
        case .m6RecRunLeftSet: ["P10", "P2"]
        case .m7UninitialisedTopIpa: ["P11"]
        case .m8DropPsciComplete: ["P12"]
        case .m9AliasMixUp: ["P13"]
        case .m10DelegateFailureIsRace: ["P18"]
        case .m11RecreateAllowed: ["P8", "P3"]
        case .m12RetryBeforeChildren: ["P6"]
        case .m13AuxCountOncePerHost: ["P9"]
        case .m14VmidNotMarked: ["P17"]
        case .m15Pass2UnmapsAgain: ["P19"]
        }
    }
}
