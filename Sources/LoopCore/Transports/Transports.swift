/// The transport side of asyncio's transports-and-protocols model: a transport owns a
/// connection and moves bytes; a protocol (``StreamProtocol``, ``BufferedProtocol``)
/// receives the connection's events. All methods are called on the loop's thread.

/// What every transport does (asyncio's `BaseTransport`).
public protocol BaseTransport: AnyObject {
    /// Closes the transport: buffered data is still sent, then the protocol's
    /// `connectionLost(nil)` runs from a later loop callback. A second call does nothing.
    func close()
    /// Whether the transport is closing or closed.
    var isClosing: Bool { get }
    /// The protocol receiving this transport's events.
    var `protocol`: any BaseProtocol { get }
    /// Makes `protocol` receive this transport's events from now on.
    func setProtocol(_ protocol: any BaseProtocol)
    /// Information about the transport by key (e.g. "peername", "sockname", "socket");
    /// `nil` for an unknown key.
    func extraInfo(_ key: String) -> Any?
}

extension BaseTransport {
    /// Information about the transport by key, or `defaultValue` for an unknown key
    /// (asyncio's `get_extra_info(name, default)`).
    public func getExtraInfo(_ key: String, default defaultValue: Any? = nil) -> Any? {
        extraInfo(key) ?? defaultValue
    }
}

/// A transport that reads (asyncio's `ReadTransport`).
public protocol ReadTransport: BaseTransport {
    /// Whether the transport delivers received data (not paused, not closing).
    var isReading: Bool { get }
    /// Stops delivering received data until ``resumeReading()``; idempotent.
    func pauseReading()
    /// Delivers received data again; idempotent.
    func resumeReading()
}

/// A transport that writes (asyncio's `WriteTransport`).
public protocol WriteTransport: BaseTransport {
    /// Sends `bytes`, at once when possible, otherwise buffered. Throws
    /// ``LoopError/Kind-swift.enum/invalidState`` after ``writeEof()``. Writing to a
    /// closed transport is ignored (a warning is logged after repeated attempts).
    func write(_ bytes: [UInt8]) throws
    /// Writes each piece in order, as one `write` of their concatenation.
    func writelines(_ pieces: [[UInt8]]) throws
    /// Shuts down the writing side once the buffered data is sent (half-close).
    func writeEof() throws
    /// Whether ``writeEof()`` is supported.
    var canWriteEof: Bool { get }
    /// Closes at once, discarding buffered data; `connectionLost(nil)` runs later.
    func abort()
    /// How many bytes wait in the write buffer.
    var writeBufferSize: Int { get }
    /// The write buffer's flow-control marks.
    var writeBufferLimits: (low: Int, high: Int) { get }
    /// Sets the flow-control marks (asyncio's rules: no high → 4 × low or 65536, no
    /// low → high / 4). Throws ``LoopError/Kind-swift.enum/invalidArgument`` unless
    /// high ≥ low ≥ 0.
    func setWriteBufferLimits(high: Int?, low: Int?) throws
}

extension WriteTransport {
    /// Writes the concatenation of `pieces` with one ``write(_:)`` (asyncio's default).
    public func writelines(_ pieces: [[UInt8]]) throws {
        try write(pieces.flatMap { $0 })
    }
}

/// A bidirectional stream transport (asyncio's `Transport`).
public protocol Transport: ReadTransport, WriteTransport {}

/// What every protocol receives (asyncio's `BaseProtocol`). Every method has a default
/// that does nothing.
public protocol BaseProtocol: AnyObject {
    /// The connection is made; `transport` is its transport.
    func connectionMade(_ transport: any BaseTransport) throws
    /// The connection is lost or closed: `nil` for a normal close (or end of file),
    /// otherwise the error that ended it.
    func connectionLost(_ error: (any Error)?) throws
    /// The transport's write buffer went above its high mark.
    func pauseWriting() throws
    /// The transport's write buffer drained to its low mark or below.
    func resumeWriting() throws
}

extension BaseProtocol {
    public func connectionMade(_ transport: any BaseTransport) throws {}
    public func connectionLost(_ error: (any Error)?) throws {}
    public func pauseWriting() throws {}
    public func resumeWriting() throws {}
}

/// A protocol receiving a stream's bytes as arrays (asyncio's `Protocol`).
public protocol StreamProtocol: BaseProtocol {
    /// Bytes arrived. An error thrown here closes the transport
    /// ("Fatal error: protocol.data_received() call failed.").
    func dataReceived(_ bytes: [UInt8]) throws
    /// The peer shut down writing. Return `true` to keep the transport open (to go on
    /// writing), `false` (the default) to close it.
    func eofReceived() throws -> Bool
}

extension StreamProtocol {
    public func dataReceived(_ bytes: [UInt8]) throws {}
    public func eofReceived() throws -> Bool { false }
}

/// A protocol that supplies the memory the transport reads into (asyncio's
/// `BufferedProtocol`).
public protocol BufferedProtocol: BaseProtocol {
    /// Memory to receive into, at least one byte; it must stay valid until
    /// ``bufferUpdated(_:)``. `sizeHint` is -1 (no preference), as in asyncio.
    func getBuffer(sizeHint: Int) throws -> UnsafeMutableRawBufferPointer
    /// `count` bytes were stored at the start of the last buffer.
    func bufferUpdated(_ count: Int) throws
    /// As ``StreamProtocol/eofReceived()``.
    func eofReceived() throws -> Bool
}

extension BufferedProtocol {
    public func eofReceived() throws -> Bool { false }
}
