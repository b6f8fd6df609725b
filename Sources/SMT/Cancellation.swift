internal import CZ3
internal import Foundation

/// A thread-safe handle to cancel the Z3 work of one or more contexts.
///
/// Pass it to `Context(cancellation:)`. `cancel()` may be called from any
/// thread or task. Cancellation is *sticky*:
/// * checks and queries started after `cancel()` return
///   `.unknown(reason: "canceled (before start)")` without calling Z3;
/// * `cancel()` interrupts (`Z3_interrupt`) every registered context that is
///   inside a check or query, and while one is still running a dedicated
///   thread re-sends the interrupt every 50 ms until it returns (Z3 4.8 drops
///   an interrupt that arrives just before a check starts).
/// * Idle contexts are not interrupted (Z3 would keep the interrupt and fail
///   a later `simplify` or model evaluation), so after a cancel the context's
///   terms, models and `simplify` keep working; only checks are refused.
public final class CancellationToken: Sendable {
    static let beforeStartReason = "canceled (before start)"

    private struct State {
        var cancelled = false
        /// Why, when the canceller said (`cancel(reason:)`): what a check cut short reports.
        var reason: String?
        /// Registered contexts and how many checks each is running. Only
        /// contexts inside a check are interrupted: an interrupt sent to an
        /// idle context lingers and makes later `simplify`/`eval` calls fail.
        var active: [OpaquePointer: Int] = [:]
        var pingerRunning = false

        var anyActive: Bool { active.values.contains { $0 > 0 } }

        func interruptActive() {
            for (c, n) in active where n > 0 { Z3_interrupt(c) }
        }
    }

    /// The only `@unchecked Sendable` piece: mutable state behind a lock.
    private final class Box: @unchecked Sendable {
        private let lock = NSLock()
        private var state = State()

        func withLock<R>(_ body: (inout State) -> R) -> R {
            lock.lock()
            defer { lock.unlock() }
            return body(&state)
        }
    }

    private let box = Box()

    public init() {}

    /// True once `cancel()` has been called.
    public var isCancelled: Bool {
        box.withLock { $0.cancelled }
    }

    /// Why the token was cancelled, when `cancel(reason:)` said.
    public var reason: String? {
        box.withLock { $0.reason }
    }

    /// Cancels: running checks are interrupted, later checks return `.unknown` (with
    /// `reason`, when given, as theirs; the first reason given stays).
    public func cancel(reason: String? = nil) {
        box.withLock { s in
            s.cancelled = true
            if s.reason == nil { s.reason = reason }
            s.interruptActive()
            if s.anyActive && !s.pingerRunning {
                s.pingerRunning = true
                Self.startPinger(box)
            }
        }
    }

    /// Cancels `seconds` from now (a time budget), unless the token is gone by then.
    public func cancel(after seconds: Double, reason: String) {
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, seconds)) { [weak self] in
            self?.cancel(reason: reason)
        }
    }

    /// What a check that returned unknown or was refused reports: the cancel's reason when
    /// the token was cancelled with one, else `z3`.
    func unknownReason(_ z3: String) -> String {
        box.withLock { $0.cancelled ? $0.reason ?? z3 : z3 }
    }

    /// Re-sends interrupts every 50 ms while a check is active.
    private static func startPinger(_ box: Box) {
        let t = Thread {
            while true {
                Thread.sleep(forTimeInterval: 0.05)
                let more = box.withLock { s -> Bool in
                    guard s.anyActive else {
                        s.pingerRunning = false
                        return false
                    }
                    s.interruptActive()
                    return true
                }
                if !more { return }
            }
        }
        t.name = "z3-interrupt"
        t.start()
    }

    // MARK: used by Context / Solver / Fixedpoint

    func register(_ ctx: OpaquePointer) {
        box.withLock { $0.active[ctx] = 0 }
    }

    func unregister(_ ctx: OpaquePointer) {
        box.withLock { _ = $0.active.removeValue(forKey: ctx) }
    }

    /// Returns false (and does not count the check) if already cancelled.
    func beginCheck(_ ctx: OpaquePointer) -> Bool {
        box.withLock { s in
            if s.cancelled { return false }
            s.active[ctx, default: 0] += 1
            return true
        }
    }

    func endCheck(_ ctx: OpaquePointer) {
        box.withLock { $0.active[ctx, default: 1] -= 1 }
    }
}

/// Runs Z3 work on a dedicated thread (64 MiB stack) and bridges Swift task
/// cancellation to the `CancellationToken` passed to `body`.
///
/// Create the `Context` inside `body` with `Context(cancellation: token)` and
/// return only `Sendable` values: no Z3 object may leave the closure. Solver
/// work never blocks the cooperative thread pool, and cancelling the calling
/// task makes running and later checks return `.unknown`.
///
/// ```swift
/// let r = try await runZ3 { token in
///     let c = Context(cancellation: token)
///     let s = Solver(c)
///     try s.assert(...)
///     return try s.check()
/// }
/// ```
public func runZ3<T: Sendable>(
    _ body: @escaping @Sendable (CancellationToken) throws -> T
) async throws -> T {
    let token = CancellationToken()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, any Error>) in
            let thread = Thread {
                cont.resume(with: Result { try body(token) })
            }
            thread.stackSize = 64 << 20
            thread.name = "z3-worker"
            thread.start()
        }
    } onCancel: {
        token.cancel()
    }
}

/// `runZ3` for synchronous callers (a command-line tool's `run`): runs `body` on a
/// dedicated thread with a 64 MiB stack and waits for it. Same rule: create the `Context`
/// inside `body` and return only `Sendable` values.
public func runZ3Blocking<T: Sendable>(
    token: CancellationToken = CancellationToken(),
    _ body: @escaping @Sendable (CancellationToken) throws -> T
) throws -> T {
    let box = BlockingResult<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        box.result = Result { try body(token) }
        done.signal()
    }
    thread.stackSize = 64 << 20
    thread.name = "z3-worker"
    thread.start()
    done.wait()
    return try box.result!.get()
}

/// The result slot `runZ3Blocking` hands from its thread to the waiting caller (written once
/// before the semaphore is signalled, read after the wait).
private final class BlockingResult<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
