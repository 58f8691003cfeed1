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
        let call = "createConnection"
        guard let ssl else {
            try Self.refusePlainTLSArguments(call, serverHostname: serverHostname, sslHandshakeTimeout, sslShutdownTimeout)
            return try await createConnection(
                factory, host: host, port: port, family: family, proto: proto, flags: flags, localAddr: localAddr,
                happyEyeballsDelay: happyEyeballsDelay, interleave: interleave)
        }
        let hostname = try Self.clientHostname(call, serverHostname: serverHostname, host: host)
        return try await connectTLS(
            factory, context: ssl, serverSide: false, serverHostname: hostname,
            handshakeTimeout: sslHandshakeTimeout, shutdownTimeout: sslShutdownTimeout
        ) { tlsFactory in
            try await createConnection(
                tlsFactory, host: host, port: port, family: family, proto: proto, flags: flags, localAddr: localAddr,
                happyEyeballsDelay: happyEyeballsDelay, interleave: interleave).transport
        }
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
        let call = "createConnection"
        guard let ssl else {
            try Self.refusePlainTLSArguments(call, serverHostname: serverHostname, sslHandshakeTimeout, sslShutdownTimeout)
            return try await createConnection(factory, sock: sock)
        }
        let hostname = try Self.clientHostname(call, serverHostname: serverHostname, host: nil)
        return try await connectTLS(
            factory, context: ssl, serverSide: false, serverHostname: hostname,
            handshakeTimeout: sslHandshakeTimeout, shutdownTimeout: sslShutdownTimeout
        ) { tlsFactory in
            try await createConnection(tlsFactory, sock: sock).transport
        }
    }

    /// Runs TLS as the server over the accepted stream socket `fd` (asyncio's
    /// `connect_accepted_socket(sock, ssl=…)`).
    public func connectAcceptedSocket<P: BaseProtocol>(
        _ factory: () throws -> P, _ fd: Int32, ssl: TLSContext?,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        let call = "connectAcceptedSocket"
        guard let ssl else {
            try Self.refusePlainTLSArguments(call, serverHostname: nil, sslHandshakeTimeout, sslShutdownTimeout)
            return try await connectAcceptedSocket(factory, fd)
        }
        return try await connectTLS(
            factory, context: ssl, serverSide: true, serverHostname: nil,
            handshakeTimeout: sslHandshakeTimeout, shutdownTimeout: sslShutdownTimeout
        ) { tlsFactory in
            try await connectAcceptedSocket(tlsFactory, fd).transport
        }
    }

    /// Connects to the Unix stream socket at `path` and runs TLS as the client
    /// (asyncio's `create_unix_connection(ssl=…)`); `serverHostname` is required
    /// ("you have to pass server_hostname when using ssl").
    public func createUnixConnection<P: BaseProtocol>(
        _ factory: () throws -> P, path: String, ssl: TLSContext?, serverHostname: String? = nil,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        let call = "createUnixConnection"
        guard let ssl else {
            try Self.refusePlainTLSArguments(call, serverHostname: serverHostname, sslHandshakeTimeout, sslShutdownTimeout)
            return try await createUnixConnection(factory, path: path)
        }
        guard let serverHostname else {
            throw LoopError(.invalidArgument, "\(call): you have to pass server_hostname when using ssl")
        }
        return try await connectTLS(
            factory, context: ssl, serverSide: false, serverHostname: serverHostname,
            handshakeTimeout: sslHandshakeTimeout, shutdownTimeout: sslShutdownTimeout
        ) { tlsFactory in
            try await createUnixConnection(tlsFactory, path: path).transport
        }
    }

    /// Runs TLS as the client over the connected Unix stream socket `sock`.
    public func createUnixConnection<P: BaseProtocol>(
        _ factory: () throws -> P, sock: Int32, ssl: TLSContext?, serverHostname: String? = nil,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        let call = "createUnixConnection"
        guard let ssl else {
            try Self.refusePlainTLSArguments(call, serverHostname: serverHostname, sslHandshakeTimeout, sslShutdownTimeout)
            return try await createUnixConnection(factory, sock: sock)
        }
        guard let serverHostname else {
            throw LoopError(.invalidArgument, "\(call): you have to pass server_hostname when using ssl")
        }
        return try await connectTLS(
            factory, context: ssl, serverSide: false, serverHostname: serverHostname,
            handshakeTimeout: sslHandshakeTimeout, shutdownTimeout: sslShutdownTimeout
        ) { tlsFactory in
            try await createUnixConnection(tlsFactory, sock: sock).transport
        }
    }

    // MARK: Implementation

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
