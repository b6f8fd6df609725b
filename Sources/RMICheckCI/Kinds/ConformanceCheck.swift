import Foundation
import RMICheck
import RMISpec
import RMMImpl

/// Which implementation RMM a check drives: the built-in one (with named deviations) or an
/// adapter command speaking docs/impl-protocol.md.
struct ImplFields: Sendable {
    var command: String?
    var deviations: [String]
    var requestTimeout: Double
    var compareState: Bool

    init(_ e: PlanEntry) throws {
        _ = try e.choice("impl", ["builtin"], default: "builtin")   // or impl_cmd
        command = try e.optionalString("impl_cmd")
        deviations = try e.optionalStrings("deviation") ?? []
        for (i, d) in deviations.enumerated() where RMMBugs(name: d) == nil {
            throw e.fail("deviation[\(i)]", "unknown deviation '\(d)' (known: \(RMMBugs.named.map(\.name).joined(separator: ", ")))")
        }
        if command != nil && !deviations.isEmpty { throw e.fail("deviation", "applies to the built-in RMM only, not with impl_cmd") }
        requestTimeout = try e.optionalSeconds("request_timeout_seconds") ?? 5
        compareState = try e.optionalBool("state") ?? true
    }

    var name: String { command ?? (deviations.isEmpty ? "builtin" : "builtin+" + deviations.joined(separator: "+")) }

    func make(platform: Platform = .standard) throws -> any RMMUnderTest {
        if let command { return try ProcessRMM(command: command, timeout: requestTimeout) }
        var bugs: RMMBugs = []
        for d in deviations { bugs.insert(RMMBugs(name: d)!) }
        return BuiltinRMM(platform: platform, bugs: bugs)
    }

    /// The flags that select this implementation for `rmi-check replay --against impl`.
    var replayFlags: String {
        if let command { return " --impl-cmd '" + command.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        return deviations.map { " --deviation \($0)" }.joined()
    }

    /// A crash, a hang or garbage is a violation; a refusal (another platform) is undecided.
    func verdict(of e: ImplError) -> Verdict { e.kind == .refused ? .unknown : .violated }
}

/// `conformance`: an implementation RMM against the spec in lockstep on seeded random walks.
public struct ConformanceCheck: CheckKind {
    public static let kind = "conformance"
    public static let summary = "an implementation RMM (built-in or impl_cmd) against the spec on seeded random walks"
    var impl: ImplFields
    var steps: Int
    var seed: UInt64
    var depth: Int

    public init(_ e: PlanEntry) throws {
        impl = try ImplFields(e)
        guard let n = try e.optionalInt("random", min: 1) else { throw e.fail("random", "missing (the number of random steps)") }
        steps = n
        seed = try e.optionalUInt64("seed") ?? 1
        depth = try e.optionalInt("depth", min: 1) ?? 200
    }

    public var obligations: [String] { [""] }

    public func run(_ ctx: CheckContext) throws -> [ObligationResult] {
        let method = "lockstep conformance on random walks (depth \(depth)\(impl.compareState ? ", results and abstract states" : ", results only"))"
        func result(_ v: Verdict, _ msg: String, trace: Trace? = nil, rule: RuleRef? = nil) -> ObligationResult {
            ObligationResult(name: "", verdict: v, method: method, bound: "\(steps) random steps", engine: "conformance: \(impl.name)",
                             seed: seed, message: msg, trace: trace.map { .spec($0) },
                             replay: trace == nil ? nil : "rmi-check replay {trace} --against impl" + impl.replayFlags, rule: rule)
        }
        do {
            var engine = Conformance(impl: try impl.make(), compareState: impl.compareState)
            let (n, v) = try engine.random(steps: steps, seed: seed, depth: depth, every: 5_000) { n in
                ctx.progress("  \(ctx.check): \(n) of \(steps) steps, no difference")
            }
            if let v {
                return [result(.violated, "\(impl.name) differs from the spec after \(n) steps: \(v)", trace: v.trace,
                               rule: SpecSource.rule(forStep: v.step, of: v.trace, kind: "conformance"))]
            }
            return [result(.holds, "\(impl.name) agrees with the spec on \(steps) random steps (seed \(seed))")]
        } catch let e as ImplError {
            return [result(impl.verdict(of: e), "\(e)", rule: RuleRef(id: "conformance/implementation", summary: "the implementation answers every request (no crash, hang or malformed reply)", location: nil))]
        }
    }
}

/// `corpus`: every trace of a folder replayed against the spec (each step gives the result
/// it expects, every property holds along it) or against an implementation in lockstep.
/// One obligation per trace file; the files are read when the plan is.
public struct CorpusCheck: CheckKind {
    public static let kind = "corpus"
    public static let summary = "the regression corpus (a folder of traces) replayed against the spec or an implementation"
    var against: String
    var impl: ImplFields
    /// (name relative to the folder without .json, path, trace)
    var traces: [(String, String, Trace)]

    public init(_ e: PlanEntry) throws {
        against = try e.choice("against", ["spec", "impl"])
        impl = try ImplFields(e)
        if against == "spec", e.has("impl_cmd") || e.has("deviation") {
            throw e.fail("against", "an implementation is given, but the traces are replayed against the spec (use \"against\": \"impl\")")
        }
        // One folder: obligations are named by the paths below it. Several folders or files:
        // by the folder's own name and the path below it, or by the file's name.
        let given = try e.optionalStrings("path") ?? ["traces"]
        guard !given.isEmpty else { throw e.fail("path", "the list is empty") }
        traces = []
        var names: Set<String> = []
        for (i, g) in given.enumerated() {
            let field = given.count == 1 ? "path" : "path[\(i)]"
            let root = e.resolve(g)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir) else {
                throw e.fail(field, "\(root): no such file or folder")
            }
            var found: [(String, String)] = []   // (name, path)
            if isDir.boolValue {
                let prefix = given.count == 1 ? "" : (root as NSString).lastPathComponent + "/"
                found = (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? [])
                    .filter { $0.hasSuffix(".json") }.sorted()
                    .map { (prefix + String($0.dropLast(5)), (root as NSString).appendingPathComponent($0)) }
                guard !found.isEmpty else { throw e.fail(field, "\(root): no trace files (*.json) in this folder") }
            } else {
                let name = (root as NSString).lastPathComponent
                found = [(name.hasSuffix(".json") ? String(name.dropLast(5)) : name, root)]
            }
            for (name, path) in found {
                guard names.insert(name).inserted else { throw e.fail(field, "two traces would be named '\(name)'") }
                let t: Trace
                do { t = try Trace.load(path: path) } catch let err as TraceError {
                    throw e.fail(field, "a trace of the corpus is malformed: \(err)")
                }
                guard !t.steps.isEmpty else { throw e.fail(field, "\(path): the trace has no steps") }
                traces.append((name, path, t))
            }
        }
    }

    public var obligations: [String] { traces.map(\.0) }

    public func run(_ ctx: CheckContext) throws -> [ObligationResult] {
        var out: [ObligationResult] = []
        var engine: Conformance? = nil
        for (name, path, t) in traces {
            func result(_ v: Verdict, _ msg: String, trace: TraceArtifact? = nil, rule: RuleRef? = nil) -> ObligationResult {
                ObligationResult(name: name, verdict: v,
                                 method: against == "spec" ? "replay against the spec, properties checked in every state"
                                    : "lockstep replay against \(impl.name)\(impl.compareState ? " with abstract states" : "")",
                                 bound: "\(t.steps.count) steps", engine: against == "spec" ? "replay" : "conformance: \(impl.name)",
                                 message: msg, trace: trace ?? .existing(path),
                                 replay: "rmi-check replay {trace}" + (against == "impl" ? " --against impl" + impl.replayFlags : ""), rule: rule)
            }
            if against == "spec" {
                let r = t.replay()
                if let m = r.mismatch {
                    out.append(result(.violated, "\(path): \(m)", rule: SpecSource.rule(forStep: m.step, of: t, kind: "corpus")))
                    continue
                }
                let props = t.checkProperties()
                if let v = props.violations.first {
                    out.append(result(.violated, "\(path): \(v)", rule: SpecSource.propertyRule(v.property)))
                    continue
                }
                out.append(result(.holds, "every step gives the result it expects; \(Invariant.specProperties.count) properties hold in \(props.statesChecked) states"))
            } else {
                do {
                    if engine == nil || (impl.command == nil && engine!.impl.platform != t.platform) {
                        engine = Conformance(impl: try impl.make(platform: t.platform), compareState: impl.compareState)
                    }
                    if let v = try engine!.check(t) {
                        out.append(result(.violated, "\(path): \(impl.name) differs from the spec: \(v)", trace: .spec(v.trace),
                                          rule: SpecSource.rule(forStep: v.step, of: v.trace, kind: "corpus")))
                    } else {
                        out.append(result(.holds, "\(impl.name) agrees with the spec on all \(t.steps.count) steps"))
                    }
                } catch let e as ImplError {
                    out.append(result(impl.verdict(of: e), "\(path): \(e)"))
                    engine = nil
                }
            }
        }
        return out
    }
}
