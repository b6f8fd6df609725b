/// The bounded world of the symbolic face: how many Granules, Realms, RECs and RTT
/// entries a `SymbolicState` tracks. Written as a string of `key=value` pairs separated by
/// commas, e.g. `granules=6,realms=1,recs=2,entries=4`; keys not given keep their default.
///
/// The scope's platform (`platform`) is `Platform.standard` except that its delegable memory
/// is exactly the Granule slots, so every Granule that can leave UNDELEGATED is a slot.
public struct Scope: Hashable, Sendable, CustomStringConvertible {
    /// `granules=N` (1...64, default 6): N Granule slots at the fixed physical addresses
    /// `0x8000_0000 + i * 4 KB`, i < N. The scope's delegable range is exactly these
    /// addresses; Granules elsewhere are UNDELEGATED with their initial GPT forever.
    public var granules: Int
    /// `realms=N` (0...granules, default 1): at most N Realm objects (RDs) at a time; a step
    /// that makes more sets the state's `outOfScope` flag.
    public var realms: Int
    /// `recs=N` (0...granules, default 2): at most N REC objects at a time, likewise.
    public var recs: Int
    /// `entries=N` (0...512, default 4): the entry indices `0..<N` of every RTT are tracked
    /// one by one; the other indices of a table share one summary (uniform state, RIPAS and
    /// attributes, address `base + i * stride` with a stride of 0 or an RTT level size, and
    /// never TABLE or ASSIGNED: that many child RTTs or DATA Granules do not fit in a scope).
    /// Small IPAs use the tracked entries.
    public var entries: Int
    /// `aux=N` (0...16, default 1): the platform's RecAuxCount.
    public var aux: Int
    /// `secure=N` (0...granules, default 0): the last N slots start as GPT_SECURE (their
    /// delegation fails `gran_gpt`), as the Secure carve-out of `Platform.standard` does.
    public var secure: Int

    /// The physical address of slot 0.
    public static let slotBase: UInt64 = 0x8000_0000

    /// `granules=6,realms=1,recs=2,entries=4,aux=1,secure=0`.
    public static let `default` = Scope()

    public init(granules: Int = 6, realms: Int = 1, recs: Int = 2, entries: Int = 4, aux: Int = 1, secure: Int = 0) {
        self.granules = granules; self.realms = realms; self.recs = recs
        self.entries = entries; self.aux = aux; self.secure = secure
    }

    /// An error in a scope string; the message names the key and the value at fault.
    public struct ParseError: Error, CustomStringConvertible, Equatable, Sendable {
        public var message: String
        public var description: String { message }
        public init(message: String) { self.message = message }
    }

    /// The keys a scope string may use, in canonical order.
    public static let keys = ["granules", "realms", "recs", "entries", "aux", "secure"]

    /// Parses `key=value,...` (whitespace around items is ignored; an empty string is the
    /// default scope).
    public init(parsing text: String) throws(ParseError) {
        self.init()
        for (key, v) in try Scope.items(text, keys: Scope.keys) {
            switch key {
            case "granules": granules = v
            case "realms": realms = v
            case "recs": recs = v
            case "entries": entries = v
            case "aux": aux = v
            default: secure = v
            }
        }
        if let problem = validationError { throw ParseError(message: problem) }
    }

    /// The one parser of scope strings (`key=value,...`), shared by the symbolic scope and
    /// the explicit engine's scope (which adds keys of its own): the items in order, each key
    /// one of `keys` and given at most once, each value a non-negative integer. Whitespace
    /// around items, keys and values is ignored; an empty string has no items. Errors name
    /// the item or key at fault and why.
    public static func items(_ text: String, keys: [String]) throws(ParseError) -> [(key: String, value: Int)] {
        var seen = Set<String>()
        var out: [(key: String, value: Int)] = []
        for rawItem in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = rawItem.scopeTrimmed
            if item.isEmpty {
                if text.scopeTrimmed.isEmpty { continue }
                throw ParseError(message: "scope \"\(text)\": empty item (expected key=value)")
            }
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw ParseError(message: "scope item \"\(item)\": expected key=value with key one of \(keys.joined(separator: ", "))")
            }
            let key = parts[0].scopeTrimmed.lowercased()
            let valueText = parts[1].scopeTrimmed
            guard keys.contains(key) else {
                throw ParseError(message: "scope: unknown key \"\(key)\" (keys: \(keys.joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else {
                throw ParseError(message: "scope: key \"\(key)\" given twice")
            }
            guard let v = Int(valueText), v >= 0 else {
                throw ParseError(message: "scope key \"\(key)\": value \"\(valueText)\" is not a non-negative integer")
            }
            out.append((key, v))
        }
        return out
    }

    /// The message for a key whose value is outside `range`, or nil.
    public static func rangeError(_ key: String, _ v: Int, _ range: ClosedRange<Int>) -> String? {
        range.contains(v) ? nil : "scope key \"\(key)\": value \(v) out of range \(range.lowerBound)...\(range.upperBound)"
    }

    /// Why the scope is invalid (a key's value out of its range), or nil.
    public var validationError: String? {
        let check = Scope.rangeError
        return check("granules", granules, 1...64)
            ?? check("realms", realms, 0...max(granules, 0))
            ?? check("recs", recs, 0...max(granules, 0))
            ?? check("entries", entries, 0...Int(Layout.entriesPerRtt))
            ?? check("aux", aux, 0...RecField.auxMax)
            ?? check("secure", secure, 0...max(granules, 0))
    }

    /// The canonical string (every key, in `keys` order).
    public var description: String {
        "granules=\(granules),realms=\(realms),recs=\(recs),entries=\(entries),aux=\(aux),secure=\(secure)"
    }

    /// The address of slot `i`.
    public func slotAddress(_ i: Int) -> UInt64 { Scope.slotBase + UInt64(i) * Layout.granuleSize }
    /// All slot addresses, in order.
    public var slotAddresses: [UInt64] { (0..<granules).map(slotAddress) }
    /// The slot at physical address `a`, if any.
    public func slot(at a: UInt64) -> Int? {
        guard a >= Scope.slotBase, a & (Layout.granuleSize - 1) == 0 else { return nil }
        let i = (a - Scope.slotBase) / Layout.granuleSize
        return i < UInt64(granules) ? Int(i) : nil
    }

    /// `Platform.standard` with delegable memory = the slots, RecAuxCount = `aux`, and the
    /// last `secure` slots added to the Secure ranges.
    public var platform: Platform {
        var p = Platform.standard
        p.delegable = [Platform.Range(base: Scope.slotBase, size: UInt64(granules) * Layout.granuleSize)]
        p.recAuxCount = UInt64(aux)
        if secure > 0 {
            p.secure.append(Platform.Range(base: slotAddress(granules - secure), size: UInt64(secure) * Layout.granuleSize))
        }
        return p
    }
}

private extension StringProtocol {
    var scopeTrimmed: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
