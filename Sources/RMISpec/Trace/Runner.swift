/// Runs trace steps on the spec's concrete face and compares them with their expectations.
public struct TraceRunner: Sendable {
    public private(set) var state: SpecState

    public init(platform: Platform = .standard, options: SpecOptions = []) {
        state = SpecState(platform: platform, options: options)
    }
    public init(state: SpecState) { self.state = state }

    /// A difference between what a step expected and what the spec allows.
    public struct Mismatch: Error, Sendable, CustomStringConvertible {
        public var step: Int
        public var field: String
        public var expected: String
        public var actual: String
        public var description: String { "step \(step): \(field): expected \(expected), spec gives \(actual)" }
    }

    /// Whether the Host can write `pa`: memory outside the delegable ranges (device memory),
    /// or a Granule that is UNDELEGATED with a GPT entry that grants the NS PAS access. Any
    /// other write faults (a Granule Protection Fault) and changes nothing.
    public func hostCanAccess(_ pa: UInt64) -> Bool {
        state.hostMayWrite(CWord(pa & ~(Layout.granuleSize - 1))).raw
    }

    /// Applies one Host write to NS memory; words the Host cannot access are not written.
    public mutating func apply(_ w: HostWrite) { state.applyHostWrite(w) }

    /// Runs one step; returns the spec's result for calls and REC exits (nil otherwise).
    /// The state advances as the spec says; with several allowed failures it is unchanged.
    @discardableResult
    public mutating func run(_ step: TraceStep) -> StepResult? {
        switch step {
        case .write(let w):
            apply(w)
            return nil
        case .setGPT(let addr, let gpt):
            state.setGranuleGPT(CWord(addr), CWord(gpt.rawValue), when: true)
            return nil
        case .call(let c):
            for w in c.writes { apply(w) }
            return RMISpec.apply(c.command, to: &state, c.args, realm: (c.realm ?? RealmActionValue(.irq)).action)
        case .recExit(let rec, let realm, _):
            let r = RMISpec.recExit(state, rec: rec, realm: realm.action)
            state = r.next
            return r
        }
    }

    /// Checks a result against a step's expectation; nil when they agree.
    public func check(_ r: StepResult, against e: Expectation, command: RMICommand?, step: Int) -> Mismatch? {
        let want = "\(e.status.specName)\(e.status == .success ? "" : ",\(Int64(bitPattern: e.index))")"
        guard let o = r.allows(status: e.status, index: e.index) else {
            return Mismatch(step: step, field: "result", expected: want,
                            actual: r.allowed.map(\.description).joined(separator: " or "))
        }
        if let label = e.label, !r.allowed.contains(where: { $0.label == label }) {
            return Mismatch(step: step, field: "label", expected: label,
                            actual: r.failing.isEmpty ? "success" : r.allowed.compactMap(\.label).joined(separator: " or "))
        }
        if let command {
            for (name, v) in e.outputs.sorted(by: { $0.key < $1.key }) {
                guard let i = command.outputs.firstIndex(of: name) else {
                    return Mismatch(step: step, field: "outputs.\(name)", expected: hex(v), actual: "no such output")
                }
                let got = i < o.outputs.count ? o.outputs[i] : nil
                guard let g = got else {
                    return Mismatch(step: step, field: "outputs.\(name)", expected: hex(v), actual: "undefined")
                }
                if g != v { return Mismatch(step: step, field: "outputs.\(name)", expected: hex(v), actual: hex(g)) }
            }
        }
        if !e.exit.isEmpty, case let runPtr? = r.runPtr {
            for (name, v) in e.exit.sorted(by: { $0.key < $1.key }) {
                guard let off = ExitRecord.offset(of: name) else {
                    return Mismatch(step: step, field: "exit.\(name)", expected: hex(v), actual: "no such exit field")
                }
                let g = r.next.nsRead(CWord(runPtr &+ off)).raw
                if g != v { return Mismatch(step: step, field: "exit.\(name)", expected: hex(v), actual: hex(g)) }
            }
        }
        return nil
    }
}

public func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

extension Machine where D == Concrete {
    /// Applies one Host write to NS memory; words the Host cannot access (`hostMayWrite`)
    /// are not written.
    mutating func applyHostWrite(_ w: HostWrite) {
        // Whether the Host can access a Granule does not change while NS memory is written,
        // so it is decided once per Granule of the write.
        var granule: UInt64 = 1, canAccess = false
        func put(_ pa: UInt64, _ v: UInt64) {
            let g = pa & ~(Layout.granuleSize - 1)
            if g != granule { granule = g; canAccess = hostMayWrite(CWord(g)).raw }
            if canAccess { nsWrite(CWord(pa), CWord(v), when: true) }
        }
        switch w {
        case .realmParams(let a, let p): p.forEachWord { put(a &+ $0, $1) }
        case .recParams(let a, let p): p.forEachWord { put(a &+ $0, $1) }
        case .recRun(let a, let e): e.forEachWord { put(a &+ $0, $1) }
        case .data(let a, let content):
            let g = a & ~(Layout.granuleSize - 1)
            setGranuleContent(CWord(a), CWord(content), when: CBit(hostMayWrite(CWord(g)).raw && a & (Layout.granuleSize - 1) == 0))
        case .words(let a, let ws): for (i, v) in ws.enumerated() { put(a &+ UInt64(i) * 8, v) }
        }
    }
}
