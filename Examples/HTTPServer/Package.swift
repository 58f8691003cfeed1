// swift-tools-version:6.1
import PackageDescription

// An HTTP/1.1 server example on swift-loop: its own small incremental request parser
// (HTTPParsing; no maintained HTTP/1 parser library is in the package set, and
// swift-nio's is bound to NIO's channel pipeline), the request and response model of
// swift-http-types, served by a BufferedProtocol per connection across a LoopGroup.
// It depends on the framework by path, as any outside package would by URL.
let package = Package(
    name: "HTTPServer",
    products: [
        .library(name: "HTTPParsing", targets: ["HTTPParsing"]),
        .library(name: "HTTPServerKit", targets: ["HTTPServerKit"]),
        .executable(name: "http-server", targets: ["http-server"]),
        .executable(name: "http-fuzz", targets: ["http-fuzz"]),
    ],
    dependencies: [
        .package(name: "swift-loop", path: "../.."),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // The request parser: bytes in, request heads, body pieces and ends out.
        .target(name: "HTTPParsing", dependencies: [.product(name: "HTTPTypes", package: "swift-http-types")]),
        // The connection protocol, the routes and the response encoding.
        .target(
            name: "HTTPServerKit",
            dependencies: [
                "HTTPParsing",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "LoopCore", package: "swift-loop"),
            ]
        ),
        .executableTarget(
            name: "http-server",
            dependencies: ["HTTPServerKit", .product(name: "Loops", package: "swift-loop")]
        ),
        // The parser's libFuzzer target. Built plainly it replays corpus files; built with
        // `-Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING` it is the fuzzer
        // (scripts/fuzz.sh).
        .executableTarget(name: "http-fuzz", dependencies: ["HTTPParsing"]),
        .testTarget(name: "HTTPParsingTests", dependencies: ["HTTPParsing"]),
        .testTarget(name: "HTTPServerKitTests", dependencies: ["HTTPServerKit", .product(name: "Loops", package: "swift-loop")]),
    ]
)
