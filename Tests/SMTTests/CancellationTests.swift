import Foundation
import SMT
import Testing

@Suite struct CancellationTests {
    /// Runs a hard (minutes-long) check in `runZ3`, cancels the task once the
    /// check is about to start, and expects `.unknown` from the interrupted check (not
    /// the before-start answer). No wall-clock bound: under a loaded test run the
    /// cancelling task itself may wait for a thread; the pigeonhole query would take
    /// minutes if the interrupt were lost.
    @Test func taskCancellationInterruptsARunningCheck() async throws {
        let (started, startedCont) = AsyncStream<Void>.makeStream()
        let task = Task {
            try await runZ3 { token -> CheckResult in
                let c = Context(cancellation: token)
                let s = Solver(c)
                try assertPigeonhole(c, s, holes: 12)
                startedCont.yield()
                return try s.check()
            }
        }
        for await _ in started { break }
        try await Task.sleep(for: .milliseconds(150))
        task.cancel()
        let r = try await task.value
        #expect(r.isUnknown)
        #expect(r != .unknown(reason: "canceled (before start)"))
    }

    @Test func cancellationBeforeTheCheckIsSticky() async throws {
        let token = CancellationToken()
        token.cancel()
        #expect(token.isCancelled)
        let r = try await runZ3 { _ -> [CheckResult] in
            let c = Context(cancellation: token)
            let s = Solver(c)
            try s.assert(c.boolConst("p"))
            let fp = Fixedpoint(c)
            let err = c.function("Err", domain: [], range: c.boolSort)
            try fp.registerRelation(err)
            return [try s.check(), try fp.query(relations: [err])]
        }
        #expect(r == [.unknown(reason: "canceled (before start)"), .unknown(reason: "canceled (before start)")])
    }

    @Test func alreadyCancelledTaskDoesNotRunZ3Checks() async throws {
        let task = Task {
            while !Task.isCancelled { await Task.yield() }
            return try await runZ3 { token -> CheckResult in
                let c = Context(cancellation: token)
                let s = Solver(c)
                try assertPigeonhole(c, s, holes: 12)
                return try s.check()
            }
        }
        task.cancel()
        let r = try await task.value
        #expect(r == .unknown(reason: "canceled (before start)"))
    }

    @Test func tokenCancelledFromAnotherThread() async throws {
        let (r, secs) = try await runZ3 { _ -> (CheckResult, Double) in
            let token = CancellationToken()
            let c = Context(cancellation: token)
            let s = Solver(c)
            try assertPigeonhole(c, s, holes: 12)
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: 0.1)
                token.cancel()
            }
            return try seconds { try s.check() }
        }
        #expect(r.isUnknown)
        #expect(secs < 2)
    }

    @Test func oneContextPerChildTask() async throws {
        let values = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for k in UInt64(1)...4 {
                group.addTask {
                    try await runZ3 { token in
                        let c = Context(cancellation: token)
                        let s = Solver(c)
                        let x = c.bvConst("x", width: 16)
                        try s.assert(c.eq(x * 5, c.bv(5 * k, width: 16)))
                        guard try s.check() == .sat else { return 0 }
                        return try s.model().bvValue(x)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(values.sorted() == [1, 2, 3, 4])
    }

    @Test func runZ3PropagatesErrors() async {
        await #expect(throws: Z3Error.self) {
            try await runZ3 { _ in
                let c = Context()
                try Solver(c).setParam("no_such_param", 1)
            }
        }
    }
}

@Suite struct CancellationSideEffectTests {
    /// Cancelling must not poison an idle context: Z3 keeps an interrupt that
    /// arrives outside a check and would fail the next `simplify`.
    @Test func cancelDoesNotPoisonIdleContexts() throws {
        let token = CancellationToken()
        let c = Context(cancellation: token)
        let s = Solver(c)
        let x = c.bvConst("x", width: 8)
        try s.assert(c.eq(x * 3, c.bv(9, width: 8)))
        #expect(try s.check() == .sat)
        let m = try s.model()
        token.cancel()
        #expect(c.simplify(c.bv(2, width: 8) + c.bv(3, width: 8)).description == "#x05")
        #expect(try m.bvValue(x + 1) == 4)
        #expect(try s.check() == .unknown(reason: "canceled (before start)"))
    }

    /// A sort mismatch in a term constructor stops the process through
    /// `preconditionFailure` (a trap), never through Z3's default handler,
    /// which would call `exit(1)`.
    @Test func sortMismatchIsAPreconditionFailure() async {
        #if arch(x86_64)
        let trap = SIGILL  // ud2
        #else
        let trap = SIGTRAP  // brk
        #endif
        await #expect(processExitsWith: .signal(trap)) {
            let c = Context()
            _ = c.bvadd(c.boolConst("p"), c.bvConst("x", width: 8))
        }
    }
}
