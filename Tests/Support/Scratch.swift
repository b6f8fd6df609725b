import Foundation

/// A fresh path for one test's files, inside one folder for the whole test run that is
/// removed when the test process exits: test runs leave nothing in the temporary directory.
/// The path is not created (the CLI makes its output folders itself; tests that write
/// files there first create it).
public func scratchDirectory(_ name: String) -> URL {
    Scratch.root.appendingPathComponent("\(name)-\(UInt32.random(in: 0...UInt32.max))")
}

enum Scratch {
    static let root: URL = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rmi-check-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return url
    }()
}
