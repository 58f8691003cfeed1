import Glibc

/// An address family (`AF_INET`, `AF_INET6`, `AF_UNIX`, …), as getaddrinfo and
/// socket(2) take it.
public struct AddressFamily: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `AF_UNSPEC`: any family (getaddrinfo's default).
    public static let unspecified = AddressFamily(rawValue: AF_UNSPEC)
    /// `AF_INET`: IPv4.
    public static let inet = AddressFamily(rawValue: AF_INET)
    /// `AF_INET6`: IPv6.
    public static let inet6 = AddressFamily(rawValue: AF_INET6)
    /// `AF_UNIX`: local (Unix domain) sockets.
    public static let unix = AddressFamily(rawValue: AF_UNIX)

    public var description: String {
        switch rawValue {
        case AF_UNSPEC: return "AF_UNSPEC"
        case AF_INET: return "AF_INET"
        case AF_INET6: return "AF_INET6"
        case AF_UNIX: return "AF_UNIX"
        default: return "AF_\(rawValue)"
        }
    }
}

/// A socket type (`SOCK_STREAM`, `SOCK_DGRAM`, …), as getaddrinfo and socket(2) take it.
public struct SocketType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Any type (getaddrinfo's default: one result per type).
    public static let unspecified = SocketType(rawValue: 0)
    /// `SOCK_STREAM`: a byte stream (TCP, stream Unix sockets).
    public static let stream = SocketType(rawValue: Int32(SOCK_STREAM.rawValue))
    /// `SOCK_DGRAM`: datagrams (UDP, datagram Unix sockets).
    public static let datagram = SocketType(rawValue: Int32(SOCK_DGRAM.rawValue))
    /// `SOCK_RAW`: raw network protocol access.
    public static let raw = SocketType(rawValue: Int32(SOCK_RAW.rawValue))
    /// `SOCK_SEQPACKET`: reliable, ordered datagrams.
    public static let seqpacket = SocketType(rawValue: Int32(SOCK_SEQPACKET.rawValue))

    public var description: String {
        switch self {
        case .unspecified: return "0"
        case .stream: return "SOCK_STREAM"
        case .datagram: return "SOCK_DGRAM"
        case .raw: return "SOCK_RAW"
        case .seqpacket: return "SOCK_SEQPACKET"
        default: return "SOCK_\(rawValue)"
        }
    }
}

/// An IPv4 host address, e.g. `127.0.0.1`.
public struct IPv4Address: Sendable, Hashable, CustomStringConvertible {
    /// The address as a number in host byte order: `127.0.0.1` is `0x7F00_0001`.
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    /// `127.0.0.1`.
    public static let loopback = IPv4Address(0x7F00_0001)
    /// `0.0.0.0`.
    public static let any = IPv4Address(0)

    /// Parses dotted-quad text (`"127.0.0.1"`); `nil` for anything else.
    public init?(_ text: String) {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        value = UInt32(bigEndian: address.s_addr)
    }

    public var description: String {
        "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }
}

/// An IPv6 host address, e.g. `::1`.
public struct IPv6Address: Sendable, Hashable, CustomStringConvertible {
    /// The first 8 bytes of the address, read as a big-endian number.
    public var high: UInt64
    /// The last 8 bytes of the address, read as a big-endian number.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// `::1`.
    public static let loopback = IPv6Address(high: 0, low: 1)
    /// `::`.
    public static let any = IPv6Address(high: 0, low: 0)

    /// Parses IPv6 text without a scope (`"::1"`, `"fe80::1"`); `nil` for anything else.
    public init?(_ text: String) {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        self.init(address)
    }

    init(_ address: in6_addr) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        withUnsafeBytes(of: address) { bytes in
            for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
            for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
        }
        self.high = high
        self.low = low
    }

    var in6: in6_addr {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { bytes in
            for index in 0..<8 { bytes[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(index))) }
            for index in 0..<8 { bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(index))) }
        }
        return address
    }

    public var description: String {
        var address = in6
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A socket address: IPv4 host and port, IPv6 host, port and scope, or a Unix socket
/// path (on Linux also an abstract name, whose first byte is NUL).
///
/// ```swift
/// let server = try SocketAddress(host: "127.0.0.1", port: 8080)
/// let local = try SocketAddress(unixPath: "/tmp/app.sock")
/// let abstract = try SocketAddress(unixPath: "\0app")
/// ```
public enum SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 address and port.
    case ipv4(IPv4Address, port: UInt16)
    /// An IPv6 address, port, flow information and scope (interface index; 0 for none).
    case ipv6(IPv6Address, port: UInt16, flowInfo: UInt32, scopeID: UInt32)
    /// A Unix socket path as bytes; a first byte of 0 makes it a Linux abstract name,
    /// and no bytes at all is an unnamed socket.
    case unix(path: [UInt8])

    /// The most bytes of a filesystem path a `sockaddr_un` holds (its NUL not counted).
    public static var maxUnixPathLength: Int { unixPathCapacity - 1 }
    /// The size of `sun_path`: the most bytes of an abstract name, its leading NUL included.
    public static var unixPathCapacity: Int { MemoryLayout.size(ofValue: sockaddr_un().sun_path) }

    /// A numeric IPv4 or IPv6 address (an IPv6 address may carry a scope: `"fe80::1%eth0"`
    /// or `"fe80::1%2"`) and a port. Throws ``LoopError/Kind-swift.enum/invalidArgument``
    /// for a host that is not a numeric address (resolve names with
    /// ``BaseEventLoop/getaddrinfo(host:port:family:type:proto:flags:file:line:)``) and for a port
    /// outside 0...65535.
    public init(host: String, port: Int) throws {
        let validPort = try Self.checkedPort(port, call: "SocketAddress(host:port:)")
        if let v4 = IPv4Address(host) {
            self = .ipv4(v4, port: validPort)
            return
        }
        var text = Substring(host)
        var scopeID: UInt32 = 0
        if let percent = host.firstIndex(of: "%") {
            text = host[..<percent]
            let scope = String(host[host.index(after: percent)...])
            if let number = UInt32(scope) {
                scopeID = number
            } else {
                scopeID = if_nametoindex(scope)
                guard scopeID != 0 else {
                    throw LoopError(.invalidArgument, "SocketAddress(host:port:): '\(host)' names scope '\(scope)', which is no network interface; use an interface name or index")
                }
            }
        }
        guard let v6 = IPv6Address(String(text)) else {
            throw LoopError(.invalidArgument, "SocketAddress(host:port:): '\(host)' is not a numeric IPv4 or IPv6 address; resolve host names with getaddrinfo")
        }
        self = .ipv6(v6, port: validPort, flowInfo: 0, scopeID: scopeID)
    }

    /// A numeric host and a port given as decimal text (`"8080"`). Throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` as the integer-port initialiser does, and
    /// for a port that is not a decimal number.
    public init(host: String, port: String) throws {
        guard let number = Int(port) else {
            throw LoopError(.invalidArgument, "SocketAddress(host:port:): port '\(port)' is not a decimal number in 0...65535")
        }
        try self.init(host: host, port: number)
    }

    /// A Unix socket address. A path starting with `"\0"` is a Linux abstract name.
    /// Throws ``LoopError/Kind-swift.enum/invalidArgument`` when the path does not fit
    /// `sun_path` (``maxUnixPathLength`` bytes, ``unixPathCapacity`` for an abstract name)
    /// or when a filesystem path contains a NUL byte.
    public init(unixPath: String) throws {
        let bytes = Array(unixPath.utf8)
        let abstract = bytes.first == 0
        let limit = abstract ? Self.unixPathCapacity : Self.maxUnixPathLength
        guard bytes.count <= limit else {
            throw LoopError(
                .invalidArgument,
                "SocketAddress(unixPath:): AF_UNIX path too long: \(bytes.count) bytes, but sun_path holds at most \(limit) (ENAMETOOLONG); use a shorter or relative path"
            )
        }
        if !abstract, bytes.contains(0) {
            throw LoopError(.invalidArgument, "SocketAddress(unixPath:): the path contains a NUL byte; only an abstract name (\"\\0name\") may, and only first")
        }
        self = .unix(path: bytes)
    }

    /// Reads a `sockaddr` the OS filled in (`length` bytes of it). Throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` for a family other than
    /// AF_INET, AF_INET6 and AF_UNIX, or a length too short for its family.
    public init(_ address: UnsafePointer<sockaddr>, length: socklen_t) throws {
        let size = Int(length)
        let family = size >= MemoryLayout<sa_family_t>.size ? Int32(address.pointee.sa_family) : AF_UNSPEC
        switch family {
        case AF_INET where size >= MemoryLayout<sockaddr_in>.size:
            let v4 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
            self = .ipv4(IPv4Address(UInt32(bigEndian: v4.sin_addr.s_addr)), port: UInt16(bigEndian: v4.sin_port))
        case AF_INET6 where size >= MemoryLayout<sockaddr_in6>.size:
            let v6 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self)
            self = .ipv6(
                IPv6Address(v6.sin6_addr), port: UInt16(bigEndian: v6.sin6_port),
                flowInfo: UInt32(bigEndian: v6.sin6_flowinfo), scopeID: v6.sin6_scope_id)
        case AF_UNIX:
            let offset = Self.sunPathOffset
            let count = max(0, min(size - offset, Self.unixPathCapacity))
            var bytes = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(address) + offset, count: count))
            if bytes.first != 0, let end = bytes.firstIndex(of: 0) { bytes.removeSubrange(end...) }
            self = .unix(path: bytes)
        default:
            throw LoopError(.invalidArgument, "SocketAddress: unsupported address (family \(family), \(size) bytes); only AF_INET, AF_INET6 and AF_UNIX are supported")
        }
    }

    /// Reads a `sockaddr_storage` the OS filled in (`length` bytes of it). See the `sockaddr` initialiser.
    public init(_ storage: sockaddr_storage, length: socklen_t) throws {
        var copy = storage
        self = try withUnsafePointer(to: &copy) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { try SocketAddress($0, length: length) }
        }
    }

    /// The address as a `sockaddr_storage` and the length of its meaningful part.
    public var storage: (storage: sockaddr_storage, length: socklen_t) {
        var storage = sockaddr_storage()
        let length = withUnsafeMutableBytes(of: &storage) { raw -> Int in
            switch self {
            case .ipv4(let host, let port):
                var v4 = sockaddr_in()
                v4.sin_family = sa_family_t(AF_INET)
                v4.sin_port = port.bigEndian
                v4.sin_addr.s_addr = host.value.bigEndian
                raw.storeBytes(of: v4, as: sockaddr_in.self)
                return MemoryLayout<sockaddr_in>.size
            case .ipv6(let host, let port, let flowInfo, let scopeID):
                var v6 = sockaddr_in6()
                v6.sin6_family = sa_family_t(AF_INET6)
                v6.sin6_port = port.bigEndian
                v6.sin6_flowinfo = flowInfo.bigEndian
                v6.sin6_addr = host.in6
                v6.sin6_scope_id = scopeID
                raw.storeBytes(of: v6, as: sockaddr_in6.self)
                return MemoryLayout<sockaddr_in6>.size
            case .unix(let path):
                raw.storeBytes(of: sa_family_t(AF_UNIX), as: sa_family_t.self)
                let count = min(path.count, Self.unixPathCapacity)
                for index in 0..<count { raw[Self.sunPathOffset + index] = path[index] }
                // A filesystem path is passed with its NUL when it fits; an abstract name never.
                let terminator = !path.isEmpty && path.first != 0 && count < Self.unixPathCapacity ? 1 : 0
                return Self.sunPathOffset + count + terminator
            }
        }
        return (storage, socklen_t(length))
    }

    /// Calls `body` with the address as a `sockaddr` pointer and its length, for
    /// bind(2), connect(2), sendto(2).
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        var (storage, length) = self.storage
        return try withUnsafePointer(to: &storage) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }

    /// The address family: ``AddressFamily/inet``, ``AddressFamily/inet6`` or ``AddressFamily/unix``.
    public var family: AddressFamily {
        switch self {
        case .ipv4: return .inet
        case .ipv6: return .inet6
        case .unix: return .unix
        }
    }

    /// The numeric host (`"127.0.0.1"`, `"::1"`, `"fe80::1%2"`); `nil` for a Unix address.
    public var host: String? {
        switch self {
        case .ipv4(let host, _): return host.description
        case .ipv6(let host, _, _, let scopeID): return scopeID == 0 ? host.description : "\(host)%\(scopeID)"
        case .unix: return nil
        }
    }

    /// The port; `nil` for a Unix address.
    public var port: Int? {
        switch self {
        case .ipv4(_, let port), .ipv6(_, let port, _, _): return Int(port)
        case .unix: return nil
        }
    }

    /// The path of a Unix address as text (an abstract name keeps its leading `"\0"`);
    /// `nil` for an IP address.
    public var unixPath: String? {
        guard case .unix(let path) = self else { return nil }
        return String(decoding: path, as: UTF8.self)
    }

    /// `127.0.0.1:80`, `[::1]:80`, `[fe80::1%2]:80`, `/tmp/app.sock`, `@name` (abstract),
    /// `<unnamed>` (an unbound Unix socket).
    public var description: String {
        switch self {
        case .ipv4(let host, let port): return "\(host):\(port)"
        case .ipv6(_, let port, _, _): return "[\(host ?? "")]:\(port)"
        case .unix(let path):
            if path.isEmpty { return "<unnamed>" }
            if path.first == 0 { return "@" + String(decoding: path.dropFirst(), as: UTF8.self) }
            return String(decoding: path, as: UTF8.self)
        }
    }

    static var sunPathOffset: Int { MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? MemoryLayout<sa_family_t>.size }

    static func checkedPort(_ port: Int, call: String) throws -> UInt16 {
        guard let valid = UInt16(exactly: port) else {
            throw LoopError(.invalidArgument, "\(call): port \(port) is out of range 0...65535")
        }
        return valid
    }
}
