import SMT

// RTT entries of a SymbolicState: tracked indices and the rest summary.
//
// Why the rest summary is exact. Write R = [E, 512) for the untracked indices (E =
// scope.entries) and r(j) for the summary's entry j. An operation that runs a closure over R
// first evaluates it once at a *symbolic* index `J` (SymbolicEnv.restIndex, a constant that
// never appears in a result) and once at the literal E. The closure is built from Domain
// operations, whose folding is semantics-preserving, so its result at J is a term T(J) whose
// value at J := j is the closure's result at j. If T(J) and the result at E are the same Z3
// term (Z3 hash-conses terms), T cannot contain J — J does not occur in the E evaluation —
// so the closure's result is the same at every j in R: one evaluation stands for all of R.
// Otherwise the closure is evaluated at each of the 512 - E indices (exact, larger terms).
// Address components are affine in j; an update whose address result is "the input address"
// or "a constant" keeps the affine form, anything else goes to the per-index path, which
// recomputes base and stride from j = E, E + 1 and flags any index that does not fit (and a
// stride that is not one of `restStrides`).

extension SymbolicState {
    /// An RTT's entries as the operations see them.
    struct TableView {
        var entries: [StoredEntry]
        var rest: RestSummary
    }

    func view(_ i: Int) -> TableView { TableView(entries: slots[i].entries, rest: slots[i].rest) }
    /// What `SpecState` reads for an RTT it does not store: every entry zero.
    func zeroView() -> TableView {
        TableView(entries: Array(repeating: zeroStored(), count: tracked), rest: zeroRest())
    }

    /// Entry `i` of a table (any `i`; 0 from 512 on, as `SpecState`).
    func entry(of v: TableView, _ i: Term) -> RttEntry<Symbolic> {
        if env.fold, let k = env.value(i) {
            if k < UInt64(tracked) { return word(v.entries[Int(k)]) }
            if k < Layout.entriesPerRtt { return word(restStored(v.rest, i)) }
            return word(zeroStored())
        }
        var r = hasRest ? RttEntry.select(SBit(raw: S.ult(i, lit(Layout.entriesPerRtt))), word(restStored(v.rest, i)),
                                          word(zeroStored()))
                        : word(zeroStored())
        for k in (0..<tracked).reversed() {
            r = RttEntry.select(SBit(raw: S.eq(i, lit(UInt64(k)))), word(v.entries[k]), r)
        }
        return r
    }

    /// `p` on every untracked index; `.uniform(x)` when provably index-independent.
    enum RestValues { case uniform(Term), perIndex([Term]) }

    /// The states the untracked entries of an RTT can have in a scope. Never TABLE or
    /// ASSIGNED: 512 - `entries` such entries would need as many child RTTs, or DATA
    /// Granules covered once each, and a scope has at most 64 Granules. (A run could only
    /// get there through a block split or a range update, and one that would is out of
    /// scope: `restStateExcluded`.)
    static let restEntryStates: [RttEntryState] = [.unassigned, .unassignedNS, .assignedNS]

    /// "The rest summary `r` has a state the scope excludes."
    func restStateExcluded(_ r: RestSummary) -> Term {
        if !hasRest { return env.fls }
        return Self.restEntryStates.reduce(env.tru) { S.and($0, S.not(env.eqAny(r.state, lit8($1.rawValue)))) }
    }
    func restValues(_ rest: RestSummary, _ p: (SWord, RttEntry<Symbolic>) -> SBit) -> RestValues {
        let e = UInt64(tracked)
        let atJ = p(SWord(raw: env.restIndex), word(restStored(rest, env.restIndex))).raw
        let atE = p(SWord(raw: lit(e)), word(restStored(rest, lit(e)))).raw
        if atJ == atE { return .uniform(atE) }
        if env.value(rest.state) == nil {
            // Split on the state the rest has: with a literal state, a predicate about TABLE
            // or ASSIGNED entries (the ones that read addresses) folds, and usually stops
            // depending on the index. The last case stands for every other code too, which
            // the scope excludes (`restStateExcluded`).
            let states = Self.restEntryStates
            let cases = states.map { s -> RestValues in
                var r = rest
                r.state = lit8(s.rawValue)
                return restValues(r, p)
            }
            let isState = states.map { env.eqAny(rest.state, lit8($0.rawValue)) }
            func combine(_ values: [Term]) -> Term {
                var acc = values[values.count - 1]
                for k in (0..<(values.count - 1)).reversed() { acc = S.ite(isState[k], values[k], acc) }
                return acc
            }
            let uniform = cases.compactMap { c -> Term? in if case .uniform(let x) = c { x } else { nil } }
            if uniform.count == cases.count { return .uniform(combine(uniform)) }
            let n = Int(Layout.entriesPerRtt - e)
            return .perIndex((0..<n).map { j in
                combine(cases.map { c in
                    switch c {
                    case .uniform(let x): x
                    case .perIndex(let xs): xs[j]
                    }
                })
            })
        }
        var out = [atE]
        for j in (e + 1)..<Layout.entriesPerRtt {
            out.append(p(SWord(raw: lit(j)), word(restStored(rest, lit(j)))).raw)
        }
        return .perIndex(out)
    }

    func first(in v: TableView, from: Term, where p: (SWord, RttEntry<Symbolic>) -> SBit) -> Term {
        let n = Layout.entriesPerRtt, e = UInt64(tracked)
        var r = lit(n)
        if hasRest {
            switch restValues(v.rest, p) {
            case .uniform(let x):
                // The first untracked index >= from is max(from, E), if below 512.
                let j0 = S.ite(S.ult(from, lit(e)), lit(e), from)
                r = S.ite(S.and(x, S.ult(j0, lit(n))), j0, lit(n))
            case .perIndex(let xs):
                for (k, x) in xs.enumerated().reversed() {
                    let j = e + UInt64(k)
                    r = S.ite(S.and(S.not(S.ult(lit(j), from)), x), lit(j), r)
                }
            }
        }
        for k in (0..<tracked).reversed() {
            let c = S.and(S.not(S.ult(lit(UInt64(k)), from)), p(SWord(raw: lit(UInt64(k))), word(v.entries[k])).raw)
            r = S.ite(c, lit(UInt64(k)), r)
        }
        return r
    }

    func all(in v: TableView, _ p: (SWord, RttEntry<Symbolic>) -> SBit) -> Term {
        var acc = env.tru
        for k in 0..<tracked {
            acc = S.and(acc, p(SWord(raw: lit(UInt64(k))), word(v.entries[k])).raw)
            if isKnownFalse(acc) { return acc }
        }
        if hasRest {
            switch restValues(v.rest, p) {
            case .uniform(let x): acc = S.and(acc, x)
            case .perIndex(let xs): for x in xs { acc = S.and(acc, x) }
            }
        }
        return acc
    }

    func count(in v: TableView, _ p: (SWord, RttEntry<Symbolic>) -> SBit) -> Term {
        var acc = lit(0)
        for k in 0..<tracked {
            acc = S.add(acc, S.ite(p(SWord(raw: lit(UInt64(k))), word(v.entries[k])).raw, lit(1), lit(0)))
        }
        if hasRest {
            switch restValues(v.rest, p) {
            case .uniform(let x): acc = S.add(acc, S.ite(x, lit(Layout.entriesPerRtt - UInt64(tracked)), lit(0)))
            case .perIndex(let xs): for x in xs { acc = S.add(acc, S.ite(x, lit(1), lit(0))) }
            }
        }
        return acc
    }

    /// Closure results of one `updateEntries` call by (index, input entry): tables of several
    /// slots often have equal rests (all zero, say), and the per-index path then evaluates
    /// the closure once, not once per slot.
    final class ClosureMemo {
        struct Key: Hashable { let j: UInt64, state: Term, ripas: Term, attrs: Term, addr: Term }
        var results: [Key: StoredEntry] = [:]
    }

    /// The rest after `n(j) = g && from <= j < to ? f(j, r(j)) : r(j)`, and the condition
    /// under which that is not uniform (then the state is out of scope).
    func updatedRest(_ rest: RestSummary, guard g: Term, from: Term, to: Term, memo: ClosureMemo = ClosureMemo(),
                     _ f: (SWord, RttEntry<Symbolic>) -> RttEntry<Symbolic>) -> (RestSummary, Term) {
        let n = Layout.entriesPerRtt, e = UInt64(tracked)
        // Some / every untracked index is in [from, to).
        let covSome = S.and(S.and(S.ult(from, lit(n)), S.ult(lit(e), to)), S.ult(from, to))
        if isKnownFalse(S.and(g, covSome)) { return (rest, env.fls) }
        let covAll = S.and(S.not(S.ult(lit(e), from)), S.not(S.ult(to, lit(n))))
        let partial = S.and(covSome, S.not(covAll))

        let rJ = restStored(rest, env.restIndex)
        let fJ = stored(f(SWord(raw: env.restIndex), word(rJ)))
        let fE = stored(f(SWord(raw: lit(e)), word(restStored(rest, lit(e)))))
        if fJ.state == fE.state && fJ.ripas == fE.ripas && fJ.attrs == fE.attrs {
            let c = S.and(g, covAll)
            let sameFields = S.and(S.and(env.eqAny(fE.state, rest.state), env.eqAny(fE.ripas, rest.ripas)),
                                   env.eqAny(fE.attrs, rest.attrs))
            if fJ.addr == rJ.addr {
                // Address passed through: the affine form is kept. A partial cover is uniform
                // iff the closure keeps state, RIPAS and attributes.
                let r = RestSummary(state: S.ite(c, fE.state, rest.state), ripas: S.ite(c, fE.ripas, rest.ripas),
                                    attrs: S.ite(c, fE.attrs, rest.attrs), base: rest.base, strideCode: rest.strideCode)
                return (r, S.and(S.and(g, partial), S.not(sameFields)))
            }
            if fJ.addr == fE.addr && n - e >= 3 {
                // A constant entry. Over the whole rest it replaces the summary. Over part of
                // it, with at least 3 untracked indices, the rest stays uniform iff nothing
                // changes: either the old entries there already equal it (same fields,
                // stride 0, base = the constant address), or the part is one index whose old
                // entry equals it (the other indices, two or more, fix the stride). With 1 or
                // 2 untracked indices any two values can form a pattern: the per-index path
                // below decides those.
                let r = RestSummary(state: S.ite(c, fE.state, rest.state), ripas: S.ite(c, fE.ripas, rest.ripas),
                                    attrs: S.ite(c, fE.attrs, rest.attrs), base: S.ite(c, fE.addr, rest.base),
                                    strideCode: S.ite(c, strideCode(0), rest.strideCode))
                let alreadyThere = S.and(sameFields, S.and(env.eqAny(rest.strideCode, strideCode(0)), S.eq(rest.base, fE.addr)))
                let j0 = S.ite(S.ult(from, lit(e)), lit(e), from)
                let hi = S.ite(S.ult(to, lit(n)), to, lit(n))
                let oneIndex = S.and(S.eq(S.add(j0, lit(1)), hi), equal(restStored(rest, j0), fE))
                return (r, S.and(S.and(g, partial), S.not(S.or(alreadyThere, oneIndex))))
            }
        }
        // Per index.
        var out: [StoredEntry] = []
        out.reserveCapacity(Int(n - e))
        for j in e..<n {
            let jt = lit(j)
            let old = restStored(rest, jt)
            let hit = S.and(g, S.and(S.not(S.ult(jt, from)), S.ult(jt, to)))
            if isKnownFalse(hit) { out.append(old); continue }
            let key = ClosureMemo.Key(j: j, state: old.state, ripas: old.ripas, attrs: old.attrs, addr: old.addr)
            let new: StoredEntry
            if let m = memo.results[key] { new = m } else {
                new = stored(f(SWord(raw: jt), word(old)))
                memo.results[key] = new
            }
            out.append(select(hit, new, old))
        }
        let e0 = out[0]
        // A single untracked entry (E = 511) keeps the old stride: any stride fits one point.
        let stride = out.count > 1 ? S.sub(out[1].addr, e0.addr) : S.sub(restStored(rest, lit(1)).addr, rest.base)
        let (code, validStride) = out.count > 1 ? strideCode(of: stride) : (rest.strideCode, env.tru)
        let base = S.sub(e0.addr, S.mul(lit(e), stride))
        let summary = RestSummary(state: e0.state, ripas: e0.ripas, attrs: e0.attrs, base: base, strideCode: code)
        var bad = S.not(validStride)
        for (k, x) in out.enumerated() where k > 0 {
            // The summary's address for the index: with a valid stride (else `bad` holds
            // anyway) the same as base + index * stride, without a multiplier per index.
            let fits = S.and(S.and(env.eqAny(x.state, e0.state), env.eqAny(x.ripas, e0.ripas)),
                             S.and(env.eqAny(x.attrs, e0.attrs),
                                   S.eq(x.addr, restStored(summary, lit(e + UInt64(k))).addr)))
            bad = S.or(bad, S.not(fits))
        }
        return (summary, bad)
    }
}

// MARK: - Machine: entries

extension SymbolicState {
    public func entry(_ t: SWord, _ i: SWord) -> RttEntry<Symbolic> {
        var r = word(zeroStored())
        for (k, m) in matches(t.raw).reversed() {
            r = RttEntry.select(SBit(raw: m), entry(of: view(k), i.raw), r)
        }
        return r
    }

    public mutating func setEntry(_ t: SWord, _ i: SWord, _ e: RttEntry<Symbolic>, when: SBit) {
        let w = S.and(when.raw, S.ult(i.raw, lit(Layout.entriesPerRtt)))
        if isKnownFalse(w) { return }
        let x = stored(e)
        for (s, m) in matches(t.raw) {
            let g = S.and(w, m)
            if isKnownFalse(g) { continue }
            slots[s].rttPresent = S.or(slots[s].rttPresent, g)
            for k in 0..<tracked {
                let gk = S.and(g, S.eq(i.raw, lit(UInt64(k))))
                if isKnownFalse(gk) { continue }
                slots[s].entries[k] = select(gk, x, slots[s].entries[k])
            }
            if hasRest {
                let untracked = S.and(g, S.not(S.ult(i.raw, lit(UInt64(tracked)))))
                if isKnownFalse(untracked) { continue }
                if Layout.entriesPerRtt - UInt64(tracked) >= 3 {
                    // With >= 3 untracked indices the others include two consecutive ones,
                    // which fix the pattern (strides are level sizes): the write must keep
                    // the value the index already has.
                    flag(S.and(untracked, S.not(equal(x, restStored(slots[s].rest, i.raw)))))
                } else {
                    // One or two untracked indices: any value that keeps them uniform with a
                    // valid stride is in scope; the range update computes exactly that.
                    let (r, bad) = updatedRest(slots[s].rest, guard: g, from: i.raw, to: S.add(i.raw, lit(1))) { _, _ in e }
                    slots[s].rest = r
                    flag(S.or(bad, restStateExcluded(r)))
                }
            }
        }
        flag(S.and(w, S.not(isSlot(t.raw))))
    }

    public mutating func updateEntries(_ t: SWord, from: SWord, to: SWord, when: SBit,
                                       _ f: (SWord, RttEntry<Symbolic>) -> RttEntry<Symbolic>) {
        if isKnownFalse(when.raw) { return }
        // SpecState: lo = min(from, 512), hi = min(to, 512); nothing (not even the RTT
        // object) is created unless lo < hi, i.e. from < 512 && from < to.
        let nonEmpty = S.and(S.ult(from.raw, lit(Layout.entriesPerRtt)), S.ult(from.raw, to.raw))
        let memo = ClosureMemo()
        for (s, m) in matches(t.raw) {
            let g = S.and(when.raw, m)
            if isKnownFalse(S.and(g, nonEmpty)) { continue }
            slots[s].rttPresent = S.or(slots[s].rttPresent, S.and(g, nonEmpty))
            for k in 0..<tracked {
                let kt = lit(UInt64(k))
                let gk = S.and(g, S.and(S.not(S.ult(kt, from.raw)), S.ult(kt, to.raw)))
                if isKnownFalse(gk) { continue }
                let old = slots[s].entries[k]
                slots[s].entries[k] = select(gk, stored(f(SWord(raw: kt), word(old))), old)
            }
            if hasRest {
                let (r, bad) = updatedRest(slots[s].rest, guard: g, from: from.raw, to: to.raw, memo: memo, f)
                slots[s].rest = r
                flag(S.or(bad, restStateExcluded(r)))
            }
        }
        flag(S.and(S.and(when.raw, nonEmpty), S.not(isSlot(t.raw))))
    }

    public func firstEntry(_ t: SWord, from: SWord, where p: (SWord, RttEntry<Symbolic>) -> SBit) -> SWord {
        var r: Term
        let ms = matches(t.raw)
        if env.fold, env.value(t.raw) != nil, let (k, _) = ms.first {
            return SWord(raw: first(in: view(k), from: from.raw, where: p))
        }
        r = first(in: zeroView(), from: from.raw, where: p)
        for (k, m) in ms.reversed() { r = S.ite(m, first(in: view(k), from: from.raw, where: p), r) }
        return SWord(raw: r)
    }

    public func countEntries(_ t: SWord, _ p: (SWord, RttEntry<Symbolic>) -> SBit) -> SWord {
        let ms = matches(t.raw)
        if env.fold, env.value(t.raw) != nil, let (k, _) = ms.first {
            return SWord(raw: count(in: view(k), p))
        }
        var r = count(in: zeroView(), p)
        for (k, m) in ms.reversed() { r = S.ite(m, count(in: view(k), p), r) }
        return SWord(raw: r)
    }

    public func allEntries(_ t: SWord, _ p: (SWord, RttEntry<Symbolic>) -> SBit) -> SBit {
        let ms = matches(t.raw)
        if env.fold, env.value(t.raw) != nil, let (k, _) = ms.first {
            return SBit(raw: all(in: view(k), p))
        }
        var r = all(in: zeroView(), p)
        for (k, m) in ms.reversed() { r = S.ite(m, all(in: view(k), p), r) }
        return SBit(raw: r)
    }
}
