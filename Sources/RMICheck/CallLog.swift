import Foundation
import RMISpec

/// A recorded sequence of RMI calls and their results, as a host sees them: the format
/// `rmi-check validate-log` reads (docs/log-format.md). One entry per line:
///
///     RMI_GRANULE_DELEGATE 0x80000000 -> 0x0
///     write 0x80003000 0x0 0x28 ...          (Host writes to NS memory: 64-bit words from an address)
///     gpt 0x80009000 GPT_SECURE              (another agent changes an UNDELEGATED Granule's GPT)
///     realm psci_cpu_on 0x1 0x80000 0x0      (what the Realm does in the next REC_ENTER)
///     RMI_REC_ENTER 0x8000b000 0x8000c000 -> 0x0
///
/// Calls name the command (spec name, short name or FID) with X1..Xn as the command takes
/// them, then `->` and X0 and optionally X1..X4. Lines of the kernel's ftrace output that
/// carry `rmi_call: fid=... x1=... ... -> x0=... x1=...` are accepted too.
public struct CallLog: Sendable {
    public enum Entry: Sendable {
        case call(line: Int, command: RMICommand, args: [UInt64], result: [UInt64], realm: RealmActionValue?)
        case write(line: Int, addr: UInt64, values: [UInt64])
        case gpt(line: Int, addr: UInt64, gpt: GPT)
    }
    public var entries: [Entry] = []
    public init(entries: [Entry] = []) { self.entries = entries }

    public static func parse(_ text: String, file: String) throws -> CallLog {
        var log = CallLog()
        var pendingRealm: RealmActionValue?
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            func fail(_ field: String, _ reason: String) -> TraceError {
                TraceError(file: file, step: nil, field: "line \(n): \(field)", reason: reason)
            }
            func num(_ s: Substring, _ field: String) throws -> UInt64 {
                let t = s.lowercased()
                if t.hasPrefix("0x"), let v = UInt64(t.dropFirst(2), radix: 16) { return v }
                if let v = UInt64(t) { return v }
                if let v = Int64(t) { return UInt64(bitPattern: v) }
                throw fail(field, "not a number: '\(s)'")
            }
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if let r = line.range(of: "rmi_call:") {
                // ftrace: key=value pairs.
                var kv: [String: Substring] = [:]
                var afterArrow = false
                for tok in line[r.upperBound...].split(separator: " ") {
                    if tok == "->" { afterArrow = true; continue }
                    let parts = tok.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    kv[(afterArrow ? "r" : "") + parts[0]] = parts[1]
                }
                guard let f = kv["fid"] else { throw fail("fid", "missing") }
                guard let cmd = RMICommand(fid: try num(f, "fid") & ~(1 << 16)) else { throw fail("fid", "not an RMI v1.0 command: \(f)") }
                let args = try (1...cmd.inputs.count).map { k -> UInt64 in
                    guard let v = kv["x\(k)"] else { throw fail("x\(k)", "missing argument \(cmd.inputs[k - 1]) of \(cmd.rawValue)") }
                    return try num(v, "x\(k)")
                }
                guard let x0 = kv["rx0"] else { throw fail("x0", "missing result (-> x0=...)") }
                var result = [try num(x0, "x0")]
                for k in 1...4 { if let v = kv["rx\(k)"] { result.append(try num(v, "x\(k)")) } else { break } }
                log.entries.append(.call(line: n, command: cmd, args: args, result: result, realm: pendingRealm))
                pendingRealm = nil
                continue
            }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let head = words.first else { continue }
            switch head {
            case "write":
                guard words.count >= 3 else { throw fail("write", "needs an address and at least one value") }
                log.entries.append(.write(line: n, addr: try num(words[1], "address"),
                                          values: try words.dropFirst(2).map { try num($0, "value") }))
            case "gpt":
                guard words.count == 3, let g = GPT.allCases.first(where: { $0.specName == String(words[2]) }) else {
                    throw fail("gpt", "expected: gpt ADDRESS GPT_NS|GPT_SECURE|GPT_ROOT|GPT_AAP")
                }
                log.entries.append(.gpt(line: n, addr: try num(words[1], "address"), gpt: g))
            case "realm":
                guard words.count >= 2, let kind = RealmActionKind(name: String(words[1])) else {
                    throw fail("realm", "unknown Realm action (known: \(RealmActionKind.allCases.map(\.name).joined(separator: ", ")))")
                }
                let args = try words.dropFirst(2).map { try num($0, "realm argument") }
                guard args.count == kind.argumentNames.count else {
                    throw fail("realm", "\(kind.name) takes \(kind.argumentNames.count) argument(s): \(kind.argumentNames.joined(separator: ", "))")
                }
                pendingRealm = RealmActionValue(kind, args)
            default:
                guard let cmd = RMICommand(name: String(head)) else { throw fail("command", "unknown command '\(head)'") }
                guard let arrow = words.firstIndex(of: "->") else { throw fail("result", "missing '-> X0'") }
                let args = try words[1..<arrow].map { try num($0, "argument") }
                guard args.count == cmd.inputs.count else {
                    throw fail("arguments", "\(cmd.rawValue) takes \(cmd.inputs.count) (\(cmd.inputs.joined(separator: ", "))), the line has \(args.count)")
                }
                let result = try words[(arrow + 1)...].map { try num($0, "result") }
                guard (1...5).contains(result.count) else { throw fail("result", "expected X0 and at most X1..X4") }
                log.entries.append(.call(line: n, command: cmd, args: args, result: result, realm: pendingRealm))
                pendingRealm = nil
            }
        }
        return log
    }

    /// The log as text, one entry per line.
    public var text: String {
        entries.map { e in
            switch e {
            case .call(_, let cmd, let args, let result, let realm):
                let r = realm.map { "realm \($0.kind.name)" + $0.args.map { " " + hex($0) }.joined() + "\n" } ?? ""
                return r + ([cmd.rawValue] + args.map(hex) + ["->"] + result.map(hex)).joined(separator: " ")
            case .write(_, let a, let vs): return (["write", hex(a)] + vs.map(hex)).joined(separator: " ")
            case .gpt(_, let a, let g): return "gpt \(hex(a)) \(g.specName)"
            }
        }.joined(separator: "\n") + "\n"
    }

    /// The first call whose result the spec does not allow, from the initial state on
    /// `platform`; nil when every call is allowed.
    public func validate(platform: Platform = .standard) -> (line: Int, message: String)? {
        check(from: SpecState(platform: platform)).rejected
    }

    /// What checking a log finds: the first call whose result the spec does not allow, and
    /// the host properties the calls before it break (`HostLogCheck`).
    public struct Report: Sendable {
        public var rejected: (line: Int, message: String)?
        public var hostViolations: [HostLogCheck.Violation] = []
        public var calls = 0
    }

    /// Checks the log from `start` (the initial state, or the state a trace reached). With
    /// `complete`, the log is taken to end with a complete teardown, and P1 is checked on the
    /// final state.
    public func check(from start: SpecState, complete: Bool = false) -> Report {
        var report = Report()
        var runner = TraceRunner(state: start)
        var destroyed = Set<UInt64>()
        var warned = Set<UInt64>()
        var lastLine = 0
        for e in entries {
            if case .call(let line, let cmd, let args, _, _) = e {
                report.hostViolations += HostLogCheck.check(cmd, args, pre: runner.state, destroyed: destroyed, line: line)
                lastLine = line
            }
            if let bad = step(e, &runner) {
                report.rejected = bad
                return report
            }
            if case .call(_, let cmd, let args, let result, _) = e {
                report.calls += 1
                let ok = result[0] & 0xFF == Status.success.rawValue
                if cmd == .realmDestroy, ok, let rd = args.first { destroyed.insert(rd) }
                if cmd == .realmCreate, ok, let rd = args.first { destroyed.remove(rd) }
                if cmd == .granuleUndelegate, !ok, let a = args.first { warned.insert(a) }
            }
        }
        if complete { report.hostViolations += HostLogCheck.conservation(runner.state, warned: warned, line: lastLine) }
        return report
    }

    /// Runs one entry; the mismatch if it is a call whose result the spec does not allow.
    private func step(_ e: Entry, _ runner: inout TraceRunner) -> (line: Int, message: String)? {
        for e in [e] {
            switch e {
            case .write(_, let a, let vs): runner.apply(.words(at: a, vs))
            case .gpt(_, let a, let g): runner.run(.setGPT(addr: a, gpt: g))
            case .call(let line, let cmd, let args, let result, let realm):
                let r = runner.run(.call(CallStep(command: cmd, args: args, realm: realm)))!
                let x0 = result[0]
                let call = "\(cmd.rawValue)(\(args.map(hex).joined(separator: ", ")))"
                guard x0 >> 16 == 0, let status = Status(rawValue: x0 & 0xFF),
                      let o = r.allows(status: status, index: (x0 >> 8) & 0xFF) else {
                    return (line, "\(call) returned X0 = \(hex(x0)); the spec allows \(r.description)")
                }
                for (i, v) in o.outputs.enumerated() where i + 1 < result.count {
                    if let v, result[i + 1] != v {
                        return (line, "\(call) returned \(cmd.outputs[i]) = \(hex(result[i + 1])); the spec gives \(hex(v))")
                    }
                }
                // The state follows the logged result: on a failure the spec allows, nothing changes.
            }
        }
        return nil
    }
}

/// An RMM under test whose every request is recorded as a `CallLog`: the log a host would
/// produce against it.
public struct LoggingRMM<Inner: RMMUnderTest>: RMMUnderTest {
    public var inner: Inner
    public private(set) var log = CallLog()
    private var line = 0
    public init(_ inner: Inner) { self.inner = inner }

    public var name: String { inner.name }
    public var platform: Platform { inner.platform }
    public mutating func reset() throws { try inner.reset(); log = CallLog() }
    public mutating func write(_ w: HostWrite) throws {
        try inner.write(w)
        for (a, vs) in w.wordRuns { line += 1; log.entries.append(.write(line: line, addr: a, values: vs)) }
    }
    public mutating func setGPT(_ addr: UInt64, _ gpt: GPT) throws {
        try inner.setGPT(addr, gpt)
        line += 1
        log.entries.append(.gpt(line: line, addr: addr, gpt: gpt))
    }
    public mutating func call(_ cmd: RMICommand, _ args: [UInt64], realm: RealmActionValue?) throws -> ImplResult {
        let r = try inner.call(cmd, args, realm: realm)
        line += 1
        let n = cmd.outputs.count
        log.entries.append(.call(line: line, command: cmd, args: args, result: Array(r.x.prefix(1 + n)),
                                 realm: cmd == .recEnter ? (realm ?? RealmActionValue(.irq)) : nil))
        return r
    }
    public mutating func recExit(rec: UInt64, realm: RealmActionValue) throws -> ImplResult {
        try inner.recExit(rec: rec, realm: realm)
    }
    public func abstractState() -> SpecState? { inner.abstractState() }
}
