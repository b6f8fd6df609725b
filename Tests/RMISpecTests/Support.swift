import Testing
@testable import RMISpec

/// Expects the failure condition `label` to be one the spec allows for `r`: it holds, no
/// condition ordered before it holds, and it is the allowed result's representative (the
/// first in listing order among the minimal failing conditions with that result), with
/// exactly `status` and `index`.
func expectHit(_ r: StepResult, _ status: Status, _ index: UInt64 = 0, label: String,
               sourceLocation: SourceLocation = #_sourceLocation) {
    guard let o = r.allowed.first(where: { $0.label == label }) else {
        Issue.record("\(label) does not give an allowed result: spec allows \(r.allowed) (failing: \(r.failing))",
                     sourceLocation: sourceLocation)
        return
    }
    #expect(o.status == status && o.index == index,
            "\(label) gives \(o), expected \(status.specName),\(index)", sourceLocation: sourceLocation)
}

/// Expects `r` to be a success.
func expectSuccess(_ r: StepResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.succeeded, "expected success, spec gives \(r.allowed) (failing: \(r.failing))",
            sourceLocation: sourceLocation)
}
