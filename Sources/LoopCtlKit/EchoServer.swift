import Loops

/// A plain echo protocol (no framing): every byte a connection receives is written back
/// on it, and the peer's end of file closes it. Loop-thread only, as protocols are.
public final class EchoProtocol: StreamProtocol, @unchecked Sendable {
    // @unchecked: like every protocol, used on its loop's thread only.
    private weak var connections: EchoConnections?
    private var transport: (any WriteTransport)?

    /// An echo protocol; `connections`, when given, tracks it while it is connected.
    public init(connections: EchoConnections? = nil) {
        self.connections = connections
    }

    public func connectionMade(_ transport: any BaseTransport) throws {
        self.transport = transport as? any WriteTransport
        connections?.add(self) { [weak self] in self?.close() }
    }

    public func dataReceived(_ bytes: [UInt8]) throws {
        try transport?.write(bytes)
    }

    public func connectionLost(_ error: (any Error)?) throws {
        transport = nil
        connections?.remove(self)
    }

    /// Closes the connection (its buffered echo is still sent first).
    public func close() {
        transport?.close()
    }
}

/// The open connections of an echo server, so a shutdown can close them (asyncio's
/// `Server.close()` leaves accepted connections open). Loop-thread only.
public final class EchoConnections: @unchecked Sendable {
    // @unchecked: used on the loop's thread only.
    /// Each open connection's close step, by the object that serves it.
    private var open: [ObjectIdentifier: () -> Void] = [:]
    private var emptyWaiters: [Future<Void>] = []

    public init() {}

    /// A new protocol tracked by this set: the factory to give `createServer`.
    public func makeProtocol() -> EchoProtocol { EchoProtocol(connections: self) }

    /// How many connections are open.
    public var count: Int { open.count }

    /// Closes every open connection; each gets `connectionLost(nil)` from a later callback.
    public func closeAll() {
        for close in open.values { close() }
    }

    /// Returns once no connection is open.
    public func waitUntilEmpty(on loop: BaseEventLoop) async throws {
        if open.isEmpty { return }
        let waiter = loop.createFuture(of: Void.self)
        emptyWaiters.append(waiter)
        try await waiter.value
    }

    func add(_ connection: AnyObject, close: @escaping () -> Void) { open[ObjectIdentifier(connection)] = close }

    func remove(_ connection: AnyObject) {
        open[ObjectIdentifier(connection)] = nil
        guard open.isEmpty else { return }
        let waiters = emptyWaiters
        emptyWaiters = []
        for waiter in waiters where !waiter.isDone { try? waiter.setResult(()) }
    }
}

/// How an echo server echoes.
public enum EchoMode: String, Sendable, CaseIterable {
    /// A ``EchoProtocol`` per connection (transports and protocols).
    case `protocol`
    /// A stream callback per connection: `read(65536)`, then `write` and `drain`, until end of file.
    case streams
}

/// An echo server on a loop: listens with ``EchoProtocol`` or, in ``EchoMode/streams``
/// mode, with a stream callback, and shuts down cleanly.
public final class EchoServer: @unchecked Sendable {
    // @unchecked: used on the loop's thread only.
    /// The underlying server.
    public let server: Server
    /// Its open connections.
    public let connections: EchoConnections

    private let loop: BaseEventLoop

    private init(server: Server, connections: EchoConnections, loop: BaseEventLoop) {
        self.server = server
        self.connections = connections
        self.loop = loop
    }

    /// Starts an echo server on `host` and `port` (0 picks a free port) that echoes as
    /// `mode` says, over TLS with `tls` (a server context) when given. Throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` for a port outside 0...65535, and
    /// what `createServer` throws (``ResolverError``, ``SystemError``, ``TLSError``).
    public static func start(
        on loop: BaseEventLoop, host: String, port: Int, mode: EchoMode = .protocol, backlog: Int = 100,
        tls: TLSContext? = nil
    ) async throws -> EchoServer {
        guard (0...65535).contains(port) else {
            throw LoopError(.invalidArgument, "port \(port) is outside 0...65535")
        }
        let connections = EchoConnections()
        let server: Server
        switch mode {
        case .protocol:
            server = try await loop.createServer({ connections.makeProtocol() }, host: host, port: port, ssl: tls, backlog: backlog)
        case .streams:
            server = try await loop.startServer({ reader, writer in
                try await echoStream(reader, writer, connections: connections)
            }, host: host, port: port, ssl: tls, backlog: backlog)
        }
        return EchoServer(server: server, connections: connections, loop: loop)
    }

    /// The addresses the server listens on.
    public func addresses() throws -> [SocketAddress] {
        try server.sockets.map { try Socket.localAddress($0) }
    }

    /// Stops listening, closes every connection and returns once all are lost and
    /// their stream callbacks (in streams mode) have returned.
    public func shutdown() async throws {
        server.close()
        connections.closeAll()
        try await server.waitClosed()
        try await connections.waitUntilEmpty(on: loop)
    }
}
