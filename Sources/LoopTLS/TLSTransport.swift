import LoopCore

/// The application's side of a TLS connection (asyncio's `_SSLProtocolTransport`):
/// writes are encrypted and sent over the transport below, received data is decrypted
/// before it reaches the protocol. Everything the transport below reports in
/// ``extraInfo(_:)`` ("socket", "peername", …) is available too, plus the TLS keys.
///
/// Half-closing is not possible over TLS: ``canWriteEof`` is false and ``writeEof()``
/// throws. ``close()`` sends close_notify and waits (up to the shutdown timeout) for
/// the peer's; ``abort()`` closes at once. Use it on the loop's thread.
public final class TLSTransport: Transport, CustomStringConvertible, @unchecked Sendable {
    // @unchecked: like every transport, used on its loop's thread only.
    private let tls: TLSProtocol
    private var closed = false

    init(_ tls: TLSProtocol) {
        self.tls = tls
    }

    public var description: String { "<TLSTransport \(tls.engine.serverSide ? "server" : "client")\(closed ? " closed" : "")>" }

    /// Marks the transport closed (its connection is closing or lost).
    func markClosed() { closed = true }

    // MARK: BaseTransport

    /// Starts the TLS shutdown: buffered data is sent, then close_notify; the
    /// connection closes when the peer's close_notify arrives or the shutdown timeout
    /// passes. `connectionLost` follows. A second call does nothing.
    public func close() {
        guard !closed else { return }
        closed = true
        tls.startShutdown()
    }

    public var isClosing: Bool { closed }

    public var `protocol`: any BaseProtocol { tls.appProtocol }

    public func setProtocol(_ protocol: any BaseProtocol) { tls.setAppProtocol(`protocol`) }

    /// The TLS keys — "sslcontext" (``TLSContext``), "ssl_object" (``TLSConnectionInfo``),
    /// "peercert" (``TLSCertificateInfo``, `nil` when the peer sent none), "cipher"
    /// (``TLSCipher``), "tls_version" (``TLSVersion``), "alpn_protocol" (`String`),
    /// "compression" (always `nil`) — and every key of the transport below.
    public func extraInfo(_ key: String) -> Any? {
        switch key {
        case "sslcontext": return tls.context
        case "ssl_object": return tls.info
        case "peercert": return tls.info?.peerCertificate
        case "cipher": return tls.info?.cipher
        case "tls_version": return tls.info?.version
        case "alpn_protocol": return tls.info?.alpnProtocol
        case "compression": return nil
        default: return tls.transport?.extraInfo(key)
        }
    }

    // MARK: ReadTransport

    public var isReading: Bool { tls.isAppReading }

    /// Stops delivering decrypted data; once the unread ciphertext reaches 256 KiB the
    /// transport below stops reading too.
    public func pauseReading() { tls.pauseAppReading() }

    public func resumeReading() { tls.resumeAppReading() }

    // MARK: WriteTransport

    /// Encrypts and sends `bytes` (kept until the handshake is done when written
    /// before). Writing to a closing transport is ignored (a warning is logged after
    /// repeated attempts).
    public func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        tls.writeAppData([bytes])
    }

    public func writelines(_ pieces: [[UInt8]]) throws {
        tls.writeAppData(pieces)
    }

    /// Always throws ``LoopError/Kind-swift.enum/invalidState``: TLS has no half-close
    /// (asyncio's NotImplementedError "SSL doesn't support half-closes").
    public func writeEof() throws {
        throw LoopError(.invalidState, "writeEof: SSL doesn't support half-closes")
    }

    public var canWriteEof: Bool { false }

    /// Closes at once without close_notify, discarding buffered data.
    public func abort() {
        closed = true
        tls.abort()
    }

    /// Plaintext not yet encrypted, ciphertext not yet handed to the transport below,
    /// and the bytes the transport below still buffers.
    public var writeBufferSize: Int { tls.writeBufferSize }

    public var writeBufferLimits: (low: Int, high: Int) { tls.writeBufferLimits }

    /// asyncio's rules with TLS's default of 512 KiB high, high / 4 low.
    public func setWriteBufferLimits(high: Int? = nil, low: Int? = nil) throws {
        try tls.setWriteBufferLimits(high: high, low: low)
    }
}
