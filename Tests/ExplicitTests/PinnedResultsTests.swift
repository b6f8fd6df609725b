import Testing
@testable import Explicit
import RMISpec

/// What the search finds on the default plan's scopes, pinned: distinct states, transitions,
/// depth, the unreduced count, each property's verdict and cover depth, and the steps of every
/// trace it reports. A change to how the search computes (encoding, canonical form, order of
/// work, shortcuts in the property checks) must leave all of it as it is.
@Suite struct PinnedResultsTests {
    /// A result as lines: each property's name, cover depth and verdict with the steps of its
    /// trace, then distinct states, transitions, depth, what cut the search and the orbit sum.
    static func summary(_ r: ExplicitResult) -> [String] {
        r.outcomes.map { o -> String in
            let trace: String
            switch o.verdict {
            case .holds: trace = "holds"
            case .notReached: trace = "not reached"
            case .violated(let t), .witnessed(let t):
                trace = t.steps.map { step -> String in
                    switch step {
                    case .call(let c): "\(c.command.rawValue)(\(c.args.map { hex($0) }.joined(separator: ",")))\(c.realm.map { " \($0.kind.name)\($0.args)" } ?? "")"
                    default: "\(step)"
                    }
                }.joined(separator: "; ")
            }
            return "\(o.name) \(o.coverDepth.map(String.init) ?? "-") \(trace)"
        } + ["\(r.distinct) \(r.states) \(r.depth) \(r.cut ?? "") \(r.unreducedByOrbits ?? -1)"]
    }

    @Test func defaultPlanResultsArePinned() throws {
        let noRec = ExtraProperty(name: "TEST-NO-REC") { $0.recs.isEmpty }
        let runs = try ExplicitScope.parsePlan(ExplicitScope.defaultPlan).map { ($0, true, true) }
            + [(try ExplicitScope.parse("granules=4"), false, false), (try ExplicitScope.parse("granules=4,realms=2"), true, false)]
        var got: [String] = []
        for (scope, symmetry, realmSymmetry) in runs {
            var o = ExplicitOptions(scope: scope)
            o.symmetry = symmetry
            o.realmSymmetry = realmSymmetry
            o.countOrbits = true
            o.extraProperties = [noRec]
            let lines = Self.summary(try ExplicitSearch(o).run())
            got.append("\(scope) \(symmetry) \(realmSymmetry): \(lines.joined(separator: " | "))")
        }
        #expect(got.count == Self.pinned.count)
        for (g, p) in zip(got, Self.pinned) { #expect(g == p) }
    }

    /// Recorded at commit 7fac958, before the search was made faster.
    static let pinned = [
        "granules=5,realms=1,recs=1,ipas=1,aux=1 true true: INV-G1 1 holds | INV-G2 1 holds | INV-G3 - holds | INV-G4 4 holds | INV-G5 4 holds | INV-R1 - holds | INV-R2 - holds | INV-R3 3 holds | INV-R4 3 holds | INV-R5 - holds | INV-R6 4 holds | INV-R7 5 holds | INV-C1 6 holds | INV-C2 6 holds | INV-C3 8 holds | INV-C4 - holds | INV-C5 8 holds | INV-T1 7 holds | INV-T2 7 holds | INV-T3 8 holds | INV-T4 9 holds | INV-T5 9 holds | INV-T7 8 holds | INV-T8 9 RMI_GRANULE_DELEGATE(0x80000000); RMI_GRANULE_DELEGATE(0x80001000); RMI_GRANULE_DELEGATE(0x80002000); RMI_GRANULE_DELEGATE(0x80003000); RMI_GRANULE_DELEGATE(0x80004000); RMI_REALM_CREATE(0x80000000,0x90000000); RMI_RTT_CREATE(0x80000000,0x80002000,0x80000000,0x2); RMI_RTT_CREATE(0x80000000,0x80003000,0x80000000,0x3); RMI_RTT_MAP_UNPROTECTED(0x80000000,0x80000000,0x3,0x800040dc) | INV-L1 4 holds | INV-L2 2 holds | INV-L3 8 holds | INV-L4 1 holds | TEST-NO-REC - RMI_GRANULE_DELEGATE(0x80000000); RMI_GRANULE_DELEGATE(0x80001000); RMI_GRANULE_DELEGATE(0x80002000); RMI_GRANULE_DELEGATE(0x80003000); RMI_REALM_CREATE(0x80000000,0x90000000); RMI_REC_CREATE(0x80000000,0x80002000,0x90001000) | 612 12651 17  66552",
        "granules=4,realms=2,recs=1,ipas=1,aux=1 true true: INV-G1 1 holds | INV-G2 1 holds | INV-G3 - holds | INV-G4 4 holds | INV-G5 4 holds | INV-R1 - holds | INV-R2 - holds | INV-R3 3 holds | INV-R4 3 holds | INV-R5 6 holds | INV-R6 4 holds | INV-R7 5 holds | INV-C1 6 holds | INV-C2 6 holds | INV-C3 8 holds | INV-C4 - holds | INV-C5 8 holds | INV-T1 7 holds | INV-T2 7 holds | INV-T3 8 holds | INV-T4 - holds | INV-T5 - holds | INV-T7 8 holds | INV-T8 - not reached | INV-L1 4 holds | INV-L2 2 holds | INV-L3 8 holds | INV-L4 1 holds | TEST-NO-REC - RMI_GRANULE_DELEGATE(0x80000000); RMI_GRANULE_DELEGATE(0x80001000); RMI_GRANULE_DELEGATE(0x80002000); RMI_GRANULE_DELEGATE(0x80003000); RMI_REALM_CREATE(0x80000000,0x90000000); RMI_REC_CREATE(0x80000000,0x80002000,0x90001000) | 216 3778 15  9616",
        "granules=4,realms=1,recs=2,ipas=0,aux=0,unprotected=0 true true: INV-G1 1 holds | INV-G2 1 holds | INV-G3 - holds | INV-G4 4 holds | INV-G5 4 holds | INV-R1 7 holds | INV-R2 7 holds | INV-R3 3 holds | INV-R4 3 holds | INV-R5 - holds | INV-R6 4 holds | INV-R7 5 holds | INV-C1 5 holds | INV-C2 5 holds | INV-C3 7 holds | INV-C4 9 holds | INV-C5 - holds | INV-T1 - holds | INV-T2 - holds | INV-T3 - holds | INV-T4 - holds | INV-T5 - holds | INV-T7 - holds | INV-T8 - not reached | INV-L1 4 holds | INV-L2 2 holds | INV-L3 - holds | INV-L4 1 holds | TEST-NO-REC - RMI_GRANULE_DELEGATE(0x80000000); RMI_GRANULE_DELEGATE(0x80001000); RMI_GRANULE_DELEGATE(0x80002000); RMI_REALM_CREATE(0x80000000,0x90000000); RMI_REC_CREATE(0x80000000,0x80002000,0x90001000) | 2064 37118 22  49240",
        "granules=7,realms=1,recs=1,ipas=1,aux=1,unprotected=0 true true: INV-G1 1 holds | INV-G2 1 holds | INV-G3 12 holds | INV-G4 4 holds | INV-G5 4 holds | INV-R1 - holds | INV-R2 - holds | INV-R3 3 holds | INV-R4 3 holds | INV-R5 - holds | INV-R6 4 holds | INV-R7 5 holds | INV-C1 6 holds | INV-C2 6 holds | INV-C3 8 holds | INV-C4 - holds | INV-C5 8 holds | INV-T1 7 holds | INV-T2 7 holds | INV-T3 - holds | INV-T4 9 holds | INV-T5 9 holds | INV-T7 - holds | INV-T8 - not reached | INV-L1 4 holds | INV-L2 2 holds | INV-L3 8 holds | INV-L4 1 holds | TEST-NO-REC - RMI_GRANULE_DELEGATE(0x80000000); RMI_GRANULE_DELEGATE(0x80001000); RMI_GRANULE_DELEGATE(0x80002000); RMI_GRANULE_DELEGATE(0x80003000); RMI_REALM_CREATE(0x80000000,0x90000000); RMI_REC_CREATE(0x80000000,0x80002000,0x90001000) | 1880 44771 22  6716768",
        "granules=4,realms=1,recs=1,ipas=1,aux=1 false false: INV-G1 1 holds | INV-G2 1 holds | INV-G3 - holds | INV-G4 4 holds | INV-G5 4 holds | INV-R1 - holds | INV-R2 - holds | INV-R3 3 holds | INV-R4 3 holds | INV-R5 - holds | INV-R6 4 holds | INV-R7 5 holds | INV-C1 6 holds | INV-C2 6 holds | INV-C3 8 holds | INV-C4 - holds | INV-C5 8 holds | INV-T1 7 holds | INV-T2 7 holds | INV-T3 8 holds | INV-T4 - holds | INV-T5 - holds | INV-T7 8 holds | INV-T8 - not reached | INV-L1 4 holds | INV-L2 2 holds | INV-L3 8 holds | INV-L4 1 holds | TEST-NO-REC - RMI_GRANULE_DELEGATE(0x80000000); RMI_GRANULE_DELEGATE(0x80001000); RMI_GRANULE_DELEGATE(0x80002000); RMI_GRANULE_DELEGATE(0x80003000); RMI_REALM_CREATE(0x80000000,0x90000000); RMI_REC_CREATE(0x80000000,0x80002000,0x90001000) | 4384 75456 15  -1",
        "granules=4,realms=2,recs=1,ipas=1,aux=1 true false: INV-G1 1 holds | INV-G2 1 holds | INV-G3 - holds | INV-G4 4 holds | INV-G5 4 holds | INV-R1 - holds | INV-R2 - holds | INV-R3 3 holds | INV-R4 3 holds | INV-R5 6 holds | INV-R6 4 holds | INV-R7 5 holds | INV-C1 6 holds | INV-C2 6 holds | INV-C3 8 holds | INV-C4 - holds | INV-C5 8 holds | INV-T1 7 holds | INV-T2 7 holds | INV-T3 8 holds | INV-T4 - holds | INV-T5 - holds | INV-T7 8 holds | INV-T8 - not reached | INV-L1 4 holds | INV-L2 2 holds | INV-L3 8 holds | INV-L4 1 holds | TEST-NO-REC - RMI_GRANULE_DELEGATE(0x80000000); RMI_GRANULE_DELEGATE(0x80001000); RMI_GRANULE_DELEGATE(0x80002000); RMI_GRANULE_DELEGATE(0x80003000); RMI_REALM_CREATE(0x80000000,0x90000000); RMI_REC_CREATE(0x80000000,0x80002000,0x90001000) | 425 7450 15  9616",
    ]
}
