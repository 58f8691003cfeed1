/// A ``TrackedProtocol`` for a ``BufferedProtocol``.
final class TrackedBufferedProtocol: TrackedProtocol, BufferedProtocol, @unchecked Sendable {
    private let buffered: any BufferedProtocol

    init(_ buffered: any BufferedProtocol, connections: HandoffConnections) {
        self.buffered = buffered
        super.init(buffered, connections: connections)
    }

    func getBuffer(sizeHint: Int) throws -> UnsafeMutableRawBufferPointer { try buffered.getBuffer(sizeHint: sizeHint) }

    func bufferUpdated(_ count: Int) throws { try buffered.bufferUpdated(count) }

    func eofReceived() throws -> Bool { try buffered.eofReceived() }
}
