import Foundation
import Testing
import RMISpec
@testable import RMICheck

/// Every trace of the regression corpus in Specs/traces replays on the spec and conforms on
/// the built-in implementation.
@Suite struct CorpusTests {
    static var corpus: [String] {
        var root = URL(fileURLWithPath: #filePath)
        while root.pathComponents.count > 1, !FileManager.default.fileExists(atPath: root.appendingPathComponent("Specs/traces").path) {
            root.deleteLastPathComponent()
        }
        let dir = root.appendingPathComponent("Specs/traces")
        let files = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(".json") }.sorted().map { dir.appendingPathComponent($0).path }
    }

    @Test func theCorpusIsThere() {
        #expect(CorpusTests.corpus.count >= 3)
    }

    @Test(arguments: CorpusTests.corpus)
    func traceReplaysAndConforms(_ path: String) throws {
        let t = try Trace.load(path: path)
        let r = t.replay()
        #expect(r.agrees, "\(path): \(r.mismatch.map { "\($0)" } ?? "")")
        #expect(t.checkProperties().violations.isEmpty)
        var engine = Conformance(impl: BuiltinRMM(platform: t.platform))
        let v = try engine.check(t)
        #expect(v == nil, "\(path): \(v.map { "\($0)" } ?? "")")
    }
}
