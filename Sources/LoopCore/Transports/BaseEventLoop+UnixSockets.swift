import Glibc

/// Unix-domain stream connections and servers (asyncio's `create_unix_connection` and
/// `create_unix_server`). They use the same transports and ``Server`` as TCP; await
/// them from a task running on the loop.
///
/// A path starting with `"\0"` is a Linux abstract name (no file is created). A path
/// longer than `sun_path` holds throws ``LoopError/Kind-swift.enum/invalidArgument``.
///
/// ```swift
/// let server = try await loop.createUnixServer({ EchoServer() }, path: "/tmp/app.sock")
/// let (transport, client) = try await loop.createUnixConnection({ EchoClient() }, path: "/tmp/app.sock")
/// ```
extension BaseEventLoop {
    /// Connects a new Unix stream socket to `path`. Throws the connection's
    /// ``SystemError``: ENOENT for a missing path, ECONNREFUSED for a socket file nobody
    /// listens on. The factory is called only once connected.
    public func createUnixConnection<P: BaseProtocol>(
        _ factory: () throws -> P, path: String
    ) async throws -> (transport: any Transport, protocol: P) {
        try checkTransportCall("createUnixConnection")
        let address = try SocketAddress(unixPath: path)
        let fd = try Socket.make(.unix, .stream)
        do {
            try await sockConnect(fd, to: address)
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        return try await wrapSocket(factory, fd, closeOnFailure: true)
    }

    /// Wraps the connected Unix stream socket `sock` in a transport, which takes it over.
    /// Throws ``LoopError/Kind-swift.enum/invalidArgument`` ("A UNIX Domain Stream Socket
    /// was expected") for any other kind of socket.
    public func createUnixConnection<P: BaseProtocol>(
        _ factory: () throws -> P, sock: Int32
    ) async throws -> (transport: any Transport, protocol: P) {
        try checkTransportCall("createUnixConnection")
        try checkUnixStreamSocket(sock, "createUnixConnection")
        return try await connectAcceptedSocket(factory, sock)
    }

    /// asyncio's argument rules: exactly one of `path` and `sock`. Both →
    /// ``LoopError/Kind-swift.enum/invalidArgument`` ("path and sock can not be specified
    /// at the same time"); neither → "path was not specified, and no sock specified".
    public func createUnixConnection<P: BaseProtocol>(
        _ factory: () throws -> P, path: String?, sock: Int32?
    ) async throws -> (transport: any Transport, protocol: P) {
        try checkTransportCall("createUnixConnection")
        switch (path, sock) {
        case (.some(let path), .none): return try await createUnixConnection(factory, path: path)
        case (.none, .some(let sock)): return try await createUnixConnection(factory, sock: sock)
        case (.some, .some): throw LoopError(.invalidArgument, "createUnixConnection: path and sock can not be specified at the same time")
        case (.none, .none): throw LoopError(.invalidArgument, "createUnixConnection: path was not specified, and no sock specified")
        }
    }

    /// A server listening on the Unix socket `path`, whose socket file it creates. A
    /// socket file already at `path` (a stale one) is removed first, as asyncio does;
    /// anything else there is left alone and bind fails with ``SystemError`` EADDRINUSE.
    /// With `startServing` false the socket is bound but not listening until
    /// ``Server/startServing()``.
    public func createUnixServer(
        _ factory: @escaping () throws -> any BaseProtocol, path: String, backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        try checkTransportCall("createUnixServer")
        let address = try SocketAddress(unixPath: path)
        if path.utf8.first != 0 { removeStaleSocketFile(path) }
        let fd = try Socket.make(.unix, .stream)
        do {
            try Socket.bind(fd, to: address)
        } catch let error as SystemError {
            _ = Glibc.close(fd)
            if error.errno == EADDRINUSE {
                throw SystemError(errno: EADDRINUSE, call: "Address '\(address)' is already in use; bind")
            }
            throw error
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        return try await makeServer(factory, sockets: [fd], backlog: backlog, startServing: startServing)
    }

    /// A server on the bound Unix stream socket `sock`, which it takes over. Throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` ("A UNIX Domain Stream Socket was
    /// expected") for any other kind of socket.
    public func createUnixServer(
        _ factory: @escaping () throws -> any BaseProtocol, sock: Int32, backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        try checkTransportCall("createUnixServer")
        try checkUnixStreamSocket(sock, "createUnixServer")
        try Socket.setNonBlocking(sock)
        return try await makeServer(factory, sockets: [sock], backlog: backlog, startServing: startServing)
    }

    /// asyncio's argument rules: exactly one of `path` and `sock`, with the messages of
    /// ``createUnixConnection(_:path:sock:)``.
    public func createUnixServer(
        _ factory: @escaping () throws -> any BaseProtocol, path: String?, sock: Int32?,
        backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        try checkTransportCall("createUnixServer")
        switch (path, sock) {
        case (.some(let path), .none):
            return try await createUnixServer(factory, path: path, backlog: backlog, startServing: startServing)
        case (.none, .some(let sock)):
            return try await createUnixServer(factory, sock: sock, backlog: backlog, startServing: startServing)
        case (.some, .some): throw LoopError(.invalidArgument, "createUnixServer: path and sock can not be specified at the same time")
        case (.none, .none): throw LoopError(.invalidArgument, "createUnixServer: path was not specified, and no sock specified")
        }
    }

    // MARK: Implementation

    private func checkUnixStreamSocket(_ sock: Int32, _ call: String) throws {
        let family = try Socket.family(of: sock)
        let type = try Socket.type(of: sock)
        guard family == .unix && type == .stream else {
            throw LoopError(.invalidArgument, "\(call): A UNIX Domain Stream Socket was expected, got fd \(sock) (\(family), \(type))")
        }
    }

    /// Removes a socket file at `path` (asyncio's stale-socket cleanup); other files are
    /// kept, so bind reports them. A failed check is logged, not thrown: bind then decides.
    private func removeStaleSocketFile(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let failure = errno
            if failure != ENOENT {
                logger.error("Unable to check or remove stale UNIX socket '\(path)': \(SystemError(errno: failure, call: "stat"))")
            }
            return
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { return }
        if unlink(path) != 0 {
            logger.error("Unable to check or remove stale UNIX socket '\(path)': \(SystemError(errno: errno, call: "unlink"))")
        }
    }
}
