import Testing
import Foundation
import RMISpec
import RMMImpl
@testable import RMICheck

@Suite struct ShrinkTests {
    /// A random-walk counterexample of a deviation shrinks to a shorter trace on which the
    /// same kind of difference still shows, and each removed step was needed.
    @Test func conformanceCounterexampleShrinks() throws {
        var c = Conformance(impl: BuiltinRMM(bugs: .realmDestroyWithRecs), compareState: false)
        let (_, found) = try c.random(steps: 100_000, seed: 1)
        let v = try #require(found)
        var s = Shrinker.implDifference(c, field: v.field)
        let small = try s.shrink(v.trace, keepExpectations: false)
        #expect(small.steps.count < v.trace.steps.count)
        #expect(try c.check(small) != nil)
        // One-minimal: dropping any single step loses the difference.
        for i in small.steps.indices {
            var t = small
            t.steps.remove(at: i)
            #expect(try c.check(t) == nil, "step \(i) was not needed")
        }
        // The clean RMM agrees on the shrunk trace: it is the deviation that shows.
        var clean = Conformance(impl: BuiltinRMM(), compareState: false)
        #expect(try clean.check(small) == nil)
    }

    /// A property violation padded with unrelated calls shrinks back to the one call.
    @Test func propertyViolationShrinksToItsCause() throws {
        var padded = Trace(platform: .standard, options: .weakenUndelegateAnyState)
        for k in 0..<5 { padded.steps.append(.call(CallStep(command: .granuleDelegate, args: [0x8000_0000 + UInt64(k) * 0x1000]))) }
        padded.steps.append(.call(CallStep(command: .version, args: [0x1_0000])))
        padded.steps.append(.call(CallStep(command: .granuleUndelegate, args: [0x8010_0000])))
        padded.steps.append(.call(CallStep(command: .features, args: [0])))
        #expect(padded.checkProperties([.l2]).violations.count == 1)
        var s = Shrinker.property(.l2)
        let small = try s.shrink(padded, keepExpectations: false)
        #expect(small.steps.count == 1)
        guard case .call(let c) = small.steps.first else { Issue.record("not a call"); return }
        #expect(c.command == .granuleUndelegate)
    }

    /// Delegations of `granules`, then REALM_CREATE of `rd` (w = 40, SL = 0) with its
    /// parameters at `params` and its starting RTT at `rtt`.
    static func realm(rd: UInt64, rtt: UInt64, params: UInt64, vmid: UInt64) -> [TraceStep] {
        [.call(CallStep(command: .granuleDelegate, args: [rtt])),
         .call(CallStep(command: .granuleDelegate, args: [rd])),
         .call(CallStep(command: .realmCreate, args: [rd, params],
                        writes: [.realmParams(at: params, RealmParamsValues(rttBase: rtt, vmid: vmid))]))]
    }

    /// A Realm destroyed with a REC (INV-L1 under the weakening), at scattered addresses.
    static func destroyedWithRec() -> Trace {
        let rd: UInt64 = 0x9876_5000, aux: [UInt64] = [0x8F00_0000, 0x8ABC_D000], rec: UInt64 = 0xBEEF_0000
        var t = Trace(platform: .standard, options: .weakenRealmDestroyWithRecs)
        t.steps = realm(rd: rd, rtt: 0xB123_4000, params: 0xA000_0000, vmid: 1)
        for g in aux + [rec] { t.steps.append(.call(CallStep(command: .granuleDelegate, args: [g]))) }
        t.steps.append(.call(CallStep(command: .recCreate, args: [rd, rec, 0x9999_9000],
                                      writes: [.recParams(at: 0x9999_9000, RecParamsValues(mpidr: 0, aux: aux))])))
        t.steps.append(.call(CallStep(command: .realmDestroy, args: [rd])))
        return t
    }

    static func commands(_ t: Trace) -> [RMICommand] {
        t.steps.compactMap { if case .call(let c) = $0 { c.command } else { nil } }
    }

    /// Granules at high, scattered addresses are renamed to the lowest delegable ones, in
    /// order of first appearance, everywhere (arguments, RTT base, aux list, write addresses).
    @Test func granulesAreRenamedToTheLowestAddresses() throws {
        let t = Self.destroyedWithRec()
        #expect(t.checkProperties([.l1]).violations.count == 1)
        var s = Shrinker.property(.l1)
        let small = try s.shrink(t, keepExpectations: false)
        #expect(small.steps.count == t.steps.count)
        let lowest = (0..<UInt64(7)).map { 0x8000_0000 + $0 * Layout.granuleSize }
        #expect(Shrinker.granules(in: small) == lowest)
        #expect(small.checkProperties([.l1]).violations.count == 1)
        guard case .call(let create) = small.steps[2], case .realmParams(let at, let p) = create.writes.first else {
            Issue.record("REALM_CREATE lost its parameters"); return
        }
        #expect(create.args == [0x8000_1000, 0x8000_2000] && at == 0x8000_2000 && p.rttBase == 0x8000_0000)
    }

    /// A renaming keeps Secure Granules Secure: they go to the lowest Secure Granules.
    @Test func secureGranulesStaySecure() {
        var t = Trace(platform: .standard)
        t.steps = [.call(CallStep(command: .granuleDelegate, args: [0xBFFF_8000])),
                   .call(CallStep(command: .granuleDelegate, args: [0xA000_0000]))]
        #expect(Shrinker.granules(in: Shrinker.canonicalised(t)) == [0xBFFF_0000, 0x8000_0000])
    }

    /// A second Realm and a Granule that play no part are removed, each as one candidate.
    @Test func unrelatedRealmsAndGranulesAreRemoved() throws {
        let minimal = Self.destroyedWithRec()
        var t = minimal
        let other = Self.realm(rd: 0xA800_0000, rtt: 0xA800_1000, params: 0xA800_2000, vmid: 2)
            + [.call(CallStep(command: .granuleDelegate, args: [0xA800_3000])),
               .call(CallStep(command: .rttCreate, args: [0xA800_0000, 0xA800_3000, 0, 1])),
               .call(CallStep(command: .realmActivate, args: [0xA800_0000]))]
        t.steps.insert(contentsOf: other, at: 3)
        t.steps.insert(contentsOf: [.call(CallStep(command: .granuleDelegate, args: [0xB000_0000])),
                                    .call(CallStep(command: .granuleUndelegate, args: [0xB000_0000]))], at: 1)
        let withoutRealm = try #require(Shrinker.without(realm: 0xA800_0000, in: t))
        #expect(withoutRealm.steps.count == t.steps.count - other.count)
        let withoutGranule = try #require(Shrinker.without(granule: 0xB000_0000, in: withoutRealm))
        #expect(Self.commands(withoutGranule) == Self.commands(minimal))

        var s = Shrinker.property(.l1)
        let small = try s.shrink(t, keepExpectations: false)
        #expect(Self.commands(small) == Self.commands(minimal))
        #expect(Shrinker.realms(in: small).count == 1)
    }

    /// Destroying a live RTT (INV-T1 under the weakening) needs no level-3 table: the
    /// destroy is lowered to level 1, and the level-3 table then removed.
    @Test func rttLevelsAreLowered() throws {
        let rd: UInt64 = 0x8000_1000
        var t = Trace(platform: .standard, options: .weakenRttDestroyLiveTable)
        t.steps = Self.realm(rd: rd, rtt: 0x8000_0000, params: 0x8000_2000, vmid: 1)
        for level in UInt64(1)...3 {
            let table = 0x8000_2000 + level * Layout.granuleSize
            t.steps.append(.call(CallStep(command: .granuleDelegate, args: [table])))
            t.steps.append(.call(CallStep(command: .rttCreate, args: [rd, table, 0, level])))
        }
        t.steps.append(.call(CallStep(command: .rttDestroy, args: [rd, 0, 2])))
        #expect(t.checkProperties([.t1]).violations.count == 1)

        func levels(_ t: Trace, _ command: RMICommand) -> [UInt64] {
            t.steps.compactMap { if case .call(let c) = $0, c.command == command { c.args.last } else { nil } }
        }
        var reading = t
        reading.steps.append(.call(CallStep(command: .rttReadEntry, args: [rd, 0, 3])))
        let shallower = try #require(Shrinker.withoutDeepestLevel(of: rd, in: reading))
        #expect(shallower.steps.count == reading.steps.count - 2)
        #expect(levels(shallower, .rttCreate) == [1, 2])
        #expect(levels(shallower, .rttDestroy) == [2] && levels(shallower, .rttReadEntry) == [2])

        var s = Shrinker.property(.t1)
        let small = try s.shrink(t, keepExpectations: false)
        #expect(levels(small, .rttCreate) == [1, 2])
        #expect(levels(small, .rttDestroy) == [1])
        #expect(small.checkProperties([.t1]).violations.count == 1)
    }

    @Test func aTraceWithoutTheViolationIsRefused() throws {
        let t = Trace(platform: .standard, steps: [.call(CallStep(command: .version, args: [0x1_0000]))])
        var s = Shrinker.property(.l2)
        #expect(throws: ShrinkError.self) { try s.shrink(t, keepExpectations: false) }
    }
}
