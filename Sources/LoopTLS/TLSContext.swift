import COpenSSL
import Glibc
import Synchronization

/// The TLS protocol versions a ``TLSContext`` can allow.
public enum TLSVersion: Sendable, Hashable, CustomStringConvertible {
    case tls1_2
    case tls1_3

    var openSSLValue: Int32 {
        switch self {
        case .tls1_2: TLS1_2_VERSION
        case .tls1_3: TLS1_3_VERSION
        }
    }

    init?(openSSLName: String) {
        switch openSSLName {
        case "TLSv1.2": self = .tls1_2
        case "TLSv1.3": self = .tls1_3
        default: return nil
        }
    }

    /// OpenSSL's name for the version ("TLSv1.2", "TLSv1.3"), as asyncio's `version()`.
    public var description: String {
        switch self {
        case .tls1_2: "TLSv1.2"
        case .tls1_3: "TLSv1.3"
        }
    }
}

/// Whether and how the peer's certificate is checked (asyncio's `ssl.CERT_NONE`,
/// `CERT_OPTIONAL`, `CERT_REQUIRED`).
public enum TLSVerifyMode: Sendable, Hashable {
    /// No certificate is asked for or checked.
    case none
    /// A certificate the peer sends is checked; a server does not require one.
    case optional
    /// The peer must send a certificate that verifies.
    case required
}

/// The settings TLS connections are made with (asyncio's `ssl.SSLContext`): which side
/// it is for, the certificate chain and key it presents, what it trusts, how it
/// verifies the peer, the versions, ciphers and ALPN protocols it allows.
///
/// A client context made by ``client()`` is secure by default: it verifies the peer's
/// certificate against the system's trust store and checks the hostname. A server
/// context needs a certificate chain and key (``server(certificateChainFile:privateKeyFile:password:)``).
///
/// ```swift
/// let context = try TLSContext.client()
/// try context.loadVerifyLocations(caFile: "ca.pem")
/// let (transport, proto) = try await loop.createConnection({ MyProtocol() }, host: "localhost", port: 8443, ssl: context)
/// ```
///
/// Configure a context before the first connection uses it, on one thread.
public final class TLSContext: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: the SSL_CTX is configured before use and then only read by OpenSSL
    // (which locks its own shared state); the session cache is loop-thread state.
    /// Which side of a connection a context is for.
    public enum Side: Sendable, Hashable {
        case client
        case server
    }

    /// The side this context is for.
    public let side: Side
    let ctx: OpaquePointer
    /// Whether the peer's certificate must match the host name the client connects to
    /// (asyncio's `check_hostname`). Setting it while ``verifyMode`` is `.none` makes
    /// the mode `.required`, as asyncio does.
    public var checkHostname: Bool {
        didSet { if checkHostname && verifyMode == .none { applyVerifyMode(.required) } }
    }
    /// How the peer's certificate is checked; change it with ``setVerifyMode(_:)``.
    public private(set) var verifyMode: TLSVerifyMode
    /// The smallest protocol version allowed (default TLS 1.2).
    public var minimumVersion: TLSVersion = .tls1_2 {
        didSet { _ = cloop_SSL_CTX_set_min_proto_version(ctx, minimumVersion.openSSLValue) }
    }
    /// The largest protocol version allowed (`nil`: the largest OpenSSL supports).
    public var maximumVersion: TLSVersion? {
        didSet { _ = cloop_SSL_CTX_set_max_proto_version(ctx, maximumVersion?.openSSLValue ?? 0) }
    }
    /// Whether a client offers the session of its last connection to the same server
    /// name again (session resumption). Default true.
    public var reusesSessions = true
    /// A server's choice of context by the server name the client sent (SNI): return
    /// another server context to use its certificate for this connection, or `nil` to
    /// keep this one. The argument is `nil` when the client sent no name.
    public var serverNameCallback: ((String?) -> TLSContext?)? {
        didSet { installServerNameCallback() }
    }
    /// The ALPN protocols offered (client) or accepted in order of preference (server).
    public private(set) var alpnProtocols: [String] = []
    private var alpnWire: [UInt8] = []
    /// Sessions to resume, by server name (client contexts); a context may serve
    /// loops on several threads.
    private let sessions = Mutex<[String: SessionHandle]>([:])

    /// A context for `side` with no certificate and nothing trusted yet. A client context
    /// verifies the peer and checks the hostname; a server context does not ask for a
    /// client certificate. Prefer ``client()`` (which trusts the system's store) and
    /// ``server(certificateChainFile:privateKeyFile:password:)``.
    public init(side: Side) throws {
        OPENSSL_init_ssl(0, nil)
        guard let ctx = SSL_CTX_new(side == .client ? TLS_client_method() : TLS_server_method()) else {
            throw TLSError(.invalidConfiguration, "SSL_CTX_new failed: \(OpenSSLErrors.reason() ?? "unknown error")")
        }
        self.ctx = ctx
        self.side = side
        self.checkHostname = side == .client
        self.verifyMode = side == .client ? .required : .none
        _ = cloop_SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)
        _ = SSL_CTX_set_options(ctx, cloop_SSL_OP_NO_RENEGOTIATION() | cloop_SSL_OP_NO_COMPRESSION()
            | (side == .server ? cloop_SSL_OP_CIPHER_SERVER_PREFERENCE() : 0))
        _ = cloop_SSL_CTX_set_mode(ctx, cloop_SSL_MODE_PARTIAL_AND_MOVING())
        if side == .client { _ = cloop_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_CLIENT)) }
        applyVerifyMode(verifyMode)
    }

    deinit {
        sessions.withLock { for session in $0.values { SSL_SESSION_free(session.pointer) } }
        SSL_CTX_free(ctx)
    }

    /// A client context that trusts the system's default store, verifies the peer and
    /// checks the hostname (asyncio's `ssl.create_default_context()`).
    public static func client() throws -> TLSContext {
        let context = try TLSContext(side: .client)
        try context.loadDefaultVerifyPaths()
        return context
    }

    /// A server context presenting the PEM certificate chain in `certificateChainFile`
    /// (the leaf first) and the PEM private key in `privateKeyFile` (or in the chain file
    /// when `nil`), decrypted with `password` when it is encrypted.
    public static func server(certificateChainFile: String, privateKeyFile: String? = nil, password: String? = nil) throws -> TLSContext {
        let context = try TLSContext(side: .server)
        try context.loadCertificateChain(file: certificateChainFile, keyFile: privateKeyFile, password: password)
        return context
    }

    public var description: String { "<TLSContext \(side)>" }

    // MARK: Verification

    /// Sets how the peer's certificate is checked. Throws ``TLSError/Kind-swift.enum/invalidConfiguration``
    /// for `.none` while ``checkHostname`` is on ("Cannot set verify_mode to CERT_NONE
    /// when check_hostname is enabled.", as asyncio).
    public func setVerifyMode(_ mode: TLSVerifyMode) throws {
        if mode == .none && checkHostname {
            throw TLSError(.invalidConfiguration, "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.")
        }
        applyVerifyMode(mode)
    }

    private func applyVerifyMode(_ mode: TLSVerifyMode) {
        verifyMode = mode
        let flags: Int32
        switch mode {
        case .none: flags = SSL_VERIFY_NONE
        case .optional: flags = SSL_VERIFY_PEER
        case .required: flags = side == .server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER
        }
        SSL_CTX_set_verify(ctx, flags, nil)
    }

    /// Trusts the system's default CA store (asyncio's `load_default_certs`).
    public func loadDefaultVerifyPaths() throws {
        OpenSSLErrors.clear()
        guard SSL_CTX_set_default_verify_paths(ctx) == 1 else {
            throw TLSError(.invalidConfiguration, "loading the system's trust store failed: \(OpenSSLErrors.reason() ?? "unknown error")")
        }
    }

    /// Trusts the CA certificates in the PEM file `caFile`, in the hashed directory
    /// `caDirectory` (`c_rehash` layout) and in `caPEM` (asyncio's `load_verify_locations`).
    /// Throws ``TLSError/Kind-swift.enum/fileNotFound`` and ``TLSError/Kind-swift.enum/invalidPEM``.
    public func loadVerifyLocations(caFile: String? = nil, caDirectory: String? = nil, caPEM: [UInt8]? = nil) throws {
        guard caFile != nil || caDirectory != nil || caPEM != nil else {
            throw TLSError(.invalidConfiguration, "loadVerifyLocations: caFile, caDirectory or caPEM must be given")
        }
        if let caFile { try addTrusted(pem: try PEMFile.read(caFile, what: "CA file"), source: "CA file '\(caFile)'") }
        if let caDirectory {
            var info = stat()
            guard stat(caDirectory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw TLSError(.fileNotFound, "CA directory '\(caDirectory)': \(String(cString: strerror(errno == 0 ? ENOTDIR : errno)))")
            }
            OpenSSLErrors.clear()
            guard SSL_CTX_load_verify_locations(ctx, nil, caDirectory) == 1 else {
                throw TLSError(.invalidConfiguration, "CA directory '\(caDirectory)': \(OpenSSLErrors.reason() ?? "not usable")")
            }
        }
        if let caPEM { try addTrusted(pem: caPEM, source: "CA PEM data") }
    }

    private func addTrusted(pem: [UInt8], source: String) throws {
        let certificates = try PEMFile.certificates(pem, source: source)
        defer { for certificate in certificates { X509_free(certificate) } }
        guard let store = SSL_CTX_get_cert_store(ctx) else {
            throw TLSError(.invalidConfiguration, "\(source): the context has no certificate store")
        }
        for certificate in certificates {
            OpenSSLErrors.clear()
            if X509_STORE_add_cert(store, certificate) != 1 {
                let errors = OpenSSLErrors.drain()
                // The same CA twice is fine.
                if errors.contains(where: { $0.reason == X509_R_CERT_ALREADY_IN_HASH_TABLE }) { continue }
                throw TLSError(.invalidPEM, "\(source): \(errors.first?.text ?? "cannot add the certificate")")
            }
        }
    }

    // MARK: Own certificate

    /// Presents the PEM certificate chain in `file` (leaf first) with the PEM private key
    /// in `keyFile` (or in `file` when `nil`), decrypting it with `password` (asyncio's
    /// `load_cert_chain`). Throws ``TLSError`` of kind `fileNotFound`, `invalidPEM`,
    /// `badPassword` or `keyMismatch`.
    public func loadCertificateChain(file: String, keyFile: String? = nil, password: String? = nil) throws {
        let chain = try PEMFile.read(file, what: "certificate file")
        let key = try keyFile.map { try PEMFile.read($0, what: "private key file") } ?? chain
        try loadCertificateChain(
            pem: chain, keyPEM: key, password: password,
            chainSource: "certificate file '\(file)'", keySource: "private key file '\(keyFile ?? file)'")
    }

    /// Presents the PEM certificate chain `pem` (leaf first) with the PEM private key
    /// `keyPEM` (or the key inside `pem` when `nil`), decrypting it with `password`.
    public func loadCertificateChain(pem: [UInt8], keyPEM: [UInt8]? = nil, password: String? = nil) throws {
        try loadCertificateChain(
            pem: pem, keyPEM: keyPEM ?? pem, password: password, chainSource: "certificate PEM data", keySource: "private key PEM data")
    }

    private func loadCertificateChain(pem: [UInt8], keyPEM: [UInt8], password: String?, chainSource: String, keySource: String) throws {
        let certificates = try PEMFile.certificates(pem, source: chainSource)
        defer { for certificate in certificates { X509_free(certificate) } }
        let key = try PEMFile.privateKey(keyPEM, password: password, source: keySource)
        defer { EVP_PKEY_free(key) }
        OpenSSLErrors.clear()
        guard SSL_CTX_use_certificate(ctx, certificates[0]) == 1 else {
            throw TLSError(.invalidPEM, "\(chainSource): \(OpenSSLErrors.reason() ?? "the certificate is refused")")
        }
        for extra in certificates.dropFirst() {
            guard cloop_SSL_CTX_add1_chain_cert(ctx, extra) == 1 else {
                throw TLSError(.invalidPEM, "\(chainSource): \(OpenSSLErrors.reason() ?? "a chain certificate is refused")")
            }
        }
        guard SSL_CTX_use_PrivateKey(ctx, key) == 1, SSL_CTX_check_private_key(ctx) == 1 else {
            let reason = OpenSSLErrors.reason() ?? "key values mismatch"
            throw TLSError(.keyMismatch, "\(keySource) does not match the certificate of \(chainSource): \(reason)", reason: reason)
        }
    }

    // MARK: Ciphers and ALPN

    /// Sets the TLS 1.2 cipher list in OpenSSL's syntax (asyncio's `set_ciphers`).
    /// Throws ``TLSError/Kind-swift.enum/invalidConfiguration`` ("No cipher can be selected.").
    public func setCiphers(_ list: String) throws {
        OpenSSLErrors.clear()
        guard SSL_CTX_set_cipher_list(ctx, list) == 1 else {
            OpenSSLErrors.clear()
            throw TLSError(.invalidConfiguration, "No cipher can be selected. (cipher list '\(list)')")
        }
    }

    /// Sets the TLS 1.3 cipher suites, colon-separated (e.g. "TLS_AES_128_GCM_SHA256").
    public func setCipherSuites(_ list: String) throws {
        OpenSSLErrors.clear()
        guard SSL_CTX_set_ciphersuites(ctx, list) == 1 else {
            OpenSSLErrors.clear()
            throw TLSError(.invalidConfiguration, "No cipher suite can be selected. (TLS 1.3 cipher suites '\(list)')")
        }
    }

    /// Sets the ALPN protocols (asyncio's `set_alpn_protocols`): a client offers them,
    /// a server picks the first of its list the client offers. Each name is 1…255 bytes.
    public func setALPNProtocols(_ protocols: [String]) throws {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard (1...255).contains(bytes.count) else {
                throw TLSError(.invalidConfiguration, "ALPN protocol name must be 1 to 255 bytes long, got '\(name)'")
            }
            wire.append(UInt8(bytes.count))
            wire += bytes
        }
        alpnProtocols = protocols
        alpnWire = wire
        if side == .client {
            let failed = wire.withUnsafeBufferPointer { SSL_CTX_set_alpn_protos(ctx, $0.baseAddress, UInt32($0.count)) }
            if failed != 0 { throw TLSError(.invalidConfiguration, "SSL_CTX_set_alpn_protos refused \(protocols)") }
        } else {
            SSL_CTX_set_alpn_select_cb(ctx, { _, out, outLength, offered, offeredLength, arg in
                guard let arg, let offered else { return SSL_TLSEXT_ERR_NOACK }
                let context = Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue()
                return context.selectALPN(out, outLength, offered, offeredLength)
            }, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    private func selectALPN(
        _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?,
        _ offered: UnsafePointer<UInt8>, _ offeredLength: UInt32
    ) -> Int32 {
        // The chosen name must outlive the call: point into the context's own wire list.
        let chosen: Int32 = alpnWire.withUnsafeBufferPointer { own in
            var selected: UnsafeMutablePointer<UInt8>?
            var selectedLength: UInt8 = 0
            let result = SSL_select_next_proto(&selected, &selectedLength, own.baseAddress, UInt32(own.count), offered, offeredLength)
            guard result == OPENSSL_NPN_NEGOTIATED, let selected else { return SSL_TLSEXT_ERR_NOACK }
            out?.pointee = UnsafePointer(selected)
            outLength?.pointee = selectedLength
            return SSL_TLSEXT_ERR_OK
        }
        return chosen
    }

    // MARK: SNI

    private func installServerNameCallback() {
        guard side == .server else { return }
        _ = cloop_SSL_CTX_set_tlsext_servername_callback(ctx, { ssl, _, arg in
            guard let ssl, let arg else { return SSL_TLSEXT_ERR_OK }
            let context = Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue()
            return context.chooseContext(for: ssl)
        })
        _ = cloop_SSL_CTX_set_tlsext_servername_arg(ctx, Unmanaged.passUnretained(self).toOpaque())
    }

    private func chooseContext(for ssl: OpaquePointer) -> Int32 {
        guard let callback = serverNameCallback else { return SSL_TLSEXT_ERR_OK }
        let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        guard let chosen = callback(name), chosen !== self else { return SSL_TLSEXT_ERR_OK }
        guard chosen.side == .server, SSL_set_SSL_CTX(ssl, chosen.ctx) != nil else { return SSL_TLSEXT_ERR_ALERT_FATAL }
        // SSL_set_SSL_CTX takes the certificate, not the verify settings.
        SSL_set_verify(ssl, SSL_CTX_get_verify_mode(chosen.ctx), nil)
        TLSEngine.from(ssl)?.context = chosen
        return SSL_TLSEXT_ERR_OK
    }

    // MARK: Sessions

    /// The stored session for `name`, with a reference the caller frees.
    func session(for name: String) -> OpaquePointer? {
        guard reusesSessions else { return nil }
        return sessions.withLock { stored in
            guard let session = stored[name]?.pointer else { return nil }
            _ = SSL_SESSION_up_ref(session)
            return session
        }
    }

    /// Keeps `session` (whose reference passes to the context) for the next connection to `name`.
    func storeSession(_ session: OpaquePointer, for name: String) {
        guard reusesSessions else {
            SSL_SESSION_free(session)
            return
        }
        let old = sessions.withLock { stored in
            defer { stored[name] = SessionHandle(pointer: session) }
            return stored[name]
        }
        if let old { SSL_SESSION_free(old.pointer) }
    }
}

/// An SSL_SESSION reference held by a context's cache.
struct SessionHandle: @unchecked Sendable {
    // @unchecked: OpenSSL's sessions are reference counted with atomic counts.
    let pointer: OpaquePointer
}
