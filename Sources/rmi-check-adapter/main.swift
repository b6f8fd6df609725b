// rmi-check-adapter: serves RMMImpl, the implementation RMM of this repository, over the
// line protocol of docs/impl-protocol.md, so that `rmi-check conform --impl-cmd` can be
// tried (and tested) end to end. It is the example for writing an adapter around another
// RMM: it depends on RMMImpl and Foundation only, not on the checker's code, and does what
// a C harness around TF-RMM's host build would do.
//
//   rmi-check-adapter [--bugs NAME[,NAME...]] [--crash-after N] [--hang-after N] [--garble-after N]
//
// --bugs serves RMMImpl with named deviations (RMMBugs.named). The other switches are for
// testing the checker's error paths: after N calls (call and rec_exit requests) the next
// one makes the adapter exit with status 70, sleep forever, or answer with a line that is
// not JSON.

import Foundation
import RMMImpl

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("rmi-check-adapter: \(message)\n".utf8))
    exit(64)
}

var bugs: RMMBugs = []
var crashAfter: Int?, hangAfter: Int?, garbleAfter: Int?
var arguments = CommandLine.arguments.dropFirst()
while let a = arguments.popFirst() {
    func value() -> String {
        guard let v = arguments.popFirst() else { fail("\(a) needs a value") }
        return v
    }
    func count() -> Int {
        let v = value()
        guard let n = Int(v), n >= 0 else { fail("\(a): not a count: \(v)") }
        return n
    }
    switch a {
    case "--bugs":
        for name in value().split(separator: ",") {
            guard let b = RMMBugs(name: String(name)) else {
                fail("unknown deviation '\(name)' (known: \(RMMBugs.named.map(\.name).joined(separator: ", ")))")
            }
            bugs.insert(b)
        }
    case "--crash-after": crashAfter = count()
    case "--hang-after": hangAfter = count()
    case "--garble-after": garbleAfter = count()
    case "-h", "--help":
        print("usage: rmi-check-adapter [--bugs NAME[,NAME...]] [--crash-after N] [--hang-after N] [--garble-after N]")
        exit(0)
    default: fail("unknown argument '\(a)'")
    }
}


/// The server: one RMMImpl instance and the request loop.
final class Adapter {
    let platform = RMMPlatform.standard
    let rmm: RMM
    let crashAfter: Int?, hangAfter: Int?, garbleAfter: Int?
    /// call and rec_exit requests so far.
    var calls = 0

    init(bugs: RMMBugs, crashAfter: Int?, hangAfter: Int?, garbleAfter: Int?) {
        rmm = RMM(platform: platform, bugs: bugs)
        self.crashAfter = crashAfter; self.hangAfter = hangAfter; self.garbleAfter = garbleAfter
    }

    func emit(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

    /// The adapter speaks first: the platform the checker must use.
    func hello() -> String {
        func ranges(_ rs: [RMMPlatform.Range]) -> String {
            "[" + rs.map { "{\"base\":\"\(hex($0.base))\",\"size\":\"\(hex($0.size))\"}" }.joined(separator: ",") + "]"
        }
        let bugs = RMMBugs.named.filter { rmm.bugs.contains($0.bug) }.map(\.name)
        let name = "RMMImpl" + (bugs.isEmpty ? "" : " with " + bugs.joined(separator: ","))
        var p = "\"name\":\"\(name)\",\"delegable\":\(ranges(platform.delegable)),\"secure\":\(ranges(platform.secure))"
        p += ",\"features0\":\"\(hex(platform.features0))\",\"rec_aux_count\":\"\(hex(UInt64(platform.recAuxCount)))\""
        p += ",\"vmid_bits\":\"\(hex(UInt64(platform.vmidBits)))\",\"pa_width\":\"\(hex(UInt64(platform.paWidth)))\""
        return "{\"hello\":\"rmi-check-impl/1\",\"platform\":{\(p)}}"
    }

    func run() {
        emit(hello())
        while let line = readLine() {
            let reply: String
            do {
                guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                    throw BadRequest(reason: "not a JSON object")
                }
                reply = try serve(o)
            } catch let e as BadRequest {
                reply = "{\"ok\":false,\"error\":\"\(e.reason.replacingOccurrences(of: "\"", with: "'"))\"}"
            } catch {
                reply = "{\"ok\":false,\"error\":\"internal error\"}"
            }
            emit(reply)
        }
    }

    func result(_ x: [UInt64], exitAt run: UInt64?) -> String {
        var s = "{\"ok\":true,\"x\":[" + x.map { "\"\(hex($0))\"" }.joined(separator: ",") + "]"
        if let run, x[0] == 0 {
            let fields = exitFields.map { "\"\($0.name)\":\"\(hex(rmm.hostRead(run &+ $0.offset) ?? 0))\"" }
            s += ",\"exit\":{" + fields.joined(separator: ",") + "}"
        }
        return s + "}"
    }

    func serve(_ o: [String: Any]) throws -> String {
        guard let op = o["op"] as? String else { throw BadRequest(reason: "op: missing") }
        switch op {
        case "reset":
            rmm.reset()
            return "{\"ok\":true}"
        case "write":
            let addr = try number(o["addr"], "addr")
            // A write the hardware refuses (a GPF) is dropped, as the Host would see it.
            for (i, v) in try numbers(o["values"], "values").enumerated() { rmm.hostWrite(addr &+ 8 * UInt64(i), v) }
            return "{\"ok\":true}"
        case "set_gpt":
            let addr = try number(o["addr"], "addr")
            let gpt: RMM.GPT
            switch o["gpt"] as? String {
            case "GPT_NS": gpt = .ns
            case "GPT_REALM": gpt = .realm
            case "GPT_SECURE": gpt = .secure
            case "GPT_ROOT": gpt = .root
            case "GPT_AAP": gpt = .any
            default: throw BadRequest(reason: "gpt: unknown GPT entry")
            }
            // EL3 refuses some changes (of a delegated granule, to GPT_REALM); so does RMMImpl.
            rmm.setGPT(addr, gpt)
            return "{\"ok\":true}"
        case "call", "rec_exit":
            calls += 1
            if let n = crashAfter, calls > n {
                FileHandle.standardError.write(Data("rmi-check-adapter: --crash-after \(n): exiting at call \(calls)\n".utf8))
                exit(70)
            }
            if let n = hangAfter, calls > n {
                FileHandle.standardError.write(Data("rmi-check-adapter: --hang-after \(n): hanging at call \(calls)\n".utf8))
                while true { sleep(3600) }
            }
            if let n = garbleAfter, calls > n { return "{\"ok\": tru" }
            if op == "rec_exit" {
                let rec = try number(o["rec"], "rec")
                let b = try behaviour(o["realm"])
                let run = rmm.rec(at: rec)?.runPtr ?? 0
                return result([rmm.completeRun(rec: rec, b), 0, 0, 0, 0], exitAt: run)
            }
            let fid = try number(o["fid"], "fid")
            let x = try numbers(o["x"], "x")
            guard x.count == 5 else { throw BadRequest(reason: "x: expected X1..X5") }
            var run: UInt64?
            if fid == RMM.FID.recEnter {
                let b = try behaviour(o["realm"])
                rmm.nextBehaviour = b
                if b != .stayRunning { run = x[1] }
            }
            let r = rmm.handle(fid: fid, x[0], x[1], x[2], x[3], x[4])
            return result([r.x0, r.x1, r.x2, r.x3, r.x4], exitAt: run)
        default:
            throw BadRequest(reason: "op: unknown request '\(op)'")
        }
    }
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

struct BadRequest: Error { var reason: String }

func number(_ v: Any?, _ field: String) throws -> UInt64 {
    guard let s = v as? String, s.hasPrefix("0x") || s.hasPrefix("0X"), let x = UInt64(s.dropFirst(2), radix: 16) else {
        throw BadRequest(reason: "\(field): expected a hex string")
    }
    return x
}

func numbers(_ v: Any?, _ field: String) throws -> [UInt64] {
    guard let a = v as? [Any] else { throw BadRequest(reason: "\(field): expected an array") }
    return try a.enumerated().map { try number($0.element, "\(field)[\($0.offset)]") }
}

/// What the stand-in guest does during this run: the trace format's Realm action.
func behaviour(_ v: Any?) throws -> RealmBehaviour {
    guard let o = v as? [String: Any] else { return .irq }
    guard let action = o["action"] as? String else { throw BadRequest(reason: "realm.action: missing") }
    func a(_ n: String) throws -> UInt64 { try number(o[n], "realm.\(n)") }
    switch action {
    case "irq": return .irq
    case "fiq": return .fiq
    case "serror": return .serror
    case "wfi": return .wfi
    case "host_call": return .hostCall(imm: try a("imm"))
    case "psci_cpu_on": return .psciCpuOn(target: try a("target_mpidr"), entry: try a("entry"), context: try a("context"))
    case "psci_affinity_info": return .psciAffinityInfo(target: try a("target_mpidr"), lowestLevel: try a("lowest_level"))
    case "psci_cpu_off": return .psciCpuOff
    case "psci_cpu_suspend": return .psciCpuSuspend
    case "psci_system_off": return .psciSystemOff
    case "psci_system_reset": return .psciSystemReset
    case "ripas_change": return .ripasChange(base: try a("base"), top: try a("top"), ripas: try a("ripas"), flags: try a("flags"))
    case "mmio_abort": return .mmioAbort(ipa: try a("ipa"), isv: try a("isv") & 1 == 1)
    case "protected_abort": return .protectedAbort(ipa: try a("ipa"))
    case "stay_running": return .stayRunning
    default: throw BadRequest(reason: "realm.action: unknown action '\(action)'")
    }
}

/// RmiRecExit (B4.4.20) fields, by byte offset in the RmiRecRun page: the ones the checker
/// compares (exit_reason, gprs0..3, ripas_*, imm) and the syndrome registers.
let exitFields: [(name: String, offset: UInt64)] = {
    var f: [(name: String, offset: UInt64)] = [("exit_reason", 0x800), ("esr", 0x900), ("far", 0x908), ("hpfar", 0x910)]
    for i in 0..<UInt64(4) { f.append(("gprs\(i)", 0xA00 + 8 * i)) }
    f += [("ripas_base", 0xD00), ("ripas_top", 0xD08), ("ripas_value", 0xD10), ("imm", 0xE00)]
    return f
}()

Adapter(bugs: bugs, crashAfter: crashAfter, hangAfter: hangAfter, garbleAfter: garbleAfter).run()
