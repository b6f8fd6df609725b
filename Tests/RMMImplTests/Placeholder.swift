import Testing
@testable import RMMImpl
@Test func placeholder() {}
