// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "rmi-check",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rmi-check", targets: ["rmi-check"]),
        .library(name: "RMISpec", targets: ["RMISpec"]),
        .library(name: "SMT", targets: ["SMT"]),
        .library(name: "RMMImpl", targets: ["RMMImpl"]),
        .library(name: "RMICheck", targets: ["RMICheck"]),
        .library(name: "Explicit", targets: ["Explicit"]),
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
        .target(name: "RMICheck", dependencies: ["RMISpec", "RMMImpl"], swiftSettings: [.unsafeFlags(["-O"])]),
        // Explicit-state search over the spec's concrete face.
        .target(name: "Explicit", dependencies: ["RMISpec"], swiftSettings: [.unsafeFlags(["-O"])]),
        .executableTarget(name: "rmi-check", dependencies: [
            "RMISpec", "RMICheck", "Explicit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "SMTTests", dependencies: ["SMT"]),
        .testTarget(name: "RMISpecTests", dependencies: ["RMISpec"]),
        .testTarget(name: "RMMImplTests", dependencies: ["RMMImpl"]),
        .testTarget(name: "RMICheckTests", dependencies: ["RMICheck"]),
        .testTarget(name: "CLITests", dependencies: ["rmi-check"]),
        .testTarget(name: "ExplicitTests", dependencies: ["Explicit", "RMISpec"]),
    ]
)
