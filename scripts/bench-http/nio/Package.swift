// swift-tools-version:6.1
import PackageDescription

// The SwiftNIO anchor of scripts/bench-http.sh: NIOHTTP1's server pipeline answering
// every request with "Hello, World!", on a MultiThreadedEventLoopGroup. Built outside the
// library: swift build -c release --scratch-path ../../../.build-nio-http
let package = Package(
    name: "nio-http-hello",
    dependencies: [.package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3")],
    targets: [
        .executableTarget(
            name: "nio-http-hello",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
