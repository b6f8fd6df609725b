/// Which parts of the abstract state a comparison looks at.
public struct StateComparison: Sendable {
    public var ns = true
    public var realmFields: [RealmField] = RealmField.allCases
    public var recFields: [RecField] = RecField.all
    public init() {}
    public static let full = StateComparison()
}

extension SpecState {
    /// Lines describing how `other` differs from this state (Granules, Realms, RECs, RTT
    /// entries, NS memory), in address order.
    public func diff(_ other: SpecState) -> [String] { differences(other, comparing: .full) }

    /// The differences `comparing` looks at, field by field, in address order.
    public func differences(_ other: SpecState, comparing c: StateComparison, limit: Int = .max) -> [String] {
        var out: [String] = []
        func add(_ s: String) -> Bool { out.append(s); return out.count >= limit }
        for a in Set(granules.keys).union(other.granules.keys).sorted() {
            let g0 = granule(a), g1 = other.granule(a)
            if g0.state != g1.state, add("granule \(hex(a)): state \(g0.state.specName) -> \(g1.state.specName)") { return out }
            if g0.gpt != g1.gpt, add("granule \(hex(a)): gpt \(g0.gpt.specName) -> \(g1.gpt.specName)") { return out }
            if g0.content != g1.content, add("granule \(hex(a)): content \(hex(g0.content)) -> \(hex(g1.content))") { return out }
        }
        for a in Set(realms.keys).union(other.realms.keys).sorted() {
            let r0 = realms[a]?.fields, r1 = other.realms[a]?.fields
            for f in c.realmFields {
                let v0 = r0?[f.rawValue], v1 = r1?[f.rawValue]
                if v0 != v1, add("realm \(hex(a)): \(f) \(v0.map(hex) ?? "-") -> \(v1.map(hex) ?? "-")") { return out }
            }
        }
        for a in Set(recs.keys).union(other.recs.keys).sorted() {
            let r0 = recs[a], r1 = other.recs[a]
            for f in c.recFields {
                let v0 = r0?[f], v1 = r1?[f]
                if v0 != v1, add("rec \(hex(a)): \(f.name) \(v0.map(hex) ?? "-") -> \(v1.map(hex) ?? "-")") { return out }
            }
        }
        for a in Set(rtts.keys).union(other.rtts.keys).sorted() {
            guard let t0 = rtts[a], let t1 = other.rtts[a] else {
                let t = rtts[a] ?? other.rtts[a]!
                if add("rtt \(hex(a)) (level \(Int64(bitPattern: t.level))): \(rtts[a] == nil ? "only in the second" : "only in the first")") { return out }
                continue
            }
            if t0.level != t1.level, add("rtt \(hex(a)): level \(Int64(bitPattern: t0.level)) -> \(Int64(bitPattern: t1.level))") { return out }
            if t0.owner != t1.owner, add("rtt \(hex(a)): owner \(hex(t0.owner)) -> \(hex(t1.owner))") { return out }
            if t0.ipaBase != t1.ipaBase, add("rtt \(hex(a)): ipa_base \(hex(t0.ipaBase)) -> \(hex(t1.ipaBase))") { return out }
            if t0.leaked != t1.leaked, add("rtt \(hex(a)): leaked \(t0.leaked) -> \(t1.leaked)") { return out }
            for i in 0..<Int(Layout.entriesPerRtt) where t0.entries[i] != t1.entries[i] {
                let e0 = t0.entries[i], e1 = t1.entries[i]
                if add("rtt \(hex(a))[\(i)]: \(e0.summary) -> \(e1.summary)") { return out }
            }
        }
        if c.ns {
            for a in Set(ns.keys).union(other.ns.keys).sorted() where ns[a] != other.ns[a] {
                if add("ns \(hex(a)): \(hex(ns[a] ?? 0)) -> \(hex(other.ns[a] ?? 0))") { return out }
            }
        }
        return out
    }
}

extension SpecState.Entry {
    public var summary: String {
        var s = entryState.specName
        if entryState == .unassigned || entryState == .assigned { s += "/" + ripasValue.specName }
        if addr != 0 { s += "@" + hex(addr) }
        if attrs != 0 { s += " attrs " + hex(UInt64(attrs)) }
        return s
    }
}
