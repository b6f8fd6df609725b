import ArgumentParser
import Foundation
import RMICheck
import RMISpec

struct Shrink: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Shrink a trace while the violation it shows still replays.",
        discussion: """
            The violation is, by default, what the trace shows on the spec: the first step \
            whose result differs from its expectation (kept, with the expectations), else the \
            first property INV-* it violates (--property picks one; expectations are dropped). \
            With --against impl it is the first difference between the spec and the \
            implementation (--impl builtin, --deviation, --impl-cmd), of the same kind \
            (result, outputs, exit record or state).

            Each Realm is removed with every step that names one of its Granules, then each \
            Granule with every step that names it, then single steps (last first); then each \
            call's Host writes, its Realm action's arguments, its RTT level (one up) and its \
            arguments (set to 0); then each Realm's deepest RTT level; then the Granules are \
            renamed to the platform's lowest delegable addresses. This goes on until no single \
            change keeps the violation. The result is written to --out (default: TRACE with \
            .shrunk.json); its length, Realms and Granules are reported against the \
            original's, with the number of candidate traces replayed.

            Exit codes: 0 shrunk (the result still shows the violation), 65 the trace is \
            malformed or shows no violation.
            """)

    @Argument(help: "The trace file.")
    var trace: String

    @Option(name: .long, help: "Shrink against: spec (default) or impl.")
    var against: String = "spec"

    @Option(name: .customLong("property"), help: "Keep this property violated (INV-G1 or G1).")
    var property: String?

    @Option(name: .long, help: "Where to write the shrunk trace.")
    var out: String?

    @OptionGroup(title: "Implementation (with --against impl)")
    var implementation: ImplOptions

    func run() throws {
        let t: Trace
        do { t = try Trace.load(path: trace) } catch {
            note("rmi-check: \(error)")
            throw Exit.badInput
        }
        var shrinker: Shrinker
        var keep = false
        var what: String
        switch against {
        case "spec":
            if let name = property {
                let p = try parseProperties([name])[0]
                shrinker = .property(p)
                what = "\(p.rawValue) violated"
            } else if let m = t.replay().mismatch, let s = Shrinker.specMismatch(of: t) {
                shrinker = s
                keep = true
                what = "the step whose \(m.field) the spec gives as \(m.actual), not \(m.expected)"
            } else if let v = t.checkProperties().violations.first {
                shrinker = .property(v.property)
                what = "\(v.property.rawValue) violated"
            } else {
                note("rmi-check: \(trace): the trace shows no violation on the spec (every step as expected, every property holds)")
                throw Exit.badInput
            }
        case "impl":
            var c = Conformance(impl: try implementation.make(platform: t.platform))
            guard let v = try c.check(t) else {
                note("rmi-check: \(trace): the implementation agrees with the spec on this trace: nothing to shrink")
                throw Exit.badInput
            }
            shrinker = .implDifference(c, field: v.field)
            what = "a difference in \(v.field.split(separator: ".").first ?? "")"
        default:
            note("rmi-check: --against must be spec or impl")
            throw Exit.badInput
        }
        let shrunk: Trace
        do { shrunk = try shrinker.shrink(t, keepExpectations: keep) } catch let e as ShrinkError {
            note("rmi-check: \(trace): \(e)")
            throw Exit.badInput
        }
        var result = shrunk
        result.description = "shrunk from \(trace) (\(t.steps.count) steps) keeping \(what)"
        let path = out ?? (trace.hasSuffix(".json") ? String(trace.dropLast(5)) : trace) + ".shrunk.json"
        try result.write(to: path)
        func size(_ x: Trace) -> String {
            func n(_ k: Int, _ noun: String) -> String { "\(k) \(noun)\(k == 1 ? "" : "s")" }
            let calls = x.steps.filter { if case .call = $0 { true } else { false } }.count
            return "\(n(x.steps.count, "step")) (\(n(calls, "call")), \(n(Shrinker.realms(in: x).count, "Realm")), "
                + "\(n(Shrinker.granules(in: x).count, "Granule")))"
        }
        print("shrunk \(size(t)) to \(size(result)), keeping \(what); \(shrinker.tries) candidates replayed")
        print("written to \(path)")
    }
}
