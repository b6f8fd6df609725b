import SMT
import Testing

@Suite struct TermTests {
    @Test func versionLooksLikeAVersion() {
        let parts = z3Version().split(separator: ".")
        #expect(parts.count == 4)
        #expect(parts.allSatisfy { Int($0) != nil })
        #expect(Int(parts[0])! >= 4)
    }

    @Test func sortsAndWidths() {
        let c = Context()
        let x = c.bvConst("x", width: 12)
        let b = c.boolConst("b")
        let a = c.arrayConst("A", indexWidth: 6, valueWidth: 3)
        #expect(x.width == 12)
        #expect(!x.isBool)
        #expect(b.isBool)
        #expect(b.width == nil)
        #expect(a.isArray)
        #expect(a.width == nil)
        #expect(a.sort.arrayDomain?.bvWidth == 6)
        #expect(a.sort.arrayRange?.bvWidth == 3)
        #expect(c.select(a, c.bv(1, width: 6)).width == 3)
        #expect(c.extract(7, 4, x).width == 4)
        #expect(c.zeroExtend(4, x).width == 16)
        #expect(c.signExtend(20, x).width == 32)
        #expect(c.concat(x, c.bv(0, width: 12)).width == 24)
        #expect(c.bvSort(5) == c.bvSort(5))
        #expect(c.bvSort(5) != c.bvSort(6))
        #expect(c.boolSort.description == "Bool")
        #expect(c.bvSort(8).description == "(_ BitVec 8)")
    }

    @Test func descriptionAndSimplify() {
        let c = Context()
        let x = c.bvConst("x", width: 8)
        #expect(x.description == "x")
        #expect((x + 1).description == "(bvadd x #x01)")
        #expect(c.simplify(c.bv(2, width: 8) + c.bv(3, width: 8)).description == "#x05")
        // literals are reduced modulo 2^width
        #expect(c.simplify(c.bv(0x1ff, width: 8)).description == "#xff")
        #expect(c.simplify(c.bv(UInt64.max, width: 64)) == c.bv(UInt64.max, width: 64))
        #expect(c.simplify(c.bool(true) && !c.bool(false)).description == "true")
        #expect(c.simplify(c.and([])).description == "true")
        #expect(c.simplify(c.or([])).description == "false")
    }

    @Test func hashConsingGivesStructuralEquality() {
        let c = Context()
        let x1 = c.bvConst("x", width: 8)
        let x2 = c.bvConst("x", width: 8)
        let y = c.bvConst("y", width: 8)
        #expect(x1 == x2)
        #expect(x1 + y == x2 + y)
        #expect(x1 + y != y + x1)
        #expect(Set([x1, x2, y]).count == 2)
        let other = Context()
        #expect(other.bvConst("x", width: 8) != x1)
    }

    @Test func functionsApply() {
        let c = Context()
        let f = c.function("f", domain: [c.bvSort(4), c.boolSort], range: c.bvSort(8))
        let t = f(c.bv(3, width: 4), c.bool(true))
        #expect(t.width == 8)
        #expect(t.description == "(f #x3 true)")
        #expect(f.apply([c.bv(3, width: 4), c.bool(true)]) == t)
    }
}
