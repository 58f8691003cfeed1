import HTTPParsing
import LoopCore

/// The example's server: ``HTTPConnection``s across a ``LoopGroup``, behind a
/// ``GroupServer`` (one SO_REUSEPORT socket per loop, or one acceptor handing
/// connections round robin). Start and shut down from a thread that is not one of
/// the group's loops.
///
/// ```swift
/// let group = try LoopGroup(loops: 2)
/// let server = try HTTPServer.start(on: group, host: "127.0.0.1", port: 8080)
/// // …
/// try server.shutdown(timeout: .seconds(5))
/// try group.shutdown()
/// ```
public final class HTTPServer: Sendable {
    /// The listening server.
    public let server: GroupServer
    private let connections: [HTTPConnectionSet]

    private init(server: GroupServer, connections: [HTTPConnectionSet]) {
        self.server = server
        self.connections = connections
    }

    /// Serves on `host` and `port` (0 picks a free port) across `group`. Throws what
    /// ``GroupServer/start(on:distribution:host:port:backlog:timeout:_:)`` throws.
    public static func start(
        on group: LoopGroup, distribution: GroupServer.Distribution = .reusePort, host: String, port: Int,
        backlog: Int = 1024, limits: HTTPParserLimits = HTTPParserLimits()
    ) throws -> HTTPServer {
        let sets = group.loops.map { HTTPConnectionSet(loop: $0) }
        let byLoop = Dictionary(uniqueKeysWithValues: sets.map { (ObjectIdentifier($0.loop), $0) })
        let server = try GroupServer.start(on: group, distribution: distribution, host: host, port: port, backlog: backlog) { loop in
            HTTPConnection(connections: byLoop[ObjectIdentifier(loop)], limits: limits)
        }
        return HTTPServer(server: server, connections: sets)
    }

    /// The addresses listened on.
    public var addresses: [SocketAddress] { server.addresses }

    /// Stops listening, closes every connection (after what it wrote is sent) and
    /// waits, at most `timeout`, until all are gone. Throws ``TimeoutError`` past it.
    public func shutdown(timeout: Duration) throws {
        server.close()
        let deadline = ContinuousClock.now + timeout
        for set in connections {
            guard let closing = try? runCoroutineThreadsafe(on: set.loop, { () async throws -> Void in
                set.closeAll()
                try await set.waitUntilEmpty()
            }) else { continue }
            try closing.result(timeout: max(deadline - ContinuousClock.now, .zero))
        }
        try server.waitClosed(timeout: max(deadline - ContinuousClock.now, .zero))
    }
}
