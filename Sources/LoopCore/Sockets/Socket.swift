import Glibc
import CLoopShims

/// Plain socket operations on file descriptors: making non-blocking sockets, options,
/// binding, listening and addresses. They do not wait; the loop's `sock…` methods do.
///
/// ```swift
/// let listener = try Socket.make(.inet, .stream)
/// try Socket.setOption(listener, SOL_SOCKET, SO_REUSEADDR, 1)
/// try Socket.bind(listener, to: SocketAddress(host: "127.0.0.1", port: 0))
/// try Socket.listen(listener)
/// let address = try Socket.localAddress(listener)
/// ```
public enum Socket {
    /// A new non-blocking, close-on-exec socket. Throws ``SystemError`` (e.g. EAFNOSUPPORT).
    public static func make(_ family: AddressFamily, _ type: SocketType, proto: Int32 = 0) throws -> Int32 {
        let fd = socket(family.rawValue, type.rawValue, proto)
        guard fd >= 0 else { throw SystemError(errno: errno, call: "socket(\(family), \(type), \(proto))") }
        if cloop_set_nonblocking(fd, 1) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 {
            let failure = errno
            Posix.close(fd)
            throw SystemError(errno: failure, call: "fcntl (making socket \(fd) non-blocking)")
        }
        return fd
    }

    /// A connected pair of non-blocking Unix sockets of `type` (socketpair(2)).
    public static func makePair(_ type: SocketType = .stream) throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, type.rawValue, 0, &fds) == 0 else {
            throw SystemError(errno: errno, call: "socketpair(AF_UNIX, \(type))")
        }
        for fd in fds where cloop_set_nonblocking(fd, 1) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 {
            let failure = errno
            for other in fds { Posix.close(other) }
            throw SystemError(errno: failure, call: "fcntl (making socket \(fd) non-blocking)")
        }
        return (fds[0], fds[1])
    }

    /// Turns O_NONBLOCK on or off.
    public static func setNonBlocking(_ fd: Int32, _ on: Bool = true) throws {
        try Posix.setNonBlocking(fd, on)
    }

    /// Whether O_NONBLOCK is set. Throws ``SystemError`` (EBADF) for a closed descriptor.
    public static func isNonBlocking(_ fd: Int32) throws -> Bool {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { throw SystemError(errno: errno, call: "fcntl(\(fd), F_GETFL)") }
        return flags & O_NONBLOCK != 0
    }

    /// Sets an integer socket option (setsockopt(2)), e.g. `(SOL_SOCKET, SO_REUSEADDR, 1)`.
    public static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemError(errno: errno, call: "setsockopt(\(fd), \(level), \(name))")
        }
    }

    /// Reads an integer socket option (getsockopt(2)), e.g. `(SOL_SOCKET, SO_ERROR)`.
    public static func option(_ fd: Int32, _ level: Int32, _ name: Int32) throws -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, level, name, &value, &length) == 0 else {
            throw SystemError(errno: errno, call: "getsockopt(\(fd), \(level), \(name))")
        }
        return value
    }

    /// The socket's address family (SO_DOMAIN).
    public static func family(of fd: Int32) throws -> AddressFamily {
        AddressFamily(rawValue: try option(fd, SOL_SOCKET, SO_DOMAIN))
    }

    /// The socket's type (SO_TYPE).
    public static func type(of fd: Int32) throws -> SocketType {
        SocketType(rawValue: try option(fd, SOL_SOCKET, SO_TYPE))
    }

    /// Binds the socket to `address`. Throws ``SystemError`` (e.g. EADDRINUSE).
    public static func bind(_ fd: Int32, to address: SocketAddress) throws {
        let result = address.withSockAddr { Glibc.bind(fd, $0, $1) }
        guard result == 0 else { throw SystemError(errno: errno, call: "bind(\(address))") }
    }

    /// Makes the socket listen, with `backlog` pending connections at most.
    public static func listen(_ fd: Int32, backlog: Int32 = 128) throws {
        guard Glibc.listen(fd, backlog) == 0 else { throw SystemError(errno: errno, call: "listen(\(fd))") }
    }

    /// The address the socket is bound to (getsockname(2)).
    public static func localAddress(_ fd: Int32) throws -> SocketAddress {
        try address(of: fd, call: "getsockname") { getsockname(fd, $0, $1) }
    }

    /// The address of the socket's peer (getpeername(2)); ENOTCONN when not connected.
    public static func peerAddress(_ fd: Int32) throws -> SocketAddress {
        try address(of: fd, call: "getpeername") { getpeername(fd, $0, $1) }
    }

    /// Shuts down reading, writing or both (`SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`).
    public static func shutdown(_ fd: Int32, _ how: Int) throws {
        guard Glibc.shutdown(fd, Int32(truncatingIfNeeded: how)) == 0 else { throw SystemError(errno: errno, call: "shutdown(\(fd), \(how))") }
    }

    /// Sends what a non-blocking socket takes of `bytes` now (`send(2)` with
    /// `MSG_NOSIGNAL`, so a gone peer is EPIPE, not SIGPIPE) and returns how many bytes
    /// it took: 0 when it would block or was interrupted.
    /// - Throws: ``SystemError`` for any other failure (EPIPE, ECONNRESET, …).
    public static func sendAvailable(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) -> Int {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent >= 0 { return sent }
        let failure = errno
        if failure == EAGAIN || failure == EWOULDBLOCK || failure == EINTR { return 0 }
        throw SystemError(errno: failure, call: "send(\(fd))")
    }

    /// Closes the descriptor.
    public static func close(_ fd: Int32) throws {
        try Posix.closeOrThrow(fd)
    }

    private static func address(
        of fd: Int32, call: String, _ fetch: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { fetch($0, &length) }
        }
        guard result == 0 else { throw SystemError(errno: errno, call: "\(call)(\(fd))") }
        return try SocketAddress(storage, length: length)
    }
}
