/// The writing half of a stream (asyncio's `StreamWriter`): it wraps the transport
/// and adds ``drain()``, which waits while the transport's write buffer is over its
/// high mark. Use it on its loop's thread.
///
/// ```swift
/// try writer.write(Array("hello\n".utf8))
/// try await writer.drain()
/// writer.close()
/// try await writer.waitClosed()
/// ```
public final class StreamWriter: CustomStringConvertible, @unchecked Sendable {
    // @unchecked: like every loop-bound object, used on its loop's thread only.
    /// The transport written to.
    public internal(set) var transport: any Transport
    /// The loop the writer's tasks run on.
    public let loop: any EventLoop
    let streamProtocol: StreamReaderProtocol
    private let reader: StreamReader?

    /// A writer on `transport`, whose protocol is `protocol`; `reader`, when given, is
    /// the same connection's reader, whose exception ``drain()`` throws.
    public init(transport: any Transport, protocol: StreamReaderProtocol, reader: StreamReader?, loop: any EventLoop) {
        self.transport = transport
        self.streamProtocol = `protocol`
        self.reader = reader
        self.loop = loop
    }

    public var description: String {
        "<StreamWriter transport=\(transport)\(reader.map { " reader=\($0)" } ?? "")>"
    }

    /// Sends `bytes` (buffered by the transport when the socket does not take them
    /// all); see ``WriteTransport/write(_:)``.
    public func write(_ bytes: [UInt8]) throws { try transport.write(bytes) }

    /// Writes each piece in order.
    public func writelines(_ pieces: [[UInt8]]) throws { try transport.writelines(pieces) }

    /// Shuts down the writing side once the buffered data is sent.
    public func writeEof() throws { try transport.writeEof() }

    /// Whether ``writeEof()`` is supported.
    public var canWriteEof: Bool { transport.canWriteEof }

    /// Closes the transport (buffered data is still sent).
    public func close() { transport.close() }

    /// Whether the transport is closing or closed.
    public var isClosing: Bool { transport.isClosing }

    /// Returns once the connection is lost; throws the error that ended it, if any.
    public func waitClosed() async throws { try await streamProtocol.closed.value }

    /// Information about the transport by key (e.g. "peername"), `nil` for an unknown key.
    public func extraInfo(_ key: String) -> Any? { transport.extraInfo(key) }

    /// Information about the transport by key, or `defaultValue` for an unknown key.
    public func getExtraInfo(_ key: String, default defaultValue: Any? = nil) -> Any? {
        transport.getExtraInfo(key, default: defaultValue)
    }

    /// Waits until the transport's write buffer is at or below its low mark; returns at
    /// once when it is not over its high mark. Throws the reader's exception when it has
    /// one, and, once the connection is lost, ``SystemError`` ECONNRESET ("Connection
    /// lost") or the error that ended it. On a closing transport it first lets one loop
    /// iteration run, so that a loss already on its way is seen.
    public func drain() async throws {
        if let error = reader?.exception { throw error }
        if transport.isClosing { try await loop.sleep(.zero) }
        try await streamProtocol.drainControl.drain(on: loop)
    }
}
