import Foundation
import SMT
import Testing

@Suite struct FixedpointTests {
    /// Counter: x := 0; while x < 10 { x += 1 }  (8-bit, no overflow).
    /// Returns the query result for the property `x <= bound`.
    func counter(bound: UInt64) throws -> (CheckResult, String) {
        let c = Context()
        let fp = Fixedpoint(c)
        let bv8 = c.bvSort(8)
        let inv = c.function("Inv", domain: [bv8], range: c.boolSort)
        let err = c.function("Err", domain: [], range: c.boolSort)
        try fp.registerRelation(inv)
        try fp.registerRelation(err)
        let x = c.bvConst("x", width: 8)
        try fp.addRule(inv(c.bv(0, width: 8)))
        try fp.addRule(c.forall(bound: [x], c.implies(
            inv(x) && c.ult(x, c.bv(10, width: 8)), inv(x + 1))))
        try fp.addRule(c.forall(bound: [x], c.implies(
            inv(x) && c.ugt(x, c.bv(bound, width: 8)), err())), name: "error")
        let r = try fp.query(relations: [err])
        return (r, try fp.answer().description)
    }

    @Test func spacerProvesTheInvariant() throws {
        let (r, answer) = try counter(bound: 10)
        #expect(r == .unsat)
        #expect(answer.contains("Inv"))
    }

    /// The invariant read back from the answer is re-checked by a plain solver: it holds
    /// initially, is inductive, and implies the property; and it is not just "true".
    @Test func interpretationIsAnInductiveInvariant() throws {
        let c = Context()
        let fp = Fixedpoint(c)
        let bv8 = c.bvSort(8)
        let inv = c.function("Inv", domain: [bv8, bv8], range: c.boolSort)
        let err = c.function("Err", domain: [], range: c.boolSort)
        try fp.registerRelation(inv)
        try fp.registerRelation(err)
        let x = c.bvConst("x", width: 8), y = c.bvConst("y", width: 8)
        // x counts to 10 while y stays x + 3.
        try fp.addRule(inv(c.bv(0, width: 8), c.bv(3, width: 8)))
        try fp.addRule(c.forall(bound: [x, y], c.implies(inv(x, y) && c.ult(x, c.bv(10, width: 8)), inv(x + 1, y + 1))))
        try fp.addRule(c.forall(bound: [x, y], c.implies(inv(x, y) && !c.eq(y, x + 3), err())))
        #expect(try fp.query(relations: [err]) == .unsat)
        let a = c.bvConst("a", width: 8), b = c.bvConst("b", width: 8)
        let at = try fp.interpretation(of: inv, at: [a, b])
        let next = try fp.interpretation(of: inv, at: [a + 1, b + 1])
        let initial = try fp.interpretation(of: inv, at: [c.bv(0, width: 8), c.bv(3, width: 8)])
        func valid(_ t: Term) throws -> Bool {
            let s = Solver(c)
            try s.assert(!t)
            return try s.check() == .unsat
        }
        #expect(try valid(initial))
        #expect(try valid(c.implies(at && c.ult(a, c.bv(10, width: 8)), next)))
        #expect(try valid(c.implies(at, c.eq(b, a + 3))))
        #expect(try !valid(at))
        let other = c.function("Other", domain: [bv8], range: c.boolSort)
        // A relation the answer does not mention is unconstrained.
        #expect(try fp.interpretation(of: other, at: [a]) == c.bool(true))
    }

    @Test func freeConstantsAreTheDeclaredSymbols() {
        let c = Context()
        let x = c.bvConst("x", width: 8), p = c.boolConst("p")
        let t = c.ite(p, x + 1, x & c.bv(3, width: 8))
        #expect(Set(t.freeConstants) == [x, p])
        #expect(c.bv(5, width: 8).freeConstants.isEmpty)
    }

    @Test func spacerRefutesTheTooStrongProperty() throws {
        let (r, _) = try counter(bound: 5)
        #expect(r == .sat)
    }

    @Test func unknownParameterThrows() throws {
        let c = Context()
        let fp = Fixedpoint(c)
        #expect(throws: Z3Error.self) { try fp.setParam("no_such_param", 3) }
        try fp.setTimeout(ms: 1000)
    }
}

@Suite struct FixedpointLimitTests {
    /// x := 0; while x < 1_000_000 { x += 1 }; refuting x <= 999_999 needs a
    /// derivation of length 10^6, far beyond a 200 ms budget.
    static func longCounter(_ c: Context) throws -> (Fixedpoint, FuncDecl) {
        let fp = Fixedpoint(c)
        let inv = c.function("Inv", domain: [c.bvSort(32)], range: c.boolSort)
        let err = c.function("Err", domain: [], range: c.boolSort)
        try fp.registerRelation(inv)
        try fp.registerRelation(err)
        let x = c.bvConst("x", width: 32)
        try fp.addRule(inv(c.bv(0, width: 32)))
        try fp.addRule(c.forall(bound: [x], c.implies(
            inv(x) && c.ult(x, c.bv(1_000_000, width: 32)), inv(x + 1))))
        try fp.addRule(c.forall(bound: [x], c.implies(
            inv(x) && c.ugt(x, c.bv(999_999, width: 32)), err())))
        return (fp, err)
    }

    @Test func timeoutBecomesUnknown() async throws {
        let (r, secs) = try await runZ3 { _ in
            try seconds { () throws -> CheckResult in
                let c = Context(timeoutMs: 200)
                let (fp, err) = try Self.longCounter(c)
                return try fp.query(relations: [err])
            }
        }
        #expect(r.isUnknown)
        #expect(secs < 2)
    }

    @Test func interruptBecomesUnknown() async throws {
        let (r, secs) = try await runZ3 { _ in
            try seconds { () throws -> CheckResult in
                let token = CancellationToken()
                let c = Context(cancellation: token)
                let (fp, err) = try Self.longCounter(c)
                Thread.detachNewThread {
                    Thread.sleep(forTimeInterval: 0.1)
                    token.cancel()
                }
                return try fp.query(relations: [err])
            }
        }
        #expect(r.isUnknown)
        #expect(r != .unknown(reason: "canceled (before start)"))
        #expect(secs < 2)
    }
}
