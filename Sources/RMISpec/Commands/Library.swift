// Spec functions shared by several commands (B3 of the spec), written once against
// `Machine`. Levels are two's complement words: LPA2 Realms have level -1.

/// The result of `RttWalk(rd, addr, level)` (B3.78): where the walk stopped.
public struct Walk<D: Domain> {
    public var level: Word<D>
    public var rtt: Word<D>
    public var index: Word<D>
    public var entry: RttEntry<D>
}

extension Machine {
    public static var granule: Word<D> { Word(Layout.granuleSize) }

    /// `AddrIsGranuleAligned(addr)`.
    public func aligned(_ a: Word<D>) -> Bit<D> { (a & 0xFFF) == 0 }

    /// log2 of `Size(level)`: 12 + 9 * (3 - level).
    public func levelShift(_ l: Word<D>) -> Word<D> { 39 - 9 * l }
    /// `RttLevelSize(level)`.
    public func levelSize(_ l: Word<D>) -> Word<D> { Word(1) << levelShift(l) }
    /// `RttEntryIndex(addr, level)`.
    public func entryIndex(_ ipa: Word<D>, _ l: Word<D>) -> Word<D> { (ipa >> levelShift(l)) & 511 }
    /// `AddrIsRttLevelAligned(addr, level)`.
    public func levelAligned(_ a: Word<D>, _ l: Word<D>) -> Bit<D> { a.isAligned(to: levelSize(l)) }

    // MARK: Realm views

    public func sl(_ rd: Word<D>) -> Word<D> { realm(rd, .levelStart) }
    public func ipaWidth(_ rd: Word<D>) -> Word<D> { realm(rd, .ipaWidth) }
    public func realmIs(_ rd: Word<D>, _ s: RealmState) -> Bit<D> { realm(rd, .state) == Word(s.rawValue) }
    /// `ipa < 2^w`: the IPA is inside the Realm's IPA space.
    public func ipaInRange(_ rd: Word<D>, _ ipa: Word<D>) -> Bit<D> { ipa < (Word(1) << ipaWidth(rd)) }
    /// `AddrIsProtected(ipa, realm)`: `ipa < 2^(w-1)`.
    public func isProtected(_ rd: Word<D>, _ ipa: Word<D>) -> Bit<D> {
        ipa < (Word(1) << (ipaWidth(rd) - 1))
    }
    /// `RttLevelIsValid(rd, level)`: SL <= level <= 3.
    public func levelValid(_ rd: Word<D>, _ l: Word<D>) -> Bit<D> { sl(rd).sle(l) && l.sle(3) }
    /// `RttLevelIsBlockOrPage(rd, level)`, read as max(1, SL) <= level <= 3 (reference section 9).
    public func levelIsBlockOrPage(_ rd: Word<D>, _ l: Word<D>) -> Bit<D> {
        levelValid(rd, l) && Word(1).sle(l)
    }
    /// `RttLevelIsValid(level) && !RttLevelIsStarting(level)`: SL < level <= 3, the levels of
    /// a non-starting RTT, as RTT_CREATE, RTT_DESTROY and RTT_FOLD take them.
    public func levelIsNonStarting(_ rd: Word<D>, _ l: Word<D>) -> Bit<D> { sl(rd).slt(l) && l.sle(3) }

    /// The starting-level RTT that covers `ipa` (tables are concatenated).
    public func startingRtt(_ rd: Word<D>, _ ipa: Word<D>) -> Word<D> {
        let k = ipa >> (levelShift(sl(rd)) + 9)
        return realm(rd, .rttBase) + k * Self.granule
    }

    /// `RttWalk(rd, ipa, level)`: descend from the starting RTT while the entry is TABLE and
    /// the target level is not reached. At most four steps (SL >= -1).
    public func walk(_ rd: Word<D>, _ ipa: Word<D>, to target: Word<D>) -> Walk<D> {
        var level = sl(rd)
        var rtt = startingRtt(rd, ipa)
        var index = entryIndex(ipa, level)
        var e = entry(rtt, index)
        for _ in 0..<4 {
            let descend = level.slt(target) && e.is(.table)
            if descend.isFalse { break }
            rtt = ite(descend, e.addr, rtt)
            level = ite(descend, level + 1, level)
            index = entryIndex(ipa, level)
            e = RttEntry.select(descend, entry(rtt, index), e)
        }
        return Walk(level: level, rtt: rtt, index: index, entry: e)
    }

    /// The IPA of entry `i` of the RTT the walk stopped in, counted from `ipa`'s entry.
    func ipaOfEntry(_ w: Walk<D>, from ipa: Word<D>, _ i: Word<D>) -> Word<D> {
        let size = levelSize(w.level)
        return ipa.alignedDown(to: size) + (i - w.index) * size
    }

    /// `RttSkipNonLiveEntries(rtt, level, ipa)`: `ipa` itself if its entry is live, else the
    /// IPA of the next live entry of the RTT, or of the first entry past the RTT.
    public func skipNonLiveEntries(_ w: Walk<D>, _ ipa: Word<D>) -> Word<D> {
        let own = entry(w.rtt, w.index)
        let next = firstEntry(w.rtt, from: w.index + 1, whereEntry: { $0.isLive })
        return ite(own.isLive, ipa, ipaOfEntry(w, from: ipa, next))
    }

    /// `skipNonLiveEntries(w, ipa)` as the `top` output of the failure conditions that
    /// `readWhen` says hold: an output is read only from a condition that holds, so where
    /// `readWhen` is known false (a concrete call that fails neither) the scan is skipped
    /// and 0 stands in, unread.
    public func walkTop(_ w: Walk<D>, _ ipa: Word<D>, readWhen: Bit<D>) -> Word<D> {
        readWhen.isFalse ? Word(0) : skipNonLiveEntries(w, ipa)
    }

    /// `RttSkipEntriesWithRipas`: the end of the run of entries from `base` that a RIPAS
    /// command may change: the first entry that `stops` (at most the end of the RTT), capped
    /// at `top`, aligned down to the walk level.
    public func skipEntriesWithRipas(_ w: Walk<D>, base: Word<D>, top: Word<D>,
                                                stops: (RttEntry<D>) -> Bit<D>) -> Word<D> {
        let stop = firstEntry(w.rtt, from: w.index, whereEntry: stops)
        let end = ipaOfEntry(w, from: base, stop)
        return Word.min(end, top).alignedDown(to: levelSize(w.level))
    }

    // MARK: Measurement

    /// A 64-bit stand-in for the RIM hash over 64-bit words. The spec leaves the
    /// hash to the algorithm; a checker only needs equal inputs to give equal values.
    public func measure(_ seed: Word<D>, _ words: [Word<D>]) -> Word<D> {
        // Rotate-xor-add rather than a multiplicative hash: the symbolic face bit-blasts this
        // for every REALM_CREATE, REC_CREATE, DATA_CREATE and RIPAS step, and a 64-bit
        // multiplier per word made a two-step BMC query over all commands take minutes.
        var h = seed ^ 0xCBF2_9CE4_8422_2325
        for w in words {
            let x = h ^ w
            h = ((x << 13) | (x >> 51)) + 0x9E37_79B9_7F4A_7C15
        }
        return h
    }

    // MARK: REC views

    /// `RecIndex(mpidr)`: aff0 + 16*aff1 + 4096*aff2 + 2^20*aff3 (aff0 is 4 bits).
    public func recIndex(_ mpidr: Word<D>) -> Word<D> {
        mpidr.bits(3, 0) + mpidr.bits(15, 8) * 16 + mpidr.bits(23, 16) * 4096 + mpidr.bits(31, 24) * 0x10_0000
    }
    /// RmiRecMpidr bits 7:4 and 63:32 are reserved (SBZ).
    public func mpidrIsValid(_ mpidr: Word<D>) -> Bit<D> { (mpidr & 0xFFFF_FFFF_0000_00F0) == 0 }
}

extension Machine {
    /// `RttIsLive(rtt)` (A5.5.8): some entry is ASSIGNED or TABLE (ASSIGNED_NS does not count).
    /// Under `weaken-data-destroy-no-refcount-decrement` also a table with a leaked reference.
    public func rttIsLive(_ t: Word<D>) -> Bit<D> {
        !everyEntry(t) { e in !(e.is(.assigned) || e.is(.table)) } || rttLeaked(t)
    }

    /// Whether RTT `t` keeps a reference DATA_DESTROY did not drop (only under
    /// `weaken-data-destroy-no-refcount-decrement`; false otherwise).
    public func rttLeaked(_ t: Word<D>) -> Bit<D> {
        options.contains(.weakenDataDestroyNoRefcountDecrement) ? rtt(t, .leaked) != 0 : Bit(false)
    }

    /// Calls `body(i, inRange)` for each of the at most 16 starting RTTs of a Realm with
    /// `n` of them; `inRange` says whether table `i` exists.
    public static func forEachStartingRtt(_ n: Word<D>, _ body: (Int, Bit<D>) -> Void) {
        for i in 0..<16 { body(i, Word(UInt64(i)) < n) }
    }

    /// Whether `t` is one of the `count` starting RTTs from `base`, and its index `i`:
    /// `t = base + i * 4K` with `i < 16` and `i < count` (modulo 2^64), said as one
    /// subtraction and three comparisons rather than 16 cases.
    public static func startingRtt(_ t: Word<D>, base: Word<D>, count: Word<D>) -> (index: Word<D>, isStarting: Bit<D>) {
        let d = t - base, i = d >> 12
        return (i, (d & 0xFFF) == 0 && i < 16 && i < count)
    }

    public func allStartingRtts(base: Word<D>, count: Word<D>, _ p: (Word<D>) -> Bit<D>) -> Bit<D> {
        allStartingRttsOneByOne(base: base, count: count, p)
    }
    public mutating func updateStartingRtts(base: Word<D>, count: Word<D>, when: Bit<D>,
                                            _ body: (inout Self, Word<D>, Word<D>, Bit<D>) -> Void) {
        updateStartingRttsOneByOne(base: base, count: count, when: when, body)
    }
    /// `allStartingRtts` as 16 cases.
    public func allStartingRttsOneByOne(base: Word<D>, count: Word<D>, _ p: (Word<D>) -> Bit<D>) -> Bit<D> {
        var all = Bit<D>(true)
        Self.forEachStartingRtt(count) { i, exists in
            if exists.isFalse { return }
            all = all && implies(exists, p(base + Word(UInt64(i)) * Self.granule))
        }
        return all
    }

    /// `updateStartingRtts` as 16 cases.
    public mutating func updateStartingRttsOneByOne(base: Word<D>, count: Word<D>, when: Bit<D>,
                                                    _ body: (inout Self, Word<D>, Word<D>, Bit<D>) -> Void) {
        Self.forEachStartingRtt(count) { i, exists in
            let make = when && exists
            if make.isFalse { return }
            body(&self, Word(UInt64(i)), base + Word(UInt64(i)) * Self.granule, make)
        }
    }

    /// `RealmIsLive(rd)` (A2.1.4).
    public func realmIsLive(_ rd: Word<D>) -> Bit<D> {
        let live = realm(rd, .numRecs) != 0 && Bit(!options.contains(.weakenRealmDestroyWithRecs))
        return live || !allStartingRtts(base: realm(rd, .rttBase), count: realm(rd, .numStart)) { !rttIsLive($0) }
    }
}

extension Machine {
    /// The three conditions on a Granule argument, in the spec's order:
    /// `<name>_align` (4 KB aligned), `<name>_bound` (`PaIsDelegable`) and `<name>_state`
    /// (the Granule is in state `s`), all RMI_ERROR_INPUT.
    public func granuleArgument(_ name: StaticString, _ a: Word<D>, is s: GranuleState, stateLabel: StaticString? = nil,
                                outputs: [Word<D>?] = [], file: StaticString = #filePath, line: UInt = #line) -> ArgumentConditions<D> {
        let align = !aligned(a), bound = !isDelegable(a), state = !granuleIs(a, s)
        return ArgumentConditions(
            Condition(name, suffix: "_align", .errorInput, align, outputs: outputs, file: file, line: line),
            Condition(name, suffix: "_bound", .errorInput, bound, outputs: outputs, file: file, line: line),
            stateLabel.map { Condition($0, .errorInput, state, outputs: outputs, file: file, line: line) }
                ?? Condition(name, suffix: "_state", .errorInput, state, outputs: outputs, file: file, line: line))
    }

    /// `conditions` without the one labelled `label` when the deliberate weakening `w` is on.
    func weakened(_ conditions: [Condition<D>], _ w: SpecOptions, drop label: String) -> [Condition<D>] {
        options.contains(w) ? conditions.filter { $0.label != label } : conditions
    }

    /// The three conditions on a pointer to an NS parameter block: `<name>_align`,
    /// `<name>_bound` and `<name>_pas` (`GranuleAccessPermitted(addr, PAS_NS)`).
    public func nsArgument(_ name: StaticString, _ a: Word<D>, file: StaticString = #filePath, line: UInt = #line) -> ArgumentConditions<D> {
        let align = !aligned(a), bound = !isDelegable(a), pas = !nsAccessible(a)
        return ArgumentConditions(Condition(name, suffix: "_align", .errorInput, align, file: file, line: line),
                                  Condition(name, suffix: "_bound", .errorInput, bound, file: file, line: line),
                                  Condition(name, suffix: "_pas", .errorInput, pas, file: file, line: line))
    }
}
