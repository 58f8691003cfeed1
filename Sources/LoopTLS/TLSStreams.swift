import Glibc
import LoopCore

/// TLS streams: asyncio's `open_connection(ssl=…)`, `start_server(ssl=…)`, their Unix
/// forms, and `StreamWriter.start_tls`.
extension BaseEventLoop {
    /// A TLS connection to `host` and `port` as a reader and a writer (see
    /// ``createConnection(_:host:port:ssl:serverHostname:sslHandshakeTimeout:sslShutdownTimeout:family:proto:flags:localAddr:happyEyeballsDelay:interleave:)``).
    public func openConnection(
        host: String?, port: Int?, ssl: TLSContext?, serverHostname: String? = nil,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil,
        limit: Int = StreamReader.defaultLimit, family: AddressFamily = .unspecified,
        proto: Int32 = 0, flags: Int32 = 0, localAddr: (host: String, port: Int)? = nil
    ) async throws -> (reader: StreamReader, writer: StreamWriter) {
        let reader = try StreamReader(loop: self, limit: limit)
        let streamProtocol = StreamReaderProtocol(reader, loop: self)
        let (transport, _) = try await createConnection(
            { streamProtocol }, host: host, port: port, ssl: ssl, serverHostname: serverHostname,
            sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout,
            family: family, proto: proto, flags: flags, localAddr: localAddr)
        return (reader, StreamWriter(transport: transport, protocol: streamProtocol, reader: reader, loop: self))
    }

    /// A TLS connection to the Unix socket at `path` as a reader and a writer.
    public func openUnixConnection(
        path: String, ssl: TLSContext?, serverHostname: String? = nil,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil, limit: Int = StreamReader.defaultLimit
    ) async throws -> (reader: StreamReader, writer: StreamWriter) {
        let reader = try StreamReader(loop: self, limit: limit)
        let streamProtocol = StreamReaderProtocol(reader, loop: self)
        let (transport, _) = try await createUnixConnection(
            { streamProtocol }, path: path, ssl: ssl, serverHostname: serverHostname,
            sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout)
        return (reader, StreamWriter(transport: transport, protocol: streamProtocol, reader: reader, loop: self))
    }

    /// A TLS stream server: `clientConnected` runs for each connection once its
    /// handshake is done.
    public func startServer(
        _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, host: String?, port: Int?, ssl: TLSContext?,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil,
        limit: Int = StreamReader.defaultLimit, family: AddressFamily = .unspecified, flags: Int32 = AI_PASSIVE,
        backlog: Int = 100, reuseAddress: Bool? = nil, reusePort: Bool = false, startServing: Bool = true
    ) async throws -> Server {
        _ = try StreamReader(loop: self, limit: limit)
        return try await createServer(
            streamFactory(clientConnected, limit: limit), host: host, port: port, ssl: ssl,
            sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout, family: family,
            flags: flags, backlog: backlog, reuseAddress: reuseAddress, reusePort: reusePort, startServing: startServing)
    }

    /// A TLS stream server on the Unix socket `path`.
    public func startUnixServer(
        _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, path: String, ssl: TLSContext?,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil,
        limit: Int = StreamReader.defaultLimit, backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        _ = try StreamReader(loop: self, limit: limit)
        return try await createUnixServer(
            streamFactory(clientConnected, limit: limit), path: path, ssl: ssl,
            sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout,
            backlog: backlog, startServing: startServing)
    }

    private func streamFactory(
        _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, limit: Int
    ) -> () throws -> any BaseProtocol {
        { [unowned self] in
            StreamReaderProtocol(try StreamReader(loop: self, limit: limit), clientConnected: clientConnected, loop: self)
        }
    }
}

extension StreamWriter {
    /// Upgrades the stream to TLS (asyncio's `StreamWriter.start_tls`): waits for the
    /// write buffer to drain, runs the handshake with `context` — the server's side when
    /// the stream is a server's connection — and from then on the writer and its reader
    /// use the TLS transport.
    public func startTLS(
        _ context: TLSContext, serverHostname: String? = nil,
        sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil
    ) async throws {
        guard let base = loop as? BaseEventLoop else {
            throw LoopError(.invalidArgument, "StreamWriter.startTLS: the writer's loop \(loop) is not a BaseEventLoop")
        }
        try await drain()
        let upgraded = try await base.startTLS(
            transport, protocol: readerProtocol, context: context, serverSide: isServerSide,
            serverHostname: serverHostname, sslHandshakeTimeout: sslHandshakeTimeout, sslShutdownTimeout: sslShutdownTimeout)
        replaceTransport(upgraded)
    }
}
