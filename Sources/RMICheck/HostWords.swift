import RMISpec

/// How a Host write becomes 64-bit words of NS memory, the one mapping every adapter uses
/// (BuiltinRMM writes them into RMMImpl's memory, ProcessRMM sends them over the line
/// protocol): parameter blocks at the offsets of their layouts (RealmParamsLayout,
/// RecParamsLayout, RecRunLayout), page contents as one token at `BuiltinRMM.contentWord`
/// (0x7F8), raw words from their address upwards.
extension HostWrite {
    /// The words, in the order the structure lists its fields.
    public var wordWrites: [(address: UInt64, value: UInt64)] {
        var w: [(address: UInt64, value: UInt64)] = []
        forEachWordWrite { w.append(($0, $1)) }
        return w
    }

    /// Calls `body(address, value)` for each of `wordWrites`, in the same order.
    public func forEachWordWrite(_ body: (UInt64, UInt64) -> Void) {
        switch self {
        case .realmParams(let a, let p): p.forEachWord { body(a &+ $0, $1) }
        case .recParams(let a, let p): p.forEachWord { body(a &+ $0, $1) }
        case .recRun(let a, let e): e.forEachWord { body(a &+ $0, $1) }
        case .data(let a, let c): body(a &+ BuiltinRMM.contentWord, c)
        case .words(let a, let vs): for (i, v) in vs.enumerated() { body(a &+ 8 * UInt64(i), v) }
        }
    }

    /// The same words as runs of consecutive words, by address (a later write of the same
    /// word wins): what the line protocol's `write` requests carry.
    public var wordRuns: [(address: UInt64, values: [UInt64])] {
        var last: [UInt64: UInt64] = [:]
        for w in wordWrites { last[w.address] = w.value }
        var runs: [(address: UInt64, values: [UInt64])] = []
        for a in last.keys.sorted() {
            if let r = runs.last, r.address &+ 8 * UInt64(r.values.count) == a, a > r.address {
                runs[runs.count - 1].values.append(last[a]!)
            } else {
                runs.append((a, [last[a]!]))
            }
        }
        return runs
    }
}
