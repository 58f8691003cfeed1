import Glibc

/// Name resolution: the blocking getaddrinfo/getnameinfo calls, and the thread pool the
/// loops run them on.
///
/// The pool is the process's own, separate from every loop's default executor, so work
/// that saturates a default executor never delays a lookup. Loops use it through
/// ``BaseEventLoop/getaddrinfo(host:port:family:type:proto:flags:file:line:)`` and
/// ``BaseEventLoop/getnameinfo(_:flags:file:line:)``; call the blocking functions here only off
/// a loop's thread.
public enum Resolver {
    /// How many lookups run at once, process-wide.
    public static let maxConcurrentLookups = 4

    private static let pool: ThreadPoolExecutor? = try? ThreadPoolExecutor(
        maxWorkers: maxConcurrentLookups, threadNamePrefix: "loop-resolver")

    /// The process's resolver pool (threads start on demand and are shared by every loop).
    public static func executor() throws -> ThreadPoolExecutor {
        guard let pool else {
            throw LoopError(.invalidState, "Resolver.executor(): the resolver thread pool could not be created")
        }
        return pool
    }

    /// Whether `host` is a numeric IPv4 or IPv6 address (with an optional `%scope`),
    /// which getaddrinfo answers without asking a name service.
    public static func isNumericHost(_ host: String) -> Bool {
        (try? SocketAddress(host: host, port: 0)) != nil
    }

    /// Resolves `host` and `service` (a port number or a service name such as `"http"`),
    /// blocking the calling thread. Throws ``ResolverError`` when the resolver fails.
    public static func getaddrinfo(
        host: String?, service: String?, family: AddressFamily = .unspecified, type: SocketType = .unspecified,
        proto: Int32 = 0, flags: Int32 = 0
    ) throws -> [AddressInfo] {
        var hints = addrinfo()
        hints.ai_family = family.rawValue
        hints.ai_socktype = type.rawValue
        hints.ai_protocol = proto
        hints.ai_flags = flags
        var list: UnsafeMutablePointer<addrinfo>?
        let status = Glibc.getaddrinfo(host, service, &hints, &list)
        let failure = errno
        guard status == 0 else {
            throw ResolverError(code: status, call: "getaddrinfo(\(quoted(host)), \(quoted(service)))", systemErrno: failure)
        }
        defer { freeaddrinfo(list) }
        var results: [AddressInfo] = []
        var node = list
        while let entry = node?.pointee {
            node = entry.ai_next
            guard let raw = entry.ai_addr, let address = try? SocketAddress(raw, length: entry.ai_addrlen) else { continue }
            results.append(AddressInfo(
                family: AddressFamily(rawValue: entry.ai_family), type: SocketType(rawValue: entry.ai_socktype),
                proto: entry.ai_protocol, canonicalName: entry.ai_canonname.map { String(cString: $0) } ?? "",
                address: address))
        }
        return results
    }

    /// The host and service names of `address` (`NI_NUMERICHOST`, `NI_NUMERICSERV`, … in
    /// `flags`), blocking the calling thread. Throws ``ResolverError`` when the resolver
    /// fails, and ``LoopError/Kind-swift.enum/invalidArgument`` for a Unix address.
    public static func getnameinfo(_ address: SocketAddress, flags: Int32 = 0) throws -> (host: String, service: String) {
        if case .unix = address {
            throw LoopError(.invalidArgument, "getnameinfo(\(address)): only IPv4 and IPv6 addresses have host and service names")
        }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = address.withSockAddr { pointer, length in
            Glibc.getnameinfo(pointer, length, &host, socklen_t(host.count), &service, socklen_t(service.count), flags)
        }
        let failure = errno
        guard status == 0 else {
            throw ResolverError(code: status, call: "getnameinfo(\(address))", systemErrno: failure)
        }
        return (text(host), text(service))
    }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func quoted(_ text: String?) -> String {
        text.map { "\"\($0)\"" } ?? "nil"
    }
}
