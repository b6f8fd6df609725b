import Foundation
import RMISpec

/// A malformed check plan (or baseline): names the file, the field and the reason.
public struct PlanError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var field: String
    public var reason: String
    public init(file: String, field: String, reason: String) { self.file = file; self.field = field; self.reason = reason }
    public var description: String { file + ": " + (field.isEmpty ? "" : "field '\(field)': ") + reason }
}

/// A kind of check a plan can ask for. A check is one entry of the plan's `checks` list;
/// it runs once and settles one or more obligations, each a row of the ledger.
///
/// A new kind is one type conforming to this protocol and one line in `CheckKinds.all`.
public protocol CheckKind: Sendable {
    /// The plan's `kind` value.
    static var kind: String { get }
    /// One line for `docs/check-plan.md` and error messages.
    static var summary: String { get }
    /// Reads the entry's own fields. `id`, `kind`, `description` and `timeout_seconds` are the plan's.
    /// Every field read must go through `entry`, which rejects the ones nobody read.
    init(_ entry: PlanEntry) throws
    /// The obligations, known before anything runs (sharding and the baseline use them):
    /// their names below the check's id (`INV-G1` becomes `<id>/INV-G1`), or `[""]` for a
    /// check that settles one obligation, named by the check's id itself.
    var obligations: [String] { get }
    /// Runs the check: one result per obligation. A thrown error is an internal error.
    func run(_ context: CheckContext) throws -> [ObligationResult]
}

/// The kinds a plan may use.
public enum CheckKinds {
    public static let all: [any CheckKind.Type] = [
        ExplicitCheck.self, CoverCheck.self, ConformanceCheck.self, CorpusCheck.self, HostCheck.self, BMCCheck.self, ProveCheck.self,
        LabelsCheck.self,
    ]
    public static func named(_ kind: String) -> (any CheckKind.Type)? { all.first { $0.kind == kind } }
}

/// What a running check may use.
public struct CheckContext: Sendable {
    /// The folder of the plan file: relative paths in the plan are relative to it.
    public var planDirectory: String
    /// The running check's id, for progress lines.
    public var check: String
    /// Progress lines (standard error in the CLI).
    public var progress: @Sendable (String) -> Void
    /// The seconds the check has (its `timeout_seconds`, or what is left of the plan's
    /// budget): the Z3 engines end themselves then, with what they decided and UNKNOWN for
    /// the rest.
    public var budgetSeconds: Double?
    public init(planDirectory: String, check: String, progress: @escaping @Sendable (String) -> Void = { _ in },
                budgetSeconds: Double? = nil) {
        self.planDirectory = planDirectory; self.check = check; self.progress = progress; self.budgetSeconds = budgetSeconds
    }
}

/// A check plan: what `rmi-check ci` runs (docs/check-plan.md).
public struct CheckPlan: Sendable {
    public static let formatTag = "rmi-check-plan/1"
    public struct Entry: Sendable {
        public var id: String
        public var kind: String
        public var timeoutSeconds: Double?
        /// Free text: why the check is in the plan.
        public var description: String?
        public var check: any CheckKind
        public init(id: String, kind: String, timeoutSeconds: Double? = nil, description: String? = nil, check: any CheckKind) {
            self.id = id; self.kind = kind; self.timeoutSeconds = timeoutSeconds; self.description = description; self.check = check
        }
        /// Obligation ids, in the plan's order.
        public var obligationIDs: [String] {
            check.obligations.map { $0.isEmpty ? id : id + "/" + $0 }
        }
    }
    public var file: String
    public var description: String?
    /// The committed baseline of obligation ids, resolved against the plan's folder.
    public var baseline: String?
    /// Seconds for the whole plan; checks not started by then are UNKNOWN.
    public var budgetSeconds: Double?
    public var entries: [Entry]
    public var directory: String { (file as NSString).deletingLastPathComponent }

    public init(file: String, description: String? = nil, baseline: String? = nil, budgetSeconds: Double? = nil, entries: [Entry]) {
        self.file = file; self.description = description; self.baseline = baseline; self.budgetSeconds = budgetSeconds
        self.entries = entries
    }

    public static func load(path: String) throws -> CheckPlan {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PlanError(file: path, field: "", reason: "cannot read the file")
        }
        return try decode(data, file: path)
    }

    /// Whether `file` is read as YAML (`.yaml`, `.yml`) rather than JSON.
    public static func isYAML(_ file: String) -> Bool {
        let ext = (file as NSString).pathExtension.lowercased()
        return ext == "yaml" || ext == "yml"
    }

    /// Reads a plan: YAML for a `.yaml`/`.yml` file, JSON otherwise; one decoder for both.
    public static func decode(_ data: Data, file: String) throws -> CheckPlan {
        let root: Any
        if isYAML(file) {
            root = try PlanYAML.object(data, file: file)
        } else {
            do { root = try JSONSerialization.jsonObject(with: data) } catch {
                throw PlanError(file: file, field: "", reason: "not valid JSON (\(error.localizedDescription))")
            }
        }
        guard let top = root as? [String: Any] else { throw PlanError(file: file, field: "", reason: "expected an object (a mapping) at the top") }
        let r = PlanEntry(file: file, path: "", fields: top, directory: (file as NSString).deletingLastPathComponent)
        if let tag = try r.optionalString("format"), tag != formatTag {
            throw r.fail("format", "unknown format '\(tag)' (expected \(formatTag))")
        }
        var plan = CheckPlan(file: file, description: try r.optionalString("description"), baseline: nil,
                             budgetSeconds: try r.optionalSeconds("budget_seconds"), entries: [])
        if let b = try r.optionalString("baseline") { plan.baseline = r.resolve(b) }
        let defaultTimeout = try r.optionalSeconds("timeout_seconds")
        let list = try r.array("checks")
        var seen: Set<String> = []
        for (i, item) in list.enumerated() {
            let path = "checks[\(i)]"
            guard let fields = item as? [String: Any] else { throw r.fail(path, "expected an object") }
            let e = PlanEntry(file: file, path: path, fields: fields, directory: r.directory)
            let id = try e.string("id")
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), id.first != "." else {
                throw e.fail("id", "'\(id)' is not a check id (letters, digits, '-', '_', '.'; no '/')")
            }
            guard seen.insert(id).inserted else { throw e.fail("id", "duplicate id '\(id)'") }
            let kindName = try e.string("kind")
            guard let kind = CheckKinds.named(kindName) else {
                throw e.fail("kind", "unknown kind '\(kindName)' (known: \(CheckKinds.all.map { $0.kind }.joined(separator: ", ")))")
            }
            let timeout = try e.optionalSeconds("timeout_seconds") ?? defaultTimeout
            let description = try e.optionalString("description")
            let check = try kind.init(e)
            try e.rejectUnread()
            plan.entries.append(Entry(id: id, kind: kindName, timeoutSeconds: timeout, description: description, check: check))
        }
        try r.rejectUnread()
        return plan
    }
}

/// One object of a plan, read field by field: every read is recorded, and fields nobody
/// read are rejected, so a misspelt field is an error and not a silent default.
public final class PlanEntry: @unchecked Sendable {
    public let file: String
    /// Where the object is in the plan (`checks[3]`), for error messages.
    public let path: String
    public let directory: String
    let fields: [String: Any]
    var read: Set<String> = []

    init(file: String, path: String, fields: [String: Any], directory: String) {
        self.file = file; self.path = path; self.fields = fields; self.directory = directory
    }

    public func fail(_ field: String, _ reason: String) -> PlanError {
        PlanError(file: file, field: path.isEmpty ? field : field.isEmpty ? path : path + "." + field, reason: reason)
    }
    /// A path in the plan, relative to the plan's folder unless absolute.
    public func resolve(_ p: String) -> String {
        p.hasPrefix("/") ? p : (directory.isEmpty ? p : (directory as NSString).appendingPathComponent(p))
    }
    func value(_ k: String) -> Any? {
        read.insert(k)
        guard let v = fields[k], !(v is NSNull) else { return nil }
        return v
    }
    func rejectUnread() throws {
        if let k = fields.keys.sorted().first(where: { !read.contains($0) }) { throw fail(k, "unknown field") }
    }

    public func has(_ k: String) -> Bool { fields[k] != nil }
    public func string(_ k: String) throws -> String {
        guard let s = try optionalString(k) else { throw fail(k, "missing") }
        return s
    }
    public func optionalString(_ k: String) throws -> String? {
        guard let v = value(k) else { return nil }
        guard let s = v as? String else { throw fail(k, "expected a string") }
        return s
    }
    public func optionalInt(_ k: String, min lo: Int = 0) throws -> Int? {
        guard let v = value(k) else { return nil }
        guard let n = v as? NSNumber, !isBool(n), let i = Int(exactly: n.doubleValue) else {
            throw fail(k, "expected an integer")
        }
        guard i >= lo else { throw fail(k, "must be >= \(lo), got \(i)") }
        return i
    }
    /// A 64-bit value: a JSON integer or a string in decimal or hex (`0x..`).
    public func optionalUInt64(_ k: String) throws -> UInt64? {
        guard let v = value(k) else { return nil }
        if let s = v as? String {
            let t = s.lowercased()
            if t.hasPrefix("0x"), let x = UInt64(t.dropFirst(2), radix: 16) { return x }
            if let x = UInt64(t) { return x }
            throw fail(k, "not a number: '\(s)'")
        }
        guard let n = v as? NSNumber, !isBool(n), n.doubleValue >= 0, n.doubleValue == n.doubleValue.rounded() else {
            throw fail(k, "expected a non-negative integer")
        }
        return n.uint64Value
    }
    func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }
    public func optionalSeconds(_ k: String) throws -> Double? {
        guard let v = value(k) else { return nil }
        guard let n = v as? NSNumber, !isBool(n), n.doubleValue > 0 else {
            throw fail(k, "expected a positive number of seconds")
        }
        return n.doubleValue
    }
    public func optionalBool(_ k: String) throws -> Bool? {
        guard let v = value(k) else { return nil }
        guard let n = v as? NSNumber, isBool(n) else { throw fail(k, "expected true or false") }
        return n.boolValue
    }
    /// A list of strings; a single string is a list of one.
    public func optionalStrings(_ k: String) throws -> [String]? {
        guard let v = value(k) else { return nil }
        if let s = v as? String { return [s] }
        guard let a = v as? [Any] else { throw fail(k, "expected a list of strings") }
        return try a.enumerated().map { i, x in
            guard let s = x as? String else { throw fail("\(k)[\(i)]", "expected a string") }
            return s
        }
    }
    public func array(_ k: String) throws -> [Any] {
        guard let v = value(k) else { throw fail(k, "missing") }
        guard let a = v as? [Any] else { throw fail(k, "expected a list") }
        return a
    }
    /// One of `choices`.
    public func choice(_ k: String, _ choices: [String], default d: String? = nil) throws -> String {
        guard let s = try optionalString(k) else {
            if let d { return d }
            throw fail(k, "missing (one of: \(choices.joined(separator: ", ")))")
        }
        guard choices.contains(s) else { throw fail(k, "unknown value '\(s)' (known: \(choices.joined(separator: ", ")))") }
        return s
    }
}
