import RMISpec

/// A step where the implementation and the spec disagree.
public struct ConformanceViolation: Sendable, CustomStringConvertible {
    /// The step, counted from 0 in `trace`.
    public var step: Int
    /// The first differing field: `result`, `outputs.<name>`, `exit.<field>`, `state`.
    public var field: String
    public var expected: String
    public var actual: String
    /// The trace up to and including the differing step. Its earlier steps expect the
    /// spec's results; the last one expects what the implementation returned, so
    /// `rmi-check replay` against the spec shows the disagreement.
    public var trace: Trace
    public var description: String {
        field == "state" ? "step \(step): state differs (spec -> implementation): \(actual)"
            : "step \(step): \(field): spec \(expected), implementation \(actual)"
    }
}

/// Runs traces on the spec and on an implementation in lockstep and compares, step by
/// step, the status and index, the outputs the spec defines for that result, the REC exit
/// record, and (when the implementation can be inspected) the abstract state.
public struct Conformance {
    public var impl: any RMMUnderTest
    public var compareState: Bool

    public init(impl: any RMMUnderTest, compareState: Bool = true) {
        self.impl = impl
        self.compareState = compareState
    }

    /// Runs `trace` from the initial state; nil when every step agrees.
    public mutating func check(_ trace: Trace) throws -> ConformanceViolation? {
        guard trace.platform == impl.platform else {
            throw ImplError(.refused, "the trace's platform is not the one \(impl.name) announced; its addresses would mean other things there")
        }
        try impl.reset()
        var runner = TraceRunner(platform: trace.platform, options: trace.options)
        for (i, step) in trace.steps.enumerated() {
            // `run` applies a call's Host writes before the call.
            let r = runner.run(step)
            if let v = try compare(step, spec: r, state: runner.state, index: i, trace: trace) { return v }
        }
        return nil
    }

    /// Random walks of `depth` steps each (each from a reset), `steps` steps in all, from
    /// `seed`; `progress` is called every `every` steps with the count so far.
    public mutating func random(steps: Int, seed: UInt64, depth: Int = 200, noise: Double = 0.1,
                                every: Int = 10_000, progress: (Int) -> Void = { _ in }) throws -> (checked: Int, violation: ConformanceViolation?) {
        var checked = 0
        var walkSeed = SplitMix64(seed: seed)
        while checked < steps {
            try impl.reset()
            var walk = RandomWalk(seed: walkSeed.next(), noise: noise, platform: impl.platform)
            for _ in 0..<min(depth, steps - checked) {
                let before = walk.scenario.trace.steps.count
                walk.step()
                for i in before..<walk.scenario.trace.steps.count {
                    let step = walk.scenario.trace.steps[i]
                    if let v = try compare(step, spec: walk.scenario.lastResult, state: walk.scenario.state, index: i,
                                           trace: walk.scenario.trace) {
                        return (checked + 1, v)
                    }
                }
                checked += 1
                if checked % every == 0 { progress(checked) }
            }
        }
        return (checked, nil)
    }

    /// Runs step `index` of `trace` on the implementation (the spec has run it, giving `spec`
    /// and `state`) and compares.
    mutating func compare(_ step: TraceStep, spec: StepResult?, state: SpecState, index: Int,
                          trace: Trace) throws -> ConformanceViolation? {
        var got: ImplResult?
        var command: RMICommand?
        var stays = false
        switch step {
        case .write(let w):
            try impl.write(w)
        case .setGPT(let a, let g):
            try impl.setGPT(a, g)
        case .call(let c):
            for w in c.writes { try impl.write(w) }
            got = try impl.call(c.command, c.args, realm: c.realm)
            command = c.command
            stays = c.realm?.kind == .stayRunning
        case .recExit(let rec, let realm, _):
            got = try impl.recExit(rec: rec, realm: realm)
        }
        func violation(_ field: String, _ expected: String, _ actual: String) -> ConformanceViolation {
            var steps = Array(trace.steps[...index])
            // The last step expects what the implementation did.
            if let got, let status = got.status {
                let e = Expectation(status: status, index: got.index)
                switch steps[steps.count - 1] {
                case .call(var c): c.expect = e; steps[steps.count - 1] = .call(c)
                case .recExit(let rec, let realm, _): steps[steps.count - 1] = .recExit(rec: rec, realm: realm, expect: e)
                default: break
                }
            }
            return ConformanceViolation(step: index, field: field, expected: expected, actual: actual,
                                        trace: Trace(description: "conformance difference against \(impl.name)",
                                                     platform: trace.platform, options: trace.options, steps: steps))
        }
        // `spec!` rather than `if let`: binding would copy the step result (and its state).
        if let got, spec != nil {
            let spec = spec.unsafelyUnwrapped
            guard let status = got.status, got.x[0] >> 16 == 0, let o = spec.allows(status: status, index: got.index) else {
                return violation("result", spec.description, got.description)
            }
            let names = command?.outputs ?? []
            for (i, v) in o.outputs.enumerated() where i < names.count {
                if let v, got.x[i + 1] != v { return violation("outputs.\(names[i])", hex(v), hex(got.x[i + 1])) }
            }
            if o.status == .success, !stays, let run = spec.runPtr {
                for (f, offset) in comparedExitOffsets {
                    let want = state.nsRead(CWord(run &+ offset)).raw
                    let have = got.exit[offset: offset] ?? 0
                    if want != have { return violation("exit.\(f)", hex(want), hex(have)) }
                }
            }
        }
        if compareState, let a = impl.abstractState() {
            if let d = state.differences(a, comparing: Abstraction.comparison, limit: 1).first {
                return violation("state", "", d)
            }
        }
        return nil
    }
}
