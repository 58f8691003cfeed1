import Glibc
import LoopCore
import Loops
import Synchronization
import XCTest

/// GroupServer over a LoopGroup: reuse-port spreading, handoff round robin, close and
/// waitClosed, streams, the kernel refusing SO_REUSEPORT, bad input. Extra catalogue
/// IDs GROUP-X20…GROUP-X29. The clients are plain blocking sockets on the test thread.
final class GroupServerTests: XCTestCase {
    override func setUp() {
        BuiltinBackends.register()
    }

    /// GROUP-X20: with SO_REUSEPORT the kernel spreads 64 connections over both loops
    /// (all on one loop would happen with probability 2^-63).
    func testReusePortSpreadsConnectionsOverTheLoops() throws {
        let group = try LoopGroup(loops: 2)
        defer { try? group.shutdown() }
        let served = ServedLog(group)
        let server = try GroupServer.start(on: group, distribution: .reusePort, host: "127.0.0.1", port: 0) { loop in
            LoopEcho(loop, served)
        }
        XCTAssertEqual(server.addresses.count, 1)
        let port = try XCTUnwrap(server.addresses.first?.port)
        XCTAssertNotEqual(port, 0)
        var clients: [Int32] = []
        for index in 0..<64 {
            let client = try Client.connect(port: port)
            clients.append(client)
            XCTAssertEqual(try Client.roundTrip(client, "hello \(index)"), "hello \(index)")
        }
        let perLoop = served.counts()
        XCTAssertEqual(perLoop.reduce(0, +), 64)
        XCTAssertGreaterThan(perLoop.filter { $0 > 0 }.count, 1, "connections landed on one loop only: \(perLoop)")
        for client in clients { _ = close(client) }
        server.close()
        try server.waitClosed(timeout: .seconds(10))
    }

    /// GROUP-X21: in handoff mode the first loop accepts and the connections go to the
    /// loops in turn: 0, 1, 2, 0, 1, 2.
    func testHandoffIsRoundRobin() throws {
        let group = try LoopGroup(loops: 3)
        defer { try? group.shutdown() }
        let served = ServedLog(group)
        let server = try GroupServer.start(on: group, distribution: .handoff, host: "127.0.0.1", port: 0) { loop in
            LoopEcho(loop, served)
        }
        let port = try XCTUnwrap(server.addresses.first?.port)
        var clients: [Int32] = []
        for index in 0..<6 {
            let client = try Client.connect(port: port)
            clients.append(client)
            XCTAssertEqual(try Client.roundTrip(client, "n\(index)"), "n\(index)")
        }
        XCTAssertEqual(served.order(), [0, 1, 2, 0, 1, 2])
        for client in clients { _ = close(client) }
        server.close()
        try server.waitClosed(timeout: .seconds(10))
    }

    /// GROUP-X22: close() stops listening on every loop (a new connection is refused);
    /// waitClosed waits for the accepted connections (TimeoutError while one is open)
    /// and returns once they are closed. Both distributions.
    func testCloseAndWaitClosed() throws {
        for distribution in GroupServer.Distribution.allCases {
            let group = try LoopGroup(loops: 2)
            defer { try? group.shutdown() }
            let served = ServedLog(group)
            let server = try GroupServer.start(on: group, distribution: distribution, host: "127.0.0.1", port: 0) { loop in
                LoopEcho(loop, served)
            }
            let port = try XCTUnwrap(server.addresses.first?.port)
            let clients = try (0..<4).map { _ in try Client.connect(port: port) }
            for client in clients { XCTAssertEqual(try Client.roundTrip(client, "x"), "x") }
            server.close()
            XCTAssertTrue(server.isClosed)
            server.close()
            XCTAssertThrowsError(try server.waitClosed(timeout: .milliseconds(200)), "\(distribution)") { error in
                XCTAssertTrue(error is TimeoutError, "\(distribution): \(error)")
            }
            // close() reaches each loop in its next iteration: soon, not at once.
            var refused = false
            let deadline = ContinuousClock.now + .seconds(5)
            while !refused && ContinuousClock.now < deadline {
                if let probe = try? Client.connect(port: port) { _ = close(probe) } else { refused = true }
            }
            XCTAssertTrue(refused, "\(distribution): connect after close")
            for client in clients { _ = close(client) }
            try server.waitClosed(timeout: .seconds(10))
            XCTAssertEqual(served.openCount(), 0, "\(distribution)")
        }
    }

    /// GROUP-X23: the streams factory serves StreamReader/StreamWriter callbacks on the loops, both ways.
    func testStreamsFactory() throws {
        for distribution in GroupServer.Distribution.allCases {
            let group = try LoopGroup(loops: 2)
            defer { try? group.shutdown() }
            let server = try GroupServer.start(
                on: group, distribution: distribution, host: "127.0.0.1", port: 0,
                GroupServer.streams { reader, writer in
                    while true {
                        let line = try await reader.readline()
                        if line.isEmpty { break }
                        try writer.write(Array("echo: ".utf8) + line)
                        try await writer.drain()
                    }
                    writer.close()
                })
            let port = try XCTUnwrap(server.addresses.first?.port)
            for _ in 0..<4 {
                let client = try Client.connect(port: port)
                XCTAssertEqual(try Client.roundTrip(client, "hi\n", expecting: 9), "echo: hi\n", "\(distribution)")
                _ = close(client)
            }
            server.close()
            try server.waitClosed(timeout: .seconds(10))
        }
    }

    /// GROUP-X24: a port held by a socket without SO_REUSEPORT: the kernel refuses to
    /// share it → SystemError EADDRINUSE, and nothing is left listening or open.
    func testReusePortRefusedByTheKernel() throws {
        let holder = try Socket.make(.inet, .stream)
        defer { _ = close(holder) }
        try Socket.bind(holder, to: .ipv4(IPv4Address.loopback, port: 0))
        try Socket.listen(holder)
        let port = try XCTUnwrap(Socket.localAddress(holder).port)
        let group = try LoopGroup(loops: 2)
        defer { try? group.shutdown() }
        let fdsBefore = Self.openDescriptors()
        XCTAssertThrowsError(try GroupServer.start(on: group, distribution: .reusePort, host: "127.0.0.1", port: port) { _ in
            LoopEcho.plain()
        }) { error in
            XCTAssertEqual((error as? SystemError)?.errno, EADDRINUSE, "\(error)")
        }
        XCTAssertEqual(Self.openDescriptors(), fdsBefore, "no socket left open")
        XCTAssertThrowsError(try GroupServer.start(on: group, distribution: .handoff, host: "127.0.0.1", port: port) { _ in
            LoopEcho.plain()
        }) { error in
            XCTAssertEqual((error as? SystemError)?.errno, EADDRINUSE, "\(error)")
        }
        XCTAssertEqual(Self.openDescriptors(), fdsBefore, "no socket left open")
    }

    /// GROUP-X25: bad arguments, a shut-down group and a call from a group loop are refused.
    func testBadInput() throws {
        let group = try LoopGroup(loops: 1)
        for port in [-1, 65_536] {
            XCTAssertThrowsError(try GroupServer.start(on: group, host: "127.0.0.1", port: port) { _ in LoopEcho.plain() }) {
                XCTAssertEqual(($0 as? LoopError)?.kind, .invalidArgument)
            }
        }
        XCTAssertThrowsError(try GroupServer.start(on: group, host: "127.0.0.1", port: 0, backlog: 0) { _ in LoopEcho.plain() }) {
            XCTAssertEqual(($0 as? LoopError)?.kind, .invalidArgument)
        }
        let fromLoop = try group.runCoroutineThreadsafe { () async -> String in
            do {
                _ = try GroupServer.start(on: group, host: "127.0.0.1", port: 0) { _ in LoopEcho.plain() }
                return "no error"
            } catch let error as LoopError {
                return "\(error.kind)"
            } catch {
                return "\(error)"
            }
        }.result(timeout: .seconds(10))
        XCTAssertEqual(fromLoop, "wrongThread")
        try group.shutdown()
        XCTAssertThrowsError(try GroupServer.start(on: group, host: "127.0.0.1", port: 0) { _ in LoopEcho.plain() }) {
            XCTAssertEqual(($0 as? LoopError)?.kind, .closed)
        }
    }

    /// GROUP-X26: the group shut down under a server with open connections: every
    /// loop closes, the server's close and waitClosed then return at once.
    func testShutdownUnderAnOpenServer() throws {
        let group = try LoopGroup(loops: 2)
        let server = try GroupServer.start(on: group, distribution: .handoff, host: "127.0.0.1", port: 0) { _ in LoopEcho.plain() }
        let port = try XCTUnwrap(server.addresses.first?.port)
        let client = try Client.connect(port: port)
        defer { _ = close(client) }
        XCTAssertEqual(try Client.roundTrip(client, "x"), "x")
        try group.shutdown()
        server.close()
        try server.waitClosed(timeout: .seconds(5))
    }

    static func openDescriptors() -> Int {
        (0..<4096).filter { fcntl(Int32($0), F_GETFD) >= 0 }.count
    }
}

/// Which loop served each connection, in accept order, and how many are open.
final class ServedLog: Sendable {
    private let loops: [BaseEventLoop]
    private let state = Mutex<(order: [Int], open: Int)>(([], 0))

    init(_ group: LoopGroup) { loops = group.loops }

    func made(on loop: BaseEventLoop) {
        let index = loops.firstIndex { $0 === loop } ?? -1
        state.withLock {
            $0.order.append(index)
            $0.open += 1
        }
    }

    func lost() { state.withLock { $0.open -= 1 } }
    func order() -> [Int] { state.withLock { $0.order } }
    func openCount() -> Int { state.withLock { $0.open } }
    func counts() -> [Int] {
        let order = self.order()
        return loops.indices.map { index in order.filter { $0 == index }.count }
    }
}

/// An echo protocol that logs where it runs.
final class LoopEcho: StreamProtocol, @unchecked Sendable {
    private let loop: BaseEventLoop?
    private let log: ServedLog?
    private var transport: (any WriteTransport)?

    init(_ loop: BaseEventLoop?, _ log: ServedLog?) {
        self.loop = loop
        self.log = log
    }

    static func plain() -> LoopEcho { LoopEcho(nil, nil) }

    func connectionMade(_ transport: any BaseTransport) throws {
        self.transport = transport as? any WriteTransport
        if let loop, let log {
            precondition(RunningLoop.current === loop, "the protocol runs on the loop given to the factory")
            log.made(on: loop)
        }
    }

    func dataReceived(_ bytes: [UInt8]) throws { try transport?.write(bytes) }

    func connectionLost(_ error: (any Error)?) throws {
        transport = nil
        log?.lost()
    }
}

/// Blocking loopback clients with a receive timeout.
enum Client {
    static func connect(port: Int) throws -> Int32 {
        let fd = try Socket.make(.inet, .stream)
        try Socket.setNonBlocking(fd, false)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let failure = errno
            _ = close(fd)
            throw SystemError(errno: failure, call: "connect(127.0.0.1:\(port))")
        }
        return fd
    }

    /// Sends `text` and reads until `expecting` bytes (default: as many as sent) came back.
    static func roundTrip(_ fd: Int32, _ text: String, expecting: Int? = nil) throws -> String {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw SystemError(errno: errno, call: "send") }
        let want = expecting ?? bytes.count
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < want {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw SystemError(errno: count == 0 ? ECONNRESET : errno, call: "recv") }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
