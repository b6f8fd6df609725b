/// A map from 64-bit addresses to values: how `SpecState` stores its Granules, objects and
/// NS memory.
///
/// It reads like a `Dictionary` keyed by address (subscripts, `keys`, `values`, iteration
/// over `(key, value)` pairs, value equality), but hashes an address with one
/// multiplication instead of SipHash and hands out stored values without copying them (a
/// Dictionary's getter copies the value out, with a retain of each array in it). The
/// concrete interpreter looks up Granules and objects several times per command, so this is
/// where much of its time went. Open addressing with linear probing in one array of slots,
/// at most half full; removal shifts the following entries back (no tombstones). Iteration
/// order is the slot order: callers that need an order sort, as they do for a Dictionary.
public struct AddrMap<Value> {
    @usableFromInline struct Slot {
        @usableFromInline var key: UInt64
        @usableFromInline var value: Value?
        /// `value != nil`, kept beside it: testing the optional itself copies the value out
        /// (a retain of each array in it) at every slot a probe passes.
        @usableFromInline var full: Bool
        @inlinable init(key: UInt64, value: Value?) { self.key = key; self.value = value; full = value != nil }
    }

    /// A power of two (or empty): every slot, used or not.
    @usableFromInline var slots: [Slot] = []
    /// 64 - log2(slots.count): the hash is the top bits of `key * golden ratio`.
    @usableFromInline var shift: UInt64 = 64
    @usableFromInline var storedCount = 0
    @inlinable public var count: Int { storedCount }

    @inlinable public init() {}

    @inlinable public var isEmpty: Bool { count == 0 }

    @inlinable @inline(__always)
    func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot that holds `key`, or nil.
    @inlinable @inline(__always)
    func find(_ key: UInt64) -> Int? {
        if count == 0 { return nil }
        return slots.withUnsafeBufferPointer { b in
            let mask = b.count - 1
            var i = home(key)
            while true {
                if !b[i].full { return nil }
                if b[i].key == key { return i }
                i = (i + 1) & mask
            }
        }
    }

    /// The slot that holds `key`, or the empty slot it goes in (after growing if needed).
    @inlinable
    mutating func slotForInsert(_ key: UInt64) -> (index: Int, found: Bool) {
        if let i = find(key) { return (i, true) }
        if (count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var i = home(key)
        while slots[i].full { i = (i + 1) & mask }
        return (i, false)
    }

    @inlinable
    mutating func grow() {
        let old = slots
        let n = Swift.max(16, old.count * 2)
        slots = [Slot](repeating: Slot(key: 0, value: nil), count: n)
        shift = UInt64(64 - n.trailingZeroBitCount)
        let mask = n - 1
        for s in old {
            guard let v = s.value else { continue }
            var i = home(s.key)
            while slots[i].full { i = (i + 1) & mask }
            slots[i] = Slot(key: s.key, value: v)
        }
    }

    /// Empties slot `i` and moves later entries of its probe run back (no tombstones).
    @inlinable
    mutating func remove(at i: Int) {
        let mask = slots.count - 1
        var hole = i
        slots[hole].value = nil
        slots[hole].full = false
        var j = i
        while true {
            j = (j + 1) & mask
            guard slots[j].full else { break }
            let k = home(slots[j].key)
            // The entry at j may stay when its home is cyclically in (hole, j].
            let stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j)
            if stays { continue }
            slots.swapAt(hole, j)
            hole = j
        }
        storedCount -= 1
    }

    @inlinable
    public subscript(key: UInt64) -> Value? {
        _read {
            if let i = find(key) { yield slots[i].value } else { yield nil }
        }
        set {
            if let v = newValue {
                let (i, found) = slotForInsert(key)
                if !found { storedCount += 1; slots[i].key = key }
                slots[i].value = v
                slots[i].full = true
            } else if let i = find(key) {
                remove(at: i)
            }
        }
    }

    /// The value for `key`, inserted as `defaultValue` first when absent (written in place).
    @inlinable
    public subscript(key: UInt64, default defaultValue: @autoclosure () -> Value) -> Value {
        _read {
            if let i = find(key) { yield slots[i].value! } else { yield defaultValue() }
        }
        _modify {
            let (i, found) = slotForInsert(key)
            if !found { storedCount += 1; slots[i] = Slot(key: key, value: defaultValue()) }
            yield &slots[i].value!
        }
    }

    /// `body` of the value stored for `key`, or nil when there is none. The value is read
    /// in place: the subscript's `_read` yields a copy of it (with a retain of each array in
    /// it), which is what a lookup of one field should not pay.
    @inlinable @inline(__always)
    public func withValue<R>(_ key: UInt64, _ body: (Value) -> R) -> R? {
        guard let i = find(key) else { return nil }
        return slots.withUnsafeBufferPointer { b in body(b[i].value.unsafelyUnwrapped) }
    }

    /// Whether there is a value for `key`.
    @inlinable @inline(__always)
    public func contains(_ key: UInt64) -> Bool { find(key) != nil }

    /// The addresses, in slot order.
    public var keys: [UInt64] { slots.compactMap { $0.full ? $0.key : nil } }
    /// The values, in slot order.
    public var values: [Value] { slots.compactMap(\.value) }
}

extension AddrMap: Sequence {
    public typealias Element = (key: UInt64, value: Value)

    public struct Iterator: IteratorProtocol {
        @usableFromInline let slots: [Slot]
        @usableFromInline var i = 0
        @inlinable init(slots: [Slot]) { self.slots = slots }
        @inlinable public mutating func next() -> Element? {
            while i < slots.count {
                defer { i += 1 }
                if let v = slots[i].value { return (slots[i].key, v) }
            }
            return nil
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(slots: slots) }
    @inlinable public var underestimatedCount: Int { count }
}

extension AddrMap: Equatable where Value: Equatable {
    /// The same addresses with equal values (slot order does not matter). Inlinable, so
    /// that other modules compare maps of a known value type without generic calls.
    @inlinable
    public static func == (a: AddrMap, b: AddrMap) -> Bool {
        guard a.count == b.count else { return false }
        // The same storage (a copy not written since): equal without reading the values.
        if a.slots.withUnsafeBufferPointer({ $0.baseAddress }) == b.slots.withUnsafeBufferPointer({ $0.baseAddress }) { return true }
        for (k, v) in a {
            guard let i = b.find(k), b.slots[i].value! == v else { return false }
        }
        return true
    }
}

extension AddrMap: Hashable where Value: Hashable {
    /// Independent of slot order, as a Dictionary's.
    public func hash(into hasher: inout Hasher) {
        var commutative = 0
        for (k, v) in self {
            var h = Hasher()
            h.combine(k)
            h.combine(v)
            commutative ^= h.finalize()
        }
        hasher.combine(count)
        hasher.combine(commutative)
    }
}

extension AddrMap: Sendable where Value: Sendable {}
extension AddrMap.Slot: Sendable where Value: Sendable {}

extension AddrMap: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (UInt64, Value)...) {
        for (k, v) in elements { self[k] = v }
    }
}

extension AddrMap: CustomStringConvertible {
    public var description: String {
        "[" + sorted { $0.key < $1.key }.map { "0x\(String($0.key, radix: 16)): \($0.value)" }.joined(separator: ", ") + "]"
    }
}
