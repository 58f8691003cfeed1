import Loops

/// An echo server across a ``LoopCore/LoopGroup``: a ``LoopCore/GroupServer`` whose
/// connections echo as ``EchoServer``'s do (``EchoMode``), each loop tracking its own
/// connections so that the shutdown can close them. Start and shut down from a thread
/// that is not one of the group's loops.
public final class GroupEchoServer: Sendable {
    /// The underlying server.
    public let server: GroupServer
    /// Each loop's open connections, in the group's order.
    public let connections: [EchoConnections]

    private init(server: GroupServer, connections: [EchoConnections]) {
        self.server = server
        self.connections = connections
    }

    /// Starts an echo server on `host` and `port` (0 picks a free port) across `group`.
    /// Throws ``LoopError/Kind-swift.enum/invalidArgument`` for a port outside
    /// 0...65535 and what ``LoopCore/GroupServer/start(on:distribution:host:port:backlog:timeout:_:)`` throws.
    public static func start(
        on group: LoopGroup, distribution: GroupServer.Distribution, host: String, port: Int,
        mode: EchoMode = .protocol, backlog: Int = 100
    ) throws -> GroupEchoServer {
        let sets = group.loops.map { _ in EchoConnections() }
        let byLoop = Dictionary(uniqueKeysWithValues: zip(group.loops.map(ObjectIdentifier.init), sets))
        let server = try GroupServer.start(on: group, distribution: distribution, host: host, port: port, backlog: backlog) { loop in
            guard let connections = byLoop[ObjectIdentifier(loop)] else {
                throw LoopError(.differentLoop, "GroupEchoServer: a connection on a loop outside the group")
            }
            switch mode {
            case .protocol:
                return connections.makeProtocol()
            case .streams:
                return StreamReaderProtocol(try StreamReader(loop: loop), clientConnected: { reader, writer in
                    try await EchoServer.echoStream(reader, writer, connections: connections)
                }, loop: loop)
            }
        }
        return GroupEchoServer(server: server, connections: sets)
    }

    /// The addresses the server listens on.
    public var addresses: [SocketAddress] { server.addresses }

    /// Stops listening, closes every connection and waits, at most `timeout`, until all
    /// are lost and their stream callbacks have returned. Throws ``TimeoutError`` past it.
    public func shutdown(timeout: Duration) throws {
        server.close()
        let deadline = ContinuousClock.now + timeout
        for (loop, set) in zip(server.group.loops, connections) {
            guard let closing = try? runCoroutineThreadsafe(on: loop, { () async throws -> Void in
                set.closeAll()
                try await set.waitUntilEmpty(on: loop)
            }) else { continue }
            try closing.result(timeout: max(deadline - ContinuousClock.now, .zero))
        }
        try server.waitClosed(timeout: max(deadline - ContinuousClock.now, .zero))
    }
}
