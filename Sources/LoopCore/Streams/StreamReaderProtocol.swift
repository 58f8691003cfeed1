/// The protocol between a stream transport and a ``StreamReader`` (asyncio's
/// `StreamReaderProtocol`): received bytes and end of file go to the reader, a lost
/// connection's error becomes the reader's exception, and the transport's write flow
/// control is what ``StreamWriter/drain()`` waits on. It keeps the transport open
/// after the peer's end of file, so the application can still write.
///
/// Given a client-connected callback (servers), each connection makes a
/// ``StreamWriter`` and runs the callback with the reader and writer as a loop task.
/// A callback that throws is reported to the loop's exception handler ("Unhandled
/// exception in client_connected_cb") and its connection is closed.
public final class StreamReaderProtocol: StreamProtocol, CustomStringConvertible, @unchecked Sendable {
    // @unchecked: like every protocol, used on its loop's thread only.
    /// A server's per-connection callback.
    public typealias ClientConnected = (StreamReader, StreamWriter) async throws -> Void

    /// The loop the protocol's futures and tasks belong to.
    public let loop: any EventLoop
    private var reader: StreamReader?
    let clientConnected: ClientConnected?
    private var writer: StreamWriter?
    private var task: LoopTask<Void>?
    var transport: (any BaseTransport)?
    let drainControl = StreamDrainControl()
    /// Completes when the connection is lost: with its error, or normally.
    let closed: Future<Void>

    /// A protocol feeding `reader` (which may be `nil`); `clientConnected`, when given,
    /// runs for the connection once it is made.
    public init(_ reader: StreamReader?, clientConnected: ClientConnected? = nil, loop: any EventLoop) {
        self.reader = reader
        self.clientConnected = clientConnected
        self.loop = loop
        self.closed = loop.createFuture(of: Void.self, from: nil)
    }

    public var description: String { "<StreamReaderProtocol\(transport.map { " transport=\($0)" } ?? "")>" }

    public func connectionMade(_ transport: any BaseTransport) throws {
        self.transport = transport
        if let reader, let readable = transport as? any ReadTransport {
            try reader.setTransport(readable)
        }
        guard let clientConnected, let reader else { return }
        guard let stream = transport as? any Transport else {
            transport.close()
            throw LoopError(.invalidArgument, "StreamReaderProtocol: a stream needs a bidirectional Transport, got \(transport)")
        }
        let writer = StreamWriter(transport: stream, protocol: self, reader: reader, loop: loop)
        self.writer = writer
        let task = try loop.createTask(name: nil, from: nil) { try await clientConnected(reader, writer) }
        self.task = task
        try task.addDoneCallback { [loop] finished in
            guard !finished.isCancelled, let error = try? finished.exception() else { return }
            loop.callExceptionHandler(ExceptionContext(
                message: "Unhandled exception in client_connected_cb", error: error, transport: stream))
            stream.close()
        }
    }

    public func connectionLost(_ error: (any Error)?) throws {
        if let reader {
            if let error { reader.setException(error) } else { reader.feedEof() }
        }
        if !closed.isDone {
            if let error {
                try closed.setException(error)
                // Nobody has to wait for the close: its error is not "never retrieved".
                closed.markErrorRetrieved()
            } else {
                try closed.setResult(())
            }
        }
        drainControl.connectionLost(error)
        reader = nil
        writer = nil
        task = nil
        transport = nil
    }

    public func dataReceived(_ bytes: [UInt8]) throws {
        try reader?.feedData(bytes)
    }

    public func eofReceived() throws -> Bool {
        reader?.feedEof()
        return true
    }

    public func pauseWriting() throws {
        drainControl.pauseWriting()
    }

    public func resumeWriting() throws {
        drainControl.resumeWriting()
    }
}
