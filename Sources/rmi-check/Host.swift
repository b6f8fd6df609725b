import ArgumentParser
import Foundation
import KVMHost
import RMICheck
import RMISpec

struct Host: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the Linux KVM CCA host flow (v10) against the spec: properties P1-P19, mutations M1-M15.",
        discussion: """
            Explores every interleaving of the environment (a VMM and a guest: create VM, \
            config, create realm, init RIPAS, populate, finalize vCPUs, activate, run with \
            each guest action, faults, unmaps, refused delegations, destroy) up to --bound \
            operations, breadth first with a visited set of (host, RMM) states, and checks \
            the properties at every RMI call and after every operation. The RMM's answer is \
            any result the spec allows (each choice is explored).

            Variants: v10 (as posted, with its latent M6/M7 paths and the M10 race reading), \
            fixed (those fixed), M1..M15 (fixed plus one mutation; M12-M15 are this project's, one per \
            property part M1-M11 do not break), or M4+M5 style combinations.

            --replay FILE replays a trace file (one operation per line, as printed after a \
            violation) with the RMI log, against the spec or --impl builtin.

            Exit codes: 0 all properties hold within the bound, 1 a violation (its trace is \
            printed and written to --out), 2 the bound or state cap was reached before the \
            search could decide (with --expect-complete), 65 bad input.
            """)

    @Option(name: .long, help: "Host variant: v10, fixed, M1..M15, or M4+M5.")
    var variant: String = "v10"

    @Option(name: .long, parsing: .upToNextOption, help: "Properties to check (default: all), e.g. P1 P12.")
    var property: [String] = []

    @Option(name: .long, help: "Depth bound: environment operations per trace.")
    var bound: Int = 10

    @Option(name: .long, help: "Cap on the number of states.")
    var maxStates: Int = 300_000

    @Option(name: .long, help: "RMM to search (and replay) against: spec (every result it allows), or builtin (RMMImpl, copied at every state).")
    var impl: String = "spec"

    @Option(name: .long, help: "Replay this host trace file instead of searching.")
    var replay: String?

    @Option(name: .long, parsing: .upToNextOption, help: "Guest actions to explore (default: all), e.g. psci_cpu_on protected_abort.")
    var guest: [String] = []

    @Flag(name: .customLong("no-refusals"), help: "The environment never refuses a delegation.")
    var noRefusals = false

    @Flag(name: .customLong("no-teardown"), help: "The environment never closes the VM (focus on the runtime).")
    var noTeardown = false

    @Flag(name: .customLong("no-unmaps"), help: "The VMM never munmaps shared pages nor punches holes in guest_memfd (focus on faults).")
    var noUnmaps = false

    @Flag(name: .customLong("rmm-faults"), help: "RMM fault model (outside the spec): REC_AUX_COUNT and GRANULE_UNDELEGATE may also fail with RMI_ERROR_INPUT where the spec lets them succeed; injected results are marked in the trace. Needed again to --replay such a trace.")
    var rmmFaults = false

    @Option(name: .long, help: "VMs in the environment: 1, or 2 (the second VM's VMM creates it, one vCPU, the realm and that REC, and closes it).")
    var vms: Int = 1

    @Flag(name: .customLong("release-before-close"), help: "The VMM's mm may go away before the VM fd is closed: pass 1 from the MMU notifier, then guest_memfd hole punches, then the close.")
    var releaseBeforeClose = false

    /// The spec as the RMM, with the fault model when asked.
    var specRMM: SpecRMM { var r = SpecRMM(); r.faults = rmmFaults; return r }

    @Option(name: .long, help: "Folder for the trace of a violation.")
    var out: String = "out"

    @Option(name: .long, help: ArgumentHelp(
        "Write a report instead of one search: undelegate (can any GRANULE_UNDELEGATE fail, for v10, fixed and each mutation).",
        valueName: "topic"))
    var report: String?

    func run() throws {
        guard let v = HostVariant(named: variant) else {
            note("unknown variant \(variant) (v10, fixed, M1..M15)")
            throw Exit.badInput
        }
        let props: Set<String>? = property.isEmpty ? nil : Set(property.map { $0.uppercased() })
        if let props, let bad = props.first(where: { HostProperties.summary[$0] == nil }) {
            note("unknown property \(bad)")
            throw Exit.badInput
        }
        guard (1...KVMEnv.maxVMs).contains(vms) else { note("--vms must be 1 to \(KVMEnv.maxVMs)"); throw Exit.badInput }
        guard impl == "spec" || impl == "builtin" else { note("--impl must be spec or builtin"); throw Exit.badInput }
        if impl == "builtin" && rmmFaults { note("--rmm-faults is a fault model of the spec's answers, not of RMMImpl"); throw Exit.badInput }
        var guestKinds: Set<RealmActionKind>? = nil
        if !guest.isEmpty {
            var k: Set<RealmActionKind> = []
            for g in guest {
                guard let a = RealmActionKind(name: g) else { note("unknown guest action \(g)"); throw Exit.badInput }
                k.insert(a)
            }
            guestKinds = k
        }
        if let replay {
            try runReplay(replay, variant: v, props: props)
            return
        }
        if let report {
            guard report == "undelegate" else { note("--report: unknown report '\(report)' (known: undelegate)"); throw Exit.badInput }
            try undelegateReport(guest: guestKinds)
            return
        }
        // A single mutation is checked against the properties it is expected to violate
        // (so that a finding of the underlying flow does not mask it), unless told otherwise.
        var remaining: Set<String> = props ?? Set(HostProperties.all)
        let isMutation = v.bugs.count == 1 && v.name != "v10"
        if props == nil, isMutation, let b = v.bugs.first {
            remaining = Set(HostVariant.expectedProperty(b))
            print("checking \(b.rawValue)'s expected properties: \(remaining.sorted().joined(separator: " "))")
        }
        var found: [Violation] = []
        var covers: Set<String> = []
        var complete = true
        // Each violation is reported with its trace; the search then goes on without that
        // property, until every remaining property holds within the bound.
        while !remaining.isEmpty {
            var ex = Explorer(variant: v, only: remaining, bound: bound, maxStates: maxStates)
            ex.guest = guestKinds
            ex.refusals = !noRefusals
            ex.teardown = !noTeardown
            ex.unmaps = !noUnmaps
            ex.rmmFaults = rmmFaults
            ex.vms = vms
            ex.releaseBeforeClose = releaseBeforeClose
            var last = 0
            ex.progress = { n, d in if n - last >= 20_000 { last = n; note("  \(n) states, depth \(d)") } }
            let r = impl == "builtin" ? ex.run(on: ImplRMM(BuiltinRMM(platform: KVMPlatform.compact))) : ex.run()
            covers.formUnion(r.covers)
            print("variant \(v)\(impl == "builtin" ? " against builtin" : ""), bound \(bound): \(r.states) states, \(r.transitions) transitions, depth \(r.depth), \(String(format: "%.1f", r.seconds)) s")
            guard let viol = r.violation else { complete = r.complete; break }
            found.append(viol)
            print("VIOLATED \(viol.property) (\(HostProperties.summary[viol.property] ?? "")): \(viol.message)")
            print("trace (\(r.trace.count) operations):")
            let log = impl == "builtin"
                ? Explorer.replay(r.trace, rmm: BuiltinRMM(platform: KVMPlatform.platform), variant: v, only: [viol.property]).log
                : Explorer.replay(r.trace, rmm: specRMM, variant: v, only: [viol.property]).log
            for l in log { print(l) }
            try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let path = (out as NSString).appendingPathComponent("host-\(v.name)-\(viol.property).trace")
            let text = "# rmi-check host --variant \(v.name)\(rmmFaults ? " --rmm-faults" : "")\(impl == "builtin" ? " --impl builtin" : ""): \(viol)\n" + r.trace.map(\.line).joined(separator: "\n") + "\n"
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
            print("trace written to \(path); replay with: rmi-check host --variant \(v.name)\(rmmFaults ? " --rmm-faults" : "")\(impl == "builtin" ? " --impl builtin" : "") --property \(viol.property) --replay \(path)")
            print("")
            remaining.remove(viol.property)
            // A mutation is found once it violates one of its properties.
            if isMutation { break }
        }
        let covered = HostProperties.all.filter { p in covers.contains { $0 == p || $0.hasPrefix(p + ":") } }
        if !remaining.isEmpty {
            print("hold within the bound: \(HostProperties.all.filter(remaining.contains).joined(separator: " ")) (\(complete ? "state space exhausted" : "bound reached"))")
        }
        print("covered: \(covered.joined(separator: " "))")
        let uncovered = HostProperties.all.filter { !covered.contains($0) }
        if !uncovered.isEmpty { print("not covered: \(uncovered.joined(separator: " "))") }
        if !found.isEmpty {
            print("violated: \(found.map(\.property).joined(separator: " "))")
            throw Exit.violated
        }
    }

    func runReplay(_ path: String, variant v: HostVariant, props: Set<String>?) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { note("cannot read \(path)"); throw Exit.badInput }
        var steps: [HostTraceStep] = []
        for (i, raw) in text.split(separator: "\n").enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let s = HostTraceStep(line: line) else { note("\(path):\(i + 1): bad operation: \(line)"); throw Exit.badInput }
            steps.append(s)
        }
        let violations: [Violation]
        let log: [String]
        if impl == "builtin" {
            let (h, l) = Explorer.replay(steps, rmm: BuiltinRMM(platform: KVMPlatform.platform), variant: v, only: props)
            violations = h.violations; log = l
        } else {
            let (h, l) = Explorer.replay(steps, rmm: specRMM, variant: v, only: props)
            violations = h.violations; log = l
        }
        for l in log { print(l) }
        if let first = violations.first {
            print("VIOLATED \(first)")
            throw Exit.violated
        }
        print("no violation in \(steps.count) operations")
    }

    /// Whether any GRANULE_UNDELEGATE can fail (P3: UNDELEGATE is issued only on a DELEGATED
    /// Granule, the one condition under which a conforming RMM refuses it), for the v10 flow,
    /// the fixed flow and each mutation, within the bound.
    func undelegateReport(guest: Set<RealmActionKind>?) throws {
        print("Can a GRANULE_UNDELEGATE fail? (P3, against any result the spec allows; bound \(bound) operations, cap \(maxStates) states)")
        var variants: [HostVariant] = [HostVariant(named: "v10")!, HostVariant(named: "fixed")!]
        variants += HostBug.allCases.compactMap { HostVariant(named: $0.rawValue) }
        var v10Fails = false
        for v in variants {
            var ex = Explorer(variant: v, only: ["P3"], bound: bound, maxStates: maxStates)
            ex.guest = guest
            ex.refusals = !noRefusals
            ex.teardown = !noTeardown
            ex.unmaps = !noUnmaps
            ex.rmmFaults = rmmFaults
            let r = ex.run()
            let name = v.name.padding(toLength: 6, withPad: " ", startingAt: 0)
            if let viol = r.violation {
                if v.name == "v10" { v10Fails = true }
                print("\(name) CAN FAIL: shortest trace \(r.trace.count) operations: \(viol.message)")
                print("         " + r.trace.map(\.line).joined(separator: " ; "))
            } else {
                // Not vacuous only if some GRANULE_UNDELEGATE was issued at all (P3's cover).
                let issued = r.covers.contains { $0 == "P3" || $0.hasPrefix("P3:") }
                print("\(name) no undelegate fails\(issued ? "" : " (VACUOUS: no GRANULE_UNDELEGATE issued within the bound)"): \(r.complete ? "every state within the bound explored" : "bound or state cap reached") (\(r.states) states, depth \(r.depth), \(String(format: "%.1f", r.seconds)) s)")
            }
        }
        if v10Fails { throw Exit.violated }
    }
}
