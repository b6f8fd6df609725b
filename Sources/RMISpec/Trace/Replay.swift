/// Replays a trace against the spec's concrete face.
public struct ReplayReport: Sendable {
    /// Steps run (all of them when nothing differed).
    public var stepsRun: Int
    public var calls: Int
    /// The first step whose result differs from its expectation.
    public var mismatch: TraceRunner.Mismatch?
    /// At the differing step: what the spec's step changed in the state.
    public var stateChange: [String]
    public var finalState: SpecState
    public var agrees: Bool { mismatch == nil }
}

extension Trace {
    public func replay() -> ReplayReport {
        var runner = TraceRunner(platform: platform, options: options)
        var calls = 0
        for (i, step) in steps.enumerated() {
            let before = runner.state
            guard let r = runner.run(step) else { continue }
            calls += 1
            let expect: Expectation?
            let command: RMICommand?
            switch step {
            case .call(let c): expect = c.expect; command = c.command
            case .recExit(_, _, let e): expect = e; command = nil
            default: expect = nil; command = nil
            }
            if let expect, let m = runner.check(r, against: expect, command: command, step: i) {
                return ReplayReport(stepsRun: i + 1, calls: calls, mismatch: m,
                                    stateChange: before.diff(r.next), finalState: runner.state)
            }
        }
        return ReplayReport(stepsRun: steps.count, calls: calls, mismatch: nil, stateChange: [], finalState: runner.state)
    }
}

