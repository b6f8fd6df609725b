import Foundation
import KVMHost
import RMISpec

/// `host`: a variant of the Linux KVM CCA host flow explored against the spec up to a
/// bound. `expect: pass`: no property is violated (and the listed covers are reached, else
/// VACUOUS). `expect: fail`: some property is violated: the checker catches the mutation
/// (VIOLATED when the whole state space holds no violation, UNKNOWN when the bound cut it).
public struct HostCheck: CheckKind {
    public static let kind = "host"
    public static let summary = "a KVM host variant (v10, fixed, M1..M15) that must pass or must fail, up to a bound"
    var variant: HostVariant
    var expectFail: Bool
    var properties: Set<String>
    var covers: [String]
    var bound: Int
    var maxStates: Int
    var refusals: Bool
    var teardown: Bool
    var vms: Int
    var releaseBeforeClose: Bool

    public init(_ e: PlanEntry) throws {
        let name = try e.string("variant")
        guard let v = HostVariant(named: name) else {
            throw e.fail("variant", "unknown variant '\(name)' (known: v10, fixed, \(HostBug.allCases.map(\.rawValue).joined(separator: ", ")), or M4+M5)")
        }
        variant = v
        expectFail = try e.choice("expect", ["pass", "fail"]) == "fail"
        func props(_ key: String) throws -> [String]? {
            guard let list = try e.optionalStrings(key) else { return nil }
            return try list.enumerated().map { i, p in
                let u = p.uppercased() == "P11P" ? "P11p" : p.uppercased()
                guard HostProperties.summary[u] != nil else {
                    throw e.fail("\(key)[\(i)]", "unknown host property '\(p)' (known: \(HostProperties.all.joined(separator: ", ")))")
                }
                return u
            }
        }
        let single = v.bugs.count == 1 && v.name != "v10" ? v.bugs.first : nil
        // A single mutation must fail on the properties it is expected to violate, so that
        // a finding of the underlying flow does not pass for it.
        properties = Set(try props("properties") ?? (expectFail ? single.map(HostVariant.expectedProperty) ?? HostProperties.all : HostProperties.all))
        covers = try props("covers") ?? []
        if expectFail && !covers.isEmpty { throw e.fail("covers", "applies to `expect: pass` only") }
        bound = try e.optionalInt("bound", min: 1) ?? 8
        maxStates = try e.optionalInt("max_states", min: 1) ?? 300_000
        refusals = try e.optionalBool("refusals") ?? true
        teardown = try e.optionalBool("teardown") ?? true
        vms = try e.optionalInt("vms", min: 1) ?? 1
        if vms > KVMEnv.maxVMs { throw e.fail("vms", "at most \(KVMEnv.maxVMs)") }
        releaseBeforeClose = try e.optionalBool("release_before_close") ?? false
    }

    public var obligations: [String] { [""] }

    public func run(_ ctx: CheckContext) throws -> [ObligationResult] {
        var ex = Explorer(variant: variant, only: properties, bound: bound, maxStates: maxStates)
        ex.refusals = refusals
        ex.teardown = teardown
        ex.vms = vms
        ex.releaseBeforeClose = releaseBeforeClose
        var last = 0
        let progress = ctx.progress
        ex.progress = { n, d in if n - last >= 20_000 { last = n; progress("  \(ctx.check): \(n) states, depth \(d)") } }
        let r = ex.run()
        let props = HostProperties.all.filter(properties.contains).joined(separator: " ")
        let method = "bounded exploration of the host flow \(variant) against every result the spec allows (\(props))"
        let bound = "\(self.bound) operations\(r.complete ? ", state space exhausted" : "")"
        func result(_ v: Verdict, _ msg: String, trace: TraceArtifact? = nil, rule: RuleRef? = nil) -> ObligationResult {
            ObligationResult(name: "", verdict: v, method: method, bound: bound, engine: "kvm-host explorer", message: msg,
                             trace: trace, replay: trace == nil ? nil : "rmi-check host --variant \(variant.name) --replay {trace}", rule: rule)
        }
        let stats = "\(r.states) states, depth \(r.depth)"
        if let viol = r.violation {
            let text = "# rmi-check host --variant \(variant.name): \(viol)\n" + r.trace.map(\.line).joined(separator: "\n") + "\n"
            if expectFail {
                return [result(.holds, "\(variant) is caught: \(viol.property) violated after \(r.trace.count) operations (\(viol.message))",
                               trace: .text(text, ext: "trace"))]
            }
            return [result(.violated, "\(viol.property) (\(HostProperties.summary[viol.property] ?? "")) violated after \(r.trace.count) operations: \(viol.message)",
                           trace: .text(text, ext: "trace"),
                           rule: RuleRef(id: "host/\(viol.property)", summary: HostProperties.summary[viol.property] ?? viol.property,
                                         location: SpecSource.hostProperty(viol.property)))]
        }
        if expectFail {
            let rule = RuleRef(id: "host/mutation-caught", summary: "every host mutation the plan lists violates a property within its bound",
                               location: SpecSource.find("Sources/KVMHost/Variant.swift", "= \"\(variant.bugs.map(\.rawValue).sorted().first ?? "")\""))
            return r.complete
                ? [result(.violated, "\(variant) violates none of \(props) in its whole state space (\(stats)): the mutation is not caught", rule: rule)]
                : [result(.unknown, "\(variant) violates none of \(props) within \(self.bound) operations (\(stats)): raise the bound")]
        }
        let missing = covers.filter { c in !r.covers.contains { $0 == c || $0.hasPrefix(c + ":") } }
        if !missing.isEmpty {
            return [result(.vacuous, "no violation, but the covers \(missing.joined(separator: " ")) were never reached within \(self.bound) operations (\(stats))")]
        }
        return [result(.holds, "no property violated within \(self.bound) operations (\(stats))")]
    }
}
