import Glibc

/// Streams over TCP and Unix sockets (asyncio's `open_connection`, `start_server`,
/// `open_unix_connection` and `start_unix_server`): the same connections and servers
/// as ``createConnection(_:host:port:family:proto:flags:localAddr:)`` and
/// ``createServer(_:host:port:family:flags:backlog:reuseAddress:reusePort:startServing:)``,
/// handed out as a ``StreamReader`` and ``StreamWriter`` pair; the `sock:` forms take
/// over a socket the caller made, and `hosts:` serves several hosts. `limit` is the reader's
/// buffer limit; a `limit` of zero or less throws
/// ``LoopError/Kind-swift.enum/invalidArgument``. Await them from a task running on the loop.
///
/// ```swift
/// let server = try await loop.startServer({ reader, writer in
///     let line = try await reader.readline()
///     try writer.write(line)
///     try await writer.drain()
///     writer.close()
/// }, host: "127.0.0.1", port: 8888)
/// let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: 8888)
/// ```
extension BaseEventLoop {
    /// Connects to `host` and `port` as
    /// ``createConnection(_:host:port:family:proto:flags:localAddr:happyEyeballsDelay:interleave:)``
    /// does and throws what it throws.
    public func openConnection(
        host: String?, port: Int?, limit: Int = StreamReader.defaultLimit, family: AddressFamily = .unspecified,
        proto: Int32 = 0, flags: Int32 = 0, localAddr: (host: String, port: Int)? = nil
    ) async throws -> (reader: StreamReader, writer: StreamWriter) {
        let (reader, streamProtocol) = try makeStreamPair(limit: limit)
        let (transport, _) = try await createConnection(
            { streamProtocol }, host: host, port: port, family: family, proto: proto, flags: flags, localAddr: localAddr)
        return (reader, makeWriter(transport, streamProtocol, reader))
    }

    /// The stream pair over the connected stream socket `sock`, which the transport
    /// takes over (asyncio's `open_connection(sock=…)`), as ``createConnection(_:sock:)``
    /// does. A socket that is not a stream socket throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` ("A Stream Socket was expected");
    /// after an argument error the socket is still the caller's to close.
    public func openConnection(
        sock: Int32, limit: Int = StreamReader.defaultLimit
    ) async throws -> (reader: StreamReader, writer: StreamWriter) {
        let (reader, streamProtocol) = try makeStreamPair(limit: limit)
        let (transport, _) = try await createConnection({ streamProtocol }, sock: sock)
        return (reader, makeWriter(transport, streamProtocol, reader))
    }

    /// Connects to the Unix socket `path` as ``createUnixConnection(_:path:)`` does
    /// and throws what it throws.
    public func openUnixConnection(
        path: String, limit: Int = StreamReader.defaultLimit
    ) async throws -> (reader: StreamReader, writer: StreamWriter) {
        let (reader, streamProtocol) = try makeStreamPair(limit: limit)
        let (transport, _) = try await createUnixConnection({ streamProtocol }, path: path)
        return (reader, makeWriter(transport, streamProtocol, reader))
    }

    /// The stream pair over the connected Unix stream socket `sock`, which the transport
    /// takes over (asyncio's `open_unix_connection(sock=…)`), as
    /// ``createUnixConnection(_:sock:)`` does. Any other kind of socket throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` ("A UNIX Domain Stream Socket was
    /// expected"); after an argument error the socket is still the caller's to close.
    public func openUnixConnection(
        sock: Int32, limit: Int = StreamReader.defaultLimit
    ) async throws -> (reader: StreamReader, writer: StreamWriter) {
        let (reader, streamProtocol) = try makeStreamPair(limit: limit)
        let (transport, _) = try await createUnixConnection({ streamProtocol }, sock: sock)
        return (reader, makeWriter(transport, streamProtocol, reader))
    }

    /// A server on `host` and `port` (the arguments and errors of
    /// ``createServer(_:host:port:family:flags:backlog:reuseAddress:reusePort:startServing:)``)
    /// that runs `clientConnected` with a new reader and writer for each connection, as
    /// a loop task. A callback that throws is reported to the loop's exception handler
    /// and its connection is closed; the server goes on serving.
    public func startServer(
        _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, host: String?, port: Int?,
        limit: Int = StreamReader.defaultLimit, family: AddressFamily = .unspecified, flags: Int32 = AI_PASSIVE,
        backlog: Int = 100, reuseAddress: Bool? = nil, reusePort: Bool = false, startServing: Bool = true
    ) async throws -> Server {
        try await startServer(
            clientConnected, hosts: [host ?? ""], port: port, limit: limit, family: family, flags: flags,
            backlog: backlog, reuseAddress: reuseAddress, reusePort: reusePort, startServing: startServing)
    }

    /// A server on every address of every host in `hosts` (asyncio's `start_server` with
    /// a list of hosts; the arguments and errors of
    /// ``createServer(_:hosts:port:family:flags:backlog:reuseAddress:reusePort:startServing:)``),
    /// one listening socket per address, that runs `clientConnected` for each connection
    /// as ``startServer(_:host:port:limit:family:flags:backlog:reuseAddress:reusePort:startServing:)`` does.
    public func startServer(
        _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, hosts: [String], port: Int?,
        limit: Int = StreamReader.defaultLimit, family: AddressFamily = .unspecified, flags: Int32 = AI_PASSIVE,
        backlog: Int = 100, reuseAddress: Bool? = nil, reusePort: Bool = false, startServing: Bool = true
    ) async throws -> Server {
        try StreamReader.checkLimit(limit)
        return try await createServer(
            streamFactory(clientConnected, limit: limit), hosts: hosts, port: port, family: family, flags: flags,
            backlog: backlog, reuseAddress: reuseAddress, reusePort: reusePort, startServing: startServing)
    }

    /// A server on the bound stream socket `sock`, which it takes over (asyncio's
    /// `start_server(sock=…)`; the arguments and errors of
    /// ``createServer(_:sock:backlog:startServing:)``), that runs `clientConnected` for
    /// each connection as ``startServer(_:host:port:limit:family:flags:backlog:reuseAddress:reusePort:startServing:)``
    /// does. A socket that is not a stream socket throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` ("A Stream Socket was expected");
    /// after an argument error the socket is still the caller's to close.
    public func startServer(
        _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, sock: Int32,
        limit: Int = StreamReader.defaultLimit, backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        try StreamReader.checkLimit(limit)
        return try await createServer(
            streamFactory(clientConnected, limit: limit), sock: sock, backlog: backlog, startServing: startServing)
    }

    /// A server on the Unix socket `path` (the arguments and errors of
    /// ``createUnixServer(_:path:backlog:startServing:)``) that runs `clientConnected`
    /// for each connection, as ``startServer(_:host:port:limit:family:flags:backlog:reuseAddress:reusePort:startServing:)`` does.
    public func startUnixServer(
        _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, path: String,
        limit: Int = StreamReader.defaultLimit, backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        try StreamReader.checkLimit(limit)
        return try await createUnixServer(
            streamFactory(clientConnected, limit: limit), path: path, backlog: backlog, startServing: startServing)
    }

    /// A server on the bound Unix stream socket `sock`, which it takes over (asyncio's
    /// `start_unix_server(sock=…)`; the arguments and errors of
    /// ``createUnixServer(_:sock:backlog:startServing:)``), that runs `clientConnected`
    /// for each connection as ``startServer(_:host:port:limit:family:flags:backlog:reuseAddress:reusePort:startServing:)``
    /// does. Any other kind of socket throws ``LoopError/Kind-swift.enum/invalidArgument``
    /// ("A UNIX Domain Stream Socket was expected"); after an argument error the socket is
    /// still the caller's to close.
    public func startUnixServer(
        _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, sock: Int32,
        limit: Int = StreamReader.defaultLimit, backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        try StreamReader.checkLimit(limit)
        return try await createUnixServer(
            streamFactory(clientConnected, limit: limit), sock: sock, backlog: backlog, startServing: startServing)
    }

    // MARK: Implementation

    private func makeStreamPair(limit: Int) throws -> (StreamReader, StreamReaderProtocol) {
        let reader = try StreamReader(loop: self, limit: limit)
        return (reader, StreamReaderProtocol(reader, loop: self))
    }

    /// The writer for a connection made with `streamProtocol`; the transport is taken
    /// as `any Transport`, whatever concrete type the connection call returns.
    private func makeWriter(_ transport: any Transport, _ streamProtocol: StreamReaderProtocol, _ reader: StreamReader) -> StreamWriter {
        StreamWriter(transport: transport, protocol: streamProtocol, reader: reader, loop: self)
    }

    private func streamFactory(
        _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, limit: Int
    ) -> () throws -> any BaseProtocol {
        { [unowned self] in
            StreamReaderProtocol(try StreamReader(loop: self, limit: limit), clientConnected: clientConnected, loop: self)
        }
    }
}
