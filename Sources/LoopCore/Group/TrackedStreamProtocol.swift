/// A ``TrackedProtocol`` for a ``StreamProtocol``.
final class TrackedStreamProtocol: TrackedProtocol, StreamProtocol, @unchecked Sendable {
    private let stream: any StreamProtocol

    init(_ stream: any StreamProtocol, connections: HandoffConnections) {
        self.stream = stream
        super.init(stream, connections: connections)
    }

    func dataReceived(_ bytes: [UInt8]) throws { try stream.dataReceived(bytes) }

    func eofReceived() throws -> Bool { try stream.eofReceived() }
}
