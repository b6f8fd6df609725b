import RMISpec
import SMT

/// A symbolic run that did not replay on the concrete interpreter: a defect of the
/// checker (the two faces disagree), never a finding. The CLI exits 3.
public struct ReplayFailure: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var trace: Trace
    public var description: String { message }
}

/// A model the engine cannot read back as a run (a defect of the checker; exit 3).
public struct SymbolicInternalError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

extension Unrolling {
    /// The trace a model gives for the first `length` steps: per step, the Host's writes the
    /// call reads (NS words and Granule contents), the call with its arguments, the Realm's
    /// action for REC_ENTER, and the result the model gives as the step's expectation; or,
    /// after the writes, the step's `set_gpt` or `rec_exit` event.
    func trace(_ model: Model, length: Int, description: String) throws -> Trace {
        var out: [TraceStep] = []
        for j in 0..<length {
            let st = steps[j]
            let index = Int(try model.bvValue(st.command))
            var contents: [HostWrite] = []
            for (i, slot) in st.pre.slots.enumerated() {
                let now = try model.bvValue(slot.content), before = try model.bvValue(states[j].slots[i].content)
                if now != before { contents.append(.data(at: slot.address, content: now)) }
            }
            var writes = contents
            var seen = Set<UInt64>()
            for (a, v) in st.pre.nsReads {
                let addr = try model.bvValue(a)
                if seen.insert(addr).inserted { writes.append(.words(at: addr, [try model.bvValue(v)])) }
            }
            // Only the arguments the action has (the trace format records no others, and an
            // implementation takes the rest as 0): the trace replayed is the one written.
            func realm() throws -> RealmActionValue {
                let kind = RealmActionKind(rawValue: try model.bvValue(st.realmKind)) ?? .irq
                return RealmActionValue(kind, try st.realmArgs.prefix(kind.argumentNames.count).map { try model.bvValue($0) })
            }
            func expectation(_ r: (success: Term, conditions: [SymbolicCondition]), _ what: String) throws -> Expectation {
                if try model.boolValue(r.success) { return Expectation(status: .success) }
                guard let c = try r.conditions.first(where: { try model.boolValue($0.allowed) }) else {
                    throw SymbolicInternalError(message: "step \(j): the model fails \(what) with no allowed result")
                }
                return Expectation(status: c.status, index: try model.bvValue(c.index) & 0xFF)
            }
            // An event reads no NS memory (the words above are what the commands not chosen
            // read): before it, only the Granule contents, which are state.
            if index == gptEventIndex {
                let g = try model.bvValue(st.args[1])
                guard let gpt = GPT(rawValue: g) else { throw SymbolicInternalError(message: "step \(j): GPT value \(g)") }
                out += contents.map { .write($0) }
                out.append(.setGPT(addr: try model.bvValue(st.args[0]), gpt: gpt))
                continue
            }
            if index == recExitIndex, let r = st.recExit {
                out += contents.map { .write($0) }
                out.append(.recExit(rec: try model.bvValue(st.args[0]), realm: try realm(), expect: try expectation(r, "rec_exit")))
                continue
            }
            guard index < alphabet.count else { throw SymbolicInternalError(message: "step \(j): command index \(index)") }
            let cmd = alphabet[index]
            let args = try st.args.prefix(cmd.inputs.count).map { try model.bvValue($0) }
            out.append(.call(CallStep(command: cmd, args: args, writes: writes, realm: cmd == .recEnter ? try realm() : nil,
                                      expect: try expectation(st.results[index], cmd.rawValue))))
        }
        return Trace(description: description, platform: scope.platform, options: options, steps: prefix + out)
    }
}

extension Trace {
    /// Replays a trace an engine found and checks that it shows what the engine claims:
    /// every step's result as expected, and the target violated by the last step (or its
    /// cover target reached, with `cover`). Throws `ReplayFailure` otherwise.
    func confirm(_ target: String, cover: Bool, engine: String) throws {
        let replay = self.replay()
        if let m = replay.mismatch {
            throw ReplayFailure(message: "\(engine): the trace for \(target) does not replay on the spec: \(m)", trace: self)
        }
        let last = steps.count - 1
        let shown: Bool
        if let p = Invariant(rawValue: target) {
            let report = checkProperties([p])
            shown = cover ? report.covered.contains(p)
                : report.violations.contains { $0.property == p && $0.step == last }
        } else if target == CheckTarget.refinesSpec.name {
            shown = cover ? lastStepSucceeds() : lastStepDiffersFromSpec()
        } else {
            shown = false
        }
        if !shown {
            let what = cover ? "reach the cover target of" : "violate"
            throw ReplayFailure(message: "\(engine): the trace does not \(what) \(target) at step \(last) when replayed", trace: self)
        }
    }

    /// The last step's call and its results on the state the rest of the trace reaches,
    /// under the trace's (weakened) options and under the spec without weakenings; nil when
    /// the last step is not a call.
    func lastCallUnderBoth() -> (call: CallStep, weak: StepResult, spec: StepResult)? {
        guard case .call(let c)? = steps.last else { return nil }
        var r = TraceRunner(platform: platform, options: options)
        for st in steps.dropLast() { r.run(st) }
        for w in c.writes { r.apply(w) }
        let pre = r.state
        let action = (c.realm ?? RealmActionValue(.irq)).action
        return (c, RMISpec.step(pre, c.command, c.args, realm: action),
                RMISpec.step(pre.with(options: options.subtracting(.weakenings)), c.command, c.args, realm: action))
    }

    private func lastStepSucceeds() -> Bool {
        var r = TraceRunner(platform: platform, options: options)
        var result: StepResult?
        for st in steps { result = r.run(st) }
        return result?.succeeded ?? false
    }

    /// Whether the last step, on the state the trace reaches before it, gives under the
    /// trace's (weakened) options a result or next state the spec without weakenings does
    /// not allow.
    private func lastStepDiffersFromSpec() -> Bool {
        guard let (_, weak, spec) = lastCallUnderBoth() else { return false }
        for o in weak.allowed where spec.allows(status: o.status, index: o.index) == nil { return true }
        if weak.succeeded && spec.succeeded {
            return spec.next.with(options: options).forgettingLeaks() != weak.next.forgettingLeaks()
                || weak.canonical.outputs != spec.canonical.outputs
        }
        return false
    }
}
