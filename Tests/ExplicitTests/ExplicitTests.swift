import Testing
@testable import Explicit
import RMISpec

@Suite struct ExplicitTests {
    @Test func parsesScope() throws {
        let s = try ExplicitScope.parse("granules=4,realms=1,recs=1,ipas=2")
        #expect(s.granules == 4 && s.realms == 1 && s.recs == 1 && s.ipas == 2)
    }
}
