import SMT

/// Non-secure memory of a `SymbolicState`: the memory at the start of the run (`Base`) and
/// the guarded writes the spec made since, oldest first.
///
/// Two kinds of start memory:
/// * **seeded, zero default** (`SymbolicState.constant(from:)`): the concrete NS contents,
///   every other address reads 0 — exactly `SpecState.nsRead`.
/// * **unconstrained** (`SymbolicState.fresh`, `havocNS`): an arbitrary function of the
///   address. It is built lazily (Ackermann style): the first read at an address term gets a
///   fresh 64-bit constant, and every later read at any address term is an `ite` chain over
///   the addresses read before, so two reads whose addresses are equal give equal values —
///   even when the address terms differ. This is the faithful model for BMC, where the Host
///   may write anything to NS memory between two calls: call `havocNS` between steps.
///
/// The start memory is a shared object (reads materialise entries in it); every state
/// derived from the same start shares it, which is sound because it stands for one unknown
/// function. Writes are per state (value semantics).
public struct NSMemory {
    final class Base {
        let zeroDefault: Bool
        let prefix: String
        /// Materialised or seeded entries; the first whose address equals the read address wins.
        var entries: [(addr: Term, value: Term)] = []
        /// Position of an exact address term in `entries` (Z3 hash-conses terms).
        var position: [Term: Int] = [:]
        /// Positions of entries whose address is not a literal.
        var symbolicPositions: [Int] = []

        init(zeroDefault: Bool, prefix: String) {
            self.zeroDefault = zeroDefault
            self.prefix = prefix
        }

        func append(_ a: Term, _ v: Term, env: SymbolicEnv) {
            position[a] = entries.count
            if env.value(a) == nil { symbolicPositions.append(entries.count) }
            entries.append((a, v))
        }

        func read(_ a: Term, env: SymbolicEnv) -> Term {
            let pos = position[a]
            let limit = pos ?? entries.count
            let candidates: [Int]
            if env.fold, env.value(a) != nil {
                // Other literal addresses differ from a literal one: only symbolic ones can match.
                candidates = symbolicPositions.filter { $0 < limit }
            } else {
                candidates = Array(0..<limit)
            }
            let fresh: Term?
            var r: Term
            if let pos {
                fresh = nil
                r = entries[pos].value
            } else if zeroDefault {
                fresh = nil
                r = env.lit(0)
            } else {
                let v = env.ctx.bvConst("\(prefix).ns\(entries.count)", width: 64)
                fresh = v
                r = v
            }
            for k in candidates.reversed() {
                r = Symbolic.ite(Symbolic.eq(a, entries[k].addr), entries[k].value, r)
            }
            if let fresh { append(a, fresh, env: env) }
            return r
        }
    }

    let base: Base
    /// Guarded writes, oldest first.
    var writes: [(guard: Term, addr: Term, value: Term)] = []

    init(base: Base) { self.base = base }

    /// Memory seeded with `contents`; every other address reads 0.
    static func seeded(_ contents: AddrMap<UInt64>, env: SymbolicEnv) -> NSMemory {
        let b = Base(zeroDefault: true, prefix: "")
        for (a, v) in contents.sorted(by: { $0.key < $1.key }) { b.append(env.lit(a), env.lit(v), env: env) }
        return NSMemory(base: b)
    }

    /// Unconstrained memory; fresh constants are named `prefix.nsK`.
    static func unconstrained(prefix: String) -> NSMemory {
        NSMemory(base: Base(zeroDefault: false, prefix: prefix))
    }

    func read(_ a: Term, env: SymbolicEnv) -> Term {
        // Newest write first; stop at a write that certainly hits.
        var applicable: [(guard: Term, addr: Term, value: Term)] = []
        var hit: Term?
        for w in writes.reversed() {
            let g = Symbolic.and(w.guard, Symbolic.eq(a, w.addr))
            if let k = Symbolic.known(g) as Bool? {
                if k { hit = w.value; break } else { continue }
            }
            applicable.append((g, w.addr, w.value))
        }
        var r = hit ?? base.read(a, env: env)
        for w in applicable.reversed() { r = Symbolic.ite(w.guard, w.value, r) }
        return r
    }

    mutating func write(_ a: Term, _ v: Term, when: Term) {
        if Symbolic.known(when) == false { return }
        writes.append((when, a, v))
    }

    /// Every address term this memory mentions (start entries and writes).
    var mentionedAddresses: [Term] { base.entries.map(\.addr) + writes.map(\.addr) }
}
