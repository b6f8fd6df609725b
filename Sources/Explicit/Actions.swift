import RMISpec

/// The scope's action alphabet in a state: every call the search tries from it.
///
/// Arguments come from the state (the RDs, the DELEGATED Granules, the RECs, the IPAs of the
/// scope) and never from the order of the pool, so the alphabet commutes with a renaming of
/// the pool's Granules: that is what makes the symmetry reduction sound. The order of the
/// list is deterministic, so an action is stored as its index.
/// One action of the alphabet, without arrays: what the search runs for each state, in a
/// buffer it reuses (`Alphabet`). `ExplicitScope.actions` builds the trace steps from these,
/// so there is one definition of the alphabet.
struct AlphabetAction {
    /// Which Host writes come before the call: none, the constant ones of DATA_CREATE and
    /// REC_ENTER, or a parameter block from the alphabet's side tables (by index).
    enum Writes: Equatable { case none, data, recRun, realmParams(Int), recParams(Int) }
    var command: RMICommand
    /// A `rec_exit` event of REC `args.0` (with the IRQ action) rather than a call.
    var exit = false
    var argc = 0
    var args: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    var writes = Writes.none
    /// REC_ENTER's Realm action (nil: none given, the IRQ action), its arguments inline.
    var realm: RealmActionKind? = nil
    var realmArgc = 0
    var realmArgs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    subscript(i: Int) -> UInt64 {
        switch i { case 0: args.0; case 1: args.1; case 2: args.2; case 3: args.3; default: args.4 }
    }
    func realmArg(_ i: Int) -> UInt64 {
        switch i { case 0: realmArgs.0; case 1: realmArgs.1; case 2: realmArgs.2; default: realmArgs.3 }
    }
    /// The registers given, as an array.
    var argArray: [UInt64] { (0..<argc).map { self[$0] } }
    var realmValue: RealmActionValue? { realm.map { RealmActionValue($0, (0..<realmArgc).map { realmArg($0) }) } }
}

/// The alphabet of one state: its actions and the parameter blocks they write, and the
/// buffers `ExplicitScope.alphabet` fills for each state (kept for their capacity, so that
/// building a state's alphabet allocates nothing once they have grown).
struct Alphabet {
    var actions: [AlphabetAction] = []
    var realmParams: [RealmParamsValues] = []
    var recParams: [RecParamsValues] = []
    /// The scope's constants, made once.
    let pool: [UInt64], protectedIPAs: [UInt64], allIPAs: [UInt64], geometries: [(UInt64, Int64, UInt64)]
    var undelegated: [UInt64] = [], delegated: [UInt64] = [], others: [UInt64] = []
    var rds: [UInt64] = [], recGranules: [UInt64] = [], siblings: [UInt64] = [], tuple: [UInt64] = []

    init(_ scope: ExplicitScope) {
        pool = scope.pool; protectedIPAs = scope.protectedIPAs; allIPAs = scope.allIPAs; geometries = scope.geometries
    }

    mutating func removeAll() {
        actions.removeAll(keepingCapacity: true)
        realmParams.removeAll(keepingCapacity: true)
        recParams.removeAll(keepingCapacity: true)
    }

    /// The Host writes of `w`.
    func hostWrites(_ w: AlphabetAction.Writes) -> [HostWrite] {
        switch w {
        case .none: []
        case .data: ExplicitScope.dataWrites
        case .recRun: ExplicitScope.recRunWrites
        case .realmParams(let i): [.realmParams(at: ExplicitScope.realmParamsPage, realmParams[i])]
        case .recParams(let i): [.recParams(at: ExplicitScope.recParamsPage, recParams[i])]
        }
    }

    /// Action `a` as a trace step.
    func step(_ a: AlphabetAction) -> TraceStep {
        if a.exit { return .recExit(rec: a.args.0, realm: RealmActionValue(.irq), expect: nil) }
        return .call(CallStep(command: a.command, args: a.argArray, writes: hostWrites(a.writes), realm: a.realmValue))
    }
}

extension ExplicitScope {
    public func actions(_ s: SpecState) -> [TraceStep] {
        var a = Alphabet(self)
        alphabet(PoolState(s, base: ExplicitScope.standardBase, count: granules), into: &a)
        return a.actions.map { a.step($0) }
    }

    /// Leaves in `out` (emptied first) the actions of the alphabet in `s`, in order; `out`
    /// was made for this scope.
    func alphabet(_ s: PoolState, into out: inout Alphabet) {
        out.removeAll()
        func state(_ g: UInt64) -> GranuleState? { GranuleState(rawValue: s.granuleState(CWord(g)).raw) }
        out.undelegated.removeAll(keepingCapacity: true)
        out.delegated.removeAll(keepingCapacity: true)
        out.others.removeAll(keepingCapacity: true)
        out.rds.removeAll(keepingCapacity: true)
        out.recGranules.removeAll(keepingCapacity: true)
        for g in out.pool {
            switch state(g) {
            case .undelegated: out.undelegated.append(g)
            case .delegated: out.delegated.append(g)
            case let x:
                out.others.append(g)
                if x == .rd { out.rds.append(g) } else if x == .rec { out.recGranules.append(g) }
            }
        }
        let pool = out.pool, delegated = out.delegated, rds = out.rds, recGranules = out.recGranules
        // A call with registers a0... (those given), its Host writes and Realm action (its
        // kind, how many arguments and the arguments).
        func call(_ cmd: RMICommand, _ a0: UInt64, _ a1: UInt64? = nil, _ a2: UInt64? = nil, _ a3: UInt64? = nil,
                  _ a4: UInt64? = nil, writes: AlphabetAction.Writes = .none,
                  realm: (RealmActionKind, Int, (UInt64, UInt64, UInt64, UInt64))? = nil) {
            var a = AlphabetAction(command: cmd)
            a.argc = a4 != nil ? 5 : a3 != nil ? 4 : a2 != nil ? 3 : a1 != nil ? 2 : 1
            a.args = (a0, a1 ?? 0, a2 ?? 0, a3 ?? 0, a4 ?? 0)
            a.writes = writes
            if let (kind, argc, args) = realm {
                a.realm = kind
                a.realmArgc = argc
                a.realmArgs = args
            }
            out.actions.append(a)
        }

        // Granules.
        for g in out.undelegated { call(.granuleDelegate, g) }
        for g in delegated { call(.granuleUndelegate, g) }
        if failures {
            call(.granuleDelegate, ExplicitScope.nonDelegable)
            call(.granuleDelegate, unaligned)
            for g in out.others { call(.granuleUndelegate, g) }
        }

        // Realms.
        if rds.count < realms {
            for rd in delegated {
                for rtt in delegated where rtt != rd {
                    for (w, sl, n) in out.geometries {
                        for vmid in 0..<UInt64(max(realms, 1)) {
                            let p = RealmParamsValues(rttBase: rtt, s2sz: w, rttLevelStart: sl, rttNumStart: n, vmid: vmid)
                            out.realmParams.append(p)
                            call(.realmCreate, rd, ExplicitScope.realmParamsPage, writes: .realmParams(out.realmParams.count - 1))
                        }
                    }
                }
            }
        }
        for rd in rds {
            call(.realmActivate, rd)
            call(.realmDestroy, rd)
        }

        // RTTs: create the next table down each scope IPA's walk (and, among the failure
        // calls, one at the starting level: rtt_level); destroy and fold the non-starting
        // tables.
        for rd in rds {
            guard s.hasRealm(rd) else { continue }
            let sl = Int64(bitPattern: s.realm(CWord(rd), .levelStart).raw)
            for ipa in out.allIPAs {
                let walked = s.walkLevel(rd, ipa)
                func create(at level: Int64) {
                    let size = UInt64(1) << UInt64(12 + 9 * (3 - (level - 1)))
                    for t in delegated { call(.rttCreate, rd, t, ipa & ~(size - 1), UInt64(bitPattern: level)) }
                }
                if walked < 3 { create(at: walked + 1) }
                if failures && ipa == 0 { create(at: sl) }
            }
            let base = s.realm(CWord(rd), .rttBase).raw, n = s.realm(CWord(rd), .numStart).raw
            for t in pool {
                guard s.hasRtt(t), s.rtt(CWord(t), .owner).raw == rd, !(t >= base && t - base < n * 0x1000) else { continue }
                let ipaBase = s.rtt(CWord(t), .ipaBase).raw, level = s.rtt(CWord(t), .level).raw
                call(.rttDestroy, rd, ipaBase, level)
                call(.rttFold, rd, ipaBase, level)
            }
        }

        // Data and RIPAS.
        for rd in rds {
            for ipa in out.protectedIPAs {
                for d in delegated {
                    call(.dataCreate, rd, d, ipa, ExplicitScope.dataSrcPage, 0, writes: .data)
                    call(.dataCreateUnknown, rd, d, ipa)
                }
                call(.dataDestroy, rd, ipa)
                call(.rttInitRipas, rd, ipa, ipa + 0x1000)
            }
            if unprotected {
                let ipa = ExplicitScope.unprotectedIPA
                call(.rttMapUnprotected, rd, ipa, 3, ExplicitScope.nsTarget)
                for g in delegated { call(.rttMapUnprotected, rd, ipa, 3, g | 0b111 << 2 | 0b11 << 6) }
                call(.rttUnmapUnprotected, rd, ipa, 3)
            }
        }

        // RECs.
        for rd in rds {
            guard s.hasRealm(rd) else { continue }
            let index = s.realm(CWord(rd), .recIndex).raw
            guard index < UInt64(recs), delegated.count > aux else { continue }
            let mpidr = index % 16 | (index / 16) << 8
            var tuple: [UInt64] = []
            swap(&tuple, &out.tuple)
            for rec in delegated {
                ExplicitScope.forEachTuple(of: delegated, excluding: rec, aux, &tuple) { auxList in
                    for runnable in [true, false] {
                        out.recParams.append(RecParamsValues(mpidr: mpidr, runnable: runnable, aux: auxList, pc: 0x1000))
                        call(.recCreate, rd, rec, ExplicitScope.recParamsPage, writes: .recParams(out.recParams.count - 1))
                    }
                }
            }
            swap(&tuple, &out.tuple)
        }
        for rec in recGranules {
            guard s.hasRec(rec) else { continue }
            func field(_ r: UInt64, _ f: RecField) -> UInt64 { s.rec(CWord(r), f).raw }
            let owner = field(rec, .owner)
            call(.recDestroy, rec)
            if field(rec, .state) == RecState.running.rawValue {
                var x = AlphabetAction(command: .recEnter)
                x.exit = true
                x.argc = 1
                x.args.0 = rec
                out.actions.append(x)
                continue
            }
            out.siblings.removeAll(keepingCapacity: true)
            for t in recGranules where t != rec && s.hasRec(t) && field(t, .owner) == owner { out.siblings.append(field(t, .mpidr)) }
            forEachRealmAction(siblings: out.siblings) { kind, argc, args in
                call(.recEnter, rec, ExplicitScope.runPage, writes: .recRun, realm: (kind, argc, args))
            }
            if field(rec, .psciPending) != 0 {
                for t in recGranules where s.hasRec(t) && field(t, .owner) == owner && t != rec {
                    call(.psciComplete, rec, t, PSCI.success)
                }
            }
            let ripasTop = field(rec, .ripasTop), ripasAddr = field(rec, .ripasAddr)
            if ripasTop != 0 && ripasAddr != ripasTop {
                call(.rttSetRipas, owner, rec, ripasAddr, ripasTop)
            }
        }
    }

    /// The Host writes of DATA_CREATE and REC_ENTER actions, the same for every such action:
    /// made once (each action shares them).
    static let dataWrites: [HostWrite] = [.data(at: ExplicitScope.dataSrcPage, content: 1)]
    static let recRunWrites: [HostWrite] = [.recRun(at: ExplicitScope.runPage, RecEnterValues())]

    /// REC_ENTER's Realm actions in the scope, for a REC whose Realm's other RECs have the
    /// MPIDRs `siblings`: each as its kind, how many arguments it has, and the arguments.
    func forEachRealmAction(siblings: [UInt64], _ body: (RealmActionKind, Int, (UInt64, UInt64, UInt64, UInt64)) -> Void) {
        for k in RealmActionKind.allCases where realmActions.contains(k) {
            switch k {
            case .psciCpuOn: for m in siblings { body(.psciCpuOn, 3, (m, 0x2000, 0x42, 0)) }
            case .psciAffinityInfo: for m in siblings { body(.psciAffinityInfo, 2, (m, 0, 0, 0)) }
            case .ripasChange:
                if ipas > 0 {
                    body(.ripasChange, 4, (0, UInt64(ipas) * 0x1000, Ripas.ram.rawValue, 0))
                    body(.ripasChange, 4, (0, UInt64(ipas) * 0x1000, Ripas.empty.rawValue, 0))
                }
            case .hostCall: body(.hostCall, 1, (0, 0, 0, 0))
            case .mmioAbort: if unprotected { body(.mmioAbort, 2, (ExplicitScope.unprotectedIPA, 1, 0, 0)) }
            default: body(k, 0, (0, 0, 0, 0))
            }
        }
    }

    /// The ordered k-tuples of distinct elements of `xs` other than `excluded`, in the order
    /// of their positions in `xs` (lexicographic); `buffer` holds the tuple being built.
    static func forEachTuple(of xs: [UInt64], excluding excluded: UInt64, _ k: Int, _ buffer: inout [UInt64],
                             _ body: ([UInt64]) -> Void) {
        buffer.removeAll(keepingCapacity: true)
        func extend() {
            if buffer.count == k { body(buffer); return }
            for x in xs where x != excluded && !buffer.contains(x) {
                buffer.append(x)
                extend()
                buffer.removeLast()
            }
        }
        extend()
    }
}
