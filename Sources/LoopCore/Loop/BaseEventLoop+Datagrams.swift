import Glibc

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
