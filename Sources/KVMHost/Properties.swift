import RMICheck
import RMISpec

/// The properties P1–P19 (reference §7.2), checked on (host state, RMM abstract state, the
/// call or host event being made). Each check that is reached non-vacuously inserts its
/// property name into `covers`.
public enum HostProperties {
    /// P1–P19; P11's progress obligation is checked as `P11p` so that it can be reported apart.
    public static let all: [String] = (1...11).map { "P\($0)" } + ["P11p"] + (12...19).map { "P\($0)" }
    public static let summary: [String: String] = [
        "P1": "conservation: after teardown every granule the host delegated is NS, or leaked with a WARN",
        "P2": "no NS reuse: the host frees, maps or accesses only NS granules it holds",
        "P3": "UNDELEGATE only on a DELEGATED granule",
        "P4": "teardown order: REALM_DESTROY after every REC and non-root RTT is gone",
        "P5": "root RTTs are never destroyed, folded, read or walked",
        "P6": "bottom-up RTT_DESTROY (a live table's children destroyed before it is tried again); the walks terminate",
        "P7": "data lifecycle: DATA_CREATE in NEW, DATA_CREATE_UNKNOWN in NEW/ACTIVE, protected IPA, delegated page",
        "P8": "state gating of INIT_RIPAS, DATA_CREATE, REC_CREATE, ACTIVATE, REC_ENTER and RD use",
        "P9": "REC creation: increasing MPIDRs, only vCPU 0 runnable, num_aux from REC_AUX_COUNT, after REC_AUX_COUNT on the realm",
        "P10": "REC_DESTROY only on a REC granule",
        "P11": "SET_RIPAS within the pending window and progressing; RIPAS-driven DATA_DESTROY inside it",
"P11p": "P11, progress part: each successful RTT_INIT/SET_RIPAS strictly increases base (the loops terminate)",
        "P12": "PSCI_COMPLETE exactly once before the caller's next REC_ENTER, on the requested target",
        "P13": "alias discipline: unprotected mappings on shared IPAs of NS pages; DATA_* on protected IPAs",
        "P14": "populate: src NS, dst DELEGATED, src != dst",
        "P15": "no orphan RTT granules",
        "P16": "a folded RTT is undelegated once",
        "P17": "VMIDs of live realms pairwise distinct; a VMID released only after REALM_DESTROY or a failed CREATE",
        "P18": "no silent loss: no DELEGATED granule without an owner; a race reading only for the realm's own page",
        "P19": "no RD use after REALM_DESTROY; kvm_realm_unmap_range does nothing in NONE (nor, the RD gone, in DEAD)",
    ]
}

extension KVMHost {
    mutating func violate(_ p: String, _ msg: String) {
        guard only == nil || only!.contains(p) else { return }
        let v = Violation(property: p, message: msg)
        if !violations.contains(v) { violations.append(v) }
        if logging { log.append("  VIOLATION \(v)") }
    }

    func isDelegable(_ pa: UInt64) -> Bool { rmm.platform.isDelegable(pa & ~(Layout.granuleSize - 1)) }

    static var rdCommands: Set<RMICommand> {
        [.dataCreate, .dataCreateUnknown, .dataDestroy, .realmActivate, .realmDestroy, .recAuxCount, .recCreate,
         .rttCreate, .rttDestroy, .rttFold, .rttMapUnprotected, .rttUnmapUnprotected, .rttReadEntry,
         .rttInitRipas, .rttSetRipas]
    }

    mutating func checkBefore(_ cmd: RMICommand, _ a: [UInt64], realm: RealmActionValue?) {
        guard let st = rmm.abstractState() else { return }
        let vm = s.vm
        let hstate = vm?.state ?? .none
        let shared = KVMLayout.sharedBit(vm?.ipaBits ?? KVMLayout.ipaBits)
        func gs(_ pa: UInt64) -> GranuleState { st.granule(pa).state }
        // The checks that need only the call and the RMM's state, shared with validate-log.
        let common = HostLogCheck.rmmStateChecks(cmd, a, pre: st, destroyed: s.ghost.destroyedRDs, line: 0)
        for v in common { violate(v.property, v.message) }
        let broken = Set(common.map { $0.property })
        if unmapping && (hstate == .none || hstate == .dead) {
            violate("P19", "\(cmd.rawValue) from kvm_realm_unmap_range in host state \(hstate): it must do nothing")
        }
        if KVMHost.rdCommands.contains(cmd) {
            let rd = a[0]
            if !broken.contains("P19") {
                if gs(rd) != .rd {
                    violate("P8", "\(cmd.rawValue) with RD \(hex(rd)) in state \(gs(rd).specName) (host state \(hstate))")
                } else { covers.insert("P8") ; covers.insert("P19") }
            }
        }
        switch cmd {
        case .granuleUndelegate:
            if !broken.contains("P3") { covers.insert("P3") }
        case .realmDestroy:
            let rd = a[0]
            let recs = st.recs.filter { $0.value.owner == rd }.count
            let rtts = st.rtts.filter { $0.value.owner == rd && Int($0.value.level) > (vm?.startLevel ?? 0) }.count
            if recs > 0 || rtts > 0 {
                violate("P4", "REALM_DESTROY(\(hex(rd))) with \(recs) REC(s) and \(rtts) non-root RTT(s) live")
            } else { covers.insert("P4") }
        case .rttDestroy, .rttFold:
            if Int(a[2]) <= (vm?.startLevel ?? 0) {
                violate("P5", "\(cmd.rawValue) on the root level \(a[2])")
            } else { covers.insert("P5") }
            if cmd == .rttDestroy { checkChildrenFirst(st, rd: a[0], ipa: a[1], level: Int(a[2])) }
        case .dataCreate, .dataCreateUnknown:
            let dst = a[1], ipa = a[2]
            if ipa & shared != 0 { violate("P13", "\(cmd.rawValue) on shared IPA \(hex(ipa))") } else { covers.insert("P13") }
            if cmd == .dataCreate {
                if hstate != .new { violate("P7", "DATA_CREATE in host state \(hstate)") ; violate("P8", "DATA_CREATE in host state \(hstate)") }
                if !broken.contains("P14") { covers.insert("P14") }
            } else if hstate != .new && hstate != .active {
                violate("P7", "DATA_CREATE_UNKNOWN in host state \(hstate)")
            }
            if gs(dst) != .delegated { violate("P7", "\(cmd.rawValue) on a page in state \(gs(dst).specName)") } else { covers.insert("P7") }
        case .dataDestroy:
            let ipa = a[1]
            if ipa & shared != 0 { violate("P13", "DATA_DESTROY on shared IPA \(hex(ipa))") }
            if let (b, t) = ripasCompletion {
                if ipa < b || ipa >= t {
                    violate("P11", "DATA_DESTROY(\(hex(ipa))) for a RIPAS change outside its window [\(hex(b)), \(hex(t)))")
                } else { covers.insert("P11:data_destroy") }
            }
        case .rttMapUnprotected, .rttUnmapUnprotected:
            let ipa = a[1]
            if ipa & shared == 0 { violate("P13", "\(cmd.rawValue) on protected IPA \(hex(ipa))") } else { covers.insert("P13") }
            if cmd == .rttMapUnprotected {
                let pa = a[3] & 0xFFFF_FFFF_F000
                if isDelegable(pa) && gs(pa) != .undelegated { violate("P13", "RTT_MAP_UNPROTECTED of a \(gs(pa).specName) page") }
            }
        case .rttInitRipas, .realmActivate:
            if hstate != .new { violate("P8", "\(cmd.rawValue) in host state \(hstate)") }
        case .recCreate:
            if hstate != .new { violate("P8", "REC_CREATE in host state \(hstate)") }
            if !s.ghost.auxCounted.contains(a[0]) {
                violate("P9", "REC_CREATE in RD \(hex(a[0])) before any REC_AUX_COUNT on it")
            } else { covers.insert("P9") }
        case .recDestroy:
            if !broken.contains("P10") { covers.insert("P10") }
        case .recEnter:
            let rec = a[0]
            if hstate != .active { violate("P8", "REC_ENTER in host state \(hstate)") }
            if let t = s.ghost.psciPending[rec] {
                violate("P12", "REC_ENTER(\(hex(rec))) with the PSCI request for MPIDR \(t) not completed")
            } else { covers.insert("P12:enter") }
        case .psciComplete:
            let calling = a[0], target = a[1]
            if let want = s.ghost.psciPending[calling] {
                if calling == target || st.rec(CWord(target), .mpidr).raw != want {
                    violate("P12", "PSCI_COMPLETE(\(hex(calling)), \(hex(target))) does not name the requested MPIDR \(want)")
                } else { covers.insert("P12") }
            } else {
                violate("P12", "PSCI_COMPLETE(\(hex(calling))) without a pending request")
            }
        case .rttSetRipas:
            let rec = a[1], base = a[2], top = a[3]
            if let w = s.ghost.ripasWindow[rec], base >= w[0], top <= w[1], base < top {
                covers.insert("P11")
            } else {
                let w = s.ghost.ripasWindow[rec].map { "[\(hex($0[0])), \(hex($0[1])))" } ?? "none"
                violate("P11", "RTT_SET_RIPAS [\(hex(base)), \(hex(top))) outside the pending window \(w)")
            }
        default: break
        }
        _ = realm
    }

    mutating func checkAfter(_ cmd: RMICommand, _ a: [UInt64], _ r: ImplResult) {
        guard r.status == .success else { return }
        switch cmd {
        case .realmCreate:
            s.ghost.auxCounted.remove(a[0]); s.ghost.recMpidrs[a[0]] = nil; s.ghost.realmCreated.insert(s.cur)
        case .recAuxCount: s.ghost.auxCounted.insert(a[0])
        case .realmDestroy: s.ghost.destroyedRDs.insert(a[0]); s.ghost.realmCreated.remove(s.cur)
        case .recCreate:
            if let st = rmm.abstractState() { s.ghost.recMpidrs[a[0], default: []].append(st.rec(CWord(a[1]), .mpidr).raw) }
        case .recEnter:
            let rec = a[0]
            s.ghost.psciPending[rec] = nil
            s.ghost.ripasWindow[rec] = nil
            let reason = ExitReason(rawValue: r.exit["exit_reason"] ?? 0)
            if reason == .psci, let fid = r.exit["gprs0"], fid == PSCI.cpuOn || fid == PSCI.affinityInfo {
                s.ghost.psciPending[rec] = r.exit["gprs1"] ?? 0
            }
            if reason == .ripasChange {
                s.ghost.ripasWindow[rec] = [r.exit["ripas_base"] ?? 0, r.exit["ripas_top"] ?? 0]
            }
        case .psciComplete: s.ghost.psciPending[a[0]] = nil
        case .rttSetRipas:
            if var w = s.ghost.ripasWindow[a[1]] { w[0] = r.x[1]; s.ghost.ripasWindow[a[1]] = w }
        case .rttDestroy, .rttFold, .dataDestroy: s.ghost.returned.insert(r.x[1])
        case .granuleUndelegate: s.ghost.returned.remove(a[0])
        default: break
        }
    }

    /// P2 for a host access (read or write) of NS memory.
    mutating func checkHostAccess(_ pa: UInt64, what: String) {
        guard isDelegable(pa), let st = rmm.abstractState() else { return }
        let g = st.granule(pa & ~(Layout.granuleSize - 1)).state
        if g != .undelegated { violate("P2", "host \(what) at \(hex(pa)) in state \(g.specName)") } else { covers.insert("P2:access") }
    }

    /// P2 for `free_page`.
    mutating func checkFree(_ pa: UInt64) {
        guard let st = rmm.abstractState() else { return }
        if s.pages[pa] == nil || s.pages[pa] == .lost {
            violate("P2", "free_page(\(hex(pa))) of a page the host does not hold (double free)")
        }
        let g = st.granule(pa).state
        if g != .undelegated { violate("P2", "free_page(\(hex(pa))) of a granule in state \(g.specName)") } else { covers.insert("P2") }
    }

    /// P8: `realm_create_rd` only in NONE.
    mutating func checkCreateRd() {
        let st = s.vm?.state ?? .none
        if st != .none { violate("P8", "realm_create_rd in host state \(st)") }
        if s.vm?.rd != nil { violate("P8", "realm_create_rd with an RD already set") }
    }

    /// P17.
    mutating func checkVmidRelease() {
        if s.ghost.realmCreated.contains(s.cur) {
            violate("P17", "VMID released while the realm still exists in the RMM")
        } else { covers.insert("P17") }
    }

    /// P17, the several-VM part: a VMID reserved for a realm is held by no other VM (the
    /// others hold theirs from reservation until release, through NEW, ACTIVE and DYING).
    mutating func checkVmidReserve(_ vmid: UInt64) {
        var others = 0
        for (i, other) in s.vms.enumerated() where i != s.cur {
            guard let o = other, let v = o.vmid else { continue }
            others += 1
            if v == vmid { violate("P17", "VMID \(vmid) reserved for vm\(s.cur) while vm\(i)'s realm (\(o.state)) holds it") }
        }
        if others > 0 { covers.insert("P17:distinct") }
    }

    /// P6: RTT_DESTROY(ipa, L) of a table with live level-(L+1) children is the walk's probe
    /// (it fails, and the walk recurses into the children); trying it again while a child
    /// is still there breaks "children destroyed first".
    mutating func checkChildrenFirst(_ st: SpecState, rd: UInt64, ipa: UInt64, level: Int) {
        guard level < 3 else { return }
        let end = ipa &+ KVMLayout.levelSize(level - 1)
        let children = st.rtts.filter {
            $0.value.owner == rd && Int($0.value.level) == level + 1 && $0.value.ipaBase >= ipa && $0.value.ipaBase < end
        }.count
        let key = [rd, ipa, UInt64(level)]
        if children == 0 {
            // The retry of a probed table, its children gone: the part's witness.
            if destroyProbes.contains(key) { covers.insert("P6:children_first") }
            covers.insert("P6")
            return
        }
        if !destroyProbes.insert(key).inserted {
            violate("P6", "RTT_DESTROY(\(hex(ipa)), \(level)) again with \(children) level-\(level + 1) RTT(s) under it: children not destroyed first")
        }
    }

    /// P9 on the REC parameters.
    mutating func checkRecParams(_ p: RecParamsValues, vcpu: Int, rd: UInt64) {
        if let last = s.ghost.recMpidrs[rd]?.last, p.mpidr <= last {
            violate("P9", "REC_CREATE MPIDR \(p.mpidr) after \(last)")
        }
        if (p.flags & 1 == 1) != (vcpu == 0) { violate("P9", "vCPU \(vcpu) created \(p.flags & 1 == 1 ? "" : "not ")RUNNABLE") }
        if Int(p.numAux) != (s.vm?.numAux ?? -1) || Set(p.aux).count != p.aux.count {
            violate("P9", "num_rec_aux \(p.numAux) / aux \(p.aux.map(hex)) vs REC_AUX_COUNT \(s.vm?.numAux ?? -1)")
        }
    }

    /// P18: a DELEGATE failure in `realm_map_protected` read as a race must concern the
    /// realm's own page (DATA, or delegated by another vCPU's fault on it).
    mutating func checkRaceReading(pa: UInt64, ipa: UInt64) {
        guard let st = rmm.abstractState() else { return }
        let g = st.granule(pa).state
        let racing = s.vm?.vcpus.contains { $0.fault?.pa == pa } ?? false
        if g == .data || (g == .delegated && racing) {
            covers.insert("P18:race")
        } else {
            violate("P18", "DELEGATE(\(hex(pa))) for the fault at \(hex(ipa)) failed (granule \(g.specName), GPT \(st.granule(pa).gpt.specName)): read as a race, but no other thread owns it; the guest re-faults forever")
        }
    }

    /// P5: the host reads a root RTT page as a table (v9 pass 2, M1).
    mutating func hostReadTable(_ pa: UInt64) {
        let junk = rmm.abstractState()?.granule(pa).content ?? 0
        violate("P5", "host walks the root RTT page \(hex(pa)) after it was undelegated: its contents (\(hex(junk))) are untrusted, the RMM may leave junk")
        checkHostAccess(pa, what: "read of the PGD")
    }

    /// End of each operation: P15, P16, P18.
    mutating func checkEndOfOperation(_ op: HostOp) {
        guard let st = rmm.abstractState() else { return }
        for (pa, g) in st.delegatedGranules where !s.ghost.warnedLeak.contains(pa) {
            // A page a vCPU thread holds between its DELEGATE and the retry is owned.
            switch s.pages[pa] {
            case .lost?: violate("P15", "granule \(hex(pa)) in state \(g.state.specName) is held by no one (not undelegated on the RTT \"already exists\" path)")
            case nil: violate("P18", "granule \(hex(pa)) in state \(g.state.specName) but in the host's page allocator")
            default: break
            }
        }
        for pa in s.ghost.returned where st.granule(pa).state == .delegated && !s.ghost.warnedLeak.contains(pa) {
            violate("P16", "granule \(hex(pa)) returned by the RMM (RTT_DESTROY/FOLD/DATA_DESTROY) is not undelegated")
        }
        covers.insert("P15")
        covers.insert("P18")
        let live = s.vms.compactMap { $0 }.filter { $0.state == .new || $0.state == .active || $0.state == .dying }.compactMap(\.vmid)
        if Set(live).count != live.count { violate("P17", "live realms share a VMID: \(live.map { hex($0) })") }
        _ = op
    }

    /// P1 at the end of a complete teardown of the current VM: the granules delegated for it.
    mutating func checkConservation() {
        guard let st = rmm.abstractState() else { return }
        var ok = true
        for pa in s.ghost.everDelegated.filter({ $0.value == s.cur }).keys.sorted() {
            let g = st.granule(pa).state
            if g == .undelegated { continue }
            if s.pages[pa] == .leaked && s.ghost.warnedLeak.contains(pa) { continue }
            ok = false
            violate("P1", "after teardown granule \(hex(pa)) (\(s.pages[pa].map(\.description) ?? "free")) is \(g.specName) without a WARN")
        }
        if ok { covers.insert("P1") }
    }
}
