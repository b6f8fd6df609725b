/// Builds a trace by running it: each call goes to the spec's concrete face and is
/// recorded with the result the spec gives as its expectation. Tests, examples and the
/// built-in canonical scenarios are written with it.
public struct Scenario: Sendable {
    public private(set) var runner: TraceRunner
    public private(set) var trace: Trace
    private var nextFree: UInt64

    public var state: SpecState { runner.state }
    /// The spec's result of the last call or REC exit.
    public private(set) var lastResult: StepResult?
    /// Steps whose result differed from what the scenario's author required (`must`).
    public private(set) var problems: [String] = []

    public init(_ description: String? = nil, platform: Platform = .standard, options: SpecOptions = []) {
        runner = TraceRunner(platform: platform, options: options)
        trace = Trace(description: description, platform: platform, options: options)
        nextFree = platform.delegable.first?.base ?? 0
    }

    /// A fresh Granule address from the first delegable range, never handed out before.
    public mutating func granule() -> UInt64 {
        defer { nextFree += Layout.granuleSize }
        return nextFree
    }
    /// `n` consecutive fresh Granules, the first aligned to `alignment` bytes.
    public mutating func granules(_ n: Int, alignment: UInt64 = Layout.granuleSize) -> [UInt64] {
        nextFree = (nextFree + alignment - 1) & ~(alignment - 1)
        return (0..<n).map { _ in granule() }
    }

    /// Runs an RMI call and records it. The recorded expectation is the spec's canonical
    /// result, labelled with its failure condition.
    @discardableResult
    public mutating func call(_ cmd: RMICommand, _ args: UInt64..., writes: [HostWrite] = [],
                              realm: RealmActionValue? = nil) -> StepResult {
        call(cmd, args: args, writes: writes, realm: realm)
    }

    @discardableResult
    public mutating func call(_ cmd: RMICommand, args: [UInt64], writes: [HostWrite] = [],
                              realm: RealmActionValue? = nil) -> StepResult {
        var step = CallStep(command: cmd, args: args, writes: writes, realm: realm)
        lastResult = nil   // so that the runner holds its state alone and updates it in place
        let r = runner.run(.call(step))!
        lastResult = r
        step.expect = Scenario.expectation(r, outputs: cmd.outputs)
        trace.steps.append(.call(step))
        return r
    }

    /// Runs a call that the scenario's author requires to give `status` (and `index`): the
    /// recorded expectation is the author's, not the spec's, and a difference is noted in
    /// `problems`.
    @discardableResult
    public mutating func must(_ cmd: RMICommand, _ args: UInt64..., writes: [HostWrite] = [],
                              realm: RealmActionValue? = nil, give status: Status = .success,
                              index: UInt64 = 0) -> StepResult {
        let r = call(cmd, args: args, writes: writes, realm: realm)
        if case .call(var step) = trace.steps.removeLast() {
            step.expect = Expectation(status: status, index: index)
            trace.steps.append(.call(step))
        }
        if r.allows(status: status, index: index) == nil {
            problems.append("step \(trace.steps.count - 1): \(cmd.rawValue) gave \(r.allowed.map(\.description).joined(separator: " or ")), expected \(status.specName)")
        }
        return r
    }

    public mutating func write(_ w: HostWrite) {
        lastResult = nil
        runner.run(.write(w))
        trace.steps.append(.write(w))
    }

    public mutating func setGPT(_ addr: UInt64, _ gpt: GPT) {
        lastResult = nil
        runner.run(.setGPT(addr: addr, gpt: gpt))
        trace.steps.append(.setGPT(addr: addr, gpt: gpt))
    }

    @discardableResult
    public mutating func recExit(rec: UInt64, realm: RealmActionValue) -> StepResult {
        let r = runner.run(.recExit(rec: rec, realm: realm, expect: nil))!
        lastResult = r
        trace.steps.append(.recExit(rec: rec, realm: realm, expect: Scenario.expectation(r, outputs: [])))
        return r
    }

    static func expectation(_ r: StepResult, outputs names: [String]) -> Expectation {
        let o = r.canonical
        var outs: [String: UInt64] = [:]
        for (i, v) in o.outputs.enumerated() where i < names.count { if let v { outs[names[i]] = v } }
        return Expectation(status: o.status, index: o.index, outputs: outs, label: o.label)
    }
}

// MARK: Host conveniences: the canonical steps of section 8 of the reference.

extension Scenario {
    /// GRANULE_DELEGATE each address; returns the results.
    @discardableResult
    public mutating func delegate(_ addrs: UInt64...) -> [StepResult] { addrs.map { call(.granuleDelegate, $0) } }
    @discardableResult
    public mutating func delegate(_ addrs: [UInt64]) -> [StepResult] { addrs.map { call(.granuleDelegate, $0) } }

    /// A Realm as the reference's example: delegate the RD and the starting RTTs, write
    /// the parameters into a fresh NS Granule and call REALM_CREATE.
    public struct RealmHandle: Sendable {
        public var rd: UInt64
        public var params: RealmParamsValues
        public var startingRtts: [UInt64]
    }

    @discardableResult
    public mutating func createRealm(s2sz: UInt64 = 40, sl: Int64 = 0, numStart: UInt64 = 1, vmid: UInt64 = 1,
                                     configure: (inout RealmParamsValues) -> Void = { _ in }) -> (RealmHandle, StepResult) {
        let rtts = granules(Int(numStart), alignment: numStart * Layout.granuleSize)
        let rd = granule()
        let paramsPage = granule()
        delegate(rtts + [rd])
        var p = RealmParamsValues(rttBase: rtts[0], s2sz: s2sz, rttLevelStart: sl, rttNumStart: numStart, vmid: vmid)
        configure(&p)
        let r = call(.realmCreate, rd, paramsPage, writes: [.realmParams(at: paramsPage, p)])
        return (RealmHandle(rd: rd, params: p, startingRtts: rtts), r)
    }

    /// Creates the RTTs that map `ipa` down to `level` (delegating a fresh Granule for each
    /// missing one), top-down from the level below the starting level. Returns the RTTs
    /// created, by level.
    @discardableResult
    public mutating func createRtts(_ realm: RealmHandle, ipa: UInt64, to level: Int64) -> [Int64: UInt64] {
        var made: [Int64: UInt64] = [:]
        var l = realm.params.rttLevelStart + 1
        while l <= level {
            let size = UInt64(1) << UInt64(12 + 9 * (3 - l + 1))
            let t = granule()
            delegate(t)
            let r = call(.rttCreate, realm.rd, t, ipa & ~(size - 1), UInt64(bitPattern: l))
            if r.succeeded { made[l] = t }
            l += 1
        }
        return made
    }

    /// Delegates `aux` fresh Granules and a REC Granule, writes RmiRecParams, and calls
    /// REC_CREATE. Returns the REC address, its aux Granules and the result.
    @discardableResult
    public mutating func createRec(_ realm: RealmHandle, mpidr: UInt64, runnable: Bool = true, pc: UInt64 = 0)
        -> (rec: UInt64, aux: [UInt64], result: StepResult) {
        let n = Int(state.platform.recAuxCount)
        let aux = (0..<n).map { _ in granule() }
        let rec = granule()
        let paramsPage = granule()
        delegate(aux + [rec])
        let p = RecParamsValues(mpidr: mpidr, runnable: runnable, aux: aux, pc: pc)
        let r = call(.recCreate, realm.rd, rec, paramsPage, writes: [.recParams(at: paramsPage, p)])
        return (rec, aux, r)
    }
}
