import COpenSSL
import Glibc

/// One TLS connection's OpenSSL state, driven through two memory buffers (asyncio's
/// `ssl.SSLObject` over `MemoryBIO`s): ciphertext from the peer goes in with
/// ``feed(_:)``, ciphertext for the peer comes out of ``takeOutput()``, and the
/// handshake, plaintext reads and writes and the close_notify exchange work on
/// those buffers without touching a socket. ``TLSProtocol`` drives one over a transport.
///
/// Use an engine on one thread.
public final class TLSEngine: CustomStringConvertible {
    /// The outcome of a handshake, read, write or shutdown step.
    public enum Step: Equatable {
        /// The step finished.
        case done
        /// The step needs more ciphertext from the peer (call again after ``feed(_:)``).
        case wantRead
        /// The peer sent close_notify: no more plaintext will come.
        case closed
        /// The step failed; the connection is unusable.
        case failed(TLSError)
    }

    let ssl: OpaquePointer
    private let incoming: OpaquePointer
    private let outgoing: OpaquePointer
    /// The context in use (a server's SNI callback may switch it).
    var context: TLSContext
    /// Whether this is the server side.
    public let serverSide: Bool
    /// The name the client sends (SNI) and checks the certificate against; `nil` on a server.
    public let serverHostname: String?
    private var sessionKey: String?

    /// An engine for one connection with `context`. A client sends `serverHostname` as
    /// SNI (unless it is an IP address) and, when the context checks hostnames,
    /// requires the certificate to match it. Throws ``TLSError/Kind-swift.enum/invalidConfiguration``
    /// when the context checks hostnames and `serverHostname` is `nil` or empty
    /// ("check_hostname requires server_hostname"), or a server engine is made from a
    /// client context (or the reverse).
    public init(context: TLSContext, serverSide: Bool, serverHostname: String? = nil) throws {
        if serverSide != (context.side == .server) {
            throw TLSError(.invalidConfiguration, serverSide
                ? "Server side TLS needs a server context (TLSContext(side: .server))"
                : "Client side TLS needs a client context (TLSContext(side: .client))")
        }
        let hostname = serverSide ? nil : serverHostname.flatMap { $0.isEmpty ? nil : $0 }
        if !serverSide && context.checkHostname && hostname == nil {
            throw TLSError(.invalidConfiguration, "check_hostname requires server_hostname")
        }
        OpenSSLErrors.clear()
        guard let ssl = SSL_new(context.ctx) else {
            throw TLSError(.invalidConfiguration, "SSL_new failed: \(OpenSSLErrors.reason() ?? "unknown error")")
        }
        guard let incoming = BIO_new(BIO_s_mem()), let outgoing = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(.invalidConfiguration, "BIO_new failed")
        }
        // An empty incoming buffer means "wait for more" until feedEOF says otherwise.
        _ = cloop_BIO_set_mem_eof_return(incoming, -1)
        _ = cloop_BIO_set_mem_eof_return(outgoing, -1)
        SSL_set_bio(ssl, incoming, outgoing)
        self.ssl = ssl
        self.incoming = incoming
        self.outgoing = outgoing
        self.context = context
        self.serverSide = serverSide
        self.serverHostname = hostname
        _ = SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
        if serverSide {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let hostname {
                let isAddress = Self.isIPAddress(hostname)
                if !isAddress { _ = cloop_SSL_set_tlsext_host_name(ssl, hostname) }
                if context.checkHostname {
                    let param = SSL_get0_param(ssl)
                    let accepted = isAddress
                        ? X509_VERIFY_PARAM_set1_ip_asc(param, hostname)
                        : X509_VERIFY_PARAM_set1_host(param, hostname, 0)
                    X509_VERIFY_PARAM_set_hostflags(param, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
                    if accepted != 1 {
                        SSL_free(ssl)
                        throw TLSError(.invalidConfiguration, "server_hostname '\(hostname)' is not a valid host name or address")
                    }
                }
                sessionKey = hostname
                if let session = context.session(for: hostname) {
                    _ = SSL_set_session(ssl, session)
                    SSL_SESSION_free(session)
                }
            }
        }
    }

    deinit {
        SSL_free(ssl)
    }

    /// Keeps a client's resumable session in its context for the next connection to
    /// the same server name.
    func saveSession() {
        guard let sessionKey, let session = SSL_get1_session(ssl) else { return }
        if SSL_SESSION_is_resumable(session) == 1 {
            context.storeSession(session, for: sessionKey)
        } else {
            SSL_SESSION_free(session)
        }
    }

    /// The engine whose SSL object is `ssl`.
    static func from(_ ssl: OpaquePointer) -> TLSEngine? {
        guard let raw = SSL_get_ex_data(ssl, 0) else { return nil }
        return Unmanaged<TLSEngine>.fromOpaque(raw).takeUnretainedValue()
    }

    public var description: String { "<TLSEngine \(serverSide ? "server" : "client")\(serverHostname.map { " \($0)" } ?? "")>" }

    // MARK: Ciphertext

    /// Adds ciphertext received from the peer.
    public func feed(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        _ = BIO_write(incoming, base, Int32(clamping: bytes.count))
    }

    /// Adds ciphertext received from the peer.
    public func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The peer closed the TCP connection: a read that needs more ciphertext now fails
    /// (with ``TLSError/Kind-swift.enum/unexpectedEOF`` unless close_notify came first).
    public func feedEOF() {
        _ = cloop_BIO_set_mem_eof_return(incoming, 0)
    }

    /// How many received ciphertext bytes are not yet processed.
    public var pendingInput: Int { cloop_BIO_pending(incoming) }

    /// How many ciphertext bytes wait to be sent.
    public var pendingOutput: Int { cloop_BIO_pending(outgoing) }

    /// The ciphertext to send to the peer, emptying the outgoing buffer.
    public func takeOutput() -> [UInt8] {
        let count = pendingOutput
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { BIO_read(outgoing, $0.baseAddress, Int32(clamping: count)) }
        if read < count { bytes.removeLast(count - max(Int(read), 0)) }
        return bytes
    }

    // MARK: Steps

    /// Advances the handshake.
    public func handshake() -> Step {
        OpenSSLErrors.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .done }
        return failure(result, handshaking: true)
    }

    /// Whether the handshake has finished.
    public var isHandshakeDone: Bool { SSL_is_init_finished(ssl) == 1 }

    /// Decrypts up to `buffer.count` plaintext bytes into `buffer`: `(count, .done)` when
    /// bytes were read, otherwise `(0, step)` saying why none were.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, step: Step) {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return (0, .done) }
        OpenSSLErrors.clear()
        var count = 0
        let result = SSL_read_ex(ssl, base, buffer.count, &count)
        if result == 1 { return (count, .done) }
        return (0, failure(result, handshaking: false))
    }

    /// Encrypts `bytes`; the ciphertext is then in ``takeOutput()``. Returns how many
    /// bytes were taken (all of them, unless the step is not `.done`).
    public func write(_ bytes: UnsafeRawBufferPointer) -> (count: Int, step: Step) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return (0, .done) }
        OpenSSLErrors.clear()
        var written = 0
        let result = SSL_write_ex(ssl, base, bytes.count, &written)
        if result == 1 { return (written, .done) }
        return (0, failure(result, handshaking: false))
    }

    /// Sends close_notify (the first call) and reports `.done` once the peer's
    /// close_notify was received too, `.wantRead` while it has not come.
    public func shutdown() -> Step {
        OpenSSLErrors.clear()
        let result = SSL_shutdown(ssl)
        if result == 1 { return .done }
        if result == 0 { return .wantRead }
        return failure(result, handshaking: false)
    }

    /// Whether the peer's close_notify was received.
    public var receivedCloseNotify: Bool { (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN) != 0 }

    private func failure(_ result: Int32, handshaking: Bool) -> Step {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            OpenSSLErrors.clear()
            return .wantRead
        case SSL_ERROR_ZERO_RETURN:
            OpenSSLErrors.clear()
            return .closed
        case SSL_ERROR_SYSCALL:
            OpenSSLErrors.clear()
            return .failed(handshaking
                ? TLSError(.connectionReset, "Connection reset by peer during the TLS handshake", reason: "unexpected eof while reading")
                : TLSError(.unexpectedEOF, "EOF occurred in violation of protocol (the peer closed without close_notify)", reason: "unexpected eof while reading"))
        default:
            return .failed(makeError(handshaking: handshaking))
        }
    }

    /// The error the queued OpenSSL errors and the verify result describe.
    private func makeError(handshaking: Bool) -> TLSError {
        let errors = OpenSSLErrors.drain()
        let first = errors.first
        if let first, first.reason == SSL_R_CERTIFICATE_VERIFY_FAILED {
            let verifyResult = SSL_get_verify_result(ssl)
            let detail: String
            switch Int32(verifyResult) {
            case X509_V_ERR_HOSTNAME_MISMATCH:
                detail = "Hostname mismatch, certificate is not valid for '\(serverHostname ?? "")'."
            case X509_V_ERR_IP_ADDRESS_MISMATCH:
                detail = "IP address mismatch, certificate is not valid for '\(serverHostname ?? "")'."
            default:
                detail = X509_verify_cert_error_string(verifyResult).map { String(cString: $0) } ?? "error \(verifyResult)"
            }
            let text = "certificate verify failed: \(detail)"
            return TLSError(.certificateVerifyFailed, text, reason: text)
        }
        if let first, first.reason == SSL_R_UNEXPECTED_EOF_WHILE_READING {
            return handshaking
                ? TLSError(.connectionReset, "Connection reset by peer during the TLS handshake", reason: first.text)
                : TLSError(.unexpectedEOF, "EOF occurred in violation of protocol (the peer closed without close_notify)", reason: first.text)
        }
        if let first, first.reason == SSL_R_NO_RENEGOTIATION {
            return TLSError(.renegotiationRefused, "TLS renegotiation refused: \(first.text)", reason: first.text)
        }
        let reason = first?.text ?? "unknown error"
        return handshaking
            ? TLSError(.handshakeFailed, "TLS handshake failed: \(reason)", reason: reason)
            : TLSError(.protocolError, "TLS error: \(reason)", reason: reason)
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}
