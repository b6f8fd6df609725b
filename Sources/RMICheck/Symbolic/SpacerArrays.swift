import RMISpec
import SMT

/// A command or property the Granule-array encoding cannot hold (it writes Realm, REC or
/// RTT objects, or reads RTT entries): bad input for `prove --every-address`.
public struct UnsupportedByEncoding: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

extension SpacerProver {
    /// The clauses over `GranuleArrays` on the standard platform: `Reach` relates the three
    /// arrays, so the invariant Spacer infers is over every address (quantified: Spacer's
    /// quantified generalisation is on), and a proof holds for any memory size. The moves:
    /// each command of the alphabet with any arguments, another agent's GPT change of an
    /// UNDELEGATED Granule, and the Host writing one Granule it may access. A REC exit cannot
    /// happen: no REC exists in runs of these commands. A property may read only Granule
    /// state, GPT and contents (objects never exist in these runs, so one that reads them
    /// says nothing here) and is stated at two addresses, clause variables: every property
    /// of that kind is a conjunction over one or two addresses (`all(addrs.map ...)`), so
    /// it holds for all their values exactly when it holds at every address.
    func arraySystem(_ ctx: Context, _ targets: [Invariant]) throws -> HornSystem {
        typealias S = Symbolic
        let s = settings
        let probes = [ctx.bvConst("arr.b0", width: 64), ctx.bvConst("arr.b1", width: 64)]
        let initial = GranuleArrays.initial(platform: .standard, options: s.specOptions, probes: probes)
        let names = ["states", "gpts", "contents"]
        let x = initial.with(arrays: zip(initial.arrays, names).map { ctx.const("arr.\($1)", $0.sort) }, prefix: "arr.h")
        let args = (1...5).map { S.variable("arr.x\($0)") }

        func refuse(_ what: String, _ used: Set<String>) throws {
            guard !used.isEmpty else { return }
            throw UnsupportedByEncoding(message: "--every-address: \(what) uses \(used.sorted().joined(separator: ", ")), which the Granule arrays do not hold; it serves GRANULE_DELEGATE, GRANULE_UNDELEGATE, RMI_VERSION and RMI_FEATURES and the properties over Granule state, GPT and contents")
        }
        // A property is evaluated on copies with their own record of what it reads.
        func refuseProperty(_ p: Invariant, _ states: [GranuleArrays]) throws {
            try refuse(p.rawValue, states.reduce(into: Set<String>()) { $0.formUnion($1.unsupported.used) })
            if states.contains(where: { $0.unsupported.readsObjects }) {
                throw UnsupportedByEncoding(message: "--every-address: \(p.rawValue) reads Realm, REC or RTT objects, which runs of the Granule commands never make: it says nothing over the Granule arrays (prove it on the scope)")
            }
        }

        var moves: [(guard: Term, next: [Term])] = []
        var bad: [String: Term] = [:]
        func fresh(_ m: GranuleArrays) -> GranuleArrays { m.with(arrays: m.arrays, prefix: "arr.h") }
        for p in targets where p.kind == .always {
            let m = fresh(x)
            bad[p.rawValue] = ctx.not(p.holds(in: m).raw)
            try refuseProperty(p, [m])
        }
        for c in s.commands {
            let (success, next) = RMISpec.arrayStep(c, x, args: args)
            try refuse(c.rawValue, next.unsupported.used)
            moves.append((ctx.bool(true), next.arrays))
            for p in targets where p.kind == .step {
                let (pre, post) = (fresh(x), fresh(next))
                let view = StepView(pre: pre, post: post, command: c, args: args.map { SWord(raw: $0) },
                                    succeeded: SBit(raw: success), unchanged: SBit(raw: x.equal(next)))
                let broken = ctx.not(p.holds(on: view).raw)
                try refuseProperty(p, [pre, post])
                bad[p.rawValue] = S.or(bad[p.rawValue] ?? S.lit(false), broken)
            }
        }
        if s.gptEvents {
            var m = x
            let applies = m.otherAgentSetsGPT(SWord(raw: args[0]), SWord(raw: args[1])).raw
            moves.append((applies, m.arrays))
        }
        var w = x
        w.hostWrite(args[0], args[1])
        moves.append((ctx.bool(true), w.arrays))
        let seed = s.seed, timeout = s.timeoutMs, rlimit = s.rlimit
        return HornSystem(arguments: x.arrays, initial: initial.arrays, moves: moves, bad: bad,
                          parameters: [("spacer.q3.use_qgen", .bool(true)), ("spacer.ground_pobs", .bool(false))],
                          recheckSolver: {
                              // Quantified invariants over arrays, not QF_BV. Measured: Z3's
                              // default solver and its AUFBV one answer "incomplete
                              // quantifiers" on the step question; the UFBV one decides it.
                              let solver = Solver(ctx, logic: "UFBV")
                              try solver.setSeed(seed)
                              if let ms = timeout { try solver.setTimeout(ms: ms) }
                              if let r = rlimit { try solver.setRlimit(r) }
                              return solver
                          },
                          coverage: "every address of the standard platform (Granule state, GPT and contents as arrays over all 2^64 addresses: any memory size), in runs of \(s.commands.map(\.rawValue).joined(separator: ", "))")
    }
}

extension SpacerProver {
    /// Whether `p` reads only Granule state, GPT and contents (no object, which runs of the
    /// Granule commands never make): the default properties of `prove --every-address`.
    public static func readsOnlyGranules(_ p: Invariant) -> Bool {
        let ctx = Context()
        return Symbolic.withContext(ctx) {
            let m = GranuleArrays.initial(platform: .standard, probes: [Symbolic.variable("b0"), Symbolic.variable("b1")])
            switch p.kind {
            case .always, .sometimes: _ = p.holds(in: m)
            case .step, .implementation:
                _ = p.holds(on: StepView(pre: m, post: m, command: .granuleDelegate, args: [SWord.lit(0)],
                                         succeeded: SBit(raw: ctx.bool(true)), unchanged: SBit(raw: ctx.bool(true))))
            }
            return m.unsupported.used.isEmpty && !m.unsupported.readsObjects
        }
    }
}
