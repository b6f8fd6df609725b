import Foundation
import Synchronization

/// The threads that work a search's levels beside the thread that runs the search.
///
/// A level is published to them (`run`); every thread that comes to it, the caller
/// included, takes units from a shared counter, and the caller then waits only for the
/// helpers that came before it closed the level. Between levels a helper watches for the
/// next one for `watch` seconds before it sleeps: most levels of small scopes are over
/// sooner than a sleeping thread wakes, so with Dispatch's `concurrentPerform` the second
/// core often came to a level after its units were gone, and the caller waited for it.
final class LevelHelpers: @unchecked Sendable {
    static let watch = 200e-6
    /// The level's work: `work(thread)`, threads numbered from 1 (the caller is 0). Written
    /// only while no helper is in a level; read by a helper after it came to the level.
    @exclusivity(unchecked) private var work: (@Sendable (Int) -> Void)? = nil
    /// The number of the level published last (0 before the first; `stop` moves it too).
    private let level = Atomic<Int>(0)
    /// The level's number << 32, `closed` once the caller no longer waits for newcomers,
    /// and how many helpers came to it.
    private let entry = Atomic<Int>(0)
    private static let closed = 1 << 31
    /// How many helpers that came to the level have finished it.
    private let finished = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// Where helpers sleep, and where `stop` waits for them to end; `live` is read and
    /// written under it.
    private let sleep = NSCondition()
    private var live: Int

    init(count: Int) {
        live = max(1, count)
        for t in 1...live {
            let thread = Thread { [self] in helper(t) }
            thread.name = "rmi-check explicit \(t)"
            thread.start()
        }
    }

    /// Ends the helpers and returns when they have ended.
    func stop() {
        stopping.store(true, ordering: .releasing)
        sleep.lock()
        level.add(1, ordering: .releasing)
        sleep.broadcast()
        while live > 0 { sleep.wait() }
        sleep.unlock()
    }

    /// Runs `work(thread)` on this thread (thread 0) and on every helper that comes to it in
    /// time, and returns when all of those have finished.
    func run(_ work: @escaping @Sendable (Int) -> Void) {
        let n = level.load(ordering: .relaxed) + 1
        sleep.lock()
        self.work = work
        finished.store(0, ordering: .relaxed)
        entry.store(n << 32, ordering: .releasing)
        level.store(n, ordering: .releasing)
        sleep.broadcast()
        sleep.unlock()
        work(0)
        let came = entry.bitwiseOr(Self.closed, ordering: .acquiringAndReleasing).oldValue & (Self.closed - 1)
        var polls = 0
        while finished.load(ordering: .acquiring) < came {
            polls += 1
            if polls > 1024 { sched_yield() }
        }
        self.work = nil
    }

    private func helper(_ t: Int) {
        var seen = 0
        while !stopping.load(ordering: .acquiring) {
            // Watch for the next level, then sleep until it comes.
            var n = level.load(ordering: .acquiring)
            let until = Date().timeIntervalSinceReferenceDate + Self.watch
            var polls = 0
            while n == seen {
                polls += 1
                if polls & 63 == 0 && Date().timeIntervalSinceReferenceDate > until { break }
                n = level.load(ordering: .acquiring)
            }
            if n == seen {
                sleep.lock()
                while level.load(ordering: .acquiring) == seen { sleep.wait() }
                sleep.unlock()
                continue
            }
            seen = n
            // Come to level n unless the caller has closed it (or published a later one).
            var e = entry.load(ordering: .acquiring)
            var came = false
            while e >> 32 == n && e & Self.closed == 0 {
                let (done, now) = entry.compareExchange(expected: e, desired: e + 1, ordering: .acquiringAndReleasing)
                if done { came = true; break }
                e = now
            }
            if came {
                work.unsafelyUnwrapped(t)
                finished.add(1, ordering: .releasing)
            }
        }
        sleep.lock()
        live -= 1
        sleep.broadcast()
        sleep.unlock()
    }
}
