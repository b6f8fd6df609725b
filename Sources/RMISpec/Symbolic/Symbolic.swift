import SMT
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The symbolic reading of the specification: Z3 terms. `B` is a term of sort Bool, `W` a
/// bit-vector of width 64.
///
/// The `Domain` functions are static, so the Z3 `Context` they build terms in is an
/// ambient, **thread-confined** setting: `Symbolic.withContext(ctx) { ... }` installs it for
/// the current thread for the duration of the closure. Z3 objects never cross threads: a
/// `Context`, its terms and every `SymbolicState` built from it must be created, used and
/// released on the thread that runs the closure (run long solver work with `runZ3`, which
/// gives it a dedicated thread). Calling a `Symbolic` operation outside `withContext` is a
/// programming error (`preconditionFailure`).
///
/// **Constant folding.** With `folding: true` (the default) every operation whose operands
/// are literals returns a literal computed in Swift (with the same 64-bit semantics as
/// `Concrete`), and a few identities (`x & 0`, `ite(c, x, x)`, `true && x`, ...) are applied.
/// `known(_:)` recognises literal terms, so the spec's concrete short-cuts
/// (`if ok.isFalse { return ... }`, `if descend.isFalse { break }`) fire on constant parts
/// of a symbolic run. With `folding: false` nothing is known and every operation builds its
/// Z3 term in full: a testing mode that makes Z3, not Swift, evaluate the encoding.
///
/// Literal recognition is by a table of the literals made through `Symbolic` (Z3
/// hash-conses terms, so an equal literal made directly with `Context.bv` is recognised
/// too while the table holds it). The table lives as long as the context is in use by a
/// `withContext` call or by a `SymbolicState` made from it.
public enum Symbolic: Domain {
    public typealias B = Term
    public typealias W = Term

    /// Runs `body` with `ctx` as the current thread's context for `Symbolic` terms.
    /// Calls nest; the innermost context wins. `folding` is described on `Symbolic`.
    public static func withContext<R>(_ ctx: Context, folding: Bool = true, _ body: () throws -> R) rethrows -> R {
        let t = ThreadEnvs.current
        let env = t.env(for: ctx)
        let savedFold = env.fold
        env.fold = folding
        t.stack.append(env)
        defer {
            t.stack.removeLast()
            env.fold = savedFold
        }
        return try body()
    }

    /// The current thread's context (inside `withContext`).
    public static var context: Context { env.ctx }

    /// Whether constant folding is on in the current `withContext`.
    public static var folding: Bool { env.fold }

    static var env: SymbolicEnv {
        guard let e = ThreadEnvs.current.stack.last else {
            preconditionFailure("Symbolic terms are built only inside Symbolic.withContext(ctx) { ... } on the context's thread")
        }
        return e
    }

    // MARK: literals and variables

    /// The 64-bit literal `v`.
    public static func lit(_ v: UInt64) -> Term { env.lit(v) }
    /// The Boolean literal `b`.
    public static func lit(_ b: Bool) -> Term { b ? env.tru : env.fls }
    /// A fresh 64-bit constant named `name` (equal names give the same constant).
    public static func variable(_ name: String) -> Term { env.ctx.bvConst(name, width: 64) }
    /// A Boolean constant named `name`.
    public static func boolVariable(_ name: String) -> Term { env.ctx.boolConst(name) }

    // MARK: Domain

    public static func constant(_ v: Bool) -> Term { v ? env.tru : env.fls }
    public static func constant(_ v: UInt64) -> Term { env.lit(v) }
    public static func known(_ b: Term) -> Bool? { env.fold ? env.bool(b) : nil }
    public static func known(_ w: Term) -> UInt64? { env.fold ? env.value(w) : nil }

    // B and W are both `Term`, so each of `not`, `and`, `or`, `ite` is one function serving
    // both protocol requirements: it dispatches on the operand's sort (Bool or bit-vector).

    public static func not(_ a: Term) -> Term {
        let e = env
        if e.fold {
            if let x = e.bool(a) { return x ? e.fls : e.tru }
            if let x = e.value(a) { return e.lit(~x) }
        }
        return e.isBool(a) ? e.ctx.not(a) : e.ctx.bvnot(a)
    }
    public static func and(_ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            if let x = e.bool(a) { return x ? b : e.fls }
            if let y = e.bool(b) { return y ? a : e.fls }
            let x = e.value(a), y = e.value(b)
            if let x, let y { return e.lit(x & y) }
            if x == 0 || y == 0 { return e.lit(0) }
            if x == ~0 { return b }
            if y == ~0 { return a }
            if a == b { return a }
        }
        return e.isBool(a) ? e.ctx.and([a, b]) : e.ctx.bvand(a, b)
    }
    public static func or(_ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            if let x = e.bool(a) { return x ? e.tru : b }
            if let y = e.bool(b) { return y ? e.tru : a }
            let x = e.value(a), y = e.value(b)
            if let x, let y { return e.lit(x | y) }
            if x == 0 { return b }
            if y == 0 { return a }
            if x == ~0 || y == ~0 { return e.lit(~0) }
            if a == b { return a }
        }
        return e.isBool(a) ? e.ctx.or([a, b]) : e.ctx.bvor(a, b)
    }
    /// Z3's `ite` is sort-generic.
    public static func ite(_ c: Term, _ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            if let x = e.bool(c) { return x ? a : b }
            if a == b { return a }
            if let x = e.bool(a), e.bool(b) != nil {
                // Here x != y (a == b was handled): ite(c, true, false) = c.
                return x ? c : e.ctx.not(c)
            }
        }
        return e.ctx.ite(c, a, b)
    }

    public static func eq(_ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            if let x = e.value(a), let y = e.value(b) { return x == y ? e.tru : e.fls }
            if a == b { return e.tru }
        }
        return e.ctx.eq(a, b)
    }
    public static func ult(_ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            if let x = e.value(a), let y = e.value(b) { return x < y ? e.tru : e.fls }
            if a == b { return e.fls }
            if let y = e.value(b), y == 0 { return e.fls }
        }
        return e.ctx.ult(a, b)
    }
    public static func slt(_ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            if let x = e.value(a), let y = e.value(b) {
                return Int64(bitPattern: x) < Int64(bitPattern: y) ? e.tru : e.fls
            }
            if a == b { return e.fls }
        }
        return e.ctx.slt(a, b)
    }
    public static func add(_ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            let x = e.value(a), y = e.value(b)
            if let x, let y { return e.lit(x &+ y) }
            if x == 0 { return b }
            if y == 0 { return a }
        }
        return e.ctx.bvadd(a, b)
    }
    public static func sub(_ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            let x = e.value(a), y = e.value(b)
            if let x, let y { return e.lit(x &- y) }
            if y == 0 { return a }
            if a == b { return e.lit(0) }
        }
        return e.ctx.bvsub(a, b)
    }
    public static func mul(_ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            let x = e.value(a), y = e.value(b)
            if let x, let y { return e.lit(x &* y) }
            if x == 0 || y == 0 { return e.lit(0) }
            if x == 1 { return b }
            if y == 1 { return a }
            // a * (1 << k) = a << k, for every k (both sides are 0 from k = 64 on): a shifter
            // instead of a 64-bit multiplier, which is what RttLevelSize products cost.
            if let k = e.shiftOfPowerOfTwo(b) { return shl(a, k) }
            if let k = e.shiftOfPowerOfTwo(a) { return shl(b, k) }
        }
        return e.ctx.bvmul(a, b)
    }
    public static func xor(_ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            let x = e.value(a), y = e.value(b)
            if let x, let y { return e.lit(x ^ y) }
            if x == 0 { return b }
            if y == 0 { return a }
            if a == b { return e.lit(0) }
        }
        return e.ctx.bvxor(a, b)
    }
    /// Z3's `bvshl`/`bvlshr` on 64-bit vectors give 0 for amounts >= 64, as `Concrete` does.
    public static func shl(_ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            let x = e.value(a), y = e.value(b)
            if let x, let y { return e.lit(y >= 64 ? 0 : x << y) }
            if x == 0 { return a }
            if let y { if y == 0 { return a }; if y >= 64 { return e.lit(0) } }
            if x == 1 {
                let r = e.ctx.bvshl(a, b)
                e.notePowerOfTwo(r, shift: b)
                return r
            }
        }
        return e.ctx.bvshl(a, b)
    }
    public static func lshr(_ a: Term, _ b: Term) -> Term {
        let e = env
        if e.fold {
            let x = e.value(a), y = e.value(b)
            if let x, let y { return e.lit(y >= 64 ? 0 : x >> y) }
            if x == 0 { return a }
            if let y { if y == 0 { return a }; if y >= 64 { return e.lit(0) } }
        }
        return e.ctx.bvlshr(a, b)
    }
}

public typealias SWord = Word<Symbolic>
public typealias SBit = Bit<Symbolic>

extension Word where D == Symbolic {
    /// The 64-bit literal.
    public static func lit(_ v: UInt64) -> SWord { SWord(raw: Symbolic.lit(v)) }
}

// MARK: - Per-context environment (literal tables) and the thread-local stack

/// What `Symbolic` keeps per Z3 context: literal tables and helpers for the narrow
/// (non-64-bit) fields of `SymbolicState`. Confined to the context's thread.
final class SymbolicEnv {
    let ctx: Context
    var fold = true
    let tru: Term
    let fls: Term
    /// Literal terms by (width, value), and the value of each literal term (any width).
    private var lits: [UInt64: Term] = [:]
    private var narrowLits: [Int: [UInt64: Term]] = [:]
    private var values: [Term: UInt64] = [:]
    /// The index variable the entry-range operations evaluate closures at to prove that a
    /// result does not depend on the index (see `SymbolicState` "rest" summary). It never
    /// appears in a result.
    private(set) lazy var restIndex: Term = ctx.bvConst("rmi!rest_index", width: 64)

    init(_ ctx: Context) {
        self.ctx = ctx
        tru = ctx.bool(true)
        fls = ctx.bool(false)
    }

    func lit(_ v: UInt64) -> Term {
        if let t = lits[v] { return t }
        let t = ctx.bv(v, width: 64)
        lits[v] = t
        values[t] = v
        return t
    }

    func lit(_ v: UInt64, width: Int) -> Term {
        if width == 64 { return lit(v) }
        let m = v & ((UInt64(1) << UInt64(width)) - 1)
        if let t = narrowLits[width]?[m] { return t }
        let t = ctx.bv(m, width: width)
        narrowLits[width, default: [:]][m] = t
        values[t] = m
        return t
    }

    /// The value of a literal term made through this environment (any width), else nil.
    /// Independent of `fold` (used by the state's own read-back).
    func value(_ t: Term) -> UInt64? { values[t] }

    /// Terms built as `1 << k` with a symbolic `k`, by term: `k`.
    private var powersOfTwo: [Term: Term] = [:]
    func notePowerOfTwo(_ t: Term, shift k: Term) { powersOfTwo[t] = k }
    /// `k` when `t` was built as `1 << k` (`Symbolic.shl`).
    func shiftOfPowerOfTwo(_ t: Term) -> Term? { powersOfTwo[t] }
    /// Whether `t` has sort Bool (the Domain operations shared by B and W dispatch on it).
    func isBool(_ t: Term) -> Bool {
        if t == tru || t == fls { return true }
        if values[t] != nil { return false }
        return t.isBool
    }
    func bool(_ t: Term) -> Bool? {
        if t == tru { return true }
        if t == fls { return false }
        return nil
    }

    // Narrow helpers, folded like the Domain operations.

    /// `t` (a bit-vector of `width` < 64 bits) zero-extended to 64 bits.
    func zext(_ t: Term, _ width: Int) -> Term {
        if fold, let v = values[t] { return lit(v) }
        return ctx.zeroExtend(64 - width, t)
    }
    /// The low `width` bits of the 64-bit `t`.
    func low(_ t: Term, _ width: Int) -> Term {
        if fold, let v = values[t] { return lit(v, width: width) }
        return ctx.extract(width - 1, 0, t)
    }
    /// Equality of two terms of any one sort (folded on literals).
    func eqAny(_ a: Term, _ b: Term) -> Term {
        if fold {
            if a == b { return tru }
            if let x = values[a], let y = values[b] { return x == y ? tru : fls }
            if let x = bool(a), let y = bool(b) { return x == y ? tru : fls }
        }
        return ctx.eq(a, b)
    }
}

/// A weak reference, for the per-thread registry of environments.
private final class WeakEnv {
    weak var env: SymbolicEnv?
    init(_ e: SymbolicEnv) { env = e }
}

/// The current thread's `withContext` stack and its registry of live environments (so a
/// context used again, e.g. by a `SymbolicState` that outlived a `withContext` call, finds
/// its literal table again). An environment is kept alive by `withContext` and by the
/// states made under it; the registry only holds it weakly.
final class ThreadEnvs {
    var stack: [SymbolicEnv] = []
    private var registry: [ObjectIdentifier: WeakEnv] = [:]

    func env(for ctx: Context) -> SymbolicEnv {
        let key = ObjectIdentifier(ctx)
        // A live environment keeps its context alive, so a live entry can't be a stale key.
        if let e = registry[key]?.env, e.ctx === ctx { return e }
        if registry.count > 64 { registry = registry.filter { $0.value.env != nil } }
        let e = SymbolicEnv(ctx)
        registry[key] = WeakEnv(e)
        return e
    }

    static var current: ThreadEnvs {
        if let p = pthread_getspecific(threadEnvsKey) {
            return Unmanaged<ThreadEnvs>.fromOpaque(p).takeUnretainedValue()
        }
        let t = ThreadEnvs()
        pthread_setspecific(threadEnvsKey, Unmanaged.passRetained(t).toOpaque())
        return t
    }
}

/// pthread thread-local slot holding a retained `ThreadEnvs`, released at thread exit.
private let threadEnvsKey: pthread_key_t = {
    var key = pthread_key_t()
    let rc = pthread_key_create(&key) { p in
        guard let p else { return }
        Unmanaged<ThreadEnvs>.fromOpaque(p).release()
    }
    precondition(rc == 0, "pthread_key_create failed")
    return key
}()
