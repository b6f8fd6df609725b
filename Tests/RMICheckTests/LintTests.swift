import Testing
import RMISpec
@testable import RMICheck

@Suite struct LintTests {
    func lint(_ options: SpecOptions) throws -> SpecLint.Report {
        var s = SymbolicSettings()
        s.scope = try Scope(parsing: "granules=3,realms=1,recs=1,entries=1")
        s.commands = [.dataDestroy, .realmActivate]
        s.specOptions = options
        return try SpecLint(settings: s).run()
    }

    /// DATA_DESTROY's `ipa_align` (INPUT) and `rtt_walk` (RTT) are unordered in the spec:
    /// both results are allowed when both hold. The lint finds that pair, with a witness
    /// whose replay shows both results allowed; under strict listing order it does not.
    @Test func unorderedPairsWithDifferentResultsAreReported() throws {
        let r = try lint([])
        #expect(r.undecided.isEmpty, "\(r.undecided)")
        let pair = r.findings.first { $0.kind == .ambiguous && $0.command == .dataDestroy && Set($0.labels) == ["ipa_align", "rtt_walk"] }
        #expect(pair != nil, "\(r.findings.map { "\($0.command.rawValue) \($0.labels)" })")
        #expect(pair?.witness.first?.hasPrefix("arguments: rd=") == true)
        // REALM_ACTIVATE's conditions are totally ordered, and it can succeed.
        #expect(!r.findings.contains { $0.command == .realmActivate })
        #expect(!r.findings.contains { $0.kind == .neverFires || $0.kind == .successUnreachable })

        let strict = try lint(.strictListingOrder)
        #expect(strict.undecided.isEmpty)
        #expect(!strict.findings.contains { $0.kind == .ambiguous })
    }
}
