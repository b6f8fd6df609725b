import Foundation
import Testing
@testable import Explicit

/// The threads that work a search's levels: over many levels of every size, each unit runs
/// exactly once, each thread's context is made only by a thread that got a unit and is handed
/// back once, and `stop` returns with the helpers ended.
@Suite struct LevelHelpersTests {
    final class Tally: @unchecked Sendable {
        let lock = NSLock()
        var runs: [Int] = [], made = 0, done = 0, threads = Set<Int>()
    }

    @Test(arguments: [1, 3])
    func everyUnitRunsOnce(helpers count: Int) {
        let helpers = LevelHelpers(count: count)
        for level in 0..<400 {
            let n = [0, 1, 2, 3, 5, 17, 64][level % 7]
            let t = Tally()
            t.runs = [Int](repeating: 0, count: n)
            ExplicitSearch.parallel(n, helpers: helpers, make: { () -> Int in
                t.lock.lock(); t.made += 1; t.lock.unlock()
                return 0
            }, done: { (units: Int) in
                t.lock.lock(); t.done += 1; t.lock.unlock()
                #expect(units > 0, "a thread that got no unit made a context")
            }) { k, units in
                units += 1
                t.lock.lock(); t.runs[k] += 1; t.lock.unlock()
            }
            #expect(t.runs.allSatisfy { $0 == 1 }, "level \(level), \(n) units: \(t.runs)")
            #expect(t.made == t.done && t.made <= min(n, count + 1))
        }
        helpers.stop()
    }
}
