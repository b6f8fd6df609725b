import Testing
@testable import RMISpec

