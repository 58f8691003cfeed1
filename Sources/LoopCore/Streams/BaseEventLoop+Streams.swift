#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams over TCP and Unix sockets (asyncio's `open_connection`, `start_server`,
/// `open_unix_connection` and `start_unix_server`): the same connections and servers
/// as ``createConnection(_:host:port:family:proto:flags:localAddr:)`` and
/// ``createServer(_:host:port:family:flags:backlog:reuseAddress:reusePort:startServing:)``,
/// handed out as a ``StreamReader`` and ``StreamWriter`` pair. `limit` is the reader's
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
    /// ``createConnection(_:host:port:family:proto:flags:localAddr:)`` does and throws
    /// what it throws.
    public func openConnection(
        host: String?, port: Int?, limit: Int = StreamReader.defaultLimit, family: AddressFamily = .unspecified,
        proto: Int32 = 0, flags: Int32 = 0, localAddr: (host: String, port: Int)? = nil
    ) async throws -> (reader: StreamReader, writer: StreamWriter) {
        let (reader, streamProtocol) = try makeStreamPair(limit: limit)
        let (transport, _) = try await createConnection(
            { streamProtocol }, host: host, port: port, family: family, proto: proto, flags: flags, localAddr: localAddr)
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
        try StreamReader.checkLimit(limit)
        return try await createServer(
            streamFactory(clientConnected, limit: limit), host: host, port: port, family: family, flags: flags,
            backlog: backlog, reuseAddress: reuseAddress, reusePort: reusePort, startServing: startServing)
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
