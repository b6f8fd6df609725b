import Foundation
import RMISpec

/// Where the rules live in the source, so that a finding points at the rule it breaks.
/// Failure conditions carry their file and line; properties are found in their files.
public enum SpecSource {
    /// The package root as this file was compiled; its sources are read to find the line
    /// of a property (line 1 when they are not there).
    static let root: String = {
        let here = #filePath
        return here.range(of: "/Sources/RMICheckCI/").map { String(here[..<$0.lowerBound]) } ?? ""
    }()

    /// `Sources/X/Y.swift:123` -> location.
    static func parse(_ source: String) -> SourceLocation? {
        guard let colon = source.lastIndex(of: ":"), let line = Int(source[source.index(after: colon)...]) else { return nil }
        return SourceLocation(file: String(source[..<colon]), line: line)
    }

    /// The first line of `file` (relative to the root) containing `needle` after a line
    /// containing `after`, or line 1.
    static func find(_ file: String, _ needle: String, after: String? = nil) -> SourceLocation {
        let lines = (try? String(contentsOfFile: root + "/" + file, encoding: .utf8))?
            .split(separator: "\n", omittingEmptySubsequences: false) ?? []
        var armed = after == nil
        for (i, l) in lines.enumerated() {
            if !armed { armed = l.contains(after!); continue }
            if l.contains(needle) { return SourceLocation(file: file, line: i + 1) }
        }
        return SourceLocation(file: file, line: 1)
    }

    /// The predicate of a spec property (INV-*).
    public static func property(_ p: Invariant) -> SourceLocation {
        let file = p.kind == .step ? "Sources/RMISpec/Properties/StepInvariants.swift" : "Sources/RMISpec/Properties/Invariants.swift"
        let name = String(describing: p)   // the case name: g1, r6, ...
        return find(file, "case .\(name):", after: "func holds")
    }

    public static func propertyRule(_ p: Invariant) -> RuleRef {
        RuleRef(id: p.rawValue, summary: p.summary, location: property(p))
    }

    /// The check of a host property (P1..P19) in the KVM host model.
    public static func hostProperty(_ p: String) -> SourceLocation {
        find("Sources/KVMHost/Properties.swift", "violate(\"\(p)\"")
    }

    /// The failure condition of `command` that `label` names (or the first of `status`,
    /// or the command's first).
    public static func condition(_ command: RMICommand, label: String?, status: Status?) -> SourceLocation? {
        let conds = RMISpec.conditions(of: command)
        let c = conds.first { $0.label == label } ?? conds.first { $0.status == status && $0.listed } ?? conds.first
        return c.flatMap { parse($0.source) }
    }

    /// The rule behind step `step` of `trace` when a result or state there is disputed:
    /// the spec is run up to it, and the condition giving the spec's result (or, when the
    /// spec says success, the condition of the status the trace expects) is named.
    public static func rule(forStep step: Int, of trace: Trace, kind: String) -> RuleRef? {
        guard step >= 0, step < trace.steps.count else { return nil }
        var runner = TraceRunner(platform: trace.platform, options: trace.options)
        for s in trace.steps[..<step] { runner.run(s) }
        let command: RMICommand
        let expect: Expectation?
        switch trace.steps[step] {
        case .call(let c): command = c.command; expect = c.expect
        case .recExit(_, _, let e): command = .recEnter; expect = e
        default: return nil
        }
        let r = runner.run(trace.steps[step])
        let label = r?.allowed.first(where: { $0.label != nil })?.label
        let loc = condition(command, label: label, status: label == nil ? expect?.status : nil)
        return RuleRef(id: "\(kind)/\(command.rawValue)",
                       summary: "\(command.rawValue) gives the result and the state change the spec defines (its failure conditions in order, then its success effects)",
                       location: loc)
    }
}
