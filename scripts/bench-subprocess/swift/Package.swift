// swift-tools-version:6.2
import PackageDescription

// Benchmark W8's Swift anchors: swift-subprocess 1.0.2 and Foundation's Process.
// Not part of the library and not built by `make test`: build it here with
// `swift build -c release` and run `.build/release/SubprocessAnchors`.
let package = Package(
    name: "bench-subprocess",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", exact: "1.0.2"),
    ],
    targets: [
        .executableTarget(
            name: "SubprocessAnchors",
            dependencies: [.product(name: "Subprocess", package: "swift-subprocess")]
        ),
    ]
)
