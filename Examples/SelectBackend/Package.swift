// swift-tools-version:6.1
import PackageDescription

// A third-party backend in its own package: a select(2) backend registered as
// "select", proven by the whole LoopConformance suite from this package's own
// `swift test`. It depends on the framework by path, as any outside package would
// depend on it by URL.
let package = Package(
    name: "SelectBackend",
    products: [
        .library(name: "SelectBackend", targets: ["SelectBackend"]),
        .executable(name: "select-demo", targets: ["select-demo"]),
        .executable(name: "select-conformance", targets: ["select-conformance"]),
    ],
    dependencies: [
        .package(name: "swift-loop", path: "../.."),
    ],
    targets: [
        // FD_SET and friends are C macros: a tiny C target wraps them.
        .target(name: "CSelect"),
        .target(
            name: "SelectBackend",
            dependencies: ["CSelect", .product(name: "LoopCore", package: "swift-loop")]
        ),
        // An ordinary program: LOOP_BACKEND=select makes it run on this backend.
        .executableTarget(
            name: "select-demo",
            dependencies: ["SelectBackend", .product(name: "Loops", package: "swift-loop")]
        ),
        // The `loopctl conformance` matrix for this backend.
        .executableTarget(
            name: "select-conformance",
            dependencies: [
                "SelectBackend",
                .product(name: "LoopConformance", package: "swift-loop"),
                .product(name: "LoopCtlKit", package: "swift-loop"),
            ]
        ),
        .testTarget(
            name: "SelectBackendTests",
            dependencies: [
                "SelectBackend",
                .product(name: "LoopConformance", package: "swift-loop"),
            ]
        ),
    ]
)
