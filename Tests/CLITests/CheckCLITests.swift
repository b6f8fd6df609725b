import Foundation
import Testing
import TestSupport

@Suite struct CheckCLITests {
    @Test func explicitSearchOfATinyScopeHolds() throws {
        let out = scratchDirectory("explicit").path
        let (code, stdout, stderr) = try rmiCheck(["check", "--engine", "explicit", "--scope", "granules=3",
                                                   "--property", "G1", "--property", "INV-L4", "--compare-symmetry", "--out", out])
        #expect(code == 0, "\(stdout)\n\(stderr)")
        #expect(stdout.contains("HOLDS     INV-G1 (always), exhaustive within the scope"))
        #expect(stdout.contains("HOLDS     INV-L4 (step), exhaustive within the scope"))
        #expect(stdout.contains("with symmetry"))
        #expect(!stdout.contains("INV-G2"))
    }

    /// The default plan (no --scope): every property holds, every cover is reached, and each
    /// scope's distinct states are printed with and without symmetry.
    @Test func defaultPlanHoldsAndReachesEveryCover() throws {
        let out = scratchDirectory("explicit").path
        let (code, stdout, stderr) = try rmiCheck(["check", "--engine", "explicit", "--quiet", "--out", out])
        #expect(code == 0, "\(stdout)\n\(stderr)")
        #expect(!stdout.contains("NOT REACHED") && !stdout.contains("VIOLATED") && !stdout.contains("UNKNOWN"))
        #expect(stdout.components(separatedBy: "with symmetry,").count - 1 == 4)
        #expect(stdout.contains("distinct states 612 with symmetry, 66552 without"))
        #expect(stdout.contains("HOLDS     INV-T8 (sometimes): shortest witness"))
    }

    @Test func depthBoundIsNotExhaustive() throws {
        let (code, stdout, _) = try rmiCheck(["check", "--scope", "granules=3", "--property", "G1", "--depth", "2", "--quiet"])
        #expect(code == 0)
        #expect(stdout.contains("up to depth 2 (bounded, not exhaustive)"))
    }

    @Test func badScopeOrPropertyIsBadInput() throws {
        let (c1, _, e1) = try rmiCheck(["check", "--scope", "granules=x"])
        #expect(c1 == 65)
        #expect(e1.contains("scope key \"granules\": value \"x\" is not a non-negative integer"))
        let (c2, _, e2) = try rmiCheck(["check", "--scope", "colours=3"])
        #expect(c2 == 65)
        #expect(e2.contains("unknown key \"colours\""))
        let (c3, _, e3) = try rmiCheck(["check", "--property", "INV-Z9"])
        #expect(c3 == 65)
        #expect(e3.contains("unknown property"))
        let (c4, _, _) = try rmiCheck(["check", "--engine", "magic"])
        #expect(c4 == 64)
    }
}
