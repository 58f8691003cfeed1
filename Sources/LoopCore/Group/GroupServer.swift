import Synchronization

/// One TCP port served by every loop of a ``LoopGroup``, in one of two ways
/// (``Distribution``): a listening socket per loop with `SO_REUSEPORT`, the kernel
/// spreading connections (asyncio's `reuse_port=True`, one per process there), or one
/// acceptor loop handing accepted sockets round robin to the loops (SwiftNIO's
/// `ServerBootstrap` on a `MultiThreadedEventLoopGroup`).
///
/// Each connection's protocol comes from the factory, called on the loop that serves
/// the connection, with that loop. Start, close and wait from any thread that is not
/// one of the group's loops (``waitClosed()`` may also be awaited from a task on any loop).
///
/// ```swift
/// let group = try LoopGroup(loops: 2)
/// let server = try GroupServer.start(on: group, host: "127.0.0.1", port: 8080) { loop in EchoProtocol() }
/// // …
/// server.close()
/// try server.waitClosed(timeout: .seconds(5))
/// try group.shutdown()
/// ```
public final class GroupServer: Sendable, CustomStringConvertible {
    /// How connections reach the loops.
    public enum Distribution: String, Sendable, CaseIterable {
        /// A listening socket per loop, all bound to the port with `SO_REUSEPORT`; the
        /// kernel picks the socket (and so the loop) of each connection by a hash of
        /// its addresses.
        case reusePort
        /// One listening socket, accepted on the group's first loop, each accepted
        /// socket handed to the next loop in turn (the first loop included).
        case handoff
    }

    /// Makes the protocol of one connection; called on the loop given, which serves it.
    public typealias ProtocolFactory = @Sendable (BaseEventLoop) throws -> any BaseProtocol

    /// The group whose loops serve.
    public let group: LoopGroup
    /// How connections reach the loops.
    public let distribution: Distribution
    /// The addresses listened on (the port chosen when 0 was asked for).
    public let addresses: [SocketAddress]

    private struct LoopServer: Sendable {
        let loop: BaseEventLoop
        let server: Server
    }

    private let servers: [LoopServer]
    private let acceptor: HandoffAcceptor?
    private let handedOff: [HandoffConnections]
    private let closed = Atomic<Bool>(false)

    private init(
        group: LoopGroup, distribution: Distribution, addresses: [SocketAddress],
        servers: [LoopServer], acceptor: HandoffAcceptor?, handedOff: [HandoffConnections]
    ) {
        self.group = group
        self.distribution = distribution
        self.addresses = addresses
        self.servers = servers
        self.acceptor = acceptor
        self.handedOff = handedOff
    }

    public var description: String {
        "<GroupServer \(distribution.rawValue) loops=\(group.loops.count) addresses=\(addresses.map(\.description).joined(separator: " "))>"
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Listens on `host` and `port` (`nil` or `""` for every interface; port 0 picks a
    /// free port, the same for every loop) across `group`'s loops as `distribution`
    /// says, and returns once every loop serves. Waits at most `timeout` for each loop.
    ///
    /// Throws ``LoopError/Kind-swift.enum/invalidArgument`` for a port outside
    /// 0...65535 or a backlog below 1, ``LoopError/Kind-swift.enum/closed`` for a shut
    /// down group, ``LoopError/Kind-swift.enum/wrongThread`` on one of the group's
    /// loops, and what binding throws: a ``SystemError`` (EADDRINUSE) when the port is
    /// taken — with `SO_REUSEPORT`, also when a socket without it, or another user's,
    /// holds the port, the kernel refusing to share it — and ``ResolverError``. On
    /// failure nothing is left listening.
    public static func start(
        on group: LoopGroup, distribution: Distribution = .reusePort, host: String?, port: Int,
        backlog: Int = 100, timeout: Duration = .seconds(10), _ factory: @escaping ProtocolFactory
    ) throws -> GroupServer {
        guard (0...65535).contains(port) else {
            throw LoopError(.invalidArgument, "GroupServer.start: port \(port) is outside 0...65535")
        }
        guard backlog >= 1 else {
            throw LoopError(.invalidArgument, "GroupServer.start: backlog \(backlog) must be at least 1")
        }
        if group.isShutDown {
            throw LoopError(.closed, "GroupServer.start: the group is shut down; its loops take no more work")
        }
        try checkNotOnGroupLoop(group, "start")
        switch distribution {
        case .reusePort:
            return try startReusePort(group, host: host, port: port, backlog: backlog, timeout: timeout, factory)
        case .handoff:
            return try startHandoff(group, host: host, port: port, backlog: backlog, timeout: timeout, factory)
        }
    }

    /// A factory for servers that hand each connection to `clientConnected` as a
    /// ``StreamReader`` and ``StreamWriter`` (as `startServer`), run as a task on the
    /// connection's loop; `limit` is the reader's buffer limit.
    public static func streams(
        limit: Int = StreamReader.defaultLimit,
        _ clientConnected: @escaping @Sendable (StreamReader, StreamWriter) async throws -> Void
    ) -> ProtocolFactory {
        { loop in
            StreamReaderProtocol(try StreamReader(loop: loop, limit: limit), clientConnected: clientConnected, loop: loop)
        }
    }

    /// Stops listening on every loop; connections already accepted stay open until
    /// their owners close them (as asyncio's `Server.close()`). Thread-safe; a second
    /// call does nothing.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for entry in servers {
            let server = entry.server
            do {
                try entry.loop.callSoonThreadsafe({ server.close() }, from: nil)
            } catch {
                // The loop is closed and its thread gone: nothing else uses the server.
                server.close()
            }
        }
        if let acceptor {
            do {
                try acceptor.loop.callSoonThreadsafe({ acceptor.close() }, from: nil)
            } catch {
                acceptor.close()
            }
        }
        // After the acceptor's close in each loop's queue: no handoff follows.
        for connections in handedOff {
            _ = try? connections.loop.callSoonThreadsafe({ connections.serverDidClose() }, from: nil)
        }
    }

    /// Blocks until the server is closed on every loop and every connection it
    /// accepted is closed, at most `timeout` in all. Throws ``TimeoutError`` when
    /// that takes longer, and ``LoopError/Kind-swift.enum/wrongThread`` on one of the
    /// group's loops (await ``waitClosed()`` there).
    public func waitClosed(timeout: Duration) throws {
        try Self.checkNotOnGroupLoop(group, "waitClosed(timeout:)")
        let deadline = ContinuousClock.now + timeout
        for future in closedFutures() {
            let left = max(deadline - ContinuousClock.now, .zero)
            do {
                try future.result(timeout: left)
            } catch let error as TimeoutError {
                future.cancel()
                throw TimeoutError("GroupServer.waitClosed: connections still open after \(timeout) (\(error.message))")
            }
        }
    }

    /// Returns once the server is closed on every loop and every connection it
    /// accepted is closed. From a task on any loop.
    public func waitClosed() async throws {
        for future in closedFutures() {
            try await wrapFuture(future).value
        }
    }

    // MARK: Implementation

    /// One future per loop, done once that loop's part of the server is closed. A
    /// loop already closed counts as done.
    private func closedFutures() -> [ConcurrentFuture<Void>] {
        var futures: [ConcurrentFuture<Void>] = []
        func add(_ loop: BaseEventLoop, _ body: @escaping @Sendable () async throws -> Void) {
            if let future = try? runCoroutineThreadsafe(on: loop, body) {
                futures.append(future)
            }
        }
        for entry in servers {
            let server = entry.server
            add(entry.loop) { try await server.waitClosed() }
        }
        for connections in handedOff {
            add(connections.loop) { try await connections.waitUntilClosed() }
        }
        return futures
    }

    private static func checkNotOnGroupLoop(_ group: LoopGroup, _ call: String) throws {
        if group.currentLoop != nil {
            throw LoopError(
                .wrongThread,
                "GroupServer.\(call): called on one of the group's loops, which would wait for itself; call it from another thread")
        }
    }

    private static func startReusePort(
        _ group: LoopGroup, host: String?, port: Int, backlog: Int, timeout: Duration, _ factory: @escaping ProtocolFactory
    ) throws -> GroupServer {
        func submit(_ loop: BaseEventLoop, port: Int) throws -> ConcurrentFuture<Server> {
            try runCoroutineThreadsafe(on: loop) {
                try await loop.createServer({ try factory(loop) }, host: host, port: port, backlog: backlog, reusePort: true)
            }
        }
        var made: [LoopServer] = []
        do {
            let loops = group.loops
            let first = try submit(loops[0], port: port).result(timeout: timeout)
            made.append(LoopServer(loop: loops[0], server: first))
            var chosen = port
            if port == 0 {
                let firstSocket = try first.runOnLoop(timeout: timeout) { $0.sockets.first }
                guard let firstSocket, let bound = try Socket.localAddress(firstSocket).port else {
                    throw LoopError(.invalidState, "GroupServer.start: the first loop's server has no listening socket")
                }
                chosen = bound
            }
            let rest = try loops.dropFirst().map { loop in (loop, try submit(loop, port: chosen)) }
            var firstError: (any Error)?
            for (loop, future) in rest {
                do {
                    made.append(LoopServer(loop: loop, server: try future.result(timeout: timeout)))
                } catch {
                    firstError = firstError ?? error
                }
            }
            if let firstError { throw firstError }
            let sockets = try first.runOnLoop(timeout: timeout) { $0.sockets }
            let addresses = try sockets.map { try Socket.localAddress($0) }
            return GroupServer(
                group: group, distribution: .reusePort, addresses: addresses, servers: made, acceptor: nil, handedOff: [])
        } catch {
            for entry in made {
                let server = entry.server
                _ = try? runCoroutineThreadsafe(on: entry.loop) { server.close() }.result(timeout: timeout)
            }
            throw error
        }
    }

    private static func startHandoff(
        _ group: LoopGroup, host: String?, port: Int, backlog: Int, timeout: Duration, _ factory: @escaping ProtocolFactory
    ) throws -> GroupServer {
        let loop = group.loops[0]
        let targets = group.loops.map { HandoffConnections(loop: $0) }
        let acceptor = try runCoroutineThreadsafe(on: loop) {
            try await HandoffAcceptor.open(on: loop, host: host, port: port, backlog: backlog, targets: targets, factory: factory)
        }.result(timeout: timeout)
        do {
            let addresses = try runCoroutineThreadsafe(on: loop) {
                try acceptor.sockets.map { try Socket.localAddress($0) }
            }.result(timeout: timeout)
            return GroupServer(
                group: group, distribution: .handoff, addresses: addresses, servers: [], acceptor: acceptor, handedOff: targets)
        } catch {
            _ = try? runCoroutineThreadsafe(on: loop) { acceptor.close() }.result(timeout: timeout)
            throw error
        }
    }
}

extension Server {
    /// Reads something from the server on its loop's thread, from another thread.
    fileprivate func runOnLoop<T: Sendable>(timeout: Duration, _ body: @escaping @Sendable (Server) -> T) throws -> T {
        let loop = self.loop
        return try runCoroutineThreadsafe(on: loop) { [self] in body(self) }.result(timeout: timeout)
    }
}
