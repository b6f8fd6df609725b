// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "rmi-check",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rmi-check", targets: ["rmi-check"]),
        .executable(name: "rmi-check-adapter", targets: ["rmi-check-adapter"]),
        .library(name: "RMISpec", targets: ["RMISpec"]),
        .library(name: "SMT", targets: ["SMT"]),
        .library(name: "RMMImpl", targets: ["RMMImpl"]),
        .library(name: "RMICheck", targets: ["RMICheck"]),
        .library(name: "KVMHost", targets: ["KVMHost"]),
        .library(name: "Explicit", targets: ["Explicit"]),
        .library(name: "RMICheckCI", targets: ["RMICheckCI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CZ3", path: "Sources/CZ3", pkgConfig: "z3",
                       providers: [.apt(["libz3-dev"])]),
        .target(name: "SMT", dependencies: ["CZ3"]),
        // Optimised even in debug builds: the test suite runs the spec millions of times.
        .target(name: "RMISpec", dependencies: ["SMT"], swiftSettings: [.unsafeFlags(["-O"])]),
        // The implementation under test. It must not depend on RMISpec or SMT.
        .target(name: "RMMImpl", swiftSettings: [.unsafeFlags(["-O"])]),
        // The engines: conformance (spec against an implementation), and later the symbolic ones.
        .target(name: "RMICheck", dependencies: ["RMISpec", "RMMImpl", "SMT"], swiftSettings: [.unsafeFlags(["-O"])]),
        // The Linux KVM (CCA v10) host flow as a program over RMMUnderTest, its properties,
        // mutations and the bounded explorer.
        .target(name: "KVMHost", dependencies: ["RMISpec", "RMICheck"], swiftSettings: [.unsafeFlags(["-O"])]),
        // Explicit-state search over the spec's concrete face.
        .target(name: "Explicit", dependencies: ["RMISpec"], swiftSettings: [.unsafeFlags(["-O"])]),
        // The CI gate: check plans, obligation kinds, the proof ledger and its reports. Its own
        // target because it drives every engine (KVMHost itself depends on RMICheck).
        .target(name: "RMICheckCI", dependencies: ["RMISpec", "RMICheck", "RMMImpl", "KVMHost", "Explicit", "CYAML"]),
        // YAML check plans: Debian's libyaml-dev (pkg-config `yaml-0.1`).
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .executableTarget(name: "rmi-check", dependencies: [
            "RMISpec", "RMICheck", "KVMHost", "Explicit", "RMICheckCI", "SMT",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // An example adapter: RMMImpl served over the line protocol of docs/impl-protocol.md.
        .executableTarget(name: "rmi-check-adapter", dependencies: ["RMMImpl"]),
        // Scratch folders for the tests that write files, removed when the test run ends.
        .target(name: "TestSupport", path: "Tests/Support"),
        .testTarget(name: "SMTTests", dependencies: ["SMT"]),
        // Also RMICheck: the spec's label traces double as a conformance suite for RMMImpl.
        .testTarget(name: "RMISpecTests", dependencies: ["RMISpec", "RMICheck", "TestSupport"]),
        .testTarget(name: "RMMImplTests", dependencies: ["RMMImpl"]),
        .testTarget(name: "RMICheckTests", dependencies: ["RMICheck", "rmi-check-adapter"]),
        .testTarget(name: "KVMHostTests", dependencies: ["KVMHost", "RMICheck", "RMISpec"]),
        .testTarget(name: "CLITests", dependencies: ["rmi-check", "TestSupport"]),
        .testTarget(name: "ExplicitTests", dependencies: ["Explicit", "RMISpec"]),
        .testTarget(name: "CITests", dependencies: ["RMICheckCI", "RMISpec", "TestSupport"]),
    ]
)
