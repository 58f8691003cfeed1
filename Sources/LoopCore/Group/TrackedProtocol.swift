/// A protocol standing in for the one a ``GroupServer`` factory made for a handed-over
/// connection: it forwards every call, and uncounts the connection from its loop's
/// ``HandoffConnections`` when the connection is lost (or never made). Loop-thread only.
class TrackedProtocol: BaseProtocol, @unchecked Sendable {
    // @unchecked: like every protocol, used on its loop's thread only.
    let inner: any BaseProtocol
    private let connections: HandoffConnections
    private var counted = true
    private(set) var wasMade = false

    init(_ inner: any BaseProtocol, connections: HandoffConnections) {
        self.inner = inner
        self.connections = connections
    }

    /// The stand-in for `inner`, of the kind the transport must see.
    static func wrapping(_ inner: any BaseProtocol, connections: HandoffConnections) -> TrackedProtocol {
        switch inner {
        case let buffered as any BufferedProtocol: TrackedBufferedProtocol(buffered, connections: connections)
        case let stream as any StreamProtocol: TrackedStreamProtocol(stream, connections: connections)
        default: TrackedProtocol(inner, connections: connections)
        }
    }

    /// Uncounts the connection, once.
    func release() {
        guard counted else { return }
        counted = false
        connections.remove(onLoopThread: true)
    }

    func connectionMade(_ transport: any BaseTransport) throws {
        wasMade = true
        try inner.connectionMade(transport)
    }

    func connectionLost(_ error: (any Error)?) throws {
        defer { release() }
        try inner.connectionLost(error)
    }

    func pauseWriting() throws { try inner.pauseWriting() }

    func resumeWriting() throws { try inner.resumeWriting() }
}
