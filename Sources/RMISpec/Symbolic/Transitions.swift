import SMT

// State-level operations the symbolic engines need to unroll the transition relation:
// choosing between the next states of several commands, comparing states without their NS
// memory, and the Host's moves between two calls (NS memory, Granule contents).

extension SymbolicState {
    /// `ite(c, a, b)` field by field (same scope and context). Fields that are the same term
    /// in both states stay that term, so a command that leaves most of the state alone adds
    /// little. NS memory is not merged: the result has `b`'s (engines havoc it between calls).
    public static func select(_ c: Term, _ a: SymbolicState, _ b: SymbolicState) -> SymbolicState {
        precondition(a.scope == b.scope, "select: states of different scopes")
        typealias S = Symbolic
        func pick(_ x: Term, _ y: Term) -> Term { S.ite(c, x, y) }
        var r = b
        for i in r.slots.indices {
            let x = a.slots[i], y = b.slots[i]
            r.slots[i].state = pick(x.state, y.state)
            r.slots[i].gpt = pick(x.gpt, y.gpt)
            r.slots[i].content = pick(x.content, y.content)
            r.slots[i].realmPresent = pick(x.realmPresent, y.realmPresent)
            r.slots[i].recPresent = pick(x.recPresent, y.recPresent)
            r.slots[i].rttPresent = pick(x.rttPresent, y.rttPresent)
            r.slots[i].realm = zip(x.realm, y.realm).map(pick)
            r.slots[i].rec = zip(x.rec, y.rec).map(pick)
            r.slots[i].rtt = zip(x.rtt, y.rtt).map(pick)
            r.slots[i].entries = zip(x.entries, y.entries).map { a.select(c, $0, $1) }
            r.slots[i].rest = RestSummary(state: pick(x.rest.state, y.rest.state), ripas: pick(x.rest.ripas, y.rest.ripas),
                                          attrs: pick(x.rest.attrs, y.rest.attrs), base: pick(x.rest.base, y.rest.base),
                                          strideCode: pick(x.rest.strideCode, y.rest.strideCode))
        }
        r.outOfScope = pick(a.outOfScope, b.outOfScope)
        return r
    }

    /// "Both states denote the same `SpecState` apart from NS memory": `equal` without the
    /// NS comparison (for states between which the Host may rewrite NS memory anyway).
    public func equalIgnoringNS(_ o: SymbolicState) -> Term {
        var a = self, b = o
        a.ns = NSMemory.unconstrained(prefix: "rmi!unused")
        b.ns = a.ns
        return a.equal(b)
    }

    /// The same state read under other spec options (a deliberately weakened spec, say).
    public func with(options o: SpecOptions) -> SymbolicState {
        SymbolicState(copying: self, options: o)
    }

    /// The same state with every RTT's ghost `leaked` mark at 0 (as `SpecState.forgettingLeaks`).
    public var forgettingLeaks: SymbolicState {
        var s = self
        for i in s.slots.indices { s.slots[i].rtt[RttField.leaked.rawValue] = lit(0) }
        return s
    }

    /// Whether the Host can write the Granule of slot `i` (`Machine.hostMayWrite`).
    public func hostCanAccess(slot i: Int) -> Term {
        hostMayWrite(SWord(raw: lit(slots[i].address))).raw
    }

    /// The Host's move between two calls: NS memory becomes arbitrary (fresh constants
    /// `prefix.nsK`) and every Granule the Host can write gets an arbitrary content digest
    /// (`prefix.content.gI`, returned in slot order) — the `data` Host write of a trace.
    public mutating func havocHost(prefix: String) -> [Term] {
        havocNS(prefix: prefix)
        var fresh: [Term] = []
        for i in slots.indices {
            let v = env.ctx.bvConst("\(prefix).content.g\(i)", width: 64)
            fresh.append(v)
            slots[i].content = Symbolic.ite(hostCanAccess(slot: i), v, slots[i].content)
        }
        return fresh
    }

    /// The NS memory reads this state's start memory answered with a fresh value (address
    /// and value terms, in the order they were made): what a Host must have written for a
    /// model of the run to be a run.
    public var nsReads: [(addr: Term, value: Term)] {
        ns.base.zeroDefault ? [] : ns.base.entries
    }
}

extension SymbolicState {
    /// The state with every field that is not a literal replaced by a fresh constant
    /// (`prefix.<field>`), and the equalities that tie each to its term. Engines unroll with
    /// this rather than with `fresh`: fields a run has not touched stay literals, so the
    /// spec's constant short-cuts keep firing on them, while the terms of the touched ones
    /// do not grow from step to step. NS memory is carried unchanged.
    public func freshened(prefix: String) -> (state: SymbolicState, equalities: [Term]) {
        var eqs: [Term] = []
        let ctx = env.ctx
        var r = mapComponents { t, name in
            if env.value(t) != nil || env.bool(t) != nil { return t }
            let v = ctx.const("\(prefix).\(name)", t.sort)
            eqs.append(ctx.eq(v, t))
            return v
        }
        r.outOfScope = env.fls
        return (r, eqs)
    }

    /// The state with `f(term, name)` in place of each of its fields, slot by slot in a fixed
    /// order (Granule state, GPT, content, present bits, Realm, REC and RTT fields, tracked
    /// entries, rest summary); `name` is the field's (`g0.state`, `g1.e2.addr`, ...). NS
    /// memory and `outOfScope` are carried unchanged.
    public func mapComponents(_ f: (Term, String) -> Term) -> SymbolicState {
        var r = self
        for i in r.slots.indices {
            let g = "g\(i)"
            var s = r.slots[i]
            s.state = f(s.state, "\(g).state"); s.gpt = f(s.gpt, "\(g).gpt"); s.content = f(s.content, "\(g).content")
            s.realmPresent = f(s.realmPresent, "\(g).realm"); s.recPresent = f(s.recPresent, "\(g).rec")
            s.rttPresent = f(s.rttPresent, "\(g).rtt")
            s.realm = s.realm.enumerated().map { f($0.element, "\(g).realm.\($0.offset)") }
            s.rec = s.rec.enumerated().map { f($0.element, "\(g).rec.\($0.offset)") }
            s.rtt = s.rtt.enumerated().map { f($0.element, "\(g).rtt.\($0.offset)") }
            s.entries = s.entries.enumerated().map { k, e in
                StoredEntry(state: f(e.state, "\(g).e\(k).state"), ripas: f(e.ripas, "\(g).e\(k).ripas"),
                            attrs: f(e.attrs, "\(g).e\(k).attrs"), addr: f(e.addr, "\(g).e\(k).addr"))
            }
            s.rest = RestSummary(state: f(s.rest.state, "\(g).rest.state"), ripas: f(s.rest.ripas, "\(g).rest.ripas"),
                                 attrs: f(s.rest.attrs, "\(g).rest.attrs"), base: f(s.rest.base, "\(g).rest.base"),
                                 strideCode: f(s.rest.strideCode, "\(g).rest.stride"))
            r.slots[i] = s
        }
        return r
    }

    /// The fields `mapComponents` visits, in its order.
    public var components: [Term] {
        var out: [Term] = []
        _ = mapComponents { t, _ in out.append(t); return t }
        return out
    }
}

extension SymbolicState {
    /// Each slot holds a Realm, REC or RTT object exactly when its Granule is in state RD,
    /// REC or RTT: what every reachable state satisfies (commands write an object together
    /// with its Granule's state change, and a state change away deletes it). Induction
    /// assumes it in its pre-states and proves it like a property.
    public var objectsMatchGranuleStates: Term {
        var ok = env.tru
        func holds(_ s: GranuleSlot, _ g: GranuleState) -> Term {
            env.eqAny(s.state, env.lit(g.rawValue, width: Self.stateWidth))
        }
        for s in slots {
            ok = Symbolic.and(ok, env.eqAny(s.realmPresent, holds(s, .rd)))
            ok = Symbolic.and(ok, env.eqAny(s.recPresent, holds(s, .rec)))
            ok = Symbolic.and(ok, env.eqAny(s.rttPresent, holds(s, .rtt)))
        }
        return ok
    }
}
