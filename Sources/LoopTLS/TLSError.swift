import COpenSSL

/// A TLS failure: a bad context setting or file, a failed handshake, a broken
/// connection (asyncio's `ssl.SSLError` family, `ssl.SSLCertVerificationError`).
///
/// ``kind`` says what failed (switch on it); ``reason`` is OpenSSL's reason text where
/// OpenSSL produced one (e.g. "certificate verify failed: unable to get local issuer
/// certificate"), and ``description`` is the message to show.
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What failed.
    public enum Kind: Sendable, Hashable {
        /// A certificate, key or CA file does not exist or cannot be read.
        case fileNotFound
        /// A certificate or key is not valid PEM (or not the expected object).
        case invalidPEM
        /// The private key does not belong to the certificate.
        case keyMismatch
        /// The private key is encrypted and the password is missing or wrong.
        case badPassword
        /// A context setting is refused (cipher list, version range, ALPN list …).
        case invalidConfiguration
        /// The peer's certificate did not verify (asyncio's `SSLCertVerificationError`),
        /// including a hostname mismatch.
        case certificateVerifyFailed
        /// The handshake failed for another reason: no shared version or cipher, an
        /// alert from the peer, bytes that are not TLS.
        case handshakeFailed
        /// The handshake did not finish within the handshake timeout (asyncio's
        /// `ConnectionAbortedError`).
        case handshakeTimeout
        /// The peer closed the TCP connection during the handshake
        /// (asyncio's `ConnectionResetError`).
        case connectionReset
        /// The peer closed the TCP connection without a close_notify alert: the data
        /// may have been truncated (OpenSSL's "unexpected eof while reading").
        case unexpectedEOF
        /// The close_notify exchange did not finish within the shutdown timeout.
        case shutdownTimeout
        /// The peer asked for renegotiation, which is refused.
        case renegotiationRefused
        /// Any other OpenSSL failure on an established connection.
        case protocolError
    }

    /// What failed.
    public let kind: Kind
    /// OpenSSL's reason text (e.g. "no shared cipher"), or `nil` when OpenSSL gave none.
    public let reason: String?
    /// The whole message.
    public let message: String

    public init(_ kind: Kind, _ message: String, reason: String? = nil) {
        self.kind = kind
        self.message = message
        self.reason = reason
    }

    public var description: String { message }
}

/// Reading OpenSSL's thread-local error queue.
enum OpenSSLErrors {
    /// The reason texts of every queued error, oldest first; empties the queue.
    static func drain() -> [(lib: Int32, reason: Int32, text: String)] {
        var found: [(lib: Int32, reason: Int32, text: String)] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            let text = ERR_reason_error_string(code).map { String(cString: $0) } ?? "error \(code)"
            found.append((cloop_ERR_GET_LIB(code), cloop_ERR_GET_REASON(code), text))
        }
        return found
    }

    /// The most relevant reason text of the queue (the oldest error), emptying it.
    static func reason() -> String? {
        drain().first?.text
    }

    static func clear() { ERR_clear_error() }
}
