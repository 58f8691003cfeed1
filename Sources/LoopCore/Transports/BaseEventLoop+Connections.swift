import Glibc

/// Every address
/// ``BaseEventLoop/createConnection(_:host:port:family:proto:flags:localAddr:happyEyeballsDelay:interleave:)``
/// tried failed, with different errors (asyncio's `OSError("Multiple exceptions: …")`).
/// The description lists each error, and so each address.
public struct MultipleConnectionErrors: Error, CustomStringConvertible {
    /// One error per address tried, in order.
    public let errors: [any Error]

    public var description: String {
        "Multiple exceptions: " + errors.map { String(describing: $0) }.joined(separator: ", ")
    }
}

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

    // MARK: Implementation

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
}
