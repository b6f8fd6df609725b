/// The concrete reading of the specification: Swift `Bool` and `UInt64`.
public enum Concrete: Domain {
    public typealias B = Bool
    public typealias W = UInt64
    @inlinable public static func constant(_ v: Bool) -> Bool { v }
    @inlinable public static func constant(_ v: UInt64) -> UInt64 { v }
    @inlinable public static func known(_ b: Bool) -> Bool? { b }
    @inlinable public static func known(_ w: UInt64) -> UInt64? { w }
    @inlinable public static func not(_ a: Bool) -> Bool { !a }
    @inlinable public static func and(_ a: Bool, _ b: Bool) -> Bool { a && b }
    @inlinable public static func or(_ a: Bool, _ b: Bool) -> Bool { a || b }
    @inlinable public static func ite(_ c: Bool, _ a: Bool, _ b: Bool) -> Bool { c ? a : b }
    @inlinable public static func ite(_ c: Bool, _ a: UInt64, _ b: UInt64) -> UInt64 { c ? a : b }
    @inlinable public static func eq(_ a: UInt64, _ b: UInt64) -> Bool { a == b }
    @inlinable public static func ult(_ a: UInt64, _ b: UInt64) -> Bool { a < b }
    @inlinable public static func slt(_ a: UInt64, _ b: UInt64) -> Bool { Int64(bitPattern: a) < Int64(bitPattern: b) }
    @inlinable public static func add(_ a: UInt64, _ b: UInt64) -> UInt64 { a &+ b }
    @inlinable public static func sub(_ a: UInt64, _ b: UInt64) -> UInt64 { a &- b }
    @inlinable public static func mul(_ a: UInt64, _ b: UInt64) -> UInt64 { a &* b }
    @inlinable public static func and(_ a: UInt64, _ b: UInt64) -> UInt64 { a & b }
    @inlinable public static func or(_ a: UInt64, _ b: UInt64) -> UInt64 { a | b }
    @inlinable public static func xor(_ a: UInt64, _ b: UInt64) -> UInt64 { a ^ b }
    @inlinable public static func not(_ a: UInt64) -> UInt64 { ~a }
    @inlinable public static func shl(_ a: UInt64, _ b: UInt64) -> UInt64 { b >= 64 ? 0 : a << b }
    @inlinable public static func lshr(_ a: UInt64, _ b: UInt64) -> UInt64 { b >= 64 ? 0 : a >> b }
}

public typealias CWord = Word<Concrete>
public typealias CBit = Bit<Concrete>

extension Word where D == Concrete {
    @inlinable public var value: UInt64 { raw }
}
extension Bit where D == Concrete {
    @inlinable public var value: Bool { raw }
}
