/// asyncio's module-level stream functions: each runs the
/// ``BaseEventLoop`` method of the same name on the loop running the current task.
/// Without a running loop they throw ``LoopError/Kind-swift.enum/noRunningLoop``;
/// a running loop that is not a ``BaseEventLoop`` throws
/// ``LoopError/Kind-swift.enum/invalidState``.

/// Connects to `host` and `port` and returns the stream pair (asyncio's `open_connection`);
/// see ``BaseEventLoop/openConnection(host:port:limit:family:proto:flags:localAddr:)``.
public func openConnection(
    host: String?, port: Int?, limit: Int = StreamReader.defaultLimit
) async throws -> (reader: StreamReader, writer: StreamWriter) {
    try await runningStreamLoop("openConnection").openConnection(host: host, port: port, limit: limit)
}

/// The stream pair over the connected stream socket `sock` (asyncio's
/// `open_connection(sock=…)`); see ``BaseEventLoop/openConnection(sock:limit:)``.
public func openConnection(
    sock: Int32, limit: Int = StreamReader.defaultLimit
) async throws -> (reader: StreamReader, writer: StreamWriter) {
    try await runningStreamLoop("openConnection").openConnection(sock: sock, limit: limit)
}

/// Connects to the Unix socket `path` (asyncio's `open_unix_connection`); see
/// ``BaseEventLoop/openUnixConnection(path:limit:)``.
public func openUnixConnection(
    path: String, limit: Int = StreamReader.defaultLimit
) async throws -> (reader: StreamReader, writer: StreamWriter) {
    try await runningStreamLoop("openUnixConnection").openUnixConnection(path: path, limit: limit)
}

/// The stream pair over the connected Unix stream socket `sock` (asyncio's
/// `open_unix_connection(sock=…)`); see ``BaseEventLoop/openUnixConnection(sock:limit:)``.
public func openUnixConnection(
    sock: Int32, limit: Int = StreamReader.defaultLimit
) async throws -> (reader: StreamReader, writer: StreamWriter) {
    try await runningStreamLoop("openUnixConnection").openUnixConnection(sock: sock, limit: limit)
}

/// A stream server on `host` and `port` (asyncio's `start_server`); see
/// ``BaseEventLoop/startServer(_:host:port:limit:family:flags:backlog:reuseAddress:reusePort:startServing:)``.
public func startServer(
    _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, host: String?, port: Int?,
    limit: Int = StreamReader.defaultLimit
) async throws -> Server {
    try await runningStreamLoop("startServer").startServer(clientConnected, host: host, port: port, limit: limit)
}

/// A stream server on every address of every host in `hosts` (asyncio's `start_server`
/// with a list of hosts); see
/// ``BaseEventLoop/startServer(_:hosts:port:limit:family:flags:backlog:reuseAddress:reusePort:startServing:)``.
public func startServer(
    _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, hosts: [String], port: Int?,
    limit: Int = StreamReader.defaultLimit
) async throws -> Server {
    try await runningStreamLoop("startServer").startServer(clientConnected, hosts: hosts, port: port, limit: limit)
}

/// A stream server on the bound stream socket `sock` (asyncio's `start_server(sock=…)`);
/// see ``BaseEventLoop/startServer(_:sock:limit:backlog:startServing:)``.
public func startServer(
    _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, sock: Int32,
    limit: Int = StreamReader.defaultLimit
) async throws -> Server {
    try await runningStreamLoop("startServer").startServer(clientConnected, sock: sock, limit: limit)
}

/// A stream server on the Unix socket `path` (asyncio's `start_unix_server`); see
/// ``BaseEventLoop/startUnixServer(_:path:limit:backlog:startServing:)``.
public func startUnixServer(
    _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, path: String,
    limit: Int = StreamReader.defaultLimit
) async throws -> Server {
    try await runningStreamLoop("startUnixServer").startUnixServer(clientConnected, path: path, limit: limit)
}

/// A stream server on the bound Unix stream socket `sock` (asyncio's
/// `start_unix_server(sock=…)`); see ``BaseEventLoop/startUnixServer(_:sock:limit:backlog:startServing:)``.
public func startUnixServer(
    _ clientConnected: @escaping StreamReaderProtocol.ClientConnected, sock: Int32,
    limit: Int = StreamReader.defaultLimit
) async throws -> Server {
    try await runningStreamLoop("startUnixServer").startUnixServer(clientConnected, sock: sock, limit: limit)
}

private func runningStreamLoop(_ call: String) throws -> BaseEventLoop {
    let running = try RunningLoop.get()
    guard let loop = running as? BaseEventLoop else {
        throw LoopError(.invalidState, "\(call): the running loop \(type(of: running)) has no stream connections; call it on a BaseEventLoop")
    }
    return loop
}
