import LoopCtlKit
import Loops
import XCTest

/// `loopctl echo-server`'s echo logic through a real loop on loopback, on every backend.
final class EchoServerTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        BuiltinBackends.register()
    }

    /// 1 MiB sent in 64 KiB pieces comes back byte for byte; the shutdown closes the
    /// still-open connection (the client then reads end of file) and the server.
    func testEchoesEveryByteThenShutsDown() throws {
        try checkRoundTrip(mode: .protocol, count: 1 << 20)
    }

    /// In streams mode (startServer, read/write/drain) the bytes come back too; the
    /// shutdown also waits for the stream callback, then the client reads end of file.
    func testStreamsModeEchoes() throws {
        try checkRoundTrip(mode: .streams, count: 300_000)
    }

    /// Sends `count` bytes to an echo server in `mode` on every backend, reads them
    /// back, shuts the server down, and checks the bytes, the connection count before
    /// and after the shutdown, and the client's end of file.
    private func checkRoundTrip(mode: EchoMode, count: Int) throws {
        for backend in ["epoll", "poll", "libevent"] {
            let loop = try BackendRegistry.shared.makeLoop(name: backend)
            let data = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            let (echoed, openBefore, openAfter, tail) = try loop.runUntilComplete {
                () async throws -> ([UInt8], Int, Int, [UInt8]) in
                let echo = try await EchoServer.start(on: loop, host: "127.0.0.1", port: 0, mode: mode)
                let port = try XCTUnwrap(echo.addresses().first?.port)
                let client = try Socket.make(.inet, .stream)
                defer { _ = try? Socket.close(client) }
                try Socket.setNonBlocking(client)
                try await loop.sockConnect(client, to: SocketAddress(host: "127.0.0.1", port: port))
                // Sends and receives concurrently, so neither side's buffers fill up.
                let sender = try loop.createTask { () async throws -> Void in
                    var offset = 0
                    while offset < data.count {
                        let end = min(offset + 64 << 10, data.count)
                        try await loop.sockSendall(client, Array(data[offset..<end]))
                        offset = end
                    }
                }
                var received: [UInt8] = []
                received.reserveCapacity(data.count)
                while received.count < data.count {
                    let piece = try await loop.sockRecv(client, maxBytes: 256 << 10)
                    if piece.isEmpty { break }
                    received += piece
                }
                try await sender.value
                let openBefore = echo.connections.count
                try await echo.shutdown()
                let tail = try await loop.sockRecv(client, maxBytes: 16)
                return (received, openBefore, echo.connections.count, tail)
            }
            let label = "\(backend), \(mode)"
            XCTAssertEqual(echoed.count, data.count, "\(label): bytes echoed")
            XCTAssert(echoed == data, "\(label): the echoed bytes must equal the sent ones")
            XCTAssertEqual(openBefore, 1, "\(label): open connections before the shutdown")
            XCTAssertEqual(openAfter, 0, "\(label): open connections after the shutdown")
            XCTAssertEqual(tail, [], "\(label): the client reads end of file after the shutdown")
            try loop.close()
        }
    }

    func testRefusesAPortOutOfRange() throws {
        let loop = try BackendRegistry.shared.makeLoop(name: "poll")
        defer { try? loop.close() }
        XCTAssertThrowsError(try loop.runUntilComplete {
            _ = try await EchoServer.start(on: loop, host: "127.0.0.1", port: 70000)
        }) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument)
        }
    }
}
