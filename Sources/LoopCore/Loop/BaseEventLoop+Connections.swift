import Glibc

/// Client connections (asyncio's `create_connection` and `connect_accepted_socket`):
/// each returns once the protocol's `connectionMade` has run. Await them from a task
/// running on the loop.
///
/// ```swift
/// let (transport, client) = try await loop.createConnection({ EchoClient() }, host: "127.0.0.1", port: 8888)
/// try transport.write(Array("hello".utf8))
/// ```
extension BaseEventLoop {
    /// Connects to `host` and `port`: the host is resolved (`family`, `proto`, `flags`
    /// go to getaddrinfo) and each address is tried in order until one connects,
    /// optionally from `localAddr`. Throws the connection's ``SystemError`` (ECONNREFUSED,
    /// …) when the only address fails, ``MultipleConnectionErrors`` when several fail
    /// differently, ``ResolverError`` for a host that does not resolve and
    /// ``LoopError/Kind-swift.enum/invalidArgument`` for a missing host or port. The
    /// factory is called only once connected.
    ///
    /// With `happyEyeballsDelay` (RFC 8305; 250 ms is the RFC's choice) the attempts
    /// overlap: the next address is tried after that delay, or at once when the
    /// running attempts failed, and the first to connect wins. `interleave` reorders
    /// the addresses so that families alternate, starting with that many of the first
    /// family (default: 1 with a delay, none without).
    public func createConnection<P: BaseProtocol>(
        _ factory: () throws -> P, host: String?, port: Int?, family: AddressFamily = .unspecified,
        proto: Int32 = 0, flags: Int32 = 0, localAddr: (host: String, port: Int)? = nil,
        happyEyeballsDelay: Duration? = nil, interleave: Int? = nil
    ) async throws -> (transport: any Transport, protocol: P) {
        try checkTransportCall("createConnection")
        guard host != nil || port != nil else {
            throw LoopError(.invalidArgument, "createConnection: host and port was not specified and no sock specified")
        }
        if let happyEyeballsDelay, happyEyeballsDelay < .zero {
            throw LoopError(.invalidArgument, "createConnection: happyEyeballsDelay must not be negative, got \(happyEyeballsDelay)")
        }
        if let interleave, interleave < 0 {
            throw LoopError(.invalidArgument, "createConnection: interleave must not be negative, got \(interleave)")
        }
        var infos = try await getaddrinfo(host: host, port: port, family: family, type: .stream, proto: proto, flags: flags).value
        guard !infos.isEmpty else {
            throw SystemError(errno: EINVAL, call: "getaddrinfo() returned empty list (createConnection)")
        }
        var localInfos: [AddressInfo]?
        if let localAddr {
            localInfos = try await getaddrinfo(host: localAddr.host, port: localAddr.port, family: family, type: .stream, proto: proto, flags: flags).value
            guard localInfos?.isEmpty == false else {
                throw SystemError(errno: EINVAL, call: "getaddrinfo() returned empty list for localAddr (createConnection)")
            }
        }
        let firstFamilyCount = interleave ?? (happyEyeballsDelay == nil ? 0 : 1)
        if firstFamilyCount > 0 { infos = Self.interleaved(infos, firstFamilyCount: firstFamilyCount) }
        var errors: [any Error] = []
        if let happyEyeballsDelay {
            let (fd, failures) = try await connectStaggered(infos, delay: happyEyeballsDelay, localInfos: localInfos)
            if let fd { return try await wrapSocket(factory, fd, closeOnFailure: true) }
            errors = failures
        } else {
            for info in infos {
                let fd: Int32
                do {
                    fd = try await connectSocket(info, localInfos: localInfos)
                } catch let error as SystemError {
                    errors.append(error)
                    continue
                }
                return try await wrapSocket(factory, fd, closeOnFailure: true)
            }
        }
        if errors.count == 1, let only = errors.first { throw only }
        let texts = errors.map { String(describing: $0) }
        if let first = errors.first, texts.allSatisfy({ $0 == texts[0] }) { throw first }
        throw MultipleConnectionErrors(errors: errors)
    }

    /// Wraps the connected stream socket `sock` in a transport (as
    /// ``connectAcceptedSocket(_:_:)``); asyncio's `create_connection(sock=…)`.
    public func createConnection<P: BaseProtocol>(_ factory: () throws -> P, sock: Int32) async throws -> (transport: any Transport, protocol: P) {
        try await connectAcceptedSocket(factory, sock)
    }

    /// Refuses asyncio's conflicting-argument form: host or port together with a socket.
    /// Always throws ``LoopError/Kind-swift.enum/invalidArgument``.
    public func createConnection<P: BaseProtocol>(
        _ factory: () throws -> P, host: String?, port: Int?, sock: Int32
    ) async throws -> (transport: any Transport, protocol: P) {
        try checkTransportCall("createConnection")
        if host == nil && port == nil { return try await connectAcceptedSocket(factory, sock) }
        throw LoopError(.invalidArgument, "createConnection: host/port and sock can not be specified at the same time")
    }

    /// Wraps a connected stream socket (e.g. one accepted outside the loop) in a
    /// transport: the socket is made non-blocking, the transport owns and closes it.
    /// Returns once the protocol made by `factory` got `connectionMade`.
    public func connectAcceptedSocket<P: BaseProtocol>(_ factory: () throws -> P, _ fd: Int32) async throws -> (transport: any Transport, protocol: P) {
        try checkTransportCall("connectAcceptedSocket")
        guard try Socket.type(of: fd) == .stream else {
            throw LoopError(.invalidArgument, "connectAcceptedSocket: A Stream Socket was expected, got fd \(fd)")
        }
        try Socket.setNonBlocking(fd)
        return try await wrapSocket(factory, fd, closeOnFailure: false)
    }
}

/// Unix-domain stream connections (asyncio's `create_unix_connection`). They use the
/// same transports as TCP; await them from a task running on the loop.
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
}

/// Datagram endpoints (asyncio's `create_datagram_endpoint`): each returns once the
/// protocol's `connectionMade` has run. Await them from a task running on the loop.
///
/// ```swift
/// let (transport, _) = try await loop.createDatagramEndpoint({ Listener() }, localAddr: ("127.0.0.1", 9999))
/// try transport.sendto(Array("hello".utf8), to: SocketAddress(host: "127.0.0.1", port: 9998))
/// ```
///
/// SO_REUSEADDR is never set: asyncio removed `reuse_address` for datagram endpoints
/// because on UDP it lets another socket steal the port's traffic.
extension BaseEventLoop {
    /// Makes a UDP endpoint, bound to `localAddr` and/or connected to `remoteAddr`
    /// (both resolved with getaddrinfo; `family`, `proto`, `flags` go to it). Each pair
    /// of addresses of the same family is tried in order until one binds and connects.
    /// With neither address, `family` must be given and the socket stays unbound.
    ///
    /// `reusePort` sets SO_REUSEPORT, `allowBroadcast` SO_BROADCAST. Throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` ("unexpected address family") with
    /// neither address nor family, ``ResolverError`` for a host that does not resolve
    /// and the first ``SystemError`` when every address fails.
    public func createDatagramEndpoint<P: DatagramProtocol>(
        _ factory: () throws -> P, localAddr: (host: String, port: Int)? = nil, remoteAddr: (host: String, port: Int)? = nil,
        family: AddressFamily = .unspecified, proto: Int32 = 0, flags: Int32 = 0,
        reusePort: Bool = false, allowBroadcast: Bool = false
    ) async throws -> (transport: DatagramTransport, protocol: P) {
        try checkTransportCall("createDatagramEndpoint")
        if localAddr == nil && remoteAddr == nil {
            guard family != .unspecified else {
                throw LoopError(.invalidArgument, "createDatagramEndpoint: unexpected address family (give localAddr, remoteAddr, family or sock)")
            }
            let fd = try Socket.make(family, .datagram, proto: proto)
            do {
                try configure(fd, reusePort: reusePort, allowBroadcast: allowBroadcast)
            } catch {
                _ = Glibc.close(fd)
                throw error
            }
            return try await wrapDatagramSocket(factory, fd, address: nil, closeOnFailure: true)
        }
        var locals: [AddressInfo]?
        var remotes: [AddressInfo]?
        if let localAddr {
            locals = try await getaddrinfo(host: localAddr.host, port: localAddr.port, family: family, type: .datagram, proto: proto, flags: flags).value
            guard locals?.isEmpty == false else {
                throw SystemError(errno: EINVAL, call: "getaddrinfo() returned empty list for localAddr (createDatagramEndpoint)")
            }
        }
        if let remoteAddr {
            remotes = try await getaddrinfo(host: remoteAddr.host, port: remoteAddr.port, family: family, type: .datagram, proto: proto, flags: flags).value
            guard remotes?.isEmpty == false else {
                throw SystemError(errno: EINVAL, call: "getaddrinfo() returned empty list for remoteAddr (createDatagramEndpoint)")
            }
        }
        // asyncio's pairing: each family with a local and/or a remote address, in order.
        var pairs: [(family: AddressFamily, proto: Int32, local: SocketAddress?, remote: SocketAddress?)] = []
        var families: [AddressFamily] = []
        for info in (locals ?? []) + (remotes ?? []) where !families.contains(info.family) {
            families.append(info.family)
        }
        for candidate in families {
            let local = locals?.first { $0.family == candidate }
            let remote = remotes?.first { $0.family == candidate }
            if locals != nil && local == nil { continue }
            if remotes != nil && remote == nil { continue }
            guard let info = local ?? remote else { continue }
            pairs.append((candidate, info.proto, local?.address, remote?.address))
        }
        guard !pairs.isEmpty else {
            throw LoopError(.invalidArgument, "createDatagramEndpoint: can not get address information (no local and remote address of the same family)")
        }
        var errors: [any Error] = []
        for pair in pairs {
            let fd: Int32
            do {
                fd = try Socket.make(pair.family, .datagram, proto: pair.proto)
            } catch {
                errors.append(error)
                continue
            }
            do {
                try configure(fd, reusePort: reusePort, allowBroadcast: allowBroadcast)
                if let local = pair.local { try Socket.bind(fd, to: local) }
                if let remote = pair.remote { try await sockConnect(fd, to: remote) }
            } catch let error as SystemError {
                _ = Glibc.close(fd)
                errors.append(error)
                continue
            } catch {
                _ = Glibc.close(fd)
                throw error
            }
            let peer = pair.remote == nil ? nil : try? Socket.peerAddress(fd)
            return try await wrapDatagramSocket(factory, fd, address: peer ?? pair.remote, closeOnFailure: true)
        }
        if let first = errors.first { throw first }
        throw LoopError(.invalidArgument, "createDatagramEndpoint: no address to try")
    }

    /// Wraps the datagram socket `sock` as is (bound or not, connected or not): it is
    /// made non-blocking and the transport owns and closes it. Any of the other
    /// arguments (asyncio's socket modifiers) with a socket throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` "socket modifier keyword arguments
    /// can not be used when sock is specified"; a socket that is not SOCK_DGRAM throws
    /// "A UDP Socket was expected".
    public func createDatagramEndpoint<P: DatagramProtocol>(
        _ factory: () throws -> P, sock: Int32, localAddr: (host: String, port: Int)? = nil, remoteAddr: (host: String, port: Int)? = nil,
        family: AddressFamily? = nil, proto: Int32? = nil, flags: Int32? = nil,
        reusePort: Bool? = nil, allowBroadcast: Bool? = nil
    ) async throws -> (transport: DatagramTransport, protocol: P) {
        try checkTransportCall("createDatagramEndpoint")
        guard try Socket.type(of: sock) == .datagram else {
            throw LoopError(.invalidArgument, "createDatagramEndpoint: A UDP Socket was expected, got fd \(sock)")
        }
        var modifiers: [String] = []
        if let localAddr { modifiers.append("localAddr=\(localAddr)") }
        if let remoteAddr { modifiers.append("remoteAddr=\(remoteAddr)") }
        if let family { modifiers.append("family=\(family)") }
        if let proto { modifiers.append("proto=\(proto)") }
        if let flags { modifiers.append("flags=\(flags)") }
        if let reusePort { modifiers.append("reusePort=\(reusePort)") }
        if let allowBroadcast { modifiers.append("allowBroadcast=\(allowBroadcast)") }
        guard modifiers.isEmpty else {
            throw LoopError(.invalidArgument, "createDatagramEndpoint: socket modifier keyword arguments can not be used when sock is specified. (\(modifiers.joined(separator: ", ")))")
        }
        try Socket.setNonBlocking(sock)
        return try await wrapDatagramSocket(factory, sock, address: try? Socket.peerAddress(sock), closeOnFailure: false)
    }

    // MARK: Implementation

    private func configure(_ fd: Int32, reusePort: Bool, allowBroadcast: Bool) throws {
        if reusePort { try Socket.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
        if allowBroadcast { try Socket.setOption(fd, SOL_SOCKET, SO_BROADCAST, 1) }
    }

    /// Makes the protocol and the transport for `fd` and waits until `connectionMade`
    /// ran. Before the transport exists, a failure closes `fd` when `closeOnFailure`.
    private func wrapDatagramSocket<P: DatagramProtocol>(
        _ factory: () throws -> P, _ fd: Int32, address: SocketAddress?, closeOnFailure: Bool
    ) async throws -> (transport: DatagramTransport, protocol: P) {
        try await establishTransport(fd: fd, closeOnFailure: closeOnFailure, factory) { made, waiter in
            try DatagramTransport(loop: self, fd: fd, protocol: made, address: address, waiter: waiter)
        } discard: { $0.close() }
    }
}

extension BaseEventLoop {
    // MARK: Implementation shared by the connection and server calls

    /// Makes the protocol and the transport (the backend's, else a ``SocketTransport``)
    /// for the connected socket `fd` and waits until `connectionMade` ran. Before the transport exists, a failure closes `fd`
    /// when `closeOnFailure` (the loop made it); afterwards the transport closes it.
    func wrapSocket<P: BaseProtocol>(_ factory: () throws -> P, _ fd: Int32, closeOnFailure: Bool) async throws -> (transport: any Transport, protocol: P) {
        try await establishTransport(fd: fd, closeOnFailure: closeOnFailure, factory) { made, waiter in
            try makeSocketTransport(SocketTransportRequest(loop: self, fd: fd, protocol: made, waiter: waiter, server: nil))
        } discard: { $0.close() }
    }

    func checkTransportCall(_ call: String) throws {
        try checkOpen(call)
        guard isOnLoopThread else {
            throw LoopError(.wrongThread, "\(call): must be awaited from a task running on the loop's thread (e.g. loop.createTask or runUntilComplete)")
        }
    }

    /// A new socket for `info`, bound to one of `localInfos` (the first that binds)
    /// and connected; closed again on failure.
    func connectSocket(_ info: AddressInfo, localInfos: [AddressInfo]?) async throws -> Int32 {
        let fd = try Socket.make(info.family, .stream, proto: info.proto)
        do {
            if let localInfos {
                var bound = false
                var bindErrors: [any Error] = []
                for local in localInfos where local.family == info.family {
                    do {
                        try Socket.bind(fd, to: local.address)
                        bound = true
                        break
                    } catch {
                        bindErrors.append(SystemError(
                            errno: (error as? SystemError)?.errno ?? EINVAL,
                            call: "error while attempting to bind on address \(local.address)"))
                    }
                }
                if !bound {
                    if let first = bindErrors.first { throw first }
                    throw SystemError(errno: EAFNOSUPPORT, call: "no matching local address with family=\(info.family) found")
                }
            }
            try await sockConnect(fd, to: info.address)
            return fd
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
    }

    /// Throws unless `sock` is a Unix stream socket (asyncio's message, naming `call`).
    func checkUnixStreamSocket(_ sock: Int32, _ call: String) throws {
        let family = try Socket.family(of: sock)
        let type = try Socket.type(of: sock)
        guard family == .unix && type == .stream else {
            throw LoopError(.invalidArgument, "\(call): A UNIX Domain Stream Socket was expected, got fd \(sock) (\(family), \(type))")
        }
    }
}
