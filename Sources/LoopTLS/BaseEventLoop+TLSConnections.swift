import LoopCore

/// TLS client connections: asyncio's `create_connection(ssl=…)`,
/// `create_unix_connection(ssl=…)` and `connect_accepted_socket(ssl=…)`. Each returns
/// once the handshake is done and the protocol's `connectionMade` ran, with the
/// ``TLSTransport`` the protocol writes to. A failed handshake throws its
/// ``TLSError`` (the protocol was made, but never got `connectionMade`) and closes
/// the connection. With `ssl: nil` they are the plain calls (and refuse the TLS-only
/// arguments, as asyncio).
///
/// ```swift
/// let context = try TLSContext.client()
/// let (transport, proto) = try await loop.createConnection({ Client() }, host: "example.org", port: 443, ssl: context)
/// ```
extension BaseEventLoop {
    /// Connects to `host` and `port` (see LoopCore's `createConnection`) and runs TLS
    /// with `ssl` over the connection. The certificate is checked against
    /// `serverHostname`, by default `host`; an empty `serverHostname` sends no name
    /// and skips the check, which only a context with ``TLSContext/checkHostname`` off
    /// allows. `sslHandshakeTimeout` (default 60 s) aborts a handshake that takes
    /// longer, with ``TLSError/Kind-swift.enum/handshakeTimeout``; `sslShutdownTimeout`
    /// (default 30 s) bounds the wait for the peer's close_notify after `close()`.
    public func createConnection<P: BaseProtocol>(
        _ factory: () throws -> P, host: String?, port: Int?, ssl: TLSContext?, serverHostname: String? = nil,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil,
        family: AddressFamily = .unspecified, proto: Int32 = 0, flags: Int32 = 0,
        localAddr: (host: String, port: Int)? = nil, happyEyeballsDelay: Duration? = nil, interleave: Int? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        try await plainOrTLS(
            "createConnection", factory, ssl: ssl, serverHostname: serverHostname,
            sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout,
            hostname: { try Self.clientHostname($0, serverHostname: serverHostname, host: host) },
            plain: { factory in
                try await createConnection(
                    factory, host: host, port: port, family: family, proto: proto, flags: flags, localAddr: localAddr,
                    happyEyeballsDelay: happyEyeballsDelay, interleave: interleave)
            },
            tls: { tlsFactory in
                try await createConnection(
                    tlsFactory, host: host, port: port, family: family, proto: proto, flags: flags, localAddr: localAddr,
                    happyEyeballsDelay: happyEyeballsDelay, interleave: interleave).transport
            })
    }

    /// As ``createConnection(_:host:port:ssl:serverHostname:sslHandshakeTimeout:sslShutdownTimeout:family:proto:flags:localAddr:happyEyeballsDelay:interleave:)``
    /// with asyncio's `ssl=True`: `true` makes a default client context
    /// (``TLSContext/client()``: the system's trust store, hostname checked); `false`
    /// is a plain connection.
    public func createConnection<P: BaseProtocol>(
        _ factory: () throws -> P, host: String?, port: Int?, ssl: Bool, serverHostname: String? = nil,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil,
        family: AddressFamily = .unspecified, proto: Int32 = 0, flags: Int32 = 0,
        localAddr: (host: String, port: Int)? = nil, happyEyeballsDelay: Duration? = nil, interleave: Int? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        try await createConnection(
            factory, host: host, port: port, ssl: ssl ? try TLSContext.client() : nil, serverHostname: serverHostname,
            sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout, family: family,
            proto: proto, flags: flags, localAddr: localAddr, happyEyeballsDelay: happyEyeballsDelay, interleave: interleave)
    }

    /// Runs TLS as the client over the connected stream socket `sock` (asyncio's
    /// `create_connection(sock=…, ssl=…)`). `serverHostname` is required ("You must
    /// set server_hostname when using ssl without a host").
    public func createConnection<P: BaseProtocol>(
        _ factory: () throws -> P, sock: Int32, ssl: TLSContext?, serverHostname: String? = nil,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        try await plainOrTLS(
            "createConnection", factory, ssl: ssl, serverHostname: serverHostname,
            sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout,
            hostname: { try Self.clientHostname($0, serverHostname: serverHostname, host: nil) },
            plain: { try await createConnection($0, sock: sock) },
            tls: { try await createConnection($0, sock: sock).transport })
    }

    /// Runs TLS as the server over the accepted stream socket `fd` (asyncio's
    /// `connect_accepted_socket(sock, ssl=…)`).
    public func connectAcceptedSocket<P: BaseProtocol>(
        _ factory: () throws -> P, _ fd: Int32, ssl: TLSContext?,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        try await plainOrTLS(
            "connectAcceptedSocket", factory, ssl: ssl, serverSide: true, serverHostname: nil,
            sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout,
            hostname: { _ in nil },
            plain: { try await connectAcceptedSocket($0, fd) },
            tls: { try await connectAcceptedSocket($0, fd).transport })
    }

    /// Connects to the Unix stream socket at `path` and runs TLS as the client
    /// (asyncio's `create_unix_connection(ssl=…)`); `serverHostname` is required
    /// ("you have to pass server_hostname when using ssl").
    public func createUnixConnection<P: BaseProtocol>(
        _ factory: () throws -> P, path: String, ssl: TLSContext?, serverHostname: String? = nil,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        try await plainOrTLS(
            "createUnixConnection", factory, ssl: ssl, serverHostname: serverHostname,
            sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout,
            hostname: { try Self.requiredHostname($0, serverHostname: serverHostname) },
            plain: { try await createUnixConnection($0, path: path) },
            tls: { try await createUnixConnection($0, path: path).transport })
    }

    /// Runs TLS as the client over the connected Unix stream socket `sock`.
    public func createUnixConnection<P: BaseProtocol>(
        _ factory: () throws -> P, sock: Int32, ssl: TLSContext?, serverHostname: String? = nil,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        try await plainOrTLS(
            "createUnixConnection", factory, ssl: ssl, serverHostname: serverHostname,
            sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout,
            hostname: { try Self.requiredHostname($0, serverHostname: serverHostname) },
            plain: { try await createUnixConnection($0, sock: sock) },
            tls: { try await createUnixConnection($0, sock: sock).transport })
    }

    // MARK: Implementation

    /// The steps every client overload shares: without `ssl`, refuse the TLS-only
    /// arguments and make the plain connection with `plain`; with it, take the name
    /// to check from `hostname` (given the call's name) and connect with `tls`.
    private func plainOrTLS<P: BaseProtocol>(
        _ call: String, _ factory: () throws -> P, ssl: TLSContext?, serverSide: Bool = false,
        serverHostname: String?, sslHandshakeTimeout: Duration?, sslShutdownTimeout: Duration?,
        hostname: (String) throws -> String?,
        plain: (() throws -> P) async throws -> (transport: any Transport, protocol: P),
        tls: (() throws -> TLSProtocol) async throws -> any Transport
    ) async throws -> (transport: any Transport, protocol: P) {
        guard let ssl else {
            try Self.refusePlainTLSArguments(call, serverHostname: serverHostname, sslHandshakeTimeout, sslShutdownTimeout)
            return try await withoutActuallyEscaping(factory) { try await plain($0) }
        }
        return try await connectTLS(
            factory, context: ssl, serverSide: serverSide, serverHostname: try hostname(call),
            handshakeTimeout: sslHandshakeTimeout, shutdownTimeout: sslShutdownTimeout, tls)
    }

    /// The name a Unix-socket client checks: asyncio requires `serverHostname` there.
    static func requiredHostname(_ call: String, serverHostname: String?) throws -> String {
        guard let serverHostname else {
            throw LoopError(.invalidArgument, "\(call): you have to pass server_hostname when using ssl")
        }
        return serverHostname
    }

    /// asyncio's rules for the TLS-only arguments of a plain call.
    static func refusePlainTLSArguments(
        _ call: String, serverHostname: String?, _ handshakeTimeout: Duration?, _ shutdownTimeout: Duration?
    ) throws {
        if serverHostname != nil {
            throw LoopError(.invalidArgument, "\(call): server_hostname is only meaningful with ssl")
        }
        if handshakeTimeout != nil {
            throw LoopError(.invalidArgument, "\(call): ssl_handshake_timeout is only meaningful with ssl")
        }
        if shutdownTimeout != nil {
            throw LoopError(.invalidArgument, "\(call): ssl_shutdown_timeout is only meaningful with ssl")
        }
    }

    /// The name a client checks: `serverHostname`, else the host connected to.
    static func clientHostname(_ call: String, serverHostname: String?, host: String?) throws -> String {
        if let serverHostname { return serverHostname }
        guard let host, !host.isEmpty else {
            throw LoopError(.invalidArgument, "\(call): You must set server_hostname when using ssl without a host")
        }
        return host
    }

    /// Makes the connection with `connect` (given a factory of TLS protocols wrapping
    /// the application's), then waits for the handshake; on failure or cancellation
    /// the connection is closed and the error rethrown.
    func connectTLS<P: BaseProtocol>(
        _ factory: () throws -> P, context: TLSContext, serverSide: Bool, serverHostname: String?,
        handshakeTimeout: Duration?, shutdownTimeout: Duration?,
        _ connect: (() throws -> TLSProtocol) async throws -> any Transport
    ) async throws -> (transport: any Transport, protocol: P) {
        try Self.checkTimeouts(handshakeTimeout, shutdownTimeout)
        // Refuse a context that cannot make this side's engine before connecting.
        _ = try TLSEngine(context: context, serverSide: serverSide, serverHostname: serverHostname)
        let waiter = createFuture(of: Void.self, from: nil)
        let box = MadeProtocols<P>()
        let below = try await withoutActuallyEscaping(factory) { factory in
            try await connect({ [box] in
                let app = try factory()
                let tls = try TLSProtocol(
                    loop: self, appProtocol: app, context: context, waiter: waiter, serverSide: serverSide,
                    serverHostname: serverHostname, handshakeTimeout: handshakeTimeout, shutdownTimeout: shutdownTimeout)
                box.made = (app, tls)
                return tls
            })
        }
        guard let made = box.made else {
            below.close()
            throw LoopError(.invalidState, "TLS: the connection was made without its protocol")
        }
        do {
            try await waiter.value
        } catch {
            below.close()
            throw error
        }
        return (made.tls.applicationTransport, made.app)
    }

    static func checkTimeouts(_ handshakeTimeout: Duration?, _ shutdownTimeout: Duration?) throws {
        if let handshakeTimeout, handshakeTimeout <= .zero {
            throw LoopError(.invalidArgument, "ssl_handshake_timeout should be a positive number, got \(TLSProtocol.seconds(handshakeTimeout))")
        }
        if let shutdownTimeout, shutdownTimeout <= .zero {
            throw LoopError(.invalidArgument, "ssl_shutdown_timeout should be a positive number, got \(TLSProtocol.seconds(shutdownTimeout))")
        }
    }
}

/// The protocols a connect call's factory made (set inside the factory).
private final class MadeProtocols<P> {
    var made: (app: P, tls: TLSProtocol)?
}
