// swift-tools-version:6.1
import PackageDescription

// Linux only: every backend here (epoll, poll, libevent) is built and tested on Linux
// (kernel 6.x, glibc). Other platforms come when a backend for them exists and is tested.

let package = Package(
    name: "swift-loop",
    products: [
        .library(name: "LoopCore", targets: ["LoopCore"]),
        .library(name: "LoopEpoll", targets: ["LoopEpoll"]),
        .library(name: "LoopPoll", targets: ["LoopPoll"]),
        .library(name: "LoopLibevent", targets: ["LoopLibevent"]),
        .library(name: "LoopTLS", targets: ["LoopTLS"]),
        .library(name: "LoopUring", targets: ["LoopUring"]),
        .library(name: "LoopConformance", targets: ["LoopConformance"]),
        .library(name: "Loops", targets: ["Loops"]),
        .library(name: "LoopTesting", targets: ["LoopTesting"]),
        .library(name: "LoopCtlKit", targets: ["LoopCtlKit"]),
        .executable(name: "loopctl", targets: ["loopctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .target(name: "CLoopShims"),
        .systemLibrary(
            name: "CLibevent",
            pkgConfig: "libevent",
            providers: [.apt(["libevent-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CLiburing",
            pkgConfig: "liburing",
            providers: [.apt(["liburing-dev"])]
        ),
        // liburing's static inline helpers, wrapped in real functions for LoopUring.
        .target(name: "CLoopUring", dependencies: ["CLiburing"]),
        .target(
            name: "LoopCore",
            dependencies: ["CLoopShims", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "LoopEpoll", dependencies: ["LoopCore", "CLoopShims"]),
        .target(name: "LoopPoll", dependencies: ["LoopCore", "CLoopShims"]),
        .target(name: "LoopLibevent", dependencies: ["LoopCore", "CLibevent", "CLoopShims"]),
        // TLS over any transport (OpenSSL 3 through memory BIOs); LoopCore never imports OpenSSL.
        .target(name: "LoopTLS", dependencies: ["LoopCore", "COpenSSL"]),
        .target(name: "LoopUring", dependencies: ["LoopCore", "CLoopUring", "CLoopShims"]),
        .target(
            name: "LoopConformance",
            dependencies: ["LoopCore", "LoopTLS", "CLoopShims", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "Loops", dependencies: ["LoopCore", "LoopEpoll", "LoopPoll", "LoopLibevent", "LoopUring", "LoopTLS"]),
        .target(
            name: "LoopCtlKit",
            dependencies: ["Loops", "LoopConformance", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "LoopTesting", dependencies: ["LoopCore"]),
        .executableTarget(
            name: "loopctl",
            dependencies: [
                "Loops", "LoopConformance", "LoopCtlKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LoopCoreTests", dependencies: ["LoopCore", "Loops"]),
        .testTarget(name: "ConformanceTests", dependencies: ["Loops", "LoopConformance"]),
        // Helpers the epoll and poll selector tests share.
        .target(name: "SelectorTestSupport", dependencies: ["LoopCore"], path: "Tests/SelectorTestSupport"),
        .testTarget(name: "LoopEpollTests", dependencies: ["LoopEpoll", "LoopCore", "SelectorTestSupport"]),
        .testTarget(name: "LoopPollTests", dependencies: ["LoopPoll", "LoopCore", "SelectorTestSupport"]),
        .testTarget(name: "LoopUringTests", dependencies: ["LoopUring", "LoopEpoll", "LoopCore", "Loops", "SelectorTestSupport"]),
        .testTarget(name: "LoopLibeventTests", dependencies: ["LoopLibevent", "LoopCore"]),
        .testTarget(
            name: "LoopCtlKitTests",
            dependencies: ["LoopCtlKit", "Loops", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "LoopTLSTests", dependencies: ["LoopTLS", "Loops"]),
        .testTarget(name: "LoopTestingTests", dependencies: ["LoopTesting", "LoopPoll", "LoopConformance"]),
    ]
)
