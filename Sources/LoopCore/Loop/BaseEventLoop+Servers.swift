import Glibc

/// Servers (asyncio's `create_server`). Await them from a task running on the loop.
extension BaseEventLoop {
    /// A server listening on `host` and `port`: `nil` or `""` for every interface, else
    /// a name or address; one listening socket per resolved address (IPv6 ones are
    /// IPv6-only). `reuseAddress` (default true) sets SO_REUSEADDR, `reusePort`
    /// SO_REUSEPORT. With `startServing` false the sockets are bound but not listening
    /// until ``Server/startServing()``. Throws ``SystemError`` (EADDRINUSE: "error while
    /// attempting to bind on address …") and ``ResolverError``.
    public func createServer(
        _ factory: @escaping () throws -> any BaseProtocol, host: String?, port: Int?,
        family: AddressFamily = .unspecified, flags: Int32 = AI_PASSIVE, backlog: Int = 100,
        reuseAddress: Bool? = nil, reusePort: Bool = false, startServing: Bool = true
    ) async throws -> Server {
        try await createServer(
            factory, hosts: [host ?? ""], port: port, family: family, flags: flags, backlog: backlog,
            reuseAddress: reuseAddress, reusePort: reusePort, startServing: startServing)
    }

    /// A server listening on every address of every host in `hosts` (see
    /// ``createServer(_:host:port:family:flags:backlog:reuseAddress:reusePort:startServing:)``).
    public func createServer(
        _ factory: @escaping () throws -> any BaseProtocol, hosts: [String], port: Int?,
        family: AddressFamily = .unspecified, flags: Int32 = AI_PASSIVE, backlog: Int = 100,
        reuseAddress: Bool? = nil, reusePort: Bool = false, startServing: Bool = true
    ) async throws -> Server {
        try checkTransportCall("createServer")
        let sockets = try await bindStreamSockets(
            hosts: hosts.map { $0.isEmpty ? nil : $0 }, port: port ?? 0, family: family, flags: flags,
            reuseAddress: reuseAddress ?? true, reusePort: reusePort)
        return try await makeServer(factory, sockets: sockets, backlog: backlog, startServing: startServing)
    }

    /// A server on the bound stream socket `sock`, which it takes over.
    public func createServer(
        _ factory: @escaping () throws -> any BaseProtocol, sock: Int32, backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        try checkTransportCall("createServer")
        guard try Socket.type(of: sock) == .stream else {
            throw LoopError(.invalidArgument, "createServer: A Stream Socket was expected, got fd \(sock)")
        }
        try Socket.setNonBlocking(sock)
        return try await makeServer(factory, sockets: [sock], backlog: backlog, startServing: startServing)
    }

    /// Checks asyncio's argument rules for the form with host, port and sock together:
    /// host or port with a socket → ``LoopError/Kind-swift.enum/invalidArgument``
    /// ("host/port and sock can not be specified at the same time"); neither → "Neither
    /// host/port nor sock were specified".
    public func createServer(
        _ factory: @escaping () throws -> any BaseProtocol, host: String?, port: Int?, sock: Int32?,
        backlog: Int = 100, startServing: Bool = true
    ) async throws -> Server {
        try checkTransportCall("createServer")
        switch (host != nil || port != nil, sock) {
        case (true, .some):
            throw LoopError(.invalidArgument, "createServer: host/port and sock can not be specified at the same time")
        case (false, .none):
            throw LoopError(.invalidArgument, "createServer: Neither host/port nor sock were specified")
        case (false, .some(let sock)):
            return try await createServer(factory, sock: sock, backlog: backlog, startServing: startServing)
        case (true, .none):
            return try await createServer(factory, host: host, port: port, backlog: backlog, startServing: startServing)
        }
    }

    func makeServer(
        _ factory: @escaping () throws -> any BaseProtocol, sockets: [Int32], backlog: Int, startServing: Bool
    ) async throws -> Server {
        let server = Server(loop: self, sockets: sockets, factory: factory, backlog: Int32(clamping: backlog))
        if startServing {
            do {
                try server.startServing()
            } catch {
                server.close()
                throw error
            }
            try await sleep(.zero)
        }
        return server
    }
}

/// Unix-domain servers (asyncio's `create_unix_server`): the same ``Server`` as TCP.
///
/// A path starting with `"\0"` is a Linux abstract name (no file is created). A path
/// longer than `sun_path` holds throws ``LoopError/Kind-swift.enum/invalidArgument``.
extension BaseEventLoop {
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
