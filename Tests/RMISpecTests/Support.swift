import Testing
@testable import RMISpec


/// A trace from the initial state that ends with a call reaching one failure condition.
/// The label tables of all commands together must name every condition of the spec
/// (`LabelCoverageTests`).
struct LabelCase: Sendable, CustomTestStringConvertible {
    let command: RMICommand
    let label: String
    let status: Status
    let index: UInt64
    /// Builds the trace; returns the scenario, whose last step is the call under test.
    let build: @Sendable () -> Scenario

    init(_ command: RMICommand, _ label: String, _ status: Status, index: UInt64 = 0,
         _ build: @escaping @Sendable () -> Scenario) {
        self.command = command; self.label = label; self.status = status; self.index = index; self.build = build
    }
    var testDescription: String { "\(command.rawValue) \(label)" }
}

/// A scenario with one Realm (w = 40, SL = 0) and RTTs down to level 3 for IPA 0.
func realmWithTables(_ s: inout Scenario, level: Int64 = 3, ipa: UInt64 = 0) -> Scenario.RealmHandle {
    let (realm, _) = s.createRealm()
    s.createRtts(realm, ipa: ipa, to: level)
    return realm
}

/// Checks that `r` allows the result of failure condition `label` with `status` and `index`.
func expectHit(_ r: StepResult, _ label: String, _ status: Status, index: UInt64 = 0,
               sourceLocation: SourceLocation = #_sourceLocation) {
    let hit = r.allowed.first { $0.label == label }
    #expect(hit != nil, "expected \(label) among \(r.allowed) (failing: \(r.failing))", sourceLocation: sourceLocation)
    if let hit {
        #expect(hit.status == status, "\(label): status \(hit.status.specName)", sourceLocation: sourceLocation)
        #expect(hit.index == index, "\(label): index \(Int64(bitPattern: hit.index))", sourceLocation: sourceLocation)
    }
}

/// Checks that `r` is a success.
func expectSuccess(_ r: StepResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.succeeded, "expected success, got \(r.allowed)", sourceLocation: sourceLocation)
}

/// The same check with the result first: `expectHit(r, .errorRec, 0, label: "rec_state")`.
func expectHit(_ r: StepResult, _ status: Status, _ index: UInt64 = 0, label: String,
               sourceLocation: SourceLocation = #_sourceLocation) {
    expectHit(r, label, status, index: index, sourceLocation: sourceLocation)
}
