/// A concrete state that keeps each RTT's 512 entries as one array of `SpecState.Entry`
/// (`SpecState`, and `PoolState` for explicit search): its entry scans are the same code
/// over that storage.
public protocol EntryTableState: Machine where D == Concrete {
    /// Runs `body` on the 512 entries of RTT `t` (all zero when there is no such RTT).
    func withEntries<R>(_ t: CWord, _ body: (UnsafeBufferPointer<SpecState.Entry>) -> R) -> R
    /// Runs `body(entries, k, end)` on each run `[k, end)` of equal entries of RTT `t` from
    /// index `start` on (the first run starts at `start`), until it returns false (then
    /// false).
    func forEachRun(_ t: CWord, from start: Int, _ body: (UnsafeBufferPointer<SpecState.Entry>, Int, Int) -> Bool) -> Bool
}

extension EntryTableState {
    @inline(__always)
    public func firstEntry(_ t: CWord, from: CWord, where p: (CWord, RttEntry<Concrete>) -> CBit) -> CWord {
        guard from.raw < Layout.entriesPerRtt else { return CWord(Layout.entriesPerRtt) }
        return withEntries(t) { b in
            for i in Int(from.raw)..<Int(Layout.entriesPerRtt) where p(CWord(UInt64(i)), SpecState.word(b[i])).raw {
                return CWord(UInt64(i))
            }
            return CWord(Layout.entriesPerRtt)
        }
    }
    @inline(__always)
    public func allEntries(_ t: CWord, _ p: (CWord, RttEntry<Concrete>) -> CBit) -> CBit {
        withEntries(t) { b in
            for i in 0..<Int(Layout.entriesPerRtt) where !p(CWord(UInt64(i)), SpecState.word(b[i])).raw { return false }
            return true
        }
    }
    @inline(__always)
    public func countEntries(_ t: CWord, _ p: (CWord, RttEntry<Concrete>) -> CBit) -> CWord {
        withEntries(t) { b in
            var n: UInt64 = 0
            for i in 0..<Int(Layout.entriesPerRtt) where p(CWord(UInt64(i)), SpecState.word(b[i])).raw { n += 1 }
            return CWord(n)
        }
    }

    /// `forEachRun` by reading the entries.
    @inline(__always)
    public func forEachRun(_ t: CWord, from start: Int, _ body: (UnsafeBufferPointer<SpecState.Entry>, Int, Int) -> Bool) -> Bool {
        withEntries(t) { b in Self.forEachRun(b, from: start) { k, end in body(b, k, end) } }
    }

    /// Runs `body(k, end)` on each run `[k, end)` of equal entries from `start` on, until it
    /// returns false (then false). A run to the end of the table (most tables end in one) is
    /// found with one `memcmp`; otherwise whole blocks that repeat the entry before them are
    /// passed over with one each.
    @inline(__always)
    static func forEachRun(_ b: UnsafeBufferPointer<SpecState.Entry>, from start: Int, _ body: (Int, Int) -> Bool) -> Bool {
        let n = b.count, block = 32
        var k = start
        while k < n {
            var end = k + 1
            if end < n && SpecState.Entry.sameBytes(b.baseAddress! + end, b.baseAddress! + k, count: n - end) { end = n }
            while end < n {
                let hi = min(end + block, n)
                if SpecState.Entry.sameBytes(b.baseAddress! + end, b.baseAddress! + (end - 1), count: hi - end) {
                    end = hi
                    continue
                }
                while end < hi && b[end] == b[end - 1] { end += 1 }
                if end < hi { break }
            }
            if !body(k, end) { return false }
            k = end
        }
        return true
    }
    @inline(__always)
    public func firstEntry(_ t: CWord, from: CWord, whereEntry p: (RttEntry<Concrete>) -> CBit) -> CWord {
        guard from.raw < Layout.entriesPerRtt else { return CWord(Layout.entriesPerRtt) }
        var found = Int(Layout.entriesPerRtt)
        _ = forEachRun(t, from: Int(from.raw)) { b, k, _ in
            if p(SpecState.word(b[k])).raw { found = k; return false }
            return true
        }
        return CWord(UInt64(found))
    }
    @inline(__always)
    public func everyEntry(_ t: CWord, _ p: (RttEntry<Concrete>) -> CBit) -> CBit {
        CBit(forEachRun(t, from: 0) { b, k, _ in p(SpecState.word(b[k])).raw })
    }
    @inline(__always)
    public func countEntries(_ t: CWord, matching p: (RttEntry<Concrete>) -> CBit) -> CWord {
        var n = 0
        _ = forEachRun(t, from: 0) { b, k, end in
            if p(SpecState.word(b[k])).raw { n += end - k }
            return true
        }
        return CWord(UInt64(n))
    }

    /// `Machine.allEntryChanges` on the concrete state: only the entries that differ are
    /// given to `p` (which holds on unchanged ones), and tables whose entry arrays are the
    /// same storage are skipped at once.
    @inline(__always)
    public func allEntryChanges(_ t: CWord, since pre: Self,
                                _ p: (CWord, RttEntry<Concrete>, RttEntry<Concrete>) -> CBit) -> CBit {
        // One pass over the two tables (an absent table reads as all zero entries).
        withEntries(t) { new in
            pre.withEntries(t) { old in
                if new.baseAddress == old.baseAddress { return true }
                // Blocks of the same bytes hold no change; entries compared in the others.
                let n = Int(Layout.entriesPerRtt), block = 32
                for lo in stride(from: 0, to: n, by: block) {
                    let hi = min(lo + block, n)
                    if SpecState.Entry.sameBytes(old.baseAddress! + lo, new.baseAddress! + lo, count: hi - lo) { continue }
                    for i in lo..<hi where old[i] != new[i] {
                        if !p(CWord(UInt64(i)), SpecState.word(old[i]), SpecState.word(new[i])).raw { return false }
                    }
                }
                return true
            }
        }
    }
}

extension SpecState: EntryTableState {}
extension PoolState: EntryTableState {}
