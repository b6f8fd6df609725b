import CYAML
import Foundation

/// Reads a YAML plan (libyaml) into the same objects JSONSerialization gives for a JSON one,
/// so that one decoder reads both. Plain scalars are resolved as in YAML's core schema:
/// `null`, `~` and nothing are null; `true`/`false` are booleans; decimal, `0x` and `0o`
/// integers and decimal floats are numbers; anything else, and every quoted scalar, is a
/// string. Only the first document of the file is read.
enum PlanYAML {
    static func object(_ data: Data, file: String) throws -> Any {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else { throw PlanError(file: file, field: "", reason: "cannot start the YAML parser") }
        defer { yaml_parser_delete(&parser) }
        let bytes = [UInt8](data)
        var doc = yaml_document_t()
        let loaded: Int32 = bytes.withUnsafeBufferPointer { buf in
            yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
            return yaml_parser_load(&parser, &doc)
        }
        guard loaded != 0 else {
            let problem = parser.problem.map { String(cString: $0) } ?? "malformed"
            let m = parser.problem_mark
            throw PlanError(file: file, field: "", reason: "not valid YAML: \(problem) at line \(m.line + 1), column \(m.column + 1)")
        }
        defer { yaml_document_delete(&doc) }
        guard let root = yaml_document_get_root_node(&doc) else {
            throw PlanError(file: file, field: "", reason: "the YAML file holds no document")
        }
        return try convert(root, &doc, file: file, depth: 0)
    }

    static func convert(_ node: UnsafeMutablePointer<yaml_node_t>, _ doc: inout yaml_document_t, file: String, depth: Int) throws -> Any {
        guard depth < 64 else { throw PlanError(file: file, field: "", reason: "YAML nested too deeply (or a recursive alias)") }
        let n = node.pointee
        func at() -> String { "line \(n.start_mark.line + 1)" }
        switch n.type {
        case YAML_SCALAR_NODE:
            let s = n.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            return s.style == YAML_PLAIN_SCALAR_STYLE ? resolve(text) : text
        case YAML_SEQUENCE_NODE:
            var out: [Any] = []
            var item = n.data.sequence.items.start
            while let i = item, i < n.data.sequence.items.top {
                guard let child = yaml_document_get_node(&doc, i.pointee) else { break }
                out.append(try convert(child, &doc, file: file, depth: depth + 1))
                item = i + 1
            }
            return out
        case YAML_MAPPING_NODE:
            var out: [String: Any] = [:]
            var pair = n.data.mapping.pairs.start
            while let p = pair, p < n.data.mapping.pairs.top {
                guard let k = yaml_document_get_node(&doc, p.pointee.key), let v = yaml_document_get_node(&doc, p.pointee.value) else { break }
                guard let key = try convert(k, &doc, file: file, depth: depth + 1) as? String else {
                    throw PlanError(file: file, field: "", reason: "a key that is not a string at \(at())")
                }
                guard out[key] == nil else { throw PlanError(file: file, field: key, reason: "given twice (\(at()))") }
                out[key] = try convert(v, &doc, file: file, depth: depth + 1)
                pair = p + 1
            }
            return out
        default:
            return NSNull()
        }
    }

    /// A plain scalar's value under the core schema.
    static func resolve(_ t: String) -> Any {
        switch t {
        case "", "~", "null", "Null", "NULL": return NSNull()
        case "true", "True", "TRUE": return NSNumber(value: true)
        case "false", "False", "FALSE": return NSNumber(value: false)
        default: break
        }
        if let i = Int(t) { return NSNumber(value: i) }
        if t.hasPrefix("0x"), let i = Int(t.dropFirst(2), radix: 16) { return NSNumber(value: i) }
        if t.hasPrefix("0o"), let i = Int(t.dropFirst(2), radix: 8) { return NSNumber(value: i) }
        if t.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true, let d = Double(t), d.isFinite { return NSNumber(value: d) }
        return t
    }
}
