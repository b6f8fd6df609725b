import SMT

/// Why a concrete state does not fit a scope (`SymbolicState.constant(from:scope:)`), or
/// why a model does not denote a concrete state (`concretize`).
public struct ScopeMismatch: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

extension SymbolicState {
    // MARK: building

    /// An unconstrained state: every field is a fresh constant named `prefix.…` (equal
    /// prefixes give equal constants). Absent objects read 0 (their fields are
    /// `ite(present, v, 0)`); NS memory is unconstrained. Assert `wellFormed` to restrict it
    /// to encodings of `SpecState`s that fit the scope. Call inside `Symbolic.withContext`.
    public static func fresh(scope: Scope, prefix: String, options: SpecOptions = []) -> SymbolicState {
        let env = Symbolic.env
        let c = env.ctx
        func bv(_ n: String, _ w: Int = 64) -> Term { c.bvConst("\(prefix).\(n)", width: w) }
        let w8 = entryFieldWidth
        var slots: [GranuleSlot] = []
        for i in 0..<scope.granules {
            let g = "g\(i)"
            let realmP = c.boolConst("\(prefix).\(g).realm"), recP = c.boolConst("\(prefix).\(g).rec")
            let rttP = c.boolConst("\(prefix).\(g).rtt")
            func guarded(_ p: Term, _ v: Term, _ w: Int = 64) -> Term { Symbolic.ite(p, v, env.lit(0, width: w)) }
            let realm = RealmField.allCases.map { guarded(realmP, bv("\(g).realm.\($0)")) }
            let rec = allRecFields.map { guarded(recP, bv("\(g).rec.\($0)")) }
            let rtt = RttField.allCases.map { guarded(rttP, bv("\(g).rtt.\($0)")) }
            let entries = (0..<scope.entries).map { k in
                StoredEntry(state: guarded(rttP, bv("\(g).e\(k).state", w8), w8),
                            ripas: guarded(rttP, bv("\(g).e\(k).ripas", w8), w8),
                            attrs: guarded(rttP, bv("\(g).e\(k).attrs", w8), w8),
                            addr: guarded(rttP, bv("\(g).e\(k).addr")))
            }
            let rest = RestSummary(state: guarded(rttP, bv("\(g).rest.state", w8), w8),
                                   ripas: guarded(rttP, bv("\(g).rest.ripas", w8), w8),
                                   attrs: guarded(rttP, bv("\(g).rest.attrs", w8), w8),
                                   base: guarded(rttP, bv("\(g).rest.base")),
                                   strideCode: guarded(rttP, bv("\(g).rest.stride", strideCodeWidth), strideCodeWidth))
            slots.append(GranuleSlot(address: scope.slotAddress(i), state: bv("\(g).state", stateWidth),
                                     gpt: bv("\(g).gpt", gptWidth), content: bv("\(g).content"),
                                     realmPresent: realmP, realm: realm, recPresent: recP, rec: rec,
                                     rttPresent: rttP, rtt: rtt, entries: entries, rest: rest))
        }
        return SymbolicState(scope: scope, options: options, slots: slots,
                             ns: .unconstrained(prefix: prefix), env: env)
    }

    /// The initial state of the scope's platform: every Granule UNDELEGATED with its
    /// initial GPT, no objects, NS memory all zero.
    public static func initial(scope: Scope, options: SpecOptions = []) -> SymbolicState {
        // Cannot fail: the empty SpecState fits every scope.
        try! constant(from: SpecState(platform: scope.platform, options: options), scope: scope)
    }

    /// Whether the state encodes a `SpecState` that fits the scope: valid Granule-state,
    /// GPT and stride encodings and the Realm/REC bounds. (`outOfScope` is about the run, not the
    /// state, and is not included.)
    public var wellFormed: Term {
        var ok = Symbolic.not(boundsExceeded)
        for s in slots {
            ok = Symbolic.and(ok, Symbolic.ult(env.zext(s.state, Self.stateWidth), lit(UInt64(GranuleState.allCases.count))))
            ok = Symbolic.and(ok, Symbolic.ult(env.zext(s.gpt, Self.gptWidth), lit(UInt64(GPT.allCases.count))))
            ok = Symbolic.and(ok, Symbolic.ult(env.zext(s.rest.strideCode, Self.strideCodeWidth), lit(UInt64(Self.restStrides.count))))
            ok = Symbolic.and(ok, Symbolic.not(restStateExcluded(s.rest)))
        }
        return ok
    }

    /// The concrete state `s` as literals. Throws `ScopeMismatch` when `s` does not fit:
    /// another platform, a Granule or object outside the slots, more Realms/RECs than the
    /// bounds, or an RTT whose untracked entries are not uniform with addresses stepping by
    /// 0 or an RTT level size.
    /// Call inside `Symbolic.withContext`.
    public static func constant(from s: SpecState, scope: Scope) throws -> SymbolicState {
        let env = Symbolic.env
        guard s.platform == scope.platform else {
            throw ScopeMismatch(message: "the state's platform is not the scope's (\(scope))")
        }
        for a in s.granules.keys where scope.slot(at: a) == nil {
            throw ScopeMismatch(message: "Granule \(hex(a)) is not a slot of \(scope)")
        }
        for (what, keys) in [("Realm", Array(s.realms.keys)), ("REC", Array(s.recs.keys)), ("RTT", Array(s.rtts.keys))] {
            for a in keys where scope.slot(at: a) == nil {
                throw ScopeMismatch(message: "\(what) at \(hex(a)) is not in a slot of \(scope)")
            }
        }
        if s.realms.count > scope.realms { throw ScopeMismatch(message: "\(s.realms.count) Realms > realms=\(scope.realms)") }
        if s.recs.count > scope.recs { throw ScopeMismatch(message: "\(s.recs.count) RECs > recs=\(scope.recs)") }

        let e = scope.entries, n = Int(Layout.entriesPerRtt)
        func l8(_ v: UInt8) -> Term { env.lit(UInt64(v), width: entryFieldWidth) }
        func storedLit(_ x: SpecState.Entry) -> StoredEntry {
            StoredEntry(state: l8(x.state), ripas: l8(x.ripas), attrs: l8(x.attrs), addr: env.lit(x.addr))
        }
        var slots: [GranuleSlot] = []
        for i in 0..<scope.granules {
            let a = scope.slotAddress(i)
            let g = s.granule(a)
            let realm = s.realms[a]
            let rec = s.recs[a]
            let rtt = s.rtts[a]
            var rest = RestSummary(state: l8(0), ripas: l8(0), attrs: l8(0), base: env.lit(0),
                                   strideCode: env.lit(0, width: strideCodeWidth))
            if let rtt, e < n {
                let x0 = rtt.entries[e]
                let stride = e + 1 < n ? rtt.entries[e + 1].addr &- x0.addr : 0
                let base = x0.addr &- UInt64(e) &* stride
                for j in e..<n {
                    let x = rtt.entries[j]
                    guard x.state == x0.state, x.ripas == x0.ripas, x.attrs == x0.attrs,
                          x.addr == base &+ UInt64(j) &* stride else {
                        throw ScopeMismatch(message: "RTT \(hex(a)): untracked entry \(j) differs from entry \(e) (entries=\(e) tracks 0..<\(e))")
                    }
                }
                guard restEntryStates.contains(where: { $0.rawValue == UInt64(x0.state) }) else {
                    throw ScopeMismatch(message: "RTT \(hex(a)): untracked entries are in state \(x0.state), which no scope holds (TABLE or ASSIGNED entries at every untracked index)")
                }
                guard let code = restStrides.firstIndex(of: stride) else {
                    throw ScopeMismatch(message: "RTT \(hex(a)): untracked entries step by \(hex(stride)), not 0 or an RTT level size")
                }
                rest = RestSummary(state: l8(x0.state), ripas: l8(x0.ripas), attrs: l8(x0.attrs),
                                   base: env.lit(base), strideCode: env.lit(UInt64(code), width: strideCodeWidth))
            }
            slots.append(GranuleSlot(
                address: a,
                state: env.lit(g.state.rawValue, width: stateWidth), gpt: env.lit(g.gpt.rawValue, width: gptWidth),
                content: env.lit(g.content),
                realmPresent: Symbolic.lit(realm != nil),
                realm: RealmField.allCases.map { env.lit(realm?.fields[$0.rawValue] ?? 0) },
                recPresent: Symbolic.lit(rec != nil),
                rec: allRecFields.map { env.lit(rec?[$0] ?? 0) },
                rttPresent: Symbolic.lit(rtt != nil),
                rtt: [env.lit(rtt?.level ?? 0), env.lit(rtt?.owner ?? 0), env.lit(rtt?.ipaBase ?? 0), env.lit(rtt?.leaked ?? 0)],
                entries: (0..<e).map { storedLit(rtt?.entries[$0] ?? .zero) },
                rest: rest))
        }
        precondition(RttField.allCases.map(\.rawValue) == [0, 1, 2, 3])
        return SymbolicState(scope: scope, options: s.options, slots: slots, ns: .seeded(s.ns, env: env), env: env)
    }

    // MARK: reading back

    /// The concrete state a model gives this symbolic state. Throws `ScopeMismatch` if a
    /// Granule state or GPT has no valid encoding in the model (assert `wellFormed`).
    /// Unconstrained NS memory reads 0 at every address no read or write mentioned.
    public func concretize(_ model: Model) throws -> SpecState {
        try concretize(bv: { t in try env.value(t) ?? model.bvValue(t) },
                       bool: { t in try env.bool(t) ?? model.boolValue(t) })
    }

    /// `concretize` for a state whose terms are all literals (e.g. after a folded step from a
    /// constant state); nil if some term is not a literal.
    public func concretizeLiterals() -> SpecState? {
        struct NotLiteral: Error {}
        return try? concretize(bv: { t in guard let v = env.value(t) else { throw NotLiteral() }; return v },
                               bool: { t in guard let b = env.bool(t) else { throw NotLiteral() }; return b })
    }

    func concretize(bv: (Term) throws -> UInt64, bool: (Term) throws -> Bool) throws -> SpecState {
        var st = SpecState(platform: platform, options: options)
        let e = UInt64(tracked), n = Layout.entriesPerRtt
        for s in slots {
            let a = CWord(s.address)
            let sv = try bv(s.state), gv = try bv(s.gpt)
            guard GranuleState(rawValue: sv) != nil else {
                throw ScopeMismatch(message: "slot \(hex(s.address)): Granule state encoding \(sv)")
            }
            guard GPT(rawValue: gv) != nil else { throw ScopeMismatch(message: "slot \(hex(s.address)): GPT encoding \(gv)") }
            st.setGranuleState(a, CWord(sv), when: true)
            st.setGranuleGPT(a, CWord(gv), when: true)
            st.setGranuleContent(a, CWord(try bv(s.content)), when: true)
            if try bool(s.realmPresent) {
                for f in RealmField.allCases { st.setRealm(a, f, CWord(try bv(s.realm[f.rawValue])), when: true) }
            }
            if try bool(s.recPresent) {
                for (k, f) in Self.allRecFields.enumerated() { st.setRec(a, f, CWord(try bv(s.rec[k])), when: true) }
            }
            if try bool(s.rttPresent) {
                for f in RttField.allCases { st.setRtt(a, f, CWord(try bv(s.rtt[f.rawValue])), when: true) }
                let tracked = try s.entries.map { x in
                    SpecState.Entry(state: UInt8(try bv(x.state)), ripas: UInt8(try bv(x.ripas)),
                                    attrs: UInt8(try bv(x.attrs)), addr: try bv(x.addr))
                }
                let rs = UInt8(try bv(s.rest.state)), rr = UInt8(try bv(s.rest.ripas)), ra = UInt8(try bv(s.rest.attrs))
                let base = try bv(s.rest.base), code = try bv(s.rest.strideCode)
                guard code < UInt64(Self.restStrides.count) else {
                    throw ScopeMismatch(message: "slot \(hex(s.address)): rest stride code \(code)")
                }
                let stride = Self.restStrides[Int(code)]
                st.updateEntries(a, from: 0, to: CWord(n), when: true) { i, _ in
                    let x = i.raw < e ? tracked[Int(i.raw)]
                        : SpecState.Entry(state: rs, ripas: rr, attrs: ra, addr: base &+ i.raw &* stride)
                    return RttEntry(state: CWord(UInt64(x.state)), ripas: CWord(UInt64(x.ripas)),
                                    addr: CWord(x.addr), attrs: CWord(UInt64(x.attrs)))
                }
            }
        }
        var mem: [UInt64: UInt64] = [:]
        for (addr, value) in ns.base.entries {
            let av = try bv(addr)
            if mem[av] == nil { mem[av] = try bv(value) }
        }
        for w in ns.writes where try bool(w.guard) { mem[try bv(w.addr)] = try bv(w.value) }
        for (a, v) in mem.sorted(by: { $0.key < $1.key }) where v != 0 { st.nsWrite(CWord(a), CWord(v), when: true) }
        return st
    }

    // MARK: comparing

    /// The Bool term "both states denote the same `SpecState`" (same scope required).
    /// NS memory is compared at every address either state mentions, which is exact when
    /// both start memories are seeded ones or are the same object; `outOfScope` is not
    /// compared.
    public func equal(_ o: SymbolicState) -> Term {
        precondition(scope == o.scope, "equal: states of different scopes")
        typealias S = Symbolic
        var acc = env.tru
        func add(_ t: Term) { acc = S.and(acc, t) }
        let e = UInt64(tracked)
        for (a, b) in zip(slots, o.slots) {
            add(env.eqAny(a.state, b.state)); add(env.eqAny(a.gpt, b.gpt)); add(S.eq(a.content, b.content))
            add(env.eqAny(a.realmPresent, b.realmPresent)); add(env.eqAny(a.recPresent, b.recPresent))
            add(env.eqAny(a.rttPresent, b.rttPresent))
            for (x, y) in zip(a.realm + a.rec + a.rtt, b.realm + b.rec + b.rtt) { add(S.eq(x, y)) }
            for (x, y) in zip(a.entries, b.entries) { add(equal(x, y)) }
            if hasRest {
                // Two affine address patterns agree on [E, 512) iff they agree at E and E + 1.
                add(equal(restStored(a.rest, lit(e)), restStored(b.rest, lit(e))))
                if e + 1 < Layout.entriesPerRtt {
                    add(S.eq(restStored(a.rest, lit(e + 1)).addr, restStored(b.rest, lit(e + 1)).addr))
                }
            }
        }
        for addr in ns.mentionedAddresses + o.ns.mentionedAddresses {
            add(S.eq(ns.read(addr, env: env), o.ns.read(addr, env: env)))
        }
        return acc
    }
}
