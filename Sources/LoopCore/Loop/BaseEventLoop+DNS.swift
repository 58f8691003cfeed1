import Glibc

// DNS (the reference's "DNS"), and the resolver that answers it.
extension BaseEventLoop {
    /// Resolves `host` and `port` without blocking the loop (asyncio's `getaddrinfo`):
    /// returns at once a future of the results, in the resolver's order. Names are
    /// looked up on the ``Resolver`` pool, not the default executor; a numeric host
    /// with a numeric port is answered on the spot. A resolver set with
    /// ``setAddressResolver(_:)`` answers every call instead of the system's.
    ///
    /// The future fails with ``ResolverError`` when the resolver does (an unknown host:
    /// `EAI_NONAME`). Throws ``LoopError/Kind-swift.enum/invalidArgument`` for a port
    /// outside 0...65535 and ``LoopError/Kind-swift.enum/closed`` on a closed loop.
    ///
    /// ```swift
    /// let infos = try await loop.getaddrinfo(host: "localhost", port: 80, type: .stream).value
    /// ```
    public func getaddrinfo(
        host: String?, port: Int?, family: AddressFamily = .unspecified, type: SocketType = .unspecified,
        proto: Int32 = 0, flags: Int32 = 0, file: StaticString = #fileID, line: UInt = #line
    ) throws -> Future<[AddressInfo]> {
        var service: String?
        if let port {
            service = String(try SocketAddress.checkedPort(port, call: "getaddrinfo(host: \(host ?? "nil"), port:)"))
        }
        return try getaddrinfo(host: host, service: service, family: family, type: type, proto: proto, flags: flags, file: file, line: line)
    }

    /// Resolves `host` and `service` (a port number or a name such as `"http"`) without
    /// blocking the loop. See ``getaddrinfo(host:port:family:type:proto:flags:file:line:)``.
    public func getaddrinfo(
        host: String?, service: String?, family: AddressFamily = .unspecified, type: SocketType = .unspecified,
        proto: Int32 = 0, flags: Int32 = 0, file: StaticString = #fileID, line: UInt = #line
    ) throws -> Future<[AddressInfo]> {
        try checkOpen("getaddrinfo")
        if debugEnabled { try checkThread("getaddrinfo") }
        let location = debugEnabled ? SourceLocation(file, line) : nil
        if let addressResolver {
            return try runInExecutor(Resolver.executor(), from: location) {
                try addressResolver.getaddrinfo(host: host, service: service, family: family, type: type, proto: proto, flags: flags)
            }
        }
        let numericHost = host.map(Resolver.isNumericHost) ?? true
        let numericService = service.map { !$0.isEmpty && $0.allSatisfy(\.isASCII) && UInt16($0) != nil } ?? true
        if numericHost && numericService {
            // No name service is asked: answer without a thread hop.
            let future = createFuture(of: [AddressInfo].self, from: location)
            do {
                try future.setResult(try Resolver.getaddrinfo(
                    host: host, service: service, family: family, type: type, proto: proto,
                    flags: flags | AI_NUMERICHOST | AI_NUMERICSERV))
            } catch {
                try future.setException(error)
            }
            return future
        }
        return try runInExecutor(Resolver.executor(), from: location) {
            try Resolver.getaddrinfo(host: host, service: service, family: family, type: type, proto: proto, flags: flags)
        }
    }

    /// The host and service names of `address`, looked up without blocking the loop
    /// (asyncio's `getnameinfo`), on the ``Resolver`` pool. The future fails with
    /// ``ResolverError`` when the resolver does. Throws
    /// ``LoopError/Kind-swift.enum/closed`` on a closed loop.
    ///
    /// ```swift
    /// let (host, service) = try await loop.getnameinfo(address, flags: NI_NUMERICHOST | NI_NUMERICSERV).value
    /// ```
    public func getnameinfo(
        _ address: SocketAddress, flags: Int32 = 0, file: StaticString = #fileID, line: UInt = #line
    ) throws -> Future<(host: String, service: String)> {
        try checkOpen("getnameinfo")
        if debugEnabled { try checkThread("getnameinfo") }
        return try runInExecutor(Resolver.executor(), from: debugEnabled ? SourceLocation(file, line) : nil) {
            try Resolver.getnameinfo(address, flags: flags)
        }
    }

    /// The address to use for `host` and `port` with a socket of `family` and `type`:
    /// the host itself when numeric, otherwise the first getaddrinfo result.
    func resolveForSocket(host: String, port: Int, family: AddressFamily, type: SocketType, call: String) async throws -> SocketAddress {
        if let numeric = try? SocketAddress(host: host, port: port), numeric.family == family {
            return numeric
        }
        _ = try SocketAddress.checkedPort(port, call: call)
        let infos = try await getaddrinfo(host: host, port: port, family: family, type: type).value
        guard let first = infos.first else {
            throw ResolverError(code: EAI_NONAME, call: "getaddrinfo(\"\(host)\", \(port)) for \(call)")
        }
        return first.address
    }

    /// Makes `getaddrinfo` (and so `createConnection`, `createServer`, `sockConnect`
    /// with a host name, …) ask `resolver`; `nil` restores the system's resolver.
    public func setAddressResolver(_ resolver: (any AddressResolver)?) { addressResolver = resolver }

    /// The custom resolver, or `nil` for the system's.
    public var currentAddressResolver: (any AddressResolver)? { addressResolver }
}
