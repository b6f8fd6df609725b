/// Non-generic entry points for engines in other modules: the generic property code is
/// specialised for `SpecState` here, so a caller outside RMISpec does not run it through
/// generic metadata (which made explicit search about 100 times slower).
extension Invariant {
    public func holds(inState s: SpecState) -> Bool { holds(in: s).raw }
    public func covers(state s: SpecState) -> Bool { cover(in: s).raw }
    public func holds(onStep v: StepView<SpecState>) -> Bool { holds(on: v).raw }
    public func covers(step v: StepView<SpecState>) -> Bool { cover(on: v).raw }

    public func holds(inState s: PoolState) -> Bool { holds(in: s).raw }
    public func covers(state s: PoolState) -> Bool { cover(in: s).raw }
    /// Given `s.addresses`, which a caller checking several properties reads once.
    public func holds(inState s: PoolState, addresses: [CWord]) -> Bool { holds(in: s, addresses: addresses).raw }
    public func covers(state s: PoolState, addresses: [CWord]) -> Bool { cover(in: s, addresses: addresses).raw }
    public func holds(onStep v: StepView<PoolState>) -> Bool { holds(on: v).raw }
    public func covers(step v: StepView<PoolState>) -> Bool { cover(on: v).raw }
}

extension PoolState {
    /// The level at which the walk of `ipa` in Realm `rd` stops (looking down to level 3).
    public func walkLevel(_ rd: UInt64, _ ipa: UInt64) -> Int64 {
        Int64(bitPattern: walk(CWord(rd), CWord(ipa), to: 3).level.raw)
    }
}

extension SpecState {
    /// The level at which the walk of `ipa` in Realm `rd` stops (looking down to level 3).
    public func walkLevel(_ rd: UInt64, _ ipa: UInt64) -> Int64 {
        Int64(bitPattern: walk(CWord(rd), CWord(ipa), to: 3).level.raw)
    }
}

extension SpecState {
    /// `Machine.allEntryChanges` on the concrete state: only the entries that differ are
    /// given to `p` (which holds on unchanged ones), and tables whose entry arrays are the
    /// same storage are skipped at once.
    @inline(__always)
    public func allEntryChanges(_ t: CWord, since pre: SpecState,
                                _ p: (CWord, RttEntry<Concrete>, RttEntry<Concrete>) -> CBit) -> CBit {
        // One pass over the two tables (an absent table reads as all zero entries).
        withEntries(t) { new in pre.withEntries(t) { old in SpecState.allEntryChanges(old, new, p) } }
    }

    /// Whether `p(i, old[i], new[i])` holds at every index where the two tables differ.
    @inline(__always)
    static func allEntryChanges(_ old: UnsafeBufferPointer<Entry>, _ new: UnsafeBufferPointer<Entry>,
                                _ p: (CWord, RttEntry<Concrete>, RttEntry<Concrete>) -> CBit) -> CBit {
        if new.baseAddress == old.baseAddress { return true }
        // Blocks of the same bytes hold no change; entries compared in the others.
        let n = Int(Layout.entriesPerRtt), block = 32
        for lo in stride(from: 0, to: n, by: block) {
            let hi = min(lo + block, n)
            if Entry.sameBytes(old.baseAddress! + lo, new.baseAddress! + lo, count: hi - lo) { continue }
            for i in lo..<hi where old[i] != new[i] {
                if !p(CWord(UInt64(i)), SpecState.word(old[i]), SpecState.word(new[i])).raw { return false }
            }
        }
        return true
    }
}
