/// The value algebra the specification is written in.
///
/// Every RMI command is written once, as generic Swift over a `Domain`: the concrete
/// domain evaluates it on plain 64-bit values, the symbolic domain builds Z3 terms from
/// the same code. Control flow that depends on state is written with `ite` and guarded
/// writes, never with a Swift `if` on a `Bit`, so that both readings agree.
public protocol Domain {
    associatedtype B
    associatedtype W

    static func constant(_ v: Bool) -> B
    static func constant(_ v: UInt64) -> W
    /// The value of `b` when it is known without a solver (always, concretely).
    static func known(_ b: B) -> Bool?
    static func known(_ w: W) -> UInt64?

    static func not(_ a: B) -> B
    static func and(_ a: B, _ b: B) -> B
    static func or(_ a: B, _ b: B) -> B
    static func ite(_ c: B, _ a: B, _ b: B) -> B
    static func ite(_ c: B, _ a: W, _ b: W) -> W

    static func eq(_ a: W, _ b: W) -> B
    static func ult(_ a: W, _ b: W) -> B
    static func slt(_ a: W, _ b: W) -> B
    static func add(_ a: W, _ b: W) -> W
    static func sub(_ a: W, _ b: W) -> W
    static func mul(_ a: W, _ b: W) -> W
    static func and(_ a: W, _ b: W) -> W
    static func or(_ a: W, _ b: W) -> W
    static func xor(_ a: W, _ b: W) -> W
    static func not(_ a: W) -> W
    /// Shifts by an amount taken modulo nothing: amounts >= 64 give 0.
    static func shl(_ a: W, _ b: W) -> W
    static func lshr(_ a: W, _ b: W) -> W
}

/// A spec-level Boolean.
public struct Bit<D: Domain> {
    public var raw: D.B
    @inlinable public init(raw: D.B) { self.raw = raw }
    @inlinable public init(_ v: Bool) { raw = D.constant(v) }
    @inlinable public var known: Bool? { D.known(raw) }
    /// True only when the value is known to be true.
    @inlinable public var isTrue: Bool { D.known(raw) == true }
    /// True only when the value is known to be false.
    @inlinable public var isFalse: Bool { D.known(raw) == false }
}

/// A spec-level 64-bit word: a register, an address, a field, an enumeration value.
public struct Word<D: Domain>: ExpressibleByIntegerLiteral {
    public var raw: D.W
    @inlinable public init(raw: D.W) { self.raw = raw }
    @inlinable public init(_ v: UInt64) { raw = D.constant(v) }
    @inlinable public init(integerLiteral v: UInt64) { raw = D.constant(v) }
    @inlinable public var known: UInt64? { D.known(raw) }
}

extension Bit: ExpressibleByBooleanLiteral {
    @inlinable public init(booleanLiteral v: Bool) { raw = D.constant(v) }
}

// MARK: Boolean operators (not short-circuiting: both sides are terms)

@inlinable public prefix func ! <D>(a: Bit<D>) -> Bit<D> { Bit(raw: D.not(a.raw)) }
@inlinable public func && <D>(a: Bit<D>, b: Bit<D>) -> Bit<D> { Bit(raw: D.and(a.raw, b.raw)) }
@inlinable public func || <D>(a: Bit<D>, b: Bit<D>) -> Bit<D> { Bit(raw: D.or(a.raw, b.raw)) }
@inlinable public func == <D>(a: Bit<D>, b: Bit<D>) -> Bit<D> {
    Bit(raw: D.or(D.and(a.raw, b.raw), D.and(D.not(a.raw), D.not(b.raw))))
}
@inlinable public func != <D>(a: Bit<D>, b: Bit<D>) -> Bit<D> { !(a == b) }

@inlinable public func ite<D>(_ c: Bit<D>, _ a: Word<D>, _ b: Word<D>) -> Word<D> {
    Word(raw: D.ite(c.raw, a.raw, b.raw))
}
/// `a && b()`, where `b` is evaluated only when `a` is not known to be false.
@inlinable public func both<D>(_ a: Bit<D>, _ b: () -> Bit<D>) -> Bit<D> { a.isFalse ? a : a && b() }
/// `ite(c, a(), b)`, where `a` is evaluated only when `c` is not known to be false.
@inlinable public func ite<D>(_ c: Bit<D>, then a: () -> Word<D>, else b: Word<D>) -> Word<D> {
    c.isFalse ? b : ite(c, a(), b)
}
@inlinable public func ite<D>(_ c: Bit<D>, _ a: Bit<D>, _ b: Bit<D>) -> Bit<D> {
    Bit(raw: D.ite(c.raw, a.raw, b.raw))
}
/// `a => b`.
@inlinable public func implies<D>(_ a: Bit<D>, _ b: Bit<D>) -> Bit<D> { !a || b }
/// `premise => body()`, where `body` is evaluated only when the premise is not known to
/// be false: the same value as `implies`, without the work when it cannot matter.
@inlinable public func given<D>(_ premise: Bit<D>, _ body: () -> Bit<D>) -> Bit<D> {
    premise.isFalse ? Bit(true) : implies(premise, body())
}
@inlinable public func all<D>(_ bits: [Bit<D>]) -> Bit<D> { bits.reduce(Bit(true)) { $0 && $1 } }
@inlinable public func any<D>(_ bits: [Bit<D>]) -> Bit<D> { bits.reduce(Bit(false)) { $0 || $1 } }
/// `all(xs.map(f))`. Concretely without building the array (and stopping at the first
/// false: the same value); other domains build exactly the terms `all(xs.map(f))` builds.
@inlinable public func all<D, T>(_ xs: [T], _ f: (T) -> Bit<D>) -> Bit<D> {
    if D.self == Concrete.self {
        for x in xs where f(x).isFalse { return Bit(false) }
        return Bit(true)
    }
    return all(xs.map(f))
}
/// `any(xs.map(f))`, likewise.
@inlinable public func any<D, T>(_ xs: [T], _ f: (T) -> Bit<D>) -> Bit<D> {
    if D.self == Concrete.self {
        for x in xs where f(x).isTrue { return Bit(true) }
        return Bit(false)
    }
    return any(xs.map(f))
}

// MARK: Word operators (unsigned unless named signed)

@inlinable public func == <D>(a: Word<D>, b: Word<D>) -> Bit<D> { Bit(raw: D.eq(a.raw, b.raw)) }
@inlinable public func != <D>(a: Word<D>, b: Word<D>) -> Bit<D> { Bit(raw: D.not(D.eq(a.raw, b.raw))) }
@inlinable public func < <D>(a: Word<D>, b: Word<D>) -> Bit<D> { Bit(raw: D.ult(a.raw, b.raw)) }
@inlinable public func > <D>(a: Word<D>, b: Word<D>) -> Bit<D> { Bit(raw: D.ult(b.raw, a.raw)) }
@inlinable public func <= <D>(a: Word<D>, b: Word<D>) -> Bit<D> { Bit(raw: D.not(D.ult(b.raw, a.raw))) }
@inlinable public func >= <D>(a: Word<D>, b: Word<D>) -> Bit<D> { Bit(raw: D.not(D.ult(a.raw, b.raw))) }
@inlinable public func + <D>(a: Word<D>, b: Word<D>) -> Word<D> { Word(raw: D.add(a.raw, b.raw)) }
@inlinable public func - <D>(a: Word<D>, b: Word<D>) -> Word<D> { Word(raw: D.sub(a.raw, b.raw)) }
@inlinable public func * <D>(a: Word<D>, b: Word<D>) -> Word<D> { Word(raw: D.mul(a.raw, b.raw)) }
@inlinable public func & <D>(a: Word<D>, b: Word<D>) -> Word<D> { Word(raw: D.and(a.raw, b.raw)) }
@inlinable public func | <D>(a: Word<D>, b: Word<D>) -> Word<D> { Word(raw: D.or(a.raw, b.raw)) }
@inlinable public func ^ <D>(a: Word<D>, b: Word<D>) -> Word<D> { Word(raw: D.xor(a.raw, b.raw)) }
@inlinable public prefix func ~ <D>(a: Word<D>) -> Word<D> { Word(raw: D.not(a.raw)) }
@inlinable public func << <D>(a: Word<D>, b: Word<D>) -> Word<D> { Word(raw: D.shl(a.raw, b.raw)) }
@inlinable public func >> <D>(a: Word<D>, b: Word<D>) -> Word<D> { Word(raw: D.lshr(a.raw, b.raw)) }

extension Word {
    /// Signed (two's complement) comparisons, for RTT levels, which can be -1.
    @inlinable public func slt(_ b: Word<D>) -> Bit<D> { Bit(raw: D.slt(raw, b.raw)) }
    @inlinable public func sle(_ b: Word<D>) -> Bit<D> { !b.slt(self) }
    /// Bits `hi...lo` of the word, shifted down.
    @inlinable public func bits(_ hi: Int, _ lo: Int) -> Word<D> {
        let width = hi - lo + 1
        let mask: UInt64 = width >= 64 ? ~0 : (UInt64(1) << UInt64(width)) - 1
        return (self >> Word(UInt64(lo))) & Word(mask)
    }
    @inlinable public func bit(_ i: Int) -> Bit<D> { bits(i, i) != 0 }
    /// Whether the low `log2(alignment)` bits are zero; `alignment` is a power of two word.
    @inlinable public func isAligned(to alignment: Word<D>) -> Bit<D> { (self & (alignment - 1)) == 0 }
    @inlinable public func alignedDown(to alignment: Word<D>) -> Word<D> { self & ~(alignment - 1) }
    @inlinable public static func max(_ a: Word<D>, _ b: Word<D>) -> Word<D> { ite(a < b, b, a) }
    @inlinable public static func min(_ a: Word<D>, _ b: Word<D>) -> Word<D> { ite(a < b, a, b) }
}

extension Bit {
    /// 1 when true, else 0.
    @inlinable public var word: Word<D> { ite(self, Word<D>(1), Word<D>(0)) }
}
