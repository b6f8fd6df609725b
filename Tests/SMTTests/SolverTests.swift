import SMT
import Testing

@Suite struct SolverTests {
    @Test func provesBitVectorIdentities() throws {
        let c = Context()
        let s = Solver(c)
        let x = c.bvConst("x", width: 32)
        let y = c.bvConst("y", width: 32)
        // x + y == (x ^ y) + 2 * (x & y), and ~x == -x - 1: negation is UNSAT.
        let id1 = c.eq(x + y, (x ^ y) + ((x & y) << c.bv(1, width: 32)))
        let id2 = c.eq(~x, -x - 1)
        try s.assert(!(id1 && id2))
        #expect(try s.check() == .unsat)

        // A non-identity (x * 2 == x << 2) has a counterexample.
        try s.reset()
        try s.assert(!c.eq(x * 2, x << c.bv(2, width: 32)))
        #expect(try s.check() == .sat)
    }

    @Test func quantifiers() throws {
        let c = Context()
        let x = c.bvConst("x", width: 8)
        let s = Solver(c)
        // ∀x. x & 0 == 0 is valid ...
        try s.assert(!c.forall(bound: [x], c.eq(x & 0, c.bv(0, width: 8))))
        #expect(try s.check() == .unsat)
        // ... and ∃x. 2x == 3 is false at any width (2x is even).
        try s.reset()
        try s.assert(c.exists(bound: [x], c.eq(x * 2, c.bv(3, width: 8))))
        #expect(try s.check() == .unsat)
        try s.reset()
        try s.assert(c.exists(bound: [x], c.eq(x * 3, c.bv(3, width: 8))))
        #expect(try s.check() == .sat)
    }

    @Test func satModelHasTheUniqueSolution() throws {
        let c = Context()
        let s = Solver(c)
        let x = c.bvConst("x", width: 16)
        let b = c.boolConst("b")
        // 3 is odd, hence invertible mod 2^16: x * 3 == 21 has exactly one solution.
        try s.assert(c.eq(x * 3, c.bv(21, width: 16)))
        try s.assert(c.eq(b, c.ult(x, c.bv(10, width: 16))))
        #expect(try s.check() == .sat)
        let m = try s.model()
        #expect(try m.bvValue(x) == 7)
        #expect(try m.boolValue(b) == true)
        #expect(try m.eval(x + 1).description == "#x0008")
        #expect(m.description.contains("x"))
        // unconstrained constants get a value through model completion
        _ = try m.bvValue(c.bvConst("unused", width: 64))
        // and 7 is the only solution
        try s.assert(!c.eq(x, c.bv(7, width: 16)))
        #expect(try s.check() == .unsat)
    }

    @Test func wideValues() throws {
        let c = Context()
        let s = Solver.simple(c)
        let x = c.bvConst("x", width: 64)
        try s.assert(c.eq(x, c.bv(0xFEDC_BA98_7654_3210, width: 64)))
        #expect(try s.check() == .sat)
        #expect(try s.model().bvValue(x) == 0xFEDC_BA98_7654_3210)
        let w = c.bvConst("w", width: 72)
        #expect(throws: Z3Error.self) { try s.model().bvValue(w) }
    }

    @Test func pushPop() throws {
        let c = Context()
        let s = Solver(c)
        let x = c.bvConst("x", width: 8)
        try s.assert(c.ugt(x, c.bv(5, width: 8)))
        try s.push()
        #expect(s.numScopes == 1)
        try s.assert(c.ult(x, c.bv(3, width: 8)))
        #expect(try s.check() == .unsat)
        try s.pop()
        #expect(s.numScopes == 0)
        #expect(try s.check() == .sat)
        #expect(try s.model().bvValue(x) > 5)
        #expect(s.assertions.count == 1)
        // popping more scopes than open is an error, and the solver survives it
        #expect(throws: Z3Error.self) { try s.pop() }
        #expect(try s.check() == .sat)
    }

    @Test func assumptionsAndUnsatCore() throws {
        let c = Context()
        let s = Solver(c)
        let x = c.bvConst("x", width: 8)
        let p = c.boolConst("p"), q = c.boolConst("q"), r = c.boolConst("r")
        try s.assert(c.implies(p, c.eq(x, c.bv(1, width: 8))))
        try s.assert(c.implies(q, c.eq(x, c.bv(2, width: 8))))
        try s.assert(c.implies(r, c.ult(x, c.bv(100, width: 8))))
        #expect(try s.check(assumptions: [p, q, r]) == .unsat)
        let core = Set(try s.unsatCore())
        #expect(core.contains(p) && core.contains(q))
        #expect(!core.contains(r))
        #expect(try s.check(assumptions: [p, r]) == .sat)
        #expect(try s.model().bvValue(x) == 1)
        // assumptions do not persist
        #expect(try s.check() == .sat)
    }

    @Test func trackedAssertions() throws {
        let c = Context()
        let s = Solver(c)
        let x = c.bvConst("x", width: 8)
        let a1 = c.boolConst("a1"), a2 = c.boolConst("a2"), a3 = c.boolConst("a3")
        try s.assert(c.ult(x, c.bv(4, width: 8)), tracking: a1)
        try s.assert(c.ugt(x, c.bv(9, width: 8)), tracking: a2)
        try s.assert(c.eq(c.extract(0, 0, x), c.bv(0, width: 1)), tracking: a3)
        #expect(try s.check() == .unsat)
        #expect(Set(try s.unsatCore()) == [a1, a2])
    }

    @Test func arrayModelValues() throws {
        let c = Context()
        let s = Solver(c)
        let a = c.arrayConst("A", indexWidth: 8, valueWidth: 8)
        let i = c.bvConst("i", width: 8)
        try s.assert(c.eq(c.select(a, c.bv(1, width: 8)), c.bv(10, width: 8)))
        try s.assert(c.eq(c.select(a, c.bv(2, width: 8)), c.select(a, c.bv(1, width: 8)) + 5))
        // B is A with index i overwritten by 99, and B[3] must be 99: forces i == 3
        let b = c.store(a, i, c.bv(99, width: 8))
        try s.assert(c.eq(c.select(b, c.bv(3, width: 8)), c.bv(99, width: 8)))
        try s.assert(c.distinct(i, c.bv(1, width: 8), c.bv(2, width: 8)))
        try s.assert(c.not(c.eq(c.select(a, c.bv(3, width: 8)), c.bv(99, width: 8))))
        #expect(try s.check() == .sat)
        let m = try s.model()
        #expect(try m.arrayValue(a, at: 1) == 10)
        #expect(try m.arrayValue(a, at: c.bv(2, width: 8)) == 15)
        #expect(try m.bvValue(i) == 3)
        #expect(try m.arrayValue(b, at: 3) == 99)
        #expect(try m.arrayValue(a, at: 3) != 99)
        // a constant array has the same value everywhere
        let k = c.constArray(indexWidth: 8, value: c.bv(42, width: 8))
        #expect(try m.arrayValue(k, at: 200) == 42)
        #expect(try m.arrayValue(c.store(k, c.bv(7, width: 8), c.bv(1, width: 8)), at: 7) == 1)
    }

    @Test func errorsThrowAndTheContextStaysUsable() throws {
        let c = Context()
        let s = Solver(c)
        let x = c.bvConst("x", width: 8)
        // module-prefixed names are not solver parameters
        let e1 = #expect(throws: Z3Error.self) { try s.setParam("smt.random_seed", 1) }
        #expect(e1?.message.contains("unknown parameter") == true)
        #expect(e1?.code == 12)
        // wrong value type
        #expect(throws: Z3Error.self) { try s.setParam("timeout", true) }
        // asserting a non-Boolean term
        let e2 = #expect(throws: Z3Error.self) { try s.assert(x) }
        #expect(e2?.code != Z3Error.wrapperCode)
        // no model before a check
        #expect(throws: Z3Error.self) { try s.model() }
        // the model getters reject terms of the wrong sort
        try s.assert(c.eq(x, c.bv(200, width: 8)))
        #expect(try s.check() == .sat)
        let m = try s.model()
        #expect(throws: Z3Error.self) { try m.boolValue(x) }
        #expect(throws: Z3Error.self) { try m.bvValue(c.boolConst("b")) }
        #expect(throws: Z3Error.self) { try m.arrayValue(x, at: 0) }
        // everything still works
        try s.setSeed(7)
        try s.setRlimit(1_000_000)
        #expect(try m.bvValue(x) == 200)
        #expect(try s.check() == .sat)
        let t = c.simplify(x + 1)
        #expect(t.width == 8)
    }

    @Test func rlimitIsDeterministic() throws {
        func run() throws -> (CheckResult, Double) {
            let c = Context()
            let s = Solver(c)
            try s.setRlimit(20_000)
            try assertPigeonhole(c, s, holes: 9)
            let r = try s.check()
            return (r, s.statistics["rlimit count"] ?? -1)
        }
        let (r1, n1) = try run()
        let (r2, n2) = try run()
        #expect(r1.isUnknown)
        #expect(r1 == r2)
        #expect(n1 == n2)
        #expect(n1 > 0)
    }

    @Test func timeoutGivesUnknown() async throws {
        let (r, secs) = try await runZ3 { _ in
            try seconds { () throws -> CheckResult in
                let c = Context(timeoutMs: 100)
                let s = Solver(c)
                try assertPigeonhole(c, s, holes: 12)
                return try s.check()
            }
        }
        #expect(r.isUnknown)
        #expect(secs < 2)
    }

    @Test func logicSolverAndStatistics() throws {
        let c = Context()
        let s = Solver(c, logic: "QF_BV")
        let x = c.bvConst("x", width: 8), y = c.bvConst("y", width: 8)
        try s.assert(c.eq(x * y, c.bv(143, width: 8)))
        try s.assert(c.ugt(x, c.bv(1, width: 8)) && c.ugt(y, c.bv(1, width: 8)))
        try s.assert(c.ult(x, c.bv(16, width: 8)) && c.ult(y, c.bv(16, width: 8)) && c.ult(x, y))
        #expect(try s.check() == .sat)
        let m = try s.model()
        #expect(try m.bvValue(x) == 11)
        #expect(try m.bvValue(y) == 13)
        #expect(!s.statistics.isEmpty)
    }

    @Test func objectsOutliveTheirFactories() throws {
        // The model and terms keep the context alive after everything else is gone.
        func make() throws -> (Model, Term) {
            let c = Context()
            let s = Solver(c)
            let x = c.bvConst("x", width: 8)
            try s.assert(c.eq(x, c.bv(9, width: 8)))
            _ = try s.check()
            return (try s.model(), x)
        }
        let (m, x) = try make()
        #expect(try m.bvValue(x) == 9)
        #expect(try m.bvValue(x + 1) == 10)
        for _ in 0..<50 {
            let c = Context()
            let s = Solver(c)
            try assertPigeonhole(c, s, holes: 3)
            #expect(try s.check() == .unsat)
        }
    }

    @Test func termsMadeAfterOthersWereDroppedGetTheSameIdsWhateverOrderTheyWentIn() {
        // Swift frees what a dictionary held in an order set by the process's hash seed;
        // Z3 reuses freed ids, and its search follows ids.
        func idsAfterDropping(reversed: Bool) -> [UInt32] {
            let c = Context()
            var terms = (0..<64).map { c.bvConst("t\($0)", width: 8) + c.bv(UInt64($0), width: 8) }
            if reversed { terms.reverse() }
            while !terms.isEmpty { terms.removeLast() }
            let made = (0..<64).map { c.bvConst("u\($0)", width: 8) * c.bv(3, width: 8) }
            return made.map(\.id)
        }
        let ids = idsAfterDropping(reversed: false)
        #expect(ids == idsAfterDropping(reversed: true))
        #expect(Set(ids).count == ids.count)
    }
}
