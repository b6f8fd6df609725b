import Foundation
import RMISpec
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An RMM that runs as a separate process and speaks the line protocol of
/// docs/impl-protocol.md on its standard input and output: one JSON object per line, the
/// adapter's hello (its platform) first, then one reply per request.
///
/// The process is started as `/bin/sh -c command` in a process group of its own. Every
/// request has `timeout` seconds to be answered: a process that does not answer in time is
/// killed (the whole group) and the request throws `ImplError(.timedOut)`; one that exits
/// or closes its output throws `.crashed` with its exit status and the last lines of its
/// standard error; a reply that is not what the protocol says throws `.malformedReply`
/// naming the line. After any of these the process is gone, every request throws
/// `.crashed` until `reset()`, which starts it again. A well-formed `{"ok": false}` reply
/// throws `.refused` and leaves the process running.
///
/// The standard error of the process is read while waiting for every reply, so a chatty
/// adapter never blocks on a full pipe; its last lines are kept for error reports. Writing
/// to a process that died raises SIGPIPE, which this class sets to be ignored in the
/// checker (children get the default action back).
///
/// Requests are synchronous: the calling thread waits in poll(2), for at most the timeout.
/// Drive it from a thread of its own rather than from async code on the cooperative pool.
///
/// A black box: `abstractState()` is nil, so conformance compares results and exit records.
public final class ProcessRMM: RMMUnderTest {
    /// The tag of the hello line.
    public static let protocolTag = "rmi-check-impl/1"

    public let command: String
    /// Seconds each request may take.
    public let timeout: Double
    /// Seconds the process may take to send its hello after it is started.
    public let startTimeout: Double
    public let platform: Platform
    /// The `name` the adapter gave in its hello, if any.
    public let announcedName: String?
    public var name: String { command }

    private var child: Child?
    /// Why the process is gone, for requests made before the next reset.
    private var gone: String?

    /// Starts `command` and reads its hello. Throws `ImplError` if the process cannot be
    /// started, dies, stays silent for `max(timeout, 10)` seconds, or says something else.
    public init(command: String, timeout: Double = 5) throws {
        self.command = command
        self.timeout = timeout
        self.startTimeout = max(timeout, 10)
        let (c, hello) = try ProcessRMM.start(command, startTimeout: startTimeout)
        child = c
        platform = hello.platform
        announcedName = hello.name
    }

    // MARK: RMMUnderTest

    public func reset() throws {
        if child == nil {
            let (c, hello) = try ProcessRMM.start(command, startTimeout: startTimeout)
            guard hello.platform == platform else {
                c.kill()
                throw ImplError(.malformedReply, "after a restart the implementation announced another platform than at first")
            }
            child = c
            gone = nil
            return  // a fresh process is in the initial state
        }
        _ = try request("{\"op\":\"reset\"}", kind: .plain)
    }

    public func write(_ w: HostWrite) throws {
        for run in w.wordRuns {
            _ = try request("{\"op\":\"write\",\"addr\":\"\(hex(run.address))\",\"values\":[\(run.values.map { "\"\(hex($0))\"" }.joined(separator: ","))]}",
                            kind: .plain)
        }
    }

    public func setGPT(_ addr: UInt64, _ gpt: GPT) throws {
        _ = try request("{\"op\":\"set_gpt\",\"addr\":\"\(hex(addr))\",\"gpt\":\"\(gpt.specName)\"}", kind: .plain)
    }

    public func call(_ cmd: RMICommand, _ args: [UInt64], realm: RealmActionValue?) throws -> ImplResult {
        let x = (args + Array(repeating: 0, count: max(0, 5 - args.count))).prefix(5)
        var line = "{\"op\":\"call\",\"fid\":\"\(hex(cmd.fid))\",\"x\":[\(x.map { "\"\(hex($0))\"" }.joined(separator: ","))]"
        var kind = ReplyKind.result(exit: false)
        if cmd == .recEnter {
            let r = realm ?? RealmActionValue(.irq)
            line += ",\"realm\":" + ProcessRMM.realmJSON(r)
            kind = .result(exit: r.kind != .stayRunning)
        }
        return try request(line + "}", kind: kind)!
    }

    public func recExit(rec: UInt64, realm: RealmActionValue) throws -> ImplResult {
        try request("{\"op\":\"rec_exit\",\"rec\":\"\(hex(rec))\",\"realm\":\(ProcessRMM.realmJSON(realm))}",
                    kind: .result(exit: true))!
    }

    public func abstractState() -> SpecState? { nil }

    /// A Realm action as the trace format writes it: `{"action": NAME, ARG: "0x..", ...}`.
    static func realmJSON(_ r: RealmActionValue) -> String {
        var s = "{\"action\":\"\(r.kind.name)\""
        for (n, v) in zip(r.kind.argumentNames, r.args + Array(repeating: 0, count: 4)) { s += ",\"\(n)\":\"\(hex(v))\"" }
        return s + "}"
    }

    // MARK: Requests and replies

    enum ReplyKind {
        /// `{"ok": true}`.
        case plain
        /// `{"ok": true, "x": [X0..X4]}`, with the exit record when `exit` and X0 is SUCCESS.
        case result(exit: Bool)
    }

    /// Sends one request line and waits for its reply.
    private func request(_ line: String, kind: ReplyKind) throws -> ImplResult? {
        guard let c = child else {
            throw ImplError(.crashed, "the implementation is not running (\(gone ?? "it stopped")); reset() starts it again")
        }
        c.requests += 1
        let what = "request \(c.requests) \(ProcessRMM.clip(line))"
        let reply: String
        do throws(ChildFailure) {
            if let extra = try c.unsolicitedOutput() { throw ChildFailure.unsolicited(extra) }
            reply = try c.exchange(Array((line + "\n").utf8), timeout: timeout)
        } catch let f {
            child = nil
            let e = c.failure(f, during: what, timeout: timeout)
            gone = "\(e.kind.rawValue) at \(what)"
            throw e
        }
        do {
            return try ProcessRMM.parseReply(reply, kind: kind)
        } catch let r as Refusal {
            throw ImplError(.refused, "\(what): the implementation answered: \(r.reason)")
        } catch let b as Bad {
            child = nil
            c.kill()
            gone = "malformed reply to \(what)"
            throw ImplError(.malformedReply, "reply \(ProcessRMM.clip(reply)) to \(what): \(b.reason)")
        }
    }

    struct Bad: Error { var reason: String }
    struct Refusal: Error { var reason: String }

    static func clip(_ s: String, _ n: Int = 240) -> String {
        s.count <= n ? s : String(s.prefix(n)) + "…"
    }

    static func parseObject(_ line: String) throws -> [String: Any] {
        guard let data = line.data(using: .utf8),
              let v = try? JSONSerialization.jsonObject(with: data, options: []) else { throw Bad(reason: "not JSON") }
        guard let o = v as? [String: Any] else { throw Bad(reason: "not a JSON object") }
        return o
    }

    /// A 64-bit number as the protocol writes it: a string `0x` followed by 1 to 16 hex digits.
    static func number(_ v: Any?, _ field: String) throws -> UInt64 {
        guard let s = v as? String else { throw Bad(reason: "\(field): expected a hex string \"0x...\"") }
        guard s.hasPrefix("0x") || s.hasPrefix("0X"), (3...18).contains(s.count),
              let x = UInt64(s.dropFirst(2), radix: 16) else {
            throw Bad(reason: "\(field): not a hex number: '\(clip(s, 40))'")
        }
        return x
    }

    static func isBool(_ v: Any?) -> Bool? {
        guard let n = v as? NSNumber, String(cString: n.objCType) == "c" else { return nil }
        return n.boolValue
    }

    static func parseReply(_ line: String, kind: ReplyKind) throws -> ImplResult? {
        let o = try parseObject(line)
        guard let ok = isBool(o["ok"]) else { throw Bad(reason: "'ok' must be true or false") }
        if !ok {
            guard let e = o["error"] as? String else { throw Bad(reason: "an {\"ok\": false} reply needs an 'error' string") }
            for k in o.keys where k != "ok" && k != "error" { throw Bad(reason: "unknown field '\(k)'") }
            throw Refusal(reason: e)
        }
        guard case .result(let wantsExit) = kind else {
            for k in o.keys where k != "ok" { throw Bad(reason: "unexpected field '\(k)' (this request's reply is {\"ok\": true})") }
            return nil
        }
        for k in o.keys where !["ok", "x", "exit"].contains(k) { throw Bad(reason: "unknown field '\(k)'") }
        guard let xs = o["x"] as? [Any], xs.count == 5 else { throw Bad(reason: "'x' must be an array of 5 hex strings (X0..X4)") }
        var r = ImplResult(x: try xs.enumerated().map { try number($0.element, "x[\($0.offset)]") })
        if let e = o["exit"] {
            guard let eo = e as? [String: Any] else { throw Bad(reason: "'exit' must be an object") }
            for (k, v) in eo {
                guard ExitRecord.offset(of: k) != nil else { throw Bad(reason: "exit: unknown field '\(k)'") }
                r.exit[k] = try number(v, "exit.\(k)")
            }
        }
        if wantsExit, r.x[0] == 0 {
            let missing = comparedExitFields.filter { r.exit[$0] == nil }
            if !missing.isEmpty {
                throw Bad(reason: "a successful REC exit needs 'exit' with \(comparedExitFields.joined(separator: ", ")) (missing: \(missing.joined(separator: ", ")))")
            }
        }
        return r
    }

    struct Hello { var platform: Platform; var name: String? }

    static func parseHello(_ line: String) throws -> Hello {
        let o = try parseObject(line)
        guard let tag = o["hello"] as? String else { throw Bad(reason: "expected the hello {\"hello\": \"\(protocolTag)\", \"platform\": {...}}") }
        guard tag == protocolTag else { throw Bad(reason: "unknown protocol '\(clip(tag, 40))' (this checker speaks \(protocolTag))") }
        for k in o.keys where k != "hello" && k != "platform" { throw Bad(reason: "unknown field '\(k)'") }
        guard var p = o["platform"] as? [String: Any] else { throw Bad(reason: "'platform' must be an object") }
        var name: String?
        if let n = p.removeValue(forKey: "name") {
            guard let s = n as? String else { throw Bad(reason: "platform.name must be a string") }
            name = s
        }
        for k in ["delegable", "secure", "features0", "rec_aux_count", "vmid_bits", "pa_width"] where p[k] == nil {
            throw Bad(reason: "platform.\(k) is missing")
        }
        // The trace format's reader checks the values; the hello uses the same fields.
        let platform: Platform
        do {
            let json = try JSONSerialization.data(withJSONObject: ["platform": p, "steps": [Any]()], options: [])
            platform = try Trace.decode(json, file: "hello").platform
        } catch let e as TraceError {
            throw Bad(reason: e.description.replacingOccurrences(of: "hello: ", with: ""))
        }
        guard !platform.delegable.isEmpty else { throw Bad(reason: "platform.delegable is empty") }
        for r in platform.delegable + platform.secure where r.base & 0xFFF != 0 || r.size & 0xFFF != 0 || r.size == 0 {
            throw Bad(reason: "platform ranges must be non-empty and 4 KB aligned: \(hex(r.base)) + \(hex(r.size))")
        }
        return Hello(platform: platform, name: name)
    }

    /// Starts the process and reads its hello.
    static func start(_ command: String, startTimeout: Double) throws -> (Child, Hello) {
        let c = try Child(command: command)
        let line: String
        do {
            line = try c.readLine(timeout: startTimeout)
        } catch let f {
            throw c.failure(f, during: "start-up (before the hello)", timeout: startTimeout)
        }
        do {
            return (c, try parseHello(line))
        } catch let b as Bad {
            c.kill()
            throw ImplError(.malformedReply, "hello \(clip(line)): \(b.reason)")
        }
    }
}

// MARK: The process

/// What went wrong while talking to the process.
enum ChildFailure: Error {
    case timedOut
    case closed
    case lineTooLong
    case notUTF8
    /// Output that no request asked for (a second reply, debug output on stdout).
    case unsolicited(String)
}

/// A running adapter: its pid (also its process group), the parent's ends of its three
/// pipes, and what it wrote that has not been consumed.
final class Child {
    let pid: pid_t
    private var toChild: Int32, fromChild: Int32, errors: Int32
    private var pending: [UInt8] = []
    private var errPartial: [UInt8] = []
    /// The last lines of the process's standard error.
    private(set) var errTail: [String] = []
    var requests = 0
    private var reaped: Int32?

    static let maxLine = 1 << 20
    static let tailLines = 8

    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    init(command: String) throws {
        _ = Child.ignoreSIGPIPE
        let stdinPipe = try Child.pipe(), stdoutPipe = try Child.pipe(), stderrPipe = try Child.pipe()
        let childEnds = [stdinPipe.r, stdoutPipe.w, stderrPipe.w]
        defer { for fd in childEnds { close(fd) } }

        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attr: posix_spawnattr_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        var attr = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe.r, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe.w, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe.w, 2)
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // A process group of its own (so a timeout kills everything it started), no blocked
        // signals, SIGPIPE back to its default.
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attr, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attr, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attr, &defaults)

        let strings: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp)
        guard rc == 0 else {
            for fd in [stdinPipe.w, stdoutPipe.r, stderrPipe.r] { close(fd) }
            throw ImplError(.crashed, "cannot start /bin/sh -c \(command): \(String(cString: strerror(rc)))")
        }
        self.pid = pid
        toChild = stdinPipe.w; fromChild = stdoutPipe.r; errors = stderrPipe.r
        for fd in [toChild, fromChild, errors] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit { stop() }

    /// A pipe whose ends are closed on exec, so that no other child inherits them.
    private static func pipe() throws -> (r: Int32, w: Int32) {
        var fds: [Int32] = [-1, -1]
        #if os(Linux)
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
        if let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") {
            guard unsafeBitCast(sym, to: Pipe2.self)(&fds, O_CLOEXEC) == 0 else {
                throw ImplError(.crashed, "pipe2: \(String(cString: strerror(errno)))")
            }
            return (fds[0], fds[1])
        }
        #endif
        guard cPipe(&fds) == 0 else { throw ImplError(.crashed, "pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    /// What the process wrote to its standard output since the last reply (read without
    /// waiting): nil when nothing, as the protocol requires.
    func unsolicitedOutput() throws(ChildFailure) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let r = buffer.withUnsafeMutableBytes { cRead(fromChild, $0.baseAddress, $0.count) }
            if r > 0 { pending += buffer[..<r]; if pending.count > 4096 { break } else { continue } }
            if r == 0 { throw .closed }
            if errno == EINTR { continue }
            break
        }
        return pending.isEmpty ? nil : String(decoding: pending.prefix(240), as: UTF8.self)
    }

    /// Reads one line (without its `\n`) within `timeout` seconds.
    func readLine(timeout: Double) throws(ChildFailure) -> String {
        try exchange([], timeout: timeout)
    }

    /// Writes `request`, then reads one line, within `timeout` seconds, reading the
    /// process's standard error meanwhile.
    func exchange(_ request: [UInt8], timeout: Double) throws(ChildFailure) -> String {
        let deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, timeout) * 1e9)
        var sent = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if sent == request.count, let nl = pending.firstIndex(of: 0x0A) {
                var bytes = Array(pending[..<nl])
                pending.removeSubrange(...nl)
                if bytes.last == 0x0D { bytes.removeLast() }
                guard let s = String(validating: bytes, as: UTF8.self) else { throw .notUTF8 }
                return s
            }
            if pending.count > Child.maxLine { throw .lineTooLong }
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { throw .timedOut }
            let ms = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            var fds = [pollfd(fd: fromChild, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: errors, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: sent < request.count ? toChild : -1, events: Int16(POLLOUT), revents: 0)]
            let n = poll(&fds, nfds_t(fds.count), ms)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .closed
            }
            if fds[1].revents != 0 { drainErrors() }
            if fds[2].revents != 0 {
                let w = request[sent...].withUnsafeBytes { cWrite(toChild, $0.baseAddress, $0.count) }
                if w > 0 { sent += w } else if w < 0 && errno != EAGAIN && errno != EINTR { throw .closed }
            }
            if fds[0].revents != 0 {
                let r = buffer.withUnsafeMutableBytes { cRead(fromChild, $0.baseAddress, $0.count) }
                if r == 0 { throw .closed }
                if r > 0 { pending += buffer[..<r] } else if errno != EAGAIN && errno != EINTR { throw .closed }
            }
        }
    }

    /// Reads what the process wrote to its standard error, without waiting.
    func drainErrors() {
        guard errors >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let r = buffer.withUnsafeMutableBytes { cRead(errors, $0.baseAddress, $0.count) }
            if r <= 0 {
                if r == 0 || (errno != EAGAIN && errno != EINTR) { close(errors); errors = -1 }
                if r < 0 && errno == EINTR { continue }
                return
            }
            for b in buffer[..<r] {
                if b == 0x0A || errPartial.count >= 400 {
                    errTail.append(String(decoding: errPartial, as: UTF8.self))
                    if errTail.count > Child.tailLines { errTail.removeFirst(errTail.count - Child.tailLines) }
                    errPartial = []
                    if b == 0x0A { continue }
                }
                errPartial.append(b)
            }
        }
    }

    /// The last lines of standard error, for a report.
    var stderrSummary: String {
        let lines = (errTail + (errPartial.isEmpty ? [] : [String(decoding: errPartial, as: UTF8.self)]))
            .filter { !$0.isEmpty }
        return lines.isEmpty ? "" : "; its last standard error output: " + lines.joined(separator: " | ")
    }

    /// Waits up to `seconds` for the process to exit; its wait status, or nil.
    private func waitExit(within seconds: Double) -> Int32? {
        if let reaped { return reaped }
        let deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(seconds * 1e9)
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { reaped = status; return status }
            if r < 0 && errno != EINTR { reaped = -1; return -1 }  // not our child any more
            if DispatchTime.now().uptimeNanoseconds >= deadline { return nil }
            usleep(5_000)
        }
    }

    /// Kills the process group and reaps the process.
    func kill() {
        if reaped == nil {
            _ = cKill(-pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            reaped = status
        }
        drainErrors()
        closeAll()
    }

    /// Ends the process: end of input first, then SIGKILL if it lingers.
    func stop() {
        if toChild >= 0 { close(toChild); toChild = -1 }
        if waitExit(within: 0.2) == nil { kill() } else { closeAll() }
    }

    private func closeAll() {
        for fd in [toChild, fromChild, errors] where fd >= 0 { close(fd) }
        toChild = -1; fromChild = -1; errors = -1
    }

    static func describe(status: Int32) -> String {
        if status == -1 { return "ended (its exit status is unknown)" }
        let sig = status & 0x7F
        if sig == 0 { return "exited with status \((status >> 8) & 0xFF)" }
        let names: [Int32: String] = [SIGABRT: "SIGABRT", SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL",
                                      SIGTRAP: "SIGTRAP", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM"]
        return "was killed by signal \(sig)" + (names[sig].map { " (\($0))" } ?? "")
    }

    /// The error for `f`, after which the process is gone (killed if needed).
    func failure(_ f: ChildFailure, during what: String, timeout: Double) -> ImplError {
        switch f {
        case .timedOut:
            kill()
            return ImplError(.timedOut, "no reply within \(timeout) s to \(what); killed it\(stderrSummary)")
        case .closed:
            // It closed its output: usually it is exiting. Give it a moment, then kill it.
            guard let status = waitExit(within: 1) else {
                kill()
                return ImplError(.crashed, "the process closed its standard output during \(what); killed it\(stderrSummary)")
            }
            kill()
            return ImplError(.crashed, "the process \(Child.describe(status: status)) during \(what)\(stderrSummary)")
        case .lineTooLong:
            kill()
            return ImplError(.malformedReply, "a line longer than \(Child.maxLine) bytes after \(what)")
        case .notUTF8:
            kill()
            return ImplError(.malformedReply, "a line that is not UTF-8 after \(what)")
        case .unsolicited(let text):
            kill()
            return ImplError(.malformedReply, "output \(text.debugDescription) before \(what), which no request asked for")
        }
    }
}

// The C functions whose Swift names the methods above shadow.
@inline(__always) private func cPipe(_ fds: UnsafeMutablePointer<Int32>) -> Int32 { pipe(fds) }
@inline(__always) private func cRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { read(fd, p, n) }
@inline(__always) private func cWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { write(fd, p, n) }
@inline(__always) private func cKill(_ pid: pid_t, _ sig: Int32) -> Int32 { kill(pid, sig) }
