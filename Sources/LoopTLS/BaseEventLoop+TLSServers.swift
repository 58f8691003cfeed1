import Glibc
import LoopCore

/// TLS servers: asyncio's `create_server(ssl=…)` and `create_unix_server(ssl=…)`.
/// Each accepted connection runs the handshake before its protocol gets
/// `connectionMade` (with a ``TLSTransport``). A connection whose handshake fails
/// (plaintext, an untrusted client certificate, a timeout …) is closed without its
/// protocol hearing of it; the failure is logged at debug level in debug mode (as
/// asyncio, no exception-handler call) and the server keeps serving.
extension BaseEventLoop {
    /// A TLS server on `host` and `port` presenting `ssl` (a server context); see
    /// LoopCore's `createServer` for the other arguments. With `ssl: nil` it is the
    /// plain server, and the TLS timeouts are refused.
    public func createServer(
        _ factory: @escaping () throws -> any BaseProtocol, host: String?, port: Int?, ssl: TLSContext?,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil,
        family: AddressFamily = .unspecified, flags: Int32 = AI_PASSIVE, backlog: Int = 100,
        reuseAddress: Bool? = nil, reusePort: Bool = false, startServing: Bool = true
    ) async throws -> Server {
        try await createServer(
            factory, hosts: [host ?? ""], port: port, ssl: ssl, sslHandshakeTimeout: sslHandshakeTimeout,
            sslShutdownTimeout: sslShutdownTimeout, family: family, flags: flags, backlog: backlog,
            reuseAddress: reuseAddress, reusePort: reusePort, startServing: startServing)
    }

    /// A TLS server on every address of every host in `hosts`.
    public func createServer(
        _ factory: @escaping () throws -> any BaseProtocol, hosts: [String], port: Int?, ssl: TLSContext?,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil,
        family: AddressFamily = .unspecified, flags: Int32 = AI_PASSIVE, backlog: Int = 100,
        reuseAddress: Bool? = nil, reusePort: Bool = false, startServing: Bool = true
    ) async throws -> Server {
        let wrapped = try tlsServerFactory("createServer", factory, ssl, sslHandshakeTimeout, sslShutdownTimeout)
        return try await createServer(
            wrapped, hosts: hosts, port: port, family: family, flags: flags, backlog: backlog,
            reuseAddress: reuseAddress, reusePort: reusePort, startServing: startServing)
    }

    /// A TLS server on the bound stream socket `sock`, which it takes over.
    public func createServer(
        _ factory: @escaping () throws -> any BaseProtocol, sock: Int32, ssl: TLSContext?,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil,
        backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        let wrapped = try tlsServerFactory("createServer", factory, ssl, sslHandshakeTimeout, sslShutdownTimeout)
        return try await createServer(wrapped, sock: sock, backlog: backlog, startServing: startServing)
    }

    /// A TLS server on the Unix socket `path`.
    public func createUnixServer(
        _ factory: @escaping () throws -> any BaseProtocol, path: String, ssl: TLSContext?,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil,
        backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        let wrapped = try tlsServerFactory("createUnixServer", factory, ssl, sslHandshakeTimeout, sslShutdownTimeout)
        return try await createUnixServer(wrapped, path: path, backlog: backlog, startServing: startServing)
    }

    /// A TLS server on the bound Unix stream socket `sock`.
    public func createUnixServer(
        _ factory: @escaping () throws -> any BaseProtocol, sock: Int32, ssl: TLSContext?,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil,
        backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        let wrapped = try tlsServerFactory("createUnixServer", factory, ssl, sslHandshakeTimeout, sslShutdownTimeout)
        return try await createUnixServer(wrapped, sock: sock, backlog: backlog, startServing: startServing)
    }

    // MARK: Implementation

    /// The factory a server uses: the application's protocol inside a server-side
    /// ``TLSProtocol`` (or the application's factory itself without `ssl`).
    func tlsServerFactory(
        _ call: String, _ factory: @escaping () throws -> any BaseProtocol, _ ssl: TLSContext?,
        _ handshakeTimeout: Duration?, _ shutdownTimeout: Duration?
    ) throws -> () throws -> any BaseProtocol {
        guard let ssl else {
            try Self.refusePlainTLSArguments(call, serverHostname: nil, handshakeTimeout, shutdownTimeout)
            return factory
        }
        try Self.checkTimeouts(handshakeTimeout, shutdownTimeout)
        guard ssl.side == .server else {
            throw TLSError(.invalidConfiguration, "\(call): ssl must be a server context (TLSContext(side: .server)), got a client context")
        }
        return { [unowned self] in
            try TLSProtocol(
                loop: self, appProtocol: try factory(), context: ssl, waiter: nil, serverSide: true,
                handshakeTimeout: handshakeTimeout, shutdownTimeout: shutdownTimeout)
        }
    }
}
