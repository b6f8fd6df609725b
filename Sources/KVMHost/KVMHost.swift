import RMICheck
import RMISpec

/// Linux errno values the uAPI returns (§1.2, §1.3).
public enum Errno: Int, Sendable {
    case ok = 0, EPERM = -1, ENOENT = -2, EIO = -5, ENXIO = -6, ENOMEM = -12, EFAULT = -14
    case EBUSY = -16, EEXIST = -17, EINVAL = -22
}

/// One operation of the environment: what a VMM (kvmtool/QEMU, §2) or the guest (through
/// the REC's behaviour during REC_ENTER) does.
public enum HostOp: Hashable, Sendable, CustomStringConvertible {
    /// KVM_CREATE_VM(REALM | ipa) (§1.1), with `kvm_init_rme` at first use.
    case createVM
    /// KVM_CAP_ARM_RME CONFIG_REALM: RPV / hash algorithm (§1.2).
    case configRPV
    case configHash(UInt64)
    /// KVM_CREATE_VCPU + KVM_ARM_VCPU_INIT(REC, PSCI_0_2) (§2 step 3).
    case createVcpu
    /// KVM_CAP_ARM_RME CREATE_REALM (§1.2, §2.1).
    case createRealm
    /// KVM_CAP_ARM_RME INIT_RIPAS_REALM over [base, base + size) (§2.3).
    case initRipas(base: UInt64, size: UInt64)
    /// KVM_CAP_ARM_RME POPULATE_REALM of one page (§2.4).
    case populate(ipa: UInt64)
    /// KVM_ARM_VCPU_FINALIZE(REC) (§1.3, §2.6).
    case finalizeVcpu(Int)
    /// KVM_CAP_ARM_RME ACTIVATE_REALM (§2.7).
    case activate
    /// KVM_RUN of one vCPU for one REC exit; the guest does `action` (§3.1).
    case run(Int, RealmActionValue)
    /// A vCPU thread resumes a protected fault whose RTTs it must create (§3.5 step 2).
    case faultContinue(Int)
    /// The VMM unmaps its page behind a shared GPA: MMU-notifier invalidation (§3.6), then
    /// the page goes back to the allocator.
    case unmapShared(gpa: UInt64)
    /// The VMM punches a hole in guest_memfd at a protected GPA: `realm_unmap_private_range`
    /// (§3.7, §6 issue 5).
    case punchHole(ipa: UInt64)
    /// The environment makes the next delegation fail (EL3 refuses the GPT transition: the
    /// allocator returned a page the GPT keeps Secure).
    case refuseNextDelegate
    /// Close the VM fd: `kvm_destroy_vm` (§4.1).
    case destroyVM
    /// The VMM's mm is torn down before the VM fd is closed: pass 1 from the MMU notifier's
    /// release (§4.1 step 1).
    case releaseMM
    /// The rest of pass 1 after `releaseMM`: one turn of the RTT_DESTROY walk's top level,
    /// outside `mmu_lock`.
    case releaseMMContinue
    /// An operation on another VM than the first (its index, from 1).
    indirect case onVM(Int, HostOp)

    public var description: String {
        switch self {
        case .createVM: "KVM_CREATE_VM(REALM, ipa=\(KVMLayout.ipaBits))"
        case .configRPV: "CONFIG_REALM(RPV)"
        case .configHash(let a): "CONFIG_REALM(HASH_ALGO=\(a == 0 ? "SHA256" : "SHA512"))"
        case .createVcpu: "KVM_CREATE_VCPU"
        case .createRealm: "CREATE_REALM"
        case .initRipas(let b, let s): "INIT_RIPAS(\(hex(b)), \(hex(s)))"
        case .populate(let ipa): "POPULATE(\(hex(ipa)))"
        case .finalizeVcpu(let v): "VCPU_FINALIZE(REC) vcpu\(v)"
        case .activate: "ACTIVATE_REALM"
        case .run(let v, let a): "KVM_RUN vcpu\(v), guest: \(a.kind.name)\(a.args.isEmpty ? "" : "(" + a.args.map(hex).joined(separator: ", ") + ")")"
        case .faultContinue(let v): "vcpu\(v) fault: create RTTs and retry"
        case .unmapShared(let g): "VMM munmap shared \(hex(g))"
        case .punchHole(let ipa): "guest_memfd punch hole \(hex(ipa))"
        case .refuseNextDelegate: "env: next delegation refused by EL3"
        case .destroyVM: "close VM (kvm_destroy_vm)"
        case .releaseMM: "VMM exit_mmap (MMU notifier release: pass 1's unmap)"
        case .releaseMMContinue: "pass 1: a turn of the RTT_DESTROY walk (outside mmu_lock)"
        case .onVM(let i, let op): "vm\(i): \(op)"
        }
    }
}

/// A property violation: the property's name and what happened.
public struct Violation: Hashable, Sendable, CustomStringConvertible {
    public var property: String
    public var message: String
    public var description: String { "\(property): \(message)" }
}

/// The v10 host flow as a state machine over an RMM. Each `perform` runs one environment
/// operation: the RMI calls the flow makes (through `rmm`), the host's bookkeeping, and the
/// property checks (Properties.swift) on every call and at the end.
public struct KVMHost<R: RMMUnderTest> {
    public var s = HostState()
    public var rmm: R
    public let variant: HostVariant
    /// Log of the last operation's RMI calls and host events, when `logging`.
    public var logging = false
    public var log: [String] = []
    public var violations: [Violation] = []
    /// Names of the non-vacuous checks reached (a cover per property).
    public var covers: Set<String> = []
    /// Loop bound for the walks; exceeding it is a non-termination (P6, P11).
    let loopBound = 2048
    /// Properties to check (nil: all).
    public var only: Set<String>? = nil
    /// The window of the RIPAS change being completed (P11).
    var ripasCompletion: (UInt64, UInt64)? = nil
    /// Inside `kvm_realm_unmap_range` (an MMU-notifier or guest_memfd unmap, or pass 1) (P19).
    var unmapping = false
    /// (RD, IPA, level) of the RTT_DESTROYs of this operation that met live children (P6).
    var destroyProbes: Set<[UInt64]> = []

    public init(rmm: R, variant: HostVariant = .v10) {
        self.rmm = rmm
        self.variant = variant
    }

    var has: (HostBug) -> Bool { variant.has }

    // MARK: RMI and host events

    @discardableResult
    mutating func rmi(_ cmd: RMICommand, _ args: [UInt64], realm: RealmActionValue? = nil) -> ImplResult {
        checkBefore(cmd, args, realm: realm)
        let r: ImplResult
        do { r = try rmm.call(cmd, args, realm: realm) } catch {
            violations.append(Violation(property: "RMM", message: "\(cmd.rawValue) failed: \(error)"))
            r = ImplResult(x: [UInt64(0xFFFF_FFFF)])
        }
        if logging {
            var line = "  \(cmd.rawValue)(\(args.map(hex).joined(separator: ", ")))"
            if let realm { line += " [guest: \(realm.kind.name)]" }
            line += " -> \(r)"
            if let spec = rmm as? SpecRMM, spec.lastInjected { line += " [INJECTED RMM FAULT: --rmm-faults, not a DEN0137 result]" }
            let outs = cmd.outputs
            if r.status == .success || cmd == .dataDestroy || cmd == .rttDestroy || cmd == .rttUnmapUnprotected {
                for (i, n) in outs.enumerated() where i + 1 < r.x.count { line += " \(n)=\(hex(r.x[i + 1]))" }
            }
            log.append(line)
        }
        if let spec = rmm as? SpecRMM, spec.lastInjected { covers.insert("rmm_fault") }
        checkAfter(cmd, args, r)
        return r
    }

    mutating func event(_ s: String) { if logging { log.append("  host: " + s) } }

    mutating func warn(_ msg: String, page: UInt64? = nil) {
        if let page { s.ghost.warnedLeak.insert(page) }
        event("WARN: " + msg)
    }

    mutating func hostWrite(_ w: HostWrite) {
        checkHostAccess(w.address, what: "write")
        try? rmm.write(w)
    }

    // MARK: Page allocator

    /// Preferred page for a use, so that the same object gets the same page whatever the
    /// order of the operations (keeps the explored state space small).
    func slot(_ use: PageUse) -> Int? {
        slotInVM(use).map { $0 + KVMHost.slotsPerVM * s.cur }
    }

    static var slotsPerVM: Int { 32 }

    func slotInVM(_ use: PageUse) -> Int? {
        switch use {
        case .pgd: 0
        case .realmParams: 1
        case .rd: 2
        case .rec(let v): 3 + 4 * v
        case .aux(let v): 4 + 4 * v
        case .run(let v): 5 + 4 * v
        case .recParams(let v): 6 + 4 * v
        case .rtt(let l, let ipa): 11 + 3 * (l - 2) + (ipa >= KVMLayout.levelSize(1) ? 2 : ipa >= KVMLayout.levelSize(2) ? 1 : 0)
        case .gmem(let ipa): KVMEnv.ipaIndex(ipa).map { 17 + $0 }
        case .user(let gpa): KVMEnv.ipaIndex(gpa & ~KVMLayout.sharedBit(KVMLayout.ipaBits)).map { 24 + $0 }
        case .leaked, .lost: nil
        }
    }

    /// Takes a page from the allocator for `use`. If the environment made the next
    /// delegation fail and the page is for delegation, a page the GPT keeps Secure.
    mutating func alloc(_ use: PageUse, delegation: Bool = false) -> UInt64 {
        if delegation && s.refuseNextDelegate {
            s.refuseNextDelegate = false
            var a = KVMLayout.securePool
            while s.pages[a] != nil { a += KVMLayout.page }
            s.pages[a] = use
            return a
        }
        if let k = slot(use) {
            let a = KVMLayout.poolBase + UInt64(k) * KVMLayout.page
            if s.pages[a] == nil { s.pages[a] = use; return a }
        }
        var k = KVMHost.slotsPerVM * KVMEnv.maxVMs
        while s.pages[KVMLayout.poolBase + UInt64(k) * KVMLayout.page] != nil { k += 1 }
        let a = KVMLayout.poolBase + UInt64(k) * KVMLayout.page
        s.pages[a] = use
        return a
    }

    /// `free_page`: back to the allocator (P2: only an NS page the host holds).
    mutating func free(_ pa: UInt64) {
        checkFree(pa)
        s.pages[pa] = nil
        event("free_page(\(hex(pa)))")
    }

    /// GRANULE_DELEGATE; true on success.
    mutating func delegate(_ pa: UInt64) -> Bool {
        let r = rmi(.granuleDelegate, [pa])
        if r.status == .success { s.ghost.everDelegated[pa] = s.cur; return true }
        return false
    }

    /// GRANULE_UNDELEGATE; true on success.
    mutating func undelegate(_ pa: UInt64) -> Bool {
        rmi(.granuleUndelegate, [pa]).status == .success
    }

    /// The host's policy on undelegate failure (§4.3): WARN and leak, never free (M5 frees).
    mutating func leakOrFree(_ pa: UInt64, _ what: String) {
        warn("failed to undelegate \(what) \(hex(pa))", page: pa)
        if has(.m5FreeAfterFailedUndelegate) { free(pa) } else { s.pages[pa] = .leaked }
    }

    /// `free_delegated_granule` / `free_rtt`: UNDELEGATE, then free, or WARN + leak.
    mutating func freeDelegated(_ pa: UInt64, _ what: String) {
        if undelegate(pa) { free(pa) } else { leakOrFree(pa, what) }
    }

    // MARK: Operations

    /// Runs one operation; returns the uAPI result.
    @discardableResult
    public mutating func perform(_ whole: HostOp) -> Errno {
        log = []
        if logging { log.append(whole.description) }
        var op = whole
        destroyProbes = []
        if case .onVM(let i, let inner) = whole { s.cur = i; op = inner }
        defer { s.cur = 0 }
        let e: Errno
        switch op {
        case .createVM: e = createVM()
        case .configRPV: e = config(hash: nil)
        case .configHash(let a): e = config(hash: a)
        case .createVcpu: e = createVcpu()
        case .createRealm: e = createRealm()
        case .initRipas(let b, let sz): e = initRipas(base: b, size: sz)
        case .populate(let ipa): e = populate(ipa: ipa)
        case .finalizeVcpu(let v): e = finalizeVcpu(v)
        case .activate: e = activate()
        case .run(let v, let a): e = runVcpu(v, a)
        case .faultContinue(let v): e = faultContinue(v)
        case .unmapShared(let g): e = unmapShared(gpa: g)
        case .punchHole(let ipa): e = punchHole(ipa: ipa)
        case .refuseNextDelegate: s.refuseNextDelegate = true; e = .ok
        case .destroyVM: e = destroyVM()
        case .releaseMM: e = releaseMM()
        case .releaseMMContinue: e = releaseMMContinue()
        case .onVM: e = .EINVAL
        }
        let step: Int? = switch op {
        case .initRipas: 5
        case .populate: 6
        case .finalizeVcpu: 7
        case .activate: 8
        default: nil
        }
        if let step, s.vm != nil { s.vm!.vmmStep = max(s.vm!.vmmStep, step) }
        if logging { log.append("  => \(e == .ok ? "0" : "-\(e)")") }
        checkEndOfOperation(op)
        return e
    }

    /// `kvm_init_rme` (§1.1) at first use, then `kvm_arch_init_vm` for a realm.
    mutating func createVM() -> Errno {
        if !s.initialized {
            s.initialized = true
            // RMI_VERSION must accept ABI 1.0; RMI_FEATURES(0) must succeed (WARN otherwise).
            let v = rmi(.version, [Layout.version10])
            let f = rmi(.features, [0])
            if f.status != .success { warn("RMI_FEATURES(0) failed") }
            s.rmeAvailable = v.status == .success && f.status == .success
            // The realm IPA limit is FEATURE_REGISTER_0.S2SZ.
            if s.rmeAvailable && FeatureRegister0(encoded: f.x[1]).s2sz < KVMLayout.ipaBits { s.rmeAvailable = false }
        }
        guard s.vm == nil else { return .EINVAL }
        guard s.rmeAvailable else { return .EPERM }
        var vm = VMState(ipaBits: KVMLayout.ipaBits, startLevel: KVMLayout.startLevel(ipaBits: KVMLayout.ipaBits))
        s.vm = vm
        // kvm_init_stage2_mmu: the (zeroed) PGD; kvm_init_realm_vm: the params page.
        vm.pgd = alloc(.pgd)
        vm.params = alloc(.realmParams)
        s.vm = vm
        return .ok
    }

    mutating func config(hash: UInt64?) -> Errno {
        guard var vm = s.vm, !vm.destroyed else { return .EINVAL }
        if vm.state != .none && !has(.m11RecreateAllowed) { return .EBUSY }
        if let hash {
            let f = rmm.platform.features
            guard (hash == 0 && f.sha256) || (hash == 1 && f.sha512) else { return .EINVAL }
            vm.hashAlgo = hash
        } else {
            vm.rpv = 0x5250_5600
        }
        s.vm = vm
        return .ok
    }

    mutating func createVcpu() -> Errno {
        guard var vm = s.vm, !vm.destroyed, vm.vcpus.count < KVMEnv.maxVcpus else { return .EINVAL }
        vm.vcpus.append(Vcpu(id: vm.vcpus.count))
        s.vm = vm
        return .ok
    }

    /// `kvm_create_realm` (§1.2 CREATE_REALM, §2.1 step 9).
    mutating func createRealm() -> Errno {
        guard let vm = s.vm, !vm.destroyed else { return .EINVAL }
        if vm.state != .none && !has(.m11RecreateAllowed) { return .EEXIST }
        if s.vm!.vmid == nil { s.vm!.vmid = reserveVmid() }
        let r = realmCreateRd()
        if r == .ok {
            s.vm!.state = .new
            if let p = s.vm!.params { free(p); s.vm!.params = nil }
        } else if s.vm!.state == .none {
            releaseVmid()
        }
        return r
    }

    /// `rme_vmid_reserve`: the lowest VMID the realm-VMID bitmap has free. The bitmap holds
    /// the other VMs' VMIDs, except under M14, which never marks one.
    mutating func reserveVmid() -> UInt64 {
        let held = Set(s.vms.indices.filter { $0 != s.cur }.compactMap { s.vms[$0]?.vmid })
        var v: UInt64 = 1
        if !has(.m14VmidNotMarked) { while held.contains(v) { v += 1 } }
        checkVmidReserve(v)
        return v
    }

    mutating func releaseVmid() {
        checkVmidRelease()
        s.vm!.vmid = nil
    }

    /// `realm_create_rd` (§2.1).
    mutating func realmCreateRd() -> Errno {
        let vm = s.vm!
        checkCreateRd()
        if !has(.m11RecreateAllowed) {
            if vm.rd != nil || vm.params == nil { warn("realm->rd already set"); return .EEXIST }
        }
        guard let pgd = vm.pgd else { return .EINVAL }
        let params: UInt64
        if let p = vm.params { params = p } else { params = alloc(.realmParams); s.vm!.params = params }
        // Step 3: the RD.
        let rd = alloc(.rd, delegation: true)
        guard delegate(rd) else { free(rd); return .ENXIO }
        // Step 4: every granule of the PGD (the root RTTs).
        guard delegate(pgd) else {
            rollbackCreate(rd: rd, pgdDelegated: false)
            return .ENXIO
        }
        // Step 5: realm_params.
        var p = RealmParamsValues(rttBase: pgd, s2sz: vm.ipaBits, rttLevelStart: Int64(vm.startLevel),
                                  rttNumStart: 1, vmid: vm.vmid ?? 0)
        p.hashAlgo = vm.hashAlgo
        p.rpv = vm.rpv
        hostWrite(.realmParams(at: params, p))
        // Step 6.
        guard rmi(.realmCreate, [rd, params]).status == .success else {
            rollbackCreate(rd: rd, pgdDelegated: true)
            return .ENXIO
        }
        // Step 7 (M13: only for the host's first realm).
        if has(.m13AuxCountOncePerHost), let n = s.hostNumAux {
            s.vm!.rd = rd
            s.vm!.numAux = n
            return .ok
        }
        let aux = rmi(.recAuxCount, [rd])
        guard aux.status == .success else {
            warn("REC_AUX_COUNT failed")
            if rmi(.realmDestroy, [rd]).status != .success { warn("REALM_DESTROY failed") }
            rollbackCreate(rd: rd, pgdDelegated: true)
            // v9 forgot `r = -ENXIO` (M3): the garbage value may be 0.
            return has(.m3NoErrorOnAuxCount) ? .ok : .ENXIO
        }
        s.vm!.rd = rd
        s.vm!.numAux = Int(aux.x[1])
        if has(.m13AuxCountOncePerHost) { s.hostNumAux = s.vm!.numAux }
        return .ok
    }

    /// `out_undelegate_tables` (§2.1 step 8).
    mutating func rollbackCreate(rd: UInt64, pgdDelegated: Bool) {
        if pgdDelegated, let pgd = s.vm!.pgd, !undelegate(pgd) {
            // WARN, `mmu.pgt = NULL`: the PGD is leaked.
            warn("failed to undelegate root RTT", page: pgd)
            s.pages[pgd] = .leaked
            s.vm!.pgd = nil
        }
        if undelegate(rd) { free(rd) } else { leakOrFree(rd, "RD") }
        s.vm!.rd = nil
    }

    /// `find_map_level`: the coarsest level whose block is aligned with and fits in
    /// [ipa, end), not coarser than the start level (§2.3).
    func findMapLevel(_ ipa: UInt64, _ end: UInt64) -> Int {
        let sl = max(s.vm!.startLevel, 1)
        for l in sl...3 {
            let sz = KVMLayout.levelSize(l)
            if ipa % sz == 0 && ipa &+ sz <= end { return l }
        }
        return 3
    }

    /// `realm_create_rtt_levels` (§2.2): RTTs from `level + 1` to `maxLevel` for `ipa`.
    mutating func createRttLevels(_ ipa: UInt64, from level: Int, to maxLevel: Int) -> Errno {
        let rd = s.vm!.rd ?? 0
        var l = level + 1
        while l <= maxLevel {
            let base = ipa & ~(KVMLayout.levelSize(l - 1) - 1)
            // alloc_rtt: a page from the memcache (or GFP_ATOMIC), delegated.
            let rtt = alloc(.rtt(level: l, ipa: base), delegation: true)
            guard delegate(rtt) else { free(rtt); return .ENOMEM }
            let r = rmi(.rttCreate, [rd, rtt, base, UInt64(l)])
            if r.status == .success {
                covers.insert("rtt_create")
            } else if r.status == .errorRtt && Int(r.index) == l - 1 {
                // The table already exists (another thread won): free_rtt (v9 forgot it, M2).
                covers.insert("P15:rtt_exists")
                if has(.m2NoFreeRttOnExists) { s.pages[rtt] = .lost } else { freeDelegated(rtt, "RTT") }
            } else {
                warn("Failed to create RTT level \(l)")
                freeDelegated(rtt, "RTT")
                return .ENXIO
            }
            l += 1
        }
        return .ok
    }

    /// `ripas_change` (§2.3, §3.3): loops RTT_INIT_RIPAS / RTT_SET_RIPAS over [ipa, end).
    /// Returns the error and the IPA reached (nil where the v10 code leaves `*top_ipa`
    /// unwritten, M7).
    mutating func ripasChange(rec: UInt64?, _ start: UInt64, _ end: UInt64) -> (Errno, UInt64?) {
        let rd = s.vm!.rd ?? 0
        var ipa = start
        var n = 0
        while ipa < end {
            n += 1
            if n > loopBound { violate("P11p", "RIPAS loop makes no progress at \(hex(ipa))"); return (.EINVAL, ipa) }
            let r = rec.map { rmi(.rttSetRipas, [rd, $0, ipa, end]) } ?? rmi(.rttInitRipas, [rd, ipa, end])
            if r.status == .success {
                if r.x[1] <= ipa { violate("P11p", "RTT_\(rec == nil ? "INIT" : "SET")_RIPAS succeeded without progress at \(hex(ipa))") ; return (.EINVAL, ipa) }
                covers.insert("P11p")
                ipa = r.x[1]
            } else if r.status == .errorRtt {
                let e = Int(r.index)
                let level = findMapLevel(ipa, end)
                if e >= level { return (.EINVAL, has(.m7UninitialisedTopIpa) ? nil : ipa) }
                let c = createRttLevels(ipa, from: e, to: level)
                if c != .ok { return (c, has(.m7UninitialisedTopIpa) ? nil : ipa) }
            } else {
                warn("RTT_\(rec == nil ? "INIT" : "SET")_RIPAS failed")
                return (.ENXIO, has(.m7UninitialisedTopIpa) ? nil : ipa)
            }
        }
        return (.ok, ipa)
    }

    mutating func initRipas(base: UInt64, size: UInt64) -> Errno {
        guard let vm = s.vm, !vm.destroyed else { return .EINVAL }
        guard vm.state == .new else { return .EPERM }
        let (end, overflow) = base.addingReportingOverflow(size)
        if overflow { return .EINVAL }
        return ripasChange(rec: nil, base, end).0
    }

    /// `kvm_populate_realm` for one page (§2.4): the double mapping.
    mutating func populate(ipa: UInt64) -> Errno {
        guard let vm = s.vm, !vm.destroyed else { return .EINVAL }
        guard vm.state == .new else { return .EPERM }
        let rd = vm.rd ?? 0
        // The source: the VMM's page at the same GPA (its VMA), holding the image.
        let src: UInt64
        if let u = vm.user[ipa] { src = u } else { src = alloc(.user(gpa: ipa)); s.vm!.user[ipa] = src }
        hostWrite(.data(at: src, content: 0xDA7A_0000 | ipa >> 12))
        // The destination: guest_memfd's page for the GPA.
        let dst = gmemPage(ipa)
        guard delegate(dst) else { return .ENXIO }
        var r = rmi(.dataCreate, [rd, dst, ipa, src, 1])
        if r.status == .errorRtt {
            if r.index == 3 { warn("DATA_CREATE: leaf present") }
            _ = createRttLevels(ipa, from: Int(r.index), to: 3)
            r = rmi(.dataCreate, [rd, dst, ipa, src, 1])
        }
        guard r.status == .success else {
            // -EIO: undelegate dst, get_page on failure.
            if !undelegate(dst) { warn("failed to undelegate populate dst", page: dst); s.pages[dst] = .leaked }
            return .ENXIO
        }
        return .ok
    }

    mutating func gmemPage(_ ipa: UInt64) -> UInt64 {
        if let p = s.vm!.gmem[ipa] { return p }
        let p = alloc(.gmem(ipa: ipa), delegation: true)
        s.vm!.gmem[ipa] = p
        return p
    }

    /// KVM_ARM_VCPU_FINALIZE(REC) -> `kvm_create_rec` (§1.3, §2.6).
    mutating func finalizeVcpu(_ v: Int) -> Errno {
        guard let vm = s.vm, !vm.destroyed, v < vm.vcpus.count else { return .EINVAL }
        guard vm.state == .new else { return .ENOENT }
        if vm.vcpus[v].run != nil || vm.vcpus[v].finalized { return .EBUSY }
        let rd = vm.rd ?? 0
        let params = alloc(.recParams(vcpu: v))
        let rec = alloc(.rec(vcpu: v), delegation: true)
        let run = alloc(.run(vcpu: v))
        s.vm!.vcpus[v].rec = rec
        s.vm!.vcpus[v].run = run
        var failed = false
        var recDelegated = false
        var aux: [UInt64] = []
        if delegate(rec) {
            recDelegated = true
            // alloc_rec_aux.
            var auxOK = true
            for _ in 0..<vm.numAux {
                let a = alloc(.aux(vcpu: v), delegation: true)
                if delegate(a) { aux.append(a) } else { free(a); auxOK = false; break }
            }
            if !auxOK {
                for a in aux.reversed() { freeDelegated(a, "REC aux") }
                aux = []
                failed = true
            } else {
                s.vm!.vcpus[v].aux = aux
                let p = RecParamsValues(mpidr: UInt64(v), runnable: v == 0, aux: aux, pc: 0x8_0000)
                checkRecParams(p, vcpu: v, rd: rd)
                hostWrite(.recParams(at: params, p))
                if rmi(.recCreate, [rd, rec, params]).status == .success {
                    s.vm!.vcpus[v].finalized = true
                    free(params)
                    return .ok
                }
                // out_free_rec_aux.
                for a in aux.reversed() { freeDelegated(a, "REC aux") }
                failed = true
            }
        } else {
            failed = true
        }
        precondition(failed)
        // out_undelegate_rmm_rec.
        var recLeaked = false
        if recDelegated && !undelegate(rec) { leakOrFree(rec, "REC"); recLeaked = true }
        // out_free_pages: run, rec page and params freed.
        free(run)
        if !recLeaked { free(rec) }
        free(params)
        if has(.m6RecRunLeftSet) {
            // rec->run (and rec_page, aux) keep their values.
            s.vm!.vcpus[v].aux = aux
        } else {
            s.vm!.vcpus[v].run = nil
            s.vm!.vcpus[v].rec = nil
            s.vm!.vcpus[v].aux = []
        }
        return .ENXIO
    }

    mutating func activate() -> Errno {
        guard let vm = s.vm, !vm.destroyed else { return .EINVAL }
        guard vm.state == .new else { return .EINVAL }
        guard rmi(.realmActivate, [vm.rd ?? 0]).status == .success else { return .ENXIO }
        s.vm!.state = .active
        return .ok
    }

    // MARK: Runtime (§3)

    /// KVM_RUN for one REC exit (§3.1).
    mutating func runVcpu(_ v: Int, _ action: RealmActionValue) -> Errno {
        guard let vm = s.vm, !vm.destroyed, v < vm.vcpus.count else { return .EINVAL }
        let vcpu = vm.vcpus[v]
        // kvm_arm_vcpu_is_finalized: REC created and realm ACTIVE.
        guard vcpu.finalized, vm.state == .active, !vcpu.stopped, vcpu.fault == nil,
              let rec = vcpu.rec, let run = vcpu.run else { return .EPERM }
        // kvm_rec_pre_enter.
        var flags: UInt64 = 0
        switch vcpu.lastExit {
        case .ripasChange(let base, let top, let ripas):
            let e = completeRipasChange(v, rec: rec, base: base, top: top, ripas: ripas)
            if e != .ok { return e }
        case .mmio(let emulatable):
            flags = emulatable ? RecRunLayout.flagEmulMmio : RecRunLayout.flagInjectSea
        default: break
        }
        hostWrite(.recRun(at: run, RecEnterValues(flags: flags)))
        let r = rmi(.recEnter, [rec, run], realm: action)
        s.vm!.vcpus[v].lastExit = .none
        guard r.status == .success else {
            if r.status == .errorRealm && r.index == 1 {
                covers.insert("shutdown")
                s.vm!.vcpus[v].stopped = true   // KVM_EXIT_SHUTDOWN
                return .ok
            }
            s.vm!.vcpus[v].stopped = true
            return .ENXIO
        }
        return handleExit(v, rec: rec, run: run, r.exit)
    }

    /// `handle_rec_exit` (§3.1 table).
    mutating func handleExit(_ v: Int, rec: UInt64, run: UInt64, _ exit: ExitValues) -> Errno {
        checkHostAccess(run, what: "read exit record")
        let reason = ExitReason(rawValue: exit["exit_reason"] ?? 0) ?? .sync
        let shared = KVMLayout.sharedBit(s.vm!.ipaBits)
        switch reason {
        case .irq, .fiq:
            s.vm!.vcpus[v].lastExit = .irq
            return .ok
        case .serror:
            s.vm!.vcpus[v].stopped = true   // KVM_EXIT_INTERNAL_ERROR
            return .ok
        case .hostCall:
            covers.insert("host_call")
            s.vm!.vcpus[v].lastExit = .hostCall
            return .ok
        case .sync:
            let esr = exit["esr"] ?? 0
            guard esr >> 26 == 0x24 else { s.vm!.vcpus[v].lastExit = .sync; return .ok }
            let ipa = ((exit["hpfar"] ?? 0) & ~UInt64(0xF)) << 8
            if ipa & shared == 0 {
                // private_memslot_fault -> realm_map_protected (§3.5).
                return faultStart(v, ipa: ipa)
            }
            let gpa = ipa & ~shared
            if KVMEnv.ramIPAs.contains(gpa) {
                // user_mem_abort on the shared alias -> realm_map_non_secure (§3.6).
                s.vm!.vcpus[v].lastExit = .sync
                return mapNonSecure(ipa: ipa)
            }
            // io_mem_abort -> KVM_EXIT_MMIO; the VMM completes it (§3.2).
            covers.insert("mmio")
            s.vm!.vcpus[v].lastExit = .mmio(emulatable: esr & (1 << 24) != 0)
            return .ok
        case .psci:
            return handlePsci(v, rec: rec, exit)
        case .ripasChange:
            let base = exit["ripas_base"] ?? 0, top = exit["ripas_top"] ?? 0, ripas = exit["ripas_value"] ?? 0
            // rec_exit_ripas_change: both ends protected, else reject.
            if base & shared != 0 || (top &- 1) & shared != 0 {
                hostWrite(.recRun(at: run, RecEnterValues(flags: RecRunLayout.flagRipasReject)))
                return .EINVAL
            }
            covers.insert("ripas_change_exit")
            s.vm!.vcpus[v].lastExit = .ripasChange(base: base, top: top, ripas: ripas)
            return .EFAULT   // KVM_EXIT_MEMORY_FAULT to the VMM
        }
    }

    /// PSCI exits (§3.4).
    mutating func handlePsci(_ v: Int, rec: UInt64, _ exit: ExitValues) -> Errno {
        let fid = exit["gprs0"] ?? 0
        s.vm!.vcpus[v].lastExit = .psci
        switch fid {
        case PSCI.cpuOn, PSCI.affinityInfo:
            let target = exit["gprs1"] ?? 0
            guard let t = s.vm!.vcpus.firstIndex(where: { $0.mpidr == target }), let trec = s.vm!.vcpus[t].rec else {
                return .ok   // INVALID_PARAMS, no PSCI_COMPLETE
            }
            var status = PSCI.success
            if fid == PSCI.cpuOn {
                // kvm_psci_vcpu_on: ALREADY_ON completes with SUCCESS.
                s.vm!.vcpus[t].poweredOn = true
            } else if (exit["gprs2"] ?? 0) != 0 {
                return .ok   // AFFINITY_INFO lowest level != 0: INVALID_PARAMS, no completion
            }
            status = PSCI.success
            if has(.m8DropPsciComplete) { return .ok }
            // realm_psci_complete; the result is ignored in psci.c.
            _ = rmi(.psciComplete, [rec, trec, status])
            return .ok
        case PSCI.systemOff, PSCI.systemReset:
            covers.insert("system_off")
            return .ok   // KVM_EXIT_SYSTEM_EVENT
        case PSCI.cpuOff:
            s.vm!.vcpus[v].poweredOn = false
            return .ok
        default:
            return .ok
        }
    }

    /// `kvm_complete_ripas_change` (§3.3 entry side).
    mutating func completeRipasChange(_ v: Int, rec: UInt64, base b: UInt64, top: UInt64, ripas: UInt64) -> Errno {
        var base = b
        var n = 0
        while base < top {
            n += 1
            if n > loopBound { violate("P11p", "RIPAS completion makes no progress"); break }
            // realm_set_ipa_state(base, top).
            ripasCompletion = (b, top)
            let (e, reached) = ripasChange(rec: rec, base, top)
            // M7: an early return leaves *top_ipa uninitialised; model the garbage as the
            // top of the protected IPA space.
            let topIpa = reached ?? KVMLayout.sharedBit(s.vm!.ipaBits)
            if ripas == Ripas.empty.rawValue && topIpa != base {
                unmapPrivateRange(base, topIpa)
            }
            ripasCompletion = nil
            if e != .ok && e != .ENOMEM { warn("RIPAS change failed: \(e)"); break }
            base = topIpa
            if e == .ENOMEM && !has(.m7UninitialisedTopIpa) {
                // -ENOMEM: the loop tops up the memcache and tries again; the model's
                // allocator does not run dry, so the next attempt is a fresh operation.
                break
            }
        }
        // exit.ripas_base = base; the vCPU's RIPAS request stays open if not finished.
        if base < top { s.vm!.vcpus[v].lastExit = .ripasChange(base: base, top: top, ripas: ripas) }
        return .ok
    }


    /// `realm_map_protected`, up to the RTT creation (§3.5).
    mutating func faultStart(_ v: Int, ipa: UInt64) -> Errno {
        covers.insert("protected_fault")
        let rd = s.vm!.rd ?? 0
        let pa = gmemPage(ipa)
        guard delegate(pa) else {
            // "It's likely we raced with another VCPU on the same fault": return 0.
            if has(.m10DelegateFailureIsRace) { checkRaceReading(pa: pa, ipa: ipa); return .ok }
            // Fixed: a race only if another vCPU's fault holds the page or it is mapped.
            let racing = s.vm!.vcpus.contains { $0.fault?.pa == pa }
            if racing || rmm.abstractState()?.granule(pa).state == .data { checkRaceReading(pa: pa, ipa: ipa); return .ok }
            s.vm!.vcpus[v].stopped = true
            return .ENXIO
        }
        let r = rmi(.dataCreateUnknown, [rd, pa, ipa])
        if r.status == .success { return .ok }
        if r.status == .errorRtt {
            if r.index == 3 { warn("DATA_CREATE_UNKNOWN: leaf present") }
            s.vm!.vcpus[v].fault = PendingFault(ipa: ipa, pa: pa, level: Int(r.index))
            return .ok
        }
        warn("DATA_CREATE_UNKNOWN failed")
        faultUndelegate(pa)
        s.vm!.vcpus[v].stopped = true
        return .ENXIO
    }

    /// The rest of `realm_map_protected`: create the RTTs, retry once (§3.5 step 2).
    mutating func faultContinue(_ v: Int) -> Errno {
        guard let vm = s.vm, !vm.destroyed, v < vm.vcpus.count, let f = vm.vcpus[v].fault else { return .EINVAL }
        s.vm!.vcpus[v].fault = nil
        let rd = vm.rd ?? 0
        if createRttLevels(f.ipa, from: f.level, to: 3) != .ok {
            faultUndelegate(f.pa)
            return .ENXIO
        }
        let r = rmi(.dataCreateUnknown, [rd, f.pa, f.ipa])
        if r.status != .success {
            warn("DATA_CREATE_UNKNOWN retry failed")
            faultUndelegate(f.pa)
            return .ENXIO
        }
        return .ok
    }

    /// err_undelegate: UNDELEGATE, `get_page` on failure.
    mutating func faultUndelegate(_ pa: UInt64) {
        if !undelegate(pa) {
            warn("failed to undelegate fault page", page: pa)
            if has(.m5FreeAfterFailedUndelegate) { free(pa) } else { s.pages[pa] = .leaked }
        }
    }

    /// `realm_map_non_secure` (§3.6).
    mutating func mapNonSecure(ipa: UInt64) -> Errno {
        let rd = s.vm!.rd ?? 0
        let shared = KVMLayout.sharedBit(s.vm!.ipaBits)
        let gpa = ipa & ~shared
        let pa: UInt64
        if let u = s.vm!.user[gpa] { pa = u } else { pa = alloc(.user(gpa: gpa)); s.vm!.user[gpa] = pa }
        checkHostAccess(pa, what: "map to the guest's shared alias")
        // M9: the shared bit is not OR-ed in.
        let target = has(.m9AliasMixUp) ? gpa : (ipa | shared)
        // Normal-WB (MemAttr 0b111... index 0b101) | S2AP RW.
        let desc = pa | (0b101 << 2) | (0b11 << 6)
        var r = rmi(.rttMapUnprotected, [rd, target, 3, desc])
        if r.status == .errorRtt {
            if createRttLevels(target, from: Int(r.index), to: 3) != .ok { return .ENOMEM }
            r = rmi(.rttMapUnprotected, [rd, target, 3, desc])
            // A second ERROR_RTT: another thread mapped it first.
            if r.status == .errorRtt { return .ok }
        }
        covers.insert("map_unprotected")
        return r.status == .success ? .ok : .ENXIO
    }

    /// The VMM unmaps its page behind a shared GPA: `kvm_realm_unmap_range` on the shared
    /// alias (§3.6), then the page is freed.
    mutating func unmapShared(gpa: UInt64) -> Errno {
        guard let vm = s.vm, !vm.destroyed, let pa = vm.user[gpa] else { return .EINVAL }
        if vm.state != .none && vm.state != .dead {
            unmapping = true
            unmapSharedRange(level: findMapLevel(gpa, gpa + KVMLayout.page), gpa, gpa + KVMLayout.page)
            foldRange(gpa | KVMLayout.sharedBit(vm.ipaBits), (gpa + KVMLayout.page) | KVMLayout.sharedBit(vm.ipaBits))
            unmapping = false
        } else {
            covers.insert("P19:unmap_noop")
        }
        s.vm!.user[gpa] = nil
        free(pa)
        return .ok
    }

    /// guest_memfd hole punch: `kvm_realm_unmap_range(unmap_private)` (§3.7).
    mutating func punchHole(ipa: UInt64) -> Errno {
        guard let vm = s.vm, !vm.destroyed else { return .EINVAL }
        if vm.state != .none && vm.state != .dead {
            if vm.rttWalkNext != nil { covers.insert("P19:unmap_inside_pass1") }
            if vm.mmReleased { covers.insert("P19:unmap_after_pass1") }
            unmapping = true
            unmapPrivateRange(ipa, ipa + KVMLayout.page)
            unmapping = false
        } else {
            covers.insert("P19:unmap_noop")
        }
        return .ok
    }

    /// `realm_unmap_shared_range` (§3.6) over [start, end) of the shared alias.
    mutating func unmapSharedRange(level: Int, _ start: UInt64, _ end: UInt64) {
        let rd = s.vm!.rd ?? 0
        let shared = KVMLayout.sharedBit(s.vm!.ipaBits)
        let size = KVMLayout.levelSize(level)
        var addr = start | shared
        let top = end | shared
        var n = 0
        while addr < top {
            n += 1
            if n > loopBound { violate("P6", "shared unmap walk does not terminate"); return }
            let align = (addr + size - 1) & ~(size - 1)
            var next = (addr + size) & ~(size - 1)
            if align != addr || next > top {
                if addr < align { next = align }
                unmapSharedRange(level: level + 1, addr & ~shared, min(next, top) & ~shared)
                addr = next
                continue
            }
            let r = rmi(.rttUnmapUnprotected, [rd, addr, UInt64(level)])
            switch r.status {
            case .success:
                next = r.x[1] > addr ? r.x[1] : addr + size
            case .errorRtt:
                if r.x[1] == addr {
                    if level < 3 {
                        unmapSharedRange(level: level + 1, addr & ~shared, (addr + size) & ~shared)
                    }
                    next = addr + size
                } else {
                    next = max(r.x[1], addr + KVMLayout.page)
                }
            default:
                warn("RTT_UNMAP_UNPROTECTED failed")
                return
            }
            addr = next
        }
    }

    /// `realm_unmap_private_range` (§3.7): DATA_DESTROY + UNDELEGATE over [start, end),
    /// then fold.
    mutating func unmapPrivateRange(_ start: UInt64, _ end: UInt64) {
        let rd = s.vm!.rd ?? 0
        var addr = start
        var n = 0
        loop: while addr < end {
            n += 1
            if n > loopBound { violate("P6", "private unmap walk does not terminate"); return }
            let r = rmi(.dataDestroy, [rd, addr])
            switch r.status {
            case .success:
                let pa = r.x[1]
                if undelegate(pa) {
                    // free_page drops the fault's reference; the page stays in guest_memfd.
                    event("put_page(\(hex(pa)))")
                } else {
                    warn("failed to undelegate data \(hex(pa))", page: pa)
                    if has(.m5FreeAfterFailedUndelegate) { free(pa) } else { s.pages[pa] = .leaked }
                    break loop
                }
                addr = r.x[2] > addr ? r.x[2] : addr + KVMLayout.page
            case .errorRtt:
                if r.x[2] > addr { addr = r.x[2]; continue }
                // Inside a block: split it (never happens with 4K-only realm faults).
                warn("DATA_DESTROY inside a block at \(hex(addr))")
                break loop
            default:
                warn("DATA_DESTROY failed")
                break loop
            }
        }
        foldRange(start, end)
    }

    /// `realm_fold_rtt_level(start_level + 1, start, end)` (§3.8).
    mutating func foldRange(_ start: UInt64, _ end: UInt64) {
        _ = foldLevel(s.vm!.startLevel + 1, start, end)
    }

    /// `realm_fold_rtt_level`: the error, and how many tables it could not fold (0: every
    /// one folded, which makes the caller try its own level again).
    mutating func foldLevel(_ level: Int, _ start: UInt64, _ end: UInt64) -> (Errno, Int) {
        let rd = s.vm!.rd ?? 0
        let size = KVMLayout.levelSize(level - 1)
        var notFolded = 0
        var addr = start
        var n = 0
        while addr < end {
            n += 1
            if n > loopBound { violate("P6", "RTT_FOLD walk does not terminate"); return (.EBUSY, notFolded) }
            // Rounded *up* to the block, as the v10 code does. The reference (§3.8) only says
            // "each level-L table in the range"; the v10 tree it cites ([V10-TREE] rme.c)
            // takes ALIGN(addr, map_size), and realm_rtt_fold's ALIGN_DOWN leaves that value
            // as it is. So after a 4K unmap inside a block the fold goes to the next block's
            // table, never to the one that held the page: that table stays until teardown
            // (a missed fold; no property depends on it).
            let align = (addr + size - 1) & ~(size - 1)
            var next = (addr + size) & ~(size - 1)
            let r = rmi(.rttFold, [rd, align, UInt64(level)])
            switch r.status {
            case .success:
                covers.insert("P16:fold")
                freeDelegated(r.x[1], "folded RTT")
            case .errorRtt:
                if level == 3 || Int(r.index) < level { notFolded += 1; break }
                let (e, left) = foldLevel(level + 1, addr, next)
                if e != .ok { return (e, notFolded) }
                if left == 0 { next = addr }
            default:
                warn("RTT_FOLD failed")
                return (.ENXIO, notFolded)
            }
            addr = next
        }
        return (.ok, notFolded)
    }

    /// `realm_tear_down_rtt_level` (§4.2).
    mutating func tearDownRttLevel(_ level: Int, _ start: UInt64, _ end: UInt64, budget: inout Int) -> Errno {
        if level > 3 { warn("level > 3"); return .EINVAL }
        var addr = start
        while addr < end {
            let (e, next) = tearDownStep(level, addr, end, budget: &budget)
            if e != .ok { return e }
            addr = next
        }
        return .ok
    }

    /// One turn of `realm_tear_down_rtt_level`'s loop at `addr`: the error, and where the
    /// loop goes on (`addr` again to retry a table whose children it just destroyed).
    mutating func tearDownStep(_ level: Int, _ addr: UInt64, _ end: UInt64, budget: inout Int) -> (Errno, UInt64) {
        let rd = s.vm!.rd ?? 0
        let size = KVMLayout.levelSize(level - 1)
        budget -= 1
        if budget < 0 { violate("P6", "RTT_DESTROY walk does not terminate"); return (.EBUSY, addr) }
        let align = (addr + size - 1) & ~(size - 1)
        var next = (addr + size) & ~(size - 1)
        if next > end || align != addr {
            return (tearDownRttLevel(level + 1, addr, min(next, end), budget: &budget), next)
        }
        let r = rmi(.rttDestroy, [rd, addr, UInt64(level)])
        next = r.x[2]
        switch r.status {
        case .success:
            covers.insert("P6:rtt_destroy")
            freeDelegated(r.x[1], "RTT")
            if next <= addr { next = addr + size }
        case .errorRtt:
            if next > addr { covers.insert("P6:top_skip"); break }
            if Int(r.index) != level { warn("RTT_DESTROY: index != level"); return (.EBUSY, addr) }
            if level == 3 { warn("RTT_DESTROY: live level 3 RTT"); return (.EBUSY, addr) }
            covers.insert("P6:retry")
            if has(.m12RetryBeforeChildren) {
                let again = rmi(.rttDestroy, [rd, addr, UInt64(level)])
                if again.status == .success { freeDelegated(again.x[1], "RTT"); return (.ok, addr + size) }
            }
            let e = tearDownRttLevel(level + 1, addr, addr + size, budget: &budget)
            if e != .ok { return (e, addr) }
            next = addr   // try again at this level
        default:
            warn("RTT_DESTROY failed")
            return (.ENXIO, addr)
        }
        return (.ok, next)
    }

    // MARK: Teardown (§4)

    /// `kvm_destroy_vm` (§4.1).
    mutating func destroyVM() -> Errno {
        guard let vm = s.vm, !vm.destroyed else { return .EINVAL }
        // The mm's release is still in pass 1 (the exiting thread holds the VM).
        if vm.rttWalkNext != nil { return .EBUSY }
        if has(.m4TeardownReordered) {
            destroyRealm()
            if !vm.mmReleased { pass1() }
            destroyVcpus()
        } else {
            // mmu_notifier_unregister runs the release (pass 1) unless exit_mmap already did.
            if !vm.mmReleased { pass1() }
            destroyVcpus()
            destroyRealm()
        }
        // Closing guest_memfd and the VMM's memory: those pages go back to the allocator.
        for (_, p) in s.vm!.gmem.sorted(by: { $0.key < $1.key }) where s.pages[p] != .leaked && s.pages[p] != .lost {
            free(p)
        }
        for (_, p) in s.vm!.user.sorted(by: { $0.key < $1.key }) where s.pages[p] != nil { free(p) }
        s.vm!.gmem = [:]
        s.vm!.user = [:]
        s.vm!.destroyed = true
        checkConservation()
        return .ok
    }

    /// `kvm_free_stage2_pgd` pass 1 (§4.1 step 1).
    mutating func pass1() {
        let vm = s.vm!
        guard vm.state != .none && vm.state != .dead else { covers.insert("P19:unmap_noop"); return }
        stage2Unmap()
        destroyRtts()
    }

    /// `kvm_realm_destroy_rtts`: from start_level + 1, outside `mmu_lock`, wrapped in WARN_ON.
    mutating func destroyRtts() {
        let vm = s.vm!
        var budget = loopBound
        if tearDownRttLevel(vm.startLevel + 1, 0, UInt64(1) << vm.ipaBits, budget: &budget) != .ok {
            warn("kvm_realm_destroy_rtts failed")
        }
    }

    /// `kvm_stage2_unmap_range(0, BIT(ia_bits - 1))` -> `kvm_realm_unmap_range(unmap_private)`:
    /// the shared alias, then the private half, each followed by its fold.
    mutating func stage2Unmap() {
        unmapping = true
        defer { unmapping = false }
        let protTop = KVMLayout.sharedBit(s.vm!.ipaBits)
        unmapSharedRange(level: findMapLevel(0, protTop), 0, protTop)
        foldRange(protTop, 2 * protTop)
        unmapPrivateRange(0, protTop)
    }

    /// The VMM's address space goes away while the VM fd stays open (exit_mmap):
    /// `kvm_mmu_notifier_release` runs pass 1 now, and the VMM's pages are freed. The
    /// guest_memfd fds stay open, so their hole punches can still come (§4.1 step 1, P19).
    ///
    /// Pass 1 is split where it drops `mmu_lock`: the unmap runs here, and the RTT_DESTROY
    /// walk (outside the lock) is the next operations of this thread (`releaseMMContinue`),
    /// so a hole punch, which takes the lock, can come in between.
    mutating func releaseMM() -> Errno {
        guard let vm = s.vm, !vm.destroyed, !vm.mmReleased else { return .EINVAL }
        s.vm!.mmReleased = true
        guard vm.state != .none && vm.state != .dead else {
            covers.insert("P19:unmap_noop")
            freeUserPages()
            return .ok
        }
        stage2Unmap()
        s.vm!.rttWalkNext = 0
        return .ok
    }

    /// The rest of pass 1 after `releaseMM`, one turn of the RTT_DESTROY walk's top level
    /// at a time (the walk runs outside `mmu_lock`, so a hole punch can come between two);
    /// after the last, exit_mmap frees the VMM's pages.
    mutating func releaseMMContinue() -> Errno {
        guard let vm = s.vm, !vm.destroyed, let addr = vm.rttWalkNext else { return .EINVAL }
        var budget = loopBound
        let end = UInt64(1) << vm.ipaBits
        let (e, next) = tearDownStep(vm.startLevel + 1, addr, end, budget: &budget)
        if e != .ok { warn("kvm_realm_destroy_rtts failed") }
        if e != .ok || next >= end {
            s.vm!.rttWalkNext = nil
            freeUserPages()
        } else {
            s.vm!.rttWalkNext = next
        }
        return .ok
    }

    mutating func freeUserPages() {
        for (_, p) in s.vm!.user.sorted(by: { $0.key < $1.key }) where s.pages[p] != nil { free(p) }
        s.vm!.user = [:]
    }

    /// `kvm_destroy_vcpus` -> `kvm_destroy_rec` (§4.1 step 2).
    mutating func destroyVcpus() {
        for v in s.vm!.vcpus.indices {
            let vcpu = s.vm!.vcpus[v]
            guard let run = vcpu.run else { continue }
            free(run)
            s.vm!.vcpus[v].run = nil
            guard let rec = vcpu.rec else { continue }
            if rmi(.recDestroy, [rec]).status != .success {
                warn("REC_DESTROY failed", page: rec)
                for a in vcpu.aux { s.ghost.warnedLeak.insert(a) }
                continue
            }
            for a in vcpu.aux { freeDelegated(a, "REC aux") }
            freeDelegated(rec, "REC")
            s.vm!.vcpus[v].rec = nil
            s.vm!.vcpus[v].aux = []
        }
    }

    /// `kvm_destroy_realm` (§4.1 step 3) and pass 2.
    mutating func destroyRealm() {
        if let p = s.vm!.params { free(p); s.vm!.params = nil }
        guard s.vm!.state != .none, let rd = s.vm!.rd else { return }
        s.vm!.state = .dying
        if rmi(.realmDestroy, [rd]).status != .success {
            // WARN_ON and return: RD, root RTTs and VMID leak.
            warn("REALM_DESTROY failed", page: rd)
            s.pages[rd] = .leaked
            if let pgd = s.vm!.pgd { s.ghost.warnedLeak.insert(pgd); s.pages[pgd] = .leaked }
            return
        }
        freeDelegated(rd, "RD")
        s.vm!.rd = nil
        releaseVmid()
        if let pgd = s.vm!.pgd, !undelegate(pgd) {
            warn("failed to undelegate root RTT", page: pgd)
            s.pages[pgd] = .leaked
            return
        }
        s.vm!.state = .dead
        // Pass 2: kvm_free_stage2_pgd. v10 only drops the pointers (the PGD page is never
        // freed, §4.4 inferred side effect); v9 walked the tables from the PGD (M1).
        if let pgd = s.vm!.pgd {
            if has(.m1WalkPgdAfterUndelegate) {
                hostReadTable(pgd)
                free(pgd)
            } else {
                covers.insert("pgd_not_freed")
            }
        }
        // M15: pass 2's guard forgets DEAD, so the stage 2 is unmapped again.
        if has(.m15Pass2UnmapsAgain) { stage2Unmap() }
        s.vm!.pgd = nil
    }
}

/// The environment's vocabulary: the few GPAs, vCPUs and guest actions explored.
public enum KVMEnv {
    public static let maxVcpus = 2
    /// VMs the host state has room for; the environment uses the second only when asked
    /// (`Explorer.vms`).
    public static let maxVMs = 2
    /// Protected GPAs used: two pages in the first 2 MB, two in the second 2 MB (whose RIPAS
    /// INIT_RIPAS sets as one level-2 block, so a fault there must create the L3 RTT), one
    /// in another 1 GB region.
    public static let ramIPAs: [UInt64] = [0x0, 0x1000, 0x20_0000, 0x20_1000, 0x4000_0000]
    public static func ipaIndex(_ ipa: UInt64) -> Int? { ramIPAs.firstIndex(of: ipa) }
    /// An unprotected GPA outside every memslot: MMIO.
    public static let mmioIPA: UInt64 = 0x1000_0000
}
