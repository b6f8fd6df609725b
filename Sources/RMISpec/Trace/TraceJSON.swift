import Foundation

/// A malformed trace file: names the file, the step and the field.
public struct TraceError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var step: Int?
    public var field: String
    public var reason: String
    public init(file: String, step: Int?, field: String, reason: String) {
        self.file = file; self.step = step; self.field = field; self.reason = reason
    }
    public var description: String {
        var s = file + ": "
        if let step { s += "step \(step): " }
        if !field.isEmpty { s += "field '\(field)': " }
        return s + reason
    }
}

// MARK: Reading

extension Trace {
    public static let formatTag = "rmi-check-trace/1"

    /// Parses a trace file's contents; `file` is used in error messages.
    public static func decode(_ data: Data, file: String) throws -> Trace {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw TraceError(file: file, step: nil, field: "", reason: "not valid JSON (\(error.localizedDescription))")
        }
        let r = JSONReader(file: file, step: nil)
        let top = try r.object(root, "")
        if let f = top["format"] {
            let tag = try r.string(f, "format")
            guard tag == formatTag else { throw r.fail("format", "unknown format '\(tag)' (expected \(formatTag))") }
        }
        var trace = Trace()
        if let d = top["description"] { trace.description = try r.string(d, "description") }
        if let p = top["platform"] { trace.platform = try r.platform(p, "platform") }
        if let o = top["options"] {
            for (i, item) in try r.array(o, "options").enumerated() {
                let name = try r.string(item, "options[\(i)]")
                guard let opt = SpecOptions.named.first(where: { $0.0 == name }) else {
                    throw r.fail("options[\(i)]", "unknown option '\(name)' (known: \(SpecOptions.named.map(\.0).joined(separator: ", ")))")
                }
                trace.options.insert(opt.1)
            }
        }
        guard let stepsValue = top["steps"] else { throw r.fail("steps", "missing") }
        for (i, s) in try r.array(stepsValue, "steps").enumerated() {
            let sr = JSONReader(file: file, step: i)
            trace.steps.append(try sr.step(s))
        }
        for key in top.keys where !["format", "description", "platform", "options", "steps"].contains(key) {
            throw r.fail(key, "unknown field")
        }
        return trace
    }

    public static func load(path: String) throws -> Trace {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TraceError(file: path, step: nil, field: "", reason: "cannot read the file")
        }
        return try decode(data, file: path)
    }
}

struct JSONReader {
    let file: String
    let step: Int?

    func fail(_ field: String, _ reason: String) -> TraceError {
        TraceError(file: file, step: step, field: field, reason: reason)
    }

    func object(_ v: Any, _ field: String) throws -> [String: Any] {
        guard let o = v as? [String: Any] else { throw fail(field, "expected an object") }
        return o
    }
    func array(_ v: Any, _ field: String) throws -> [Any] {
        guard let a = v as? [Any] else { throw fail(field, "expected an array") }
        return a
    }
    func string(_ v: Any, _ field: String) throws -> String {
        guard let s = v as? String else { throw fail(field, "expected a string") }
        return s
    }
    /// A 64-bit value: a JSON integer, or a string in hex (`0x..`) or decimal, possibly
    /// negative (two's complement, for levels).
    func number(_ v: Any, _ field: String) throws -> UInt64 {
        if let s = v as? String {
            let t = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
            if t.lowercased().hasPrefix("0x"), let x = UInt64(t.dropFirst(2), radix: 16) { return x }
            if let x = UInt64(t) { return x }
            if let x = Int64(t) { return UInt64(bitPattern: x) }
            throw fail(field, "not a number: '\(s)'")
        }
        if let n = v as? NSNumber, String(cString: n.objCType) != "c" {
            let d = n.doubleValue
            guard d == d.rounded() else { throw fail(field, "not an integer: \(n)") }
            if d < 0 { return UInt64(bitPattern: n.int64Value) }
            guard d < 18446744073709551616.0 else { throw fail(field, "out of range: \(n)") }
            return n.uint64Value
        }
        throw fail(field, "expected a number")
    }
    func numbers(_ v: Any, _ field: String) throws -> [UInt64] {
        try array(v, field).enumerated().map { try number($0.element, "\(field)[\($0.offset)]") }
    }

    func platform(_ v: Any, _ field: String) throws -> Platform {
        if let s = v as? String {
            guard s == "standard" else { throw fail(field, "unknown platform '\(s)' (known: standard)") }
            return .standard
        }
        let o = try object(v, field)
        var p = Platform.standard
        func ranges(_ key: String) throws -> [Platform.Range] {
            try array(o[key]!, "\(field).\(key)").enumerated().map { i, r in
                let ro = try object(r, "\(field).\(key)[\(i)]")
                guard let b = ro["base"], let s = ro["size"] else { throw fail("\(field).\(key)[\(i)]", "needs base and size") }
                return Platform.Range(base: try number(b, "\(field).\(key)[\(i)].base"), size: try number(s, "\(field).\(key)[\(i)].size"))
            }
        }
        for key in o.keys {
            switch key {
            case "delegable": p.delegable = try ranges(key)
            case "secure": p.secure = try ranges(key)
            case "features0": p.features0 = try number(o[key]!, "\(field).\(key)")
            case "rec_aux_count":
                p.recAuxCount = try number(o[key]!, "\(field).\(key)")
                guard p.recAuxCount <= 16 else { throw fail("\(field).\(key)", "RecAuxCount is at most 16") }
            case "vmid_bits":
                p.vmidBits = try number(o[key]!, "\(field).\(key)")
                guard p.vmidBits == 8 || p.vmidBits == 16 else { throw fail("\(field).\(key)", "must be 8 or 16") }
            case "pa_width": p.paWidth = try number(o[key]!, "\(field).\(key)")
            default: throw fail("\(field).\(key)", "unknown field")
            }
        }
        return p
    }

    func step(_ v: Any) throws -> TraceStep {
        let o = try object(v, "")
        if let c = o["call"] {
            let name = try string(c, "call")
            guard let cmd = RMICommand(name: name) else { throw fail("call", "unknown command '\(name)'") }
            var args: [UInt64] = []
            let given = try o["args"].map { try object($0, "args") } ?? [:]
            for a in cmd.inputs {
                guard let value = given[a] else { throw fail("args.\(a)", "missing argument of \(cmd.rawValue)") }
                args.append(try number(value, "args.\(a)"))
            }
            for key in given.keys where !cmd.inputs.contains(key) {
                throw fail("args.\(key)", "\(cmd.rawValue) takes no argument '\(key)' (it takes \(cmd.inputs.joined(separator: ", ")))")
            }
            let writes = try o["writes"].map { try array($0, "writes").enumerated().map { try write($0.element, "writes[\($0.offset)]") } } ?? []
            let realm = try o["realm"].map { try realmAction($0, "realm") }
            if realm != nil && cmd != .recEnter { throw fail("realm", "only RMI_REC_ENTER takes a Realm action") }
            let expect = try o["expect"].map { try expectation($0, "expect", command: cmd) }
            try noOthers(o, ["call", "args", "writes", "realm", "expect"])
            return .call(CallStep(command: cmd, args: args, writes: writes, realm: realm, expect: expect))
        }
        if let w = o["write"] {
            try noOthers(o, ["write"])
            return .write(try write(w, "write"))
        }
        if let e = o["event"] {
            let name = try string(e, "event")
            switch name {
            case "set_gpt":
                guard let a = o["addr"] else { throw fail("addr", "missing") }
                guard let g = o["gpt"] else { throw fail("gpt", "missing") }
                let gname = try string(g, "gpt")
                guard let gpt = GPT.allCases.first(where: { $0.specName == gname || $0.specName == "GPT_" + gname.uppercased() }) else {
                    throw fail("gpt", "unknown GPT value '\(gname)'")
                }
                try noOthers(o, ["event", "addr", "gpt"])
                return .setGPT(addr: try number(a, "addr"), gpt: gpt)
            case "rec_exit":
                guard let r = o["rec"] else { throw fail("rec", "missing") }
                guard let ra = o["realm"] else { throw fail("realm", "missing") }
                let expect = try o["expect"].map { try expectation($0, "expect", command: nil) }
                try noOthers(o, ["event", "rec", "realm", "expect"])
                return .recExit(rec: try number(r, "rec"), realm: try realmAction(ra, "realm"), expect: expect)
            default:
                throw fail("event", "unknown event '\(name)' (known: set_gpt, rec_exit)")
            }
        }
        throw fail("", "a step needs one of 'call', 'write' or 'event'")
    }

    func noOthers(_ o: [String: Any], _ allowed: [String]) throws {
        for key in o.keys.sorted() where !allowed.contains(key) { throw fail(key, "unknown field") }
    }

    func write(_ v: Any, _ field: String) throws -> HostWrite {
        let o = try object(v, field)
        guard o.count == 1, let (kind, body) = o.first else {
            throw fail(field, "a write is one of realm_params, rec_params, rec_run, data, words")
        }
        let b = try object(body, "\(field).\(kind)")
        guard let atV = b["at"] else { throw fail("\(field).\(kind).at", "missing") }
        let at = try number(atV, "\(field).\(kind).at")
        func num(_ k: String, _ d: UInt64) throws -> UInt64 { try b[k].map { try number($0, "\(field).\(kind).\(k)") } ?? d }
        func check(_ known: [String]) throws {
            for k in b.keys.sorted() where k != "at" && !known.contains(k) { throw fail("\(field).\(kind).\(k)", "unknown field") }
        }
        switch kind {
        case "realm_params":
            try check(["flags", "s2sz", "sve_vl", "num_bps", "num_wps", "pmu_num_ctrs", "hash_algo", "rpv", "vmid",
                       "rtt_base", "rtt_level_start", "rtt_num_start"])
            var p = RealmParamsValues(rttBase: try num("rtt_base", 0))
            p.flags = try num("flags", 0); p.s2sz = try num("s2sz", 0); p.sveVL = try num("sve_vl", 0)
            p.numBPs = try num("num_bps", 0); p.numWPs = try num("num_wps", 0); p.pmuNumCtrs = try num("pmu_num_ctrs", 0)
            p.hashAlgo = try num("hash_algo", 0); p.rpv = try num("rpv", 0); p.vmid = try num("vmid", 0)
            p.rttLevelStart = Int64(bitPattern: try num("rtt_level_start", 0)); p.rttNumStart = try num("rtt_num_start", 0)
            return .realmParams(at: at, p)
        case "rec_params":
            try check(["flags", "mpidr", "pc", "gprs", "num_aux", "aux"])
            var p = RecParamsValues(mpidr: try num("mpidr", 0), aux: try b["aux"].map { try numbers($0, "\(field).\(kind).aux") } ?? [])
            p.flags = try num("flags", 0); p.pc = try num("pc", 0); p.numAux = try num("num_aux", UInt64(p.aux.count))
            if let g = b["gprs"] {
                let gs = try numbers(g, "\(field).\(kind).gprs")
                guard gs.count <= RecParamsLayout.gprCount else { throw fail("\(field).\(kind).gprs", "at most 8 registers") }
                p.gprs = gs + Array(repeating: 0, count: RecParamsLayout.gprCount - gs.count)
            }
            guard p.aux.count <= RecField.auxMax else { throw fail("\(field).\(kind).aux", "at most 16 aux Granules") }
            return .recParams(at: at, p)
        case "rec_run":
            try check(["flags", "gprs", "gicv3_hcr", "gicv3_lrs"])
            var e = RecEnterValues(flags: try num("flags", 0))
            e.gicv3Hcr = try num("gicv3_hcr", 0)
            if let g = b["gprs"] {
                let gs = try numbers(g, "\(field).\(kind).gprs")
                guard gs.count <= RecField.gprCount else { throw fail("\(field).\(kind).gprs", "at most 31 registers") }
                e.gprs = gs + Array(repeating: 0, count: RecField.gprCount - gs.count)
            }
            if let l = b["gicv3_lrs"] {
                let ls = try numbers(l, "\(field).\(kind).gicv3_lrs")
                guard ls.count <= 16 else { throw fail("\(field).\(kind).gicv3_lrs", "at most 16 list registers") }
                e.gicv3Lrs = ls + Array(repeating: 0, count: 16 - ls.count)
            }
            return .recRun(at: at, e)
        case "data":
            try check(["content"])
            return .data(at: at, content: try num("content", 0))
        case "words":
            try check(["values"])
            guard let vs = b["values"] else { throw fail("\(field).words.values", "missing") }
            return .words(at: at, try numbers(vs, "\(field).words.values"))
        default:
            throw fail("\(field).\(kind)", "unknown write (known: realm_params, rec_params, rec_run, data, words)")
        }
    }

    func realmAction(_ v: Any, _ field: String) throws -> RealmActionValue {
        let o = try object(v, field)
        guard let a = o["action"] else { throw fail("\(field).action", "missing") }
        let name = try string(a, "\(field).action")
        guard let kind = RealmActionKind(name: name) else {
            throw fail("\(field).action", "unknown Realm action '\(name)' (known: \(RealmActionKind.allCases.map(\.name).joined(separator: ", ")))")
        }
        var args: [UInt64] = []
        for n in kind.argumentNames {
            guard let x = o[n] else { throw fail("\(field).\(n)", "missing argument of \(name)") }
            args.append(try number(x, "\(field).\(n)"))
        }
        for key in o.keys.sorted() where key != "action" && !kind.argumentNames.contains(key) {
            throw fail("\(field).\(key)", "\(name) takes no argument '\(key)'")
        }
        return RealmActionValue(kind, args)
    }

    func expectation(_ v: Any, _ field: String, command: RMICommand?) throws -> Expectation {
        let o = try object(v, field)
        guard let s = o["status"] else { throw fail("\(field).status", "missing") }
        let sname = try string(s, "\(field).status")
        guard let status = Status(specName: sname) else { throw fail("\(field).status", "unknown status '\(sname)'") }
        var e = Expectation(status: status)
        if let i = o["index"] { e.index = try number(i, "\(field).index") & 0xFF }
        if let l = o["label"] { e.label = try string(l, "\(field).label") }
        if let outs = o["outputs"] {
            for (k, x) in try object(outs, "\(field).outputs") {
                if let command, !command.outputs.contains(k) {
                    throw fail("\(field).outputs.\(k)", "\(command.rawValue) has no output '\(k)'")
                }
                e.outputs[k] = try number(x, "\(field).outputs.\(k)")
            }
        }
        if let ex = o["exit"] {
            for (k, x) in try object(ex, "\(field).exit") {
                guard ExitRecord.offset(of: k) != nil else { throw fail("\(field).exit.\(k)", "unknown exit field") }
                e.exit[k] = try number(x, "\(field).exit.\(k)")
            }
        }
        try noOthers(o, ["status", "index", "label", "outputs", "exit"])
        return e
    }
}

// MARK: Writing

extension Trace {
    /// The trace as JSON, with keys in a stable order.
    public func encoded() -> Data {
        var root: [String: Any] = ["format": Trace.formatTag]
        if let description { root["description"] = description }
        if platform != .standard { root["platform"] = Trace.platformJSON(platform) }
        let opts = SpecOptions.named.filter { options.contains($0.1) }.map(\.0)
        if !opts.isEmpty { root["options"] = opts }
        root["steps"] = steps.map(Trace.stepJSON)
        return try! JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
    }

    /// Writes the trace to `path` through a temporary file and a rename, so a reader never
    /// sees half a file and an existing file is replaced whole or not at all.
    public func write(to path: String) throws {
        try atomicWrite(encoded() + Data("\n".utf8), to: path)
    }

    static func platformJSON(_ p: Platform) -> [String: Any] {
        func r(_ rs: [Platform.Range]) -> [[String: String]] { rs.map { ["base": hex($0.base), "size": hex($0.size)] } }
        return ["delegable": r(p.delegable), "secure": r(p.secure), "features0": hex(p.features0),
                "rec_aux_count": p.recAuxCount, "vmid_bits": p.vmidBits, "pa_width": p.paWidth]
    }

    static func stepJSON(_ s: TraceStep) -> [String: Any] {
        switch s {
        case .call(let c):
            var o: [String: Any] = ["call": c.command.rawValue]
            o["args"] = Dictionary(uniqueKeysWithValues: zip(c.command.inputs, c.args.map(hex)))
            if !c.writes.isEmpty { o["writes"] = c.writes.map(writeJSON) }
            if let r = c.realm { o["realm"] = realmJSON(r) }
            if let e = c.expect { o["expect"] = expectJSON(e) }
            return o
        case .write(let w):
            return ["write": writeJSON(w)]
        case .setGPT(let a, let g):
            return ["event": "set_gpt", "addr": hex(a), "gpt": g.specName]
        case .recExit(let rec, let realm, let e):
            var o: [String: Any] = ["event": "rec_exit", "rec": hex(rec), "realm": realmJSON(realm)]
            if let e { o["expect"] = expectJSON(e) }
            return o
        }
    }

    static func writeJSON(_ w: HostWrite) -> [String: Any] {
        switch w {
        case .realmParams(let a, let p):
            return ["realm_params": ["at": hex(a), "flags": hex(p.flags), "s2sz": p.s2sz, "sve_vl": p.sveVL,
                                     "num_bps": p.numBPs, "num_wps": p.numWPs, "pmu_num_ctrs": p.pmuNumCtrs,
                                     "hash_algo": p.hashAlgo, "rpv": hex(p.rpv), "vmid": p.vmid, "rtt_base": hex(p.rttBase),
                                     "rtt_level_start": p.rttLevelStart, "rtt_num_start": p.rttNumStart] as [String: Any]]
        case .recParams(let a, let p):
            return ["rec_params": ["at": hex(a), "flags": hex(p.flags), "mpidr": hex(p.mpidr), "pc": hex(p.pc),
                                   "gprs": p.gprs.map(hex), "num_aux": p.numAux, "aux": p.aux.map(hex)] as [String: Any]]
        case .recRun(let a, let e):
            return ["rec_run": ["at": hex(a), "flags": hex(e.flags), "gprs": e.gprs.map(hex),
                                "gicv3_hcr": hex(e.gicv3Hcr), "gicv3_lrs": e.gicv3Lrs.map(hex)] as [String: Any]]
        case .data(let a, let c):
            return ["data": ["at": hex(a), "content": hex(c)]]
        case .words(let a, let ws):
            return ["words": ["at": hex(a), "values": ws.map(hex)] as [String: Any]]
        }
    }

    static func realmJSON(_ r: RealmActionValue) -> [String: Any] {
        var o: [String: Any] = ["action": r.kind.name]
        for (n, v) in zip(r.kind.argumentNames, r.args) { o[n] = hex(v) }
        return o
    }

    static func expectJSON(_ e: Expectation) -> [String: Any] {
        var o: [String: Any] = ["status": e.status.specName]
        if e.status != .success || e.index != 0 { o["index"] = Int64(Int8(bitPattern: UInt8(e.index & 0xFF))) }
        if let l = e.label { o["label"] = l }
        if !e.outputs.isEmpty { o["outputs"] = e.outputs.mapValues(hex) }
        if !e.exit.isEmpty { o["exit"] = e.exit.mapValues(hex) }
        return o
    }
}

/// Writes `data` to `path` via a temporary file in the same folder and a rename.
public func atomicWrite(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp")
    try data.write(to: tmp)
    // rename(2) replaces the target atomically.
    if rename(tmp.path, path) != 0 {
        let err = errno
        try? FileManager.default.removeItem(at: tmp)
        throw TraceError(file: path, step: nil, field: "", reason: "cannot write: \(String(cString: strerror(err)))")
    }
}
