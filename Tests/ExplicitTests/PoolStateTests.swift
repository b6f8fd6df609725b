import Testing
@testable import Explicit
import RMISpec

/// `PoolState`, the flat state the search runs the spec on, against `SpecState`: the same
/// commands, the same answers, the same states.
@Suite struct PoolStateTests {
    /// Every action of every state a search of small scopes stores (one per symmetry class),
    /// run on both: the same success, the same next state, the same verdict of every
    /// state property, and a conversion that round-trips.
    @Test(arguments: ["granules=4,aux=1", "granules=4,realms=2,aux=0", "granules=4,recs=2,aux=0,ipas=0,unprotected=0",
                      "granules=4,ipas=2,wide=1,aux=0"])
    func agreesWithSpecStateOnEveryStep(_ text: String) throws {
        let scope = try ExplicitScope.parse(text)
        var o = ExplicitOptions(scope: scope)
        o.properties = []
        o.collectStates = true
        let search = ExplicitSearch(o)
        _ = try search.run()
        #expect(search.states.count > 100)
        var alphabet = Alphabet(scope)
        var steps = 0
        for s in search.states {
            let p = scope.poolState(s)
            #expect(p.specState == s)
            #expect(Self.sameReads(p, s, pool: scope.pool))
            #expect(p.rawHash == p.rawHashAfresh)
            #expect(p.runsAreCurrent && p.pinsAreCurrent)
            #expect(p.addresses.map(\.raw) == s.addresses.map(\.raw))
            for inv in Invariant.specProperties where inv.kind == .always {
                #expect(inv.holds(inState: p) == inv.holds(inState: s), "\(inv.rawValue)")
            }
            scope.alphabet(p, into: &alphabet)
            let steps0 = scope.actions(s)
            #expect(steps0.count == alphabet.actions.count)
            for (a, step) in zip(alphabet.actions, steps0) {
                var runner = TraceRunner(state: s)
                let r = runner.run(step)
                var q = p
                let ok: Bool
                if a.exit {
                    ok = RMISpec.recExitSucceeds(&q, rec: a.args.0, realm: RealmAction.idle)
                } else {
                    for w in alphabet.hostWrites(a.writes) { q.apply(w) }
                    var call = Call<Concrete>([0, 0, 0, 0, 0], realm: RealmAction(kind: 0))
                    for i in 0..<5 { call.x[i] = CWord(i < a.argc ? a[i] : 0) }
                    call.realm.kind = CWord((a.realm ?? .irq).rawValue)
                    for i in 0..<4 { call.realm.args[i] = CWord(i < a.realmArgc ? a.realmArg(i) : 0) }
                    ok = RMISpec.applySucceeds(a.command, to: &q, call)
                }
                #expect(ok == r?.succeeded, "\(step)")
                #expect((q == p) == (runner.state == s), "\(step)")
                // (An unchanged state was compared above, as `p` against `s`.)
                if !(runner.state == s) {
                    #expect(q.specState == runner.state, "\(step)")
                    #expect(Self.sameReads(q, runner.state, pool: scope.pool), "\(step)")
                }
                // The raw hash kept through the writes is the one worked out afresh.
                #expect(q.rawHash == q.rawHashAfresh, "\(step)")
                // So are the runs of equal entries kept for each RTT.
                #expect(q.runsAreCurrent && q.pinsAreCurrent, "\(step)")
                steps += 1
            }
        }
        #expect(steps > 1000)
    }

    /// Whether every read of the `Machine` interface at the pool's addresses gives the same
    /// answer on the two (objects' fields read 0 where there is no such object).
    static func sameReads(_ p: PoolState, _ s: SpecState, pool: [UInt64]) -> Bool {
        for a in pool.map({ CWord($0) }) {
            guard p.granuleState(a).raw == s.granuleState(a).raw, p.granuleGPT(a).raw == s.granuleGPT(a).raw,
                  p.granuleContent(a).raw == s.granuleContent(a).raw,
                  RealmField.allCases.allSatisfy({ p.realm(a, $0).raw == s.realm(a, $0).raw }),
                  RecField.all.allSatisfy({ p.rec(a, $0).raw == s.rec(a, $0).raw }),
                  RttField.allCases.allSatisfy({ p.rtt(a, $0).raw == s.rtt(a, $0).raw }) else { return false }
            if s.rtts[a.raw] != nil || p.hasRtt(a.raw) {
                for i in 0..<Layout.entriesPerRtt {
                    let x = p.entry(a, CWord(i)), y = s.entry(a, CWord(i))
                    if x.state.raw != y.state.raw || x.ripas.raw != y.ripas.raw || x.addr.raw != y.addr.raw || x.attrs.raw != y.attrs.raw {
                        return false
                    }
                }
                // The scans by runs of equal entries (kept runs on `p`, found anew on `s`)
                // answer as the scans by index.
                let preds: [(RttEntry<Concrete>) -> CBit] = [{ $0.isLive }, { $0.is(.unassigned) }, { $0.is(.assignedNS) }]
                for q in preds {
                    for from in [0, 1, 2, 5, 100, 511] {
                        let want = s.firstEntry(a, from: CWord(UInt64(from))) { _, e in q(e) }.raw
                        guard p.firstEntry(a, from: CWord(UInt64(from)), whereEntry: q).raw == want,
                              s.firstEntry(a, from: CWord(UInt64(from)), whereEntry: q).raw == want else { return false }
                    }
                    let count = s.countEntries(a) { _, e in q(e) }.raw, every = s.allEntries(a) { _, e in q(e) }.raw
                    guard p.countEntries(a, matching: q).raw == count, s.countEntries(a, matching: q).raw == count,
                          p.everyEntry(a, q).raw == every, s.everyEntry(a, q).raw == every else { return false }
                }
            }
        }
        return true
    }

    /// The key the encoder caches fingerprints by covers what the encoding reads: over every
    /// state of a scope (no symmetry), two states share a key exactly when they share their
    /// plain encoding; and a fingerprint found in the cache is the one worked out afresh.
    @Test func fingerprintCacheKeysCoverTheEncoding() throws {
        let scope = try ExplicitScope.parse("granules=4,aux=1,ipas=2")
        var o = ExplicitOptions(scope: scope)
        o.symmetry = false
        o.properties = []
        o.collectStates = true
        let search = ExplicitSearch(o)
        _ = try search.run()
        var e = SlotEncoder(scope: scope)
        var byKey: [[UInt64]: [UInt64]] = [:]
        for s in search.states {
            let p = scope.poolState(s)
            let (a, b) = e.cacheKey(p)
            let plain = scope.plainEncoding(s)
            if let seen = byKey[[a, b]] { #expect(seen == plain) } else { byKey[[a, b]] = plain }
            for symmetry in [false, true] {
                var fresh = SlotEncoder(scope: scope)
                let want = fresh.fingerprint(of: p, symmetry: symmetry, vmids: true)
                #expect(e.cachedFingerprint(of: p, symmetry: symmetry, vmids: true) == want)
            }
        }
        #expect(byKey.count == search.states.count)
        // States whose RTT entries are not all zero are among them (the key reads entries).
        #expect(search.states.contains { s in
            let p = scope.poolState(s)
            return (0..<p.count).contains { i in p.entries(slot: i).contains { $0 != .zero } }
        })
    }

    /// The fingerprint cache starts small, doubles while its inserts reach a quarter of its lines,
    /// and keeps what it holds as it grows; a key reads back its own fingerprint and
    /// exactness or nothing.
    @Test func fingerprintCacheKeepsEntriesAsItGrows() {
        var c = FingerprintCache()
        #expect(c.lookup(1, 2) == nil && c.lines == 0)
        func key(_ i: UInt64) -> (UInt64, UInt64) { (i &* 0x9E37_79B9_7F4A_7C15, i << 17 | i) }
        func held(_ range: ClosedRange<UInt64>) -> Set<UInt64> {
            Set(range.filter { i in
                let (a, b) = key(i)
                guard let (fp, exact) = c.lookup(a, b) else { return false }
                #expect(fp == Fingerprint(lo: i, hi: ~i) && exact == (i % 3 != 0))
                return true
            })
        }
        var lines: [Int] = []
        for i in UInt64(1)...3000 {
            // (What it holds before an insert that may grow it.)
            let before = i > 1 && 4 * Int(i - 1) >= c.lines ? held(1...(i - 1)) : []
            let (a, b) = key(i)
            c.insert(a, b, Fingerprint(lo: i, hi: ~i), exact: i % 3 != 0)
            if lines.last != c.lines {
                lines.append(c.lines)
                // Growing keeps every entry (the next insert may then take one line).
                #expect(held(1...i).count >= before.count, "lost entries growing to \(c.lines) lines")
            }
            #expect(held(i...i) == [i])
        }
        #expect(lines == [1024, 2048, 4096, 8192, 16384])
        #expect(held(1...3000).count > 2000)
        #expect(c.lookup(key(3001).0, key(3001).1) == nil)
    }

    /// A REC, RTT or Realm outside the pool is no state of the pool: converting one traps
    /// rather than dropping it. (Granules outside the pool are kept.)
    @Test func granulesOutsideThePoolAreKept() {
        var s = SpecState()
        let far = ExplicitScope.dataSrcPage
        s.setGranuleContent(CWord(far), 7, when: true)
        var p = PoolState(s, base: ExplicitScope.standardBase, count: 2)
        #expect(p.granuleContent(CWord(far)).raw == 7)
        #expect(p.specState == s)
        #expect(p.addresses.map(\.raw) == [far])
        // Addresses in order, those outside the pool among the pool's (an unaligned one
        // between two pool Granules).
        let base = ExplicitScope.standardBase
        for x in [(base, UInt64(5)), (base + 0x1000, 6), (base + 0x8, 9), (0x2000, 4)] {
            s.setGranuleContent(CWord(x.0), CWord(x.1), when: true)
            p.setGranuleContent(CWord(x.0), CWord(x.1), when: true)
        }
        #expect(p.addresses.map(\.raw) == s.addresses.map(\.raw))
        #expect(p.addresses.map(\.raw) == [0x2000, base, base + 0x8, base + 0x1000, far])
        #expect(p.specState == s)
    }
}
