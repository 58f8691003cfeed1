import Glibc

/// What one accept(2) on a listening socket gave; see ``BaseEventLoop/acceptConnection(on:fault:)``.
enum AcceptOutcome {
    /// A connected socket, close-on-exec and non-blocking.
    case connection(Int32)
    /// A connection that could not be set up (closed and reported); try the next.
    case skipped
    /// Nothing more to accept now.
    case drained
    /// accept(2) failed (reported); stop accepting on this socket for a while.
    case failed
}

/// The listening side shared by ``Server`` and the group's handoff acceptor: binding
/// the sockets and accepting one connection, as asyncio's `create_server` and
/// `_accept_connection`.
extension BaseEventLoop {
    /// Binds a stream socket on every distinct address `hosts` and `port` resolve to
    /// (a `nil` host is every interface); IPv6 sockets are IPv6-only. Closes them all
    /// when one fails; a failed bind throws asyncio's "error while attempting to bind
    /// on address …".
    func bindStreamSockets(
        hosts: [String?], port: Int, family: AddressFamily, flags: Int32, reuseAddress: Bool, reusePort: Bool
    ) async throws -> [Int32] {
        var infos: [AddressInfo] = []
        for host in hosts {
            let found = try await getaddrinfo(host: host, port: port, family: family, type: .stream, flags: flags).value
            for info in found where !infos.contains(info) { infos.append(info) }
        }
        var sockets: [Int32] = []
        do {
            for info in infos {
                let fd = try Socket.make(info.family, .stream, proto: info.proto)
                sockets.append(fd)
                if reuseAddress { try Socket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1) }
                if reusePort { try Socket.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
                if info.family == .inet6 { try Socket.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
                do {
                    try Socket.bind(fd, to: info.address)
                } catch let error as SystemError {
                    throw SystemError(
                        errno: error.errno,
                        call: "error while attempting to bind on address \(info.address): \(SystemError.describe(error.errno).lowercased()); bind")
                }
            }
        } catch {
            for fd in sockets { _ = Glibc.close(fd) }
            throw error
        }
        return sockets
    }

    /// One accept(2) on `listener` (failing with `fault` instead when given, for
    /// tests); failures go to the exception handler with asyncio's messages.
    func acceptConnection(on listener: Int32, fault: Int32?) -> AcceptOutcome {
        var connection: Int32 = -1
        if let fault {
            errno = fault
        } else {
            connection = Glibc.accept(listener, nil, nil)
        }
        if connection >= 0 {
            if fcntl(connection, F_SETFD, FD_CLOEXEC) != 0 || (try? Socket.setNonBlocking(connection)) == nil {
                let failure = errno
                _ = Glibc.close(connection)
                callExceptionHandler(ExceptionContext(
                    message: "Error on transport creation for incoming connection",
                    error: SystemError(errno: failure, call: "fcntl(\(connection)) (accept)"), socket: listener))
                return .skipped
            }
            return .connection(connection)
        }
        let failure = errno
        if failure == EAGAIN || failure == EWOULDBLOCK || failure == EINTR || failure == ECONNABORTED { return .drained }
        let outOfResources = failure == EMFILE || failure == ENFILE || failure == ENOBUFS || failure == ENOMEM
        callExceptionHandler(ExceptionContext(
            message: outOfResources ? "socket.accept() out of system resource" : "socket.accept() failed",
            error: SystemError(errno: failure, call: "accept(\(listener))"), socket: listener))
        return .failed
    }
}
