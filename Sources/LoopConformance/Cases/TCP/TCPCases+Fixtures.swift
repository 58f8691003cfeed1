import Glibc
import LoopCore

/// The fixtures the TCP cases (and the UNIX, STREAM and other socket groups) share:
/// recording protocols, peers, ports and waiting.
extension TCPCases {
    /// A recording stream protocol; loop-thread only.
    final class Peer: StreamProtocol, @unchecked Sendable {
        var events: [String] = []
        var received: [UInt8] = []
        var keepOpen = false
        var failOnData: (any Error)?
        var lostError: (any Error)?
        var onPause: (() -> Void)?
        var onResume: (() -> Void)?
        /// The transport `connectionMade` got.
        weak var transport: (any BaseTransport)?
        let lost: Future<Void>

        init(_ loop: BaseEventLoop) { lost = loop.createFuture(of: Void.self) }

        func connectionMade(_ transport: any BaseTransport) throws {
            events.append("made")
            self.transport = transport
        }
        func dataReceived(_ bytes: [UInt8]) throws {
            if events.last != "data" { events.append("data") }
            if let failOnData { throw failOnData }
            received += bytes
        }
        func eofReceived() throws -> Bool {
            events.append("eof")
            return keepOpen
        }
        func pauseWriting() throws {
            events.append("pause")
            onPause?()
        }
        func resumeWriting() throws {
            events.append("resume")
            onResume?()
        }
        func connectionLost(_ error: (any Error)?) throws {
            events.append(error == nil ? "lost(nil)" : "lost(error)")
            lostError = error
            if !lost.isDone { try lost.setResult(()) }
        }
    }

    /// A buffered protocol with an 8-byte buffer; loop-thread only.
    final class BufferedPeer: BufferedProtocol, @unchecked Sendable {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 1)
        var getBufferCalls = 0
        var updates: [Int] = []
        var received: [UInt8] = []
        let lost: Future<Void>

        init(_ loop: BaseEventLoop) { lost = loop.createFuture(of: Void.self) }
        deinit { buffer.deallocate() }

        func getBuffer(sizeHint: Int) throws -> UnsafeMutableRawBufferPointer {
            getBufferCalls += 1
            return buffer
        }
        func bufferUpdated(_ count: Int) throws {
            updates.append(count)
            received += buffer.prefix(count)
        }
        func connectionLost(_ error: (any Error)?) throws {
            if !lost.isDone { try lost.setResult(()) }
        }
    }

    /// Connects `client` (createConnection) to `server` (a case-owned listener accepted
    /// with sockAccept, wrapped with connectAcceptedSocket). Returns both transports and
    /// whether the client's connectionMade ran before createConnection returned.
    static func connect(
        _ ctx: CaseContext, _ loop: BaseEventLoop, _ client: Peer, _ server: some BaseProtocol & Sendable,
        localAddr: (host: String, port: Int)? = nil
    ) async throws -> (any Transport, any Transport, Bool) {
        let (listener, address) = try SocketCases.listen(ctx, on: SocketAddress(host: "127.0.0.1", port: 0))
        guard case .ipv4(_, let port) = address else { throw ctx.failure("listener address \(address)") }
        let accepting = try loop.createTask { () async throws -> any Transport in
            let (fd, _) = try await loop.sockAccept(listener)
            return try await loop.connectAcceptedSocket({ server }, fd).transport
        }
        let (clientTransport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: Int(port), localAddr: localAddr)
        let made = client.events.first == "made"
        let serverTransport = try await accepting.value
        ctx.close(listener)
        return (clientTransport, serverTransport, made)
    }

    /// Writes back what it receives; closes (flushing) at end of file.
    final class Echo: StreamProtocol, @unchecked Sendable {
        var transport: (any WriteTransport)?
        func connectionMade(_ transport: any BaseTransport) throws { self.transport = transport as? any WriteTransport }
        func dataReceived(_ bytes: [UInt8]) throws { try transport?.write(bytes) }
        func connectionLost(_ error: (any Error)?) throws { transport = nil }
    }

    /// The protocols a server's factory made, in order; loop-thread only.
    final class Peers: @unchecked Sendable {
        var all: [Peer] = []
        func make(_ loop: BaseEventLoop) -> Peer {
            let peer = Peer(loop)
            all.append(peer)
            return peer
        }
    }

    /// The port of the server's first listening socket.
    static func serverPort(_ ctx: CaseContext, _ server: Server) throws -> Int {
        guard let fd = server.sockets.first else { throw ctx.failure("the server has no socket") }
        switch try Socket.localAddress(fd) {
        case .ipv4(_, let port), .ipv6(_, let port, _, _): return Int(port)
        default: throw ctx.failure("the server's socket has no port")
        }
    }

    /// Polls `condition` every millisecond (the watchdog of the surrounding run bounds it).
    static func until(_ condition: () -> Bool) async throws {
        while !condition() { try await sleep(.milliseconds(1)) }
    }

    /// A loopback port nobody listens on (bound, then closed).
    static func closedPort(_ ctx: CaseContext) throws -> Int {
        try freePort(ctx, host: "127.0.0.1")
    }

    /// A port free on `host` at the time of the call.
    static func freePort(_ ctx: CaseContext, host: String) throws -> Int {
        let fd = try SocketCases.socket(ctx, .inet, .stream)
        try Socket.bind(fd, to: SocketAddress(host: host, port: 0))
        let address = try Socket.localAddress(fd)
        ctx.close(fd)
        guard case .ipv4(_, let port) = address else { throw ctx.failure("bound address \(address)") }
        return Int(port)
    }

    /// Writes `data` to `transport` in pieces of at most `piece` bytes, without waiting
    /// between them (the transport buffers what the socket does not take).
    static func write(_ data: [UInt8], to transport: any Transport, piecesOf piece: Int) throws {
        var offset = 0
        while offset < data.count {
            let end = min(offset + piece, data.count)
            try transport.write(Array(data[offset..<end]))
            offset = end
        }
    }

    /// The ``Checksum`` (FNV-1a) of `bytes`.
    static func checksum(_ bytes: [UInt8]) -> UInt64 {
        var sum = Checksum()
        sum.add(bytes[...])
        return sum.value
    }
}
