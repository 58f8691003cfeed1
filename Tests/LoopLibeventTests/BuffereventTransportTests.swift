import Glibc
@_spi(Backend) import LoopCore
@_spi(Backend) import LoopLibevent
import XCTest

/// The libevent backend supplies its stream transports through the transport hook:
/// they are ``BuffereventTransport``s, on the backend's own base. (That they behave as
/// the loop's SocketTransport is proved by the conformance suite's TCP, UNIX, SOCK and
/// FD cases, which run on every backend.)
final class BuffereventTransportTests: XCTestCase {
    /// Records what a stream protocol receives; loop-thread only.
    final class Peer: StreamProtocol, @unchecked Sendable {
        var transport: (any Transport)?
        var received: [UInt8] = []
        var events: [String] = []
        var lostError: (any Error)?
        let lost: Future<Void>

        init(_ loop: BaseEventLoop) { lost = loop.createFuture(of: Void.self) }

        func connectionMade(_ transport: any BaseTransport) throws {
            self.transport = transport as? any Transport
            events.append("made")
        }
        func dataReceived(_ bytes: [UInt8]) throws {
            if events.last != "data" { events.append("data") }
            received += bytes
        }
        func eofReceived() throws -> Bool {
            events.append("eof")
            return false
        }
        func connectionLost(_ error: (any Error)?) throws {
            events.append("lost")
            lostError = error
            transport = nil
            if !lost.isDone { try lost.setResult(()) }
        }
    }

    private func makeLoop() throws -> (BaseEventLoop, LibeventSelector) {
        let selector = try LibeventSelector()
        return (BaseEventLoop(backend: selector), selector)
    }


    /// Both ends of a TCP connection (createConnection and a server's accepted one) are
    /// bufferevent transports whose extra info names their bufferevent; data flows both
    /// ways, close reaches the peer, and the backend forgets ended transports.
    func testTCPConnectionsAreBuffereventTransports() throws {
        let (loop, selector) = try makeLoop()
        defer { try? loop.close() }
        let client = Peer(loop)
        let servers = ServerPeers(loop)
        let factory = servers.factory
        let outcome = try loop.runUntilComplete { () async throws -> [String] in
            let server = try await loop.createServer(factory, host: "127.0.0.1", port: 0)
            guard let listener = server.sockets.first, case .ipv4(_, let port) = try Socket.localAddress(listener) else {
                throw LoopError(.invalidState, "no listening port")
            }
            let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: Int(port))
            try transport.write(Array("ping".utf8))
            try await waitUntil { servers.all.first?.received.count == 4 }
            guard let accepted = servers.all.first?.transport else { throw LoopError(.invalidState, "no accepted transport") }
            try accepted.write(Array("pong".utf8))
            try await waitUntil { client.received.count == 4 }
            let expectedPeer = try SocketAddress(host: "127.0.0.1", port: Int(port))
            var seen = [
                "client: \(transport is BuffereventTransport)", "server: \(accepted is BuffereventTransport)",
                "client bufferevent: \(transport.extraInfo(BuffereventTransport.bufferEventKey) != nil)",
                "server bufferevent: \(accepted.extraInfo(BuffereventTransport.bufferEventKey) != nil)",
                "live: \(selector.liveTransportCount)",
                "peername: \((transport.extraInfo("peername") as? SocketAddress) == expectedPeer)",
            ]
            transport.close()
            try await client.lost.value
            try await servers.all[0].lost.value
            server.close()
            try await server.waitClosed()
            seen.append("live after close: \(selector.liveTransportCount)")
            seen.append("bufferevent after close: \(transport.extraInfo(BuffereventTransport.bufferEventKey) != nil)")
            return seen
        }
        XCTAssertEqual(outcome, [
            "client: true", "server: true",
            "client bufferevent: true", "server bufferevent: true", "live: 2",
            "peername: true",
            "live after close: 0", "bufferevent after close: false",
        ])
        XCTAssertEqual(client.received, Array("pong".utf8))
        XCTAssertEqual(client.events, ["made", "data", "lost"])
        XCTAssertEqual(servers.all.first?.events, ["made", "data", "eof", "lost"])
    }

    /// Records the size of each delivery; loop-thread only.
    final class ChunkSizes: StreamProtocol, @unchecked Sendable {
        var sizes: [Int] = []
        func dataReceived(_ bytes: [UInt8]) throws { sizes.append(bytes.count) }
    }

    /// libevent 2.1 reads 4 KiB per readable event; the transport reads on into the
    /// same input buffer, so a 96 KiB backlog arrives in one or two deliveries instead
    /// of twenty-four.
    func testABacklogIsReadInOnePassNotFourKiBAtATime() throws {
        let (loop, _) = try makeLoop()
        defer { try? loop.close() }
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        defer { Glibc.close(fds[1]) }
        let payload = [UInt8](repeating: 7, count: 96 * 1024)
        let written = payload.withUnsafeBytes { Glibc.write(fds[1], $0.baseAddress, $0.count) }
        XCTAssertEqual(written, payload.count)
        let chunks = ChunkSizes()
        let (socket, expected) = (fds[0], payload.count)
        let sizes = try loop.runUntilComplete { () async throws -> [Int] in
            let (transport, _) = try await loop.connectAcceptedSocket({ chunks }, socket)
            try await waitUntil { chunks.sizes.reduce(0, +) == expected }
            transport.close()
            return chunks.sizes
        }
        XCTAssertLessThanOrEqual(sizes.count, 2, "deliveries of the 96 KiB backlog: \(sizes)")
    }

    /// A Unix stream connection gets a bufferevent transport too.
    func testUnixConnectionsAreBuffereventTransports() throws {
        let (loop, _) = try makeLoop()
        defer { try? loop.close() }
        let path = "/tmp/loop-bev-\(getpid()).sock"
        defer { unlink(path) }
        let client = Peer(loop)
        let servers = ServerPeers(loop)
        let factory = servers.factory
        let kinds = try loop.runUntilComplete { () async throws -> [Bool] in
            let server = try await loop.createUnixServer(factory, path: path)
            let (transport, _) = try await loop.createUnixConnection({ client }, path: path)
            try await waitUntil { servers.all.first?.transport != nil }
            guard let accepted = servers.all[0].transport else { throw LoopError(.invalidState, "no accepted transport") }
            let kinds = [transport is BuffereventTransport, accepted is BuffereventTransport]
            transport.close()
            try await servers.all[0].lost.value
            server.close()
            return kinds
        }
        XCTAssertEqual(kinds, [true, true], "client and server transports are bufferevent ones")
    }

    /// A transport whose bytes wait in the bufferevent's output buffer while the peer is
    /// gone: libevent's writev fails with EPIPE (SIGPIPE is blocked for the wait and
    /// discarded, so the process lives) and the protocol gets connectionLost(EPIPE or
    /// ECONNRESET).
    func testBufferedWritesToAVanishedPeerEndInASystemErrorNotSIGPIPE() throws {
        let (loop, _) = try makeLoop()
        defer { try? loop.close() }
        // Loops ignore SIGPIPE unless the program chose a disposition: choose the
        // default (fatal) one here, which only the backend's guard keeps from killing us.
        let previous = signal(SIGPIPE, SIG_DFL)
        defer { signal(SIGPIPE, previous) }
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let (mine, theirs) = (fds[0], fds[1])
        let peer = Peer(loop)
        let failure = try loop.runUntilComplete { () async throws -> Int32? in
            let (transport, _) = try await loop.connectAcceptedSocket({ peer }, mine)
            try transport.write([UInt8](repeating: 7, count: 4 << 20))
            XCTAssertGreaterThan(transport.writeBufferSize, 0, "the socket cannot take 4 MiB at once")
            _ = Glibc.close(theirs)
            try await peer.lost.value
            return (peer.lostError as? SystemError)?.errno
        }
        XCTAssert(failure == EPIPE || failure == ECONNRESET, "connectionLost error errno \(String(describing: failure))")
    }

    /// Closing the loop (and so the backend) with a transport still open frees its
    /// bufferevent first: nothing crashes, and the transport does no more I/O.
    func testClosingTheBackendWithAnOpenTransport() throws {
        let (loop, selector) = try makeLoop()
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let (mine, theirs) = (fds[0], fds[1])
        defer { _ = Glibc.close(theirs) }
        let peer = Peer(loop)
        let buffered = try loop.runUntilComplete { () async throws -> Bool in
            let (transport, _) = try await loop.connectAcceptedSocket({ peer }, mine)
            try transport.write([UInt8](repeating: 1, count: 1 << 20))
            return transport.writeBufferSize > 0
        }
        XCTAssertTrue(buffered, "bytes wait in the output buffer")
        XCTAssertEqual(selector.liveTransportCount, 1)
        try loop.close()
        XCTAssertEqual(selector.liveTransportCount, 0)
        let open = try XCTUnwrap(peer.transport)
        XCTAssertNil(open.extraInfo(BuffereventTransport.bufferEventKey))
        XCTAssertEqual(open.writeBufferSize, 0)
        XCTAssertNoThrow(try open.write(Array("ignored".utf8)))
        open.pauseReading()
        open.resumeReading()
        open.close()
        _ = Glibc.close(mine)
    }

    /// The protocols a server's factory made; loop-thread only.
    final class ServerPeers: @unchecked Sendable {
        let loop: BaseEventLoop
        var all: [Peer] = []
        init(_ loop: BaseEventLoop) { self.loop = loop }
        /// A server factory recording the peers it makes.
        var factory: @Sendable () throws -> any BaseProtocol {
            { [self] in
                let peer = Peer(loop)
                all.append(peer)
                return peer
            }
        }
    }
}

/// Polls `condition` every millisecond.
private func waitUntil(_ condition: () -> Bool) async throws {
    while !condition() { try await sleep(.milliseconds(1)) }
}
