/// Checks the invariants along a trace on the spec's concrete face: every `always`
/// invariant after every step, every `step` invariant on every call, and which cover
/// targets (and `sometimes` properties) some state or step reaches.
public struct PropertyReport: Sendable {
    public struct Violation: Sendable, CustomStringConvertible {
        public var property: Invariant
        public var step: Int
        public var description: String { "\(property.rawValue) violated at step \(step): \(property.summary)" }
    }
    public var violations: [Violation] = []
    public var covered: Set<Invariant> = []
    public var statesChecked = 0

    public mutating func merge(_ o: PropertyReport) {
        violations += o.violations
        covered.formUnion(o.covered)
        statesChecked += o.statesChecked
    }
}

extension Trace {
    public func checkProperties(_ properties: [Invariant] = Invariant.specProperties) -> PropertyReport {
        var report = PropertyReport()
        var runner = TraceRunner(platform: platform, options: options)
        report.check(properties, state: runner.state, step: -1)
        for (i, var step) in steps.enumerated() {
            // The Host's writes happen before the call: the call's pre-state includes them.
            if case .call(var c) = step, !c.writes.isEmpty {
                for w in c.writes { runner.apply(w) }
                c.writes = []
                step = .call(c)
            }
            let pre = runner.state
            let r = runner.run(step)
            report.check(properties, state: runner.state, step: i)
            guard let r else { continue }
            let command: RMICommand
            let args: [UInt64]
            switch step {
            case .call(let c): command = c.command; args = c.args
            case .recExit(let rec, _, _): command = .recEnter; args = [rec, r.runPtr ?? 0]
            default: continue
            }
            let view = StepView(pre: pre, post: r.next, command: command, args: args.map { CWord($0) },
                                succeeded: CBit(r.succeeded), unchanged: CBit(pre == r.next))
            for p in properties where p.kind == .step {
                if !p.holds(on: view).raw { report.violations.append(.init(property: p, step: i)) }
                if p.cover(on: view).raw { report.covered.insert(p) }
            }
        }
        return report
    }
}

extension PropertyReport {
    mutating func check(_ properties: [Invariant], state: SpecState, step: Int) {
        statesChecked += 1
        for p in properties {
            switch p.kind {
            case .always:
                if !p.holds(in: state).raw { violations.append(.init(property: p, step: step)) }
                if p.cover(in: state).raw { covered.insert(p) }
            case .sometimes:
                if p.cover(in: state).raw { covered.insert(p) }
            case .step, .implementation:
                break
            }
        }
    }
}
