import Glibc

/// Pipes as transports (asyncio's `connect_read_pipe` and `connect_write_pipe`). Each
/// takes the fd over (switching it to non-blocking; the transport closes it) and returns
/// once the protocol's `connectionMade` has run. Await them from a task running on the
/// loop.
///
/// ```swift
/// let (transport, reader) = try await loop.connectReadPipe({ Reader() }, fds.read)
/// ```
extension BaseEventLoop {
    /// Wraps the read end of a pipe (or a socket or character device) in a
    /// ``ReadPipeTransport``. Throws ``LoopError/Kind-swift.enum/invalidArgument`` for
    /// anything else ("Pipe transport is for pipes/sockets only.").
    public func connectReadPipe<P: BaseProtocol>(_ factory: () throws -> P, _ fd: Int32) async throws -> (transport: ReadPipeTransport, protocol: P) {
        try checkTransportCall("connectReadPipe")
        _ = try takePipe(fd, refusal: "Pipe transport is for pipes/sockets only.")
        return try await establishTransport(fd: fd, closeOnFailure: false, factory) { made, waiter in
            try ReadPipeTransport(loop: self, fd: fd, protocol: made, waiter: waiter)
        } discard: { $0.close() }
    }

    /// Wraps the write end of a pipe (or a socket or character device) in a
    /// ``WritePipeTransport``. Throws ``LoopError/Kind-swift.enum/invalidArgument`` for
    /// anything else ("Pipe transport is only for pipes, sockets and character devices").
    public func connectWritePipe<P: BaseProtocol>(_ factory: () throws -> P, _ fd: Int32) async throws -> (transport: WritePipeTransport, protocol: P) {
        try checkTransportCall("connectWritePipe")
        let kind = try takePipe(fd, refusal: "Pipe transport is only for pipes, sockets and character devices")
        // Only pipes and sockets report a closed read end as readability (asyncio's rule).
        let watchesReadEnd = kind == S_IFIFO || kind == S_IFSOCK
        return try await establishTransport(fd: fd, closeOnFailure: false, factory) { made, waiter in
            try WritePipeTransport(loop: self, fd: fd, watchesReadEnd: watchesReadEnd, protocol: made, waiter: waiter)
        } discard: { $0.abort() }
    }

    /// Checks that `fd` is a pipe, a socket or a character device (else
    /// ``LoopError/Kind-swift.enum/invalidArgument`` with `refusal`), makes it
    /// non-blocking and returns its file type bits (`st_mode & S_IFMT`).
    private func takePipe(_ fd: Int32, refusal: String) throws -> mode_t {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError(errno: errno, call: "fstat(\(fd))") }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFIFO || kind == S_IFSOCK || kind == S_IFCHR else { throw LoopError(.invalidArgument, refusal) }
        try Socket.setNonBlocking(fd)
        return kind
    }
}
