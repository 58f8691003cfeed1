import Glibc

/// The read end of a pipe as a transport (asyncio's `_UnixReadPipeTransport`): reads
/// with a loop reader and delivers the bytes to a ``StreamProtocol``'s `dataReceived`.
/// At end of file the transport calls `eofReceived` (its result is ignored, as in
/// asyncio) and then `connectionLost(nil)`, and closes the pipe. While the transport
/// owns the fd, the loop's public `addReader`/`removeReader` refuse it.
///
/// Create one with ``BaseEventLoop/connectReadPipe(_:_:)``.
public final class ReadPipeTransport: ReadTransport, CustomStringConvertible {
    /// The read size (asyncio's `max_size`).

    private unowned let loop: BaseEventLoop
    private let fd: Int32
    private var currentProtocol: any BaseProtocol
    private var closing = false
    private var paused = false
    private var pipeClosed = false

    init(loop: BaseEventLoop, fd: Int32, protocol: any BaseProtocol, waiter: Future<Void>) throws {
        self.loop = loop
        self.fd = fd
        self.currentProtocol = `protocol`
        try loop.startTransport(self, fd: fd, protocol: `protocol`, description: "<ReadPipeTransport fd=\(fd)>", waiter: waiter) {
            [self] in
            guard !closing, !paused else { return }
            try loop.transportAddReader(fd) { [self] in readReady() }
        }
    }

    public var description: String { "<ReadPipeTransport fd=\(pipeClosed ? -1 : fd)\(closing ? " closing" : "")>" }

    // MARK: BaseTransport

    public var isClosing: Bool { closing }

    public var `protocol`: any BaseProtocol { currentProtocol }

    public func setProtocol(_ protocol: any BaseProtocol) { currentProtocol = `protocol` }

    /// "pipe" is the pipe's fd.
    public func extraInfo(_ key: String) -> Any? { key == "pipe" ? fd : nil }

    public func close() {
        if !closing { closeNow(nil) }
    }

    // MARK: ReadTransport

    public var isReading: Bool { !paused && !closing }

    public func pauseReading() {
        guard isReading else { return }
        paused = true
        _ = try? loop.transportRemoveReader(fd)
    }

    public func resumeReading() {
        guard !closing, paused else { return }
        paused = false
        try? loop.transportAddReader(fd) { [self] in readReady() }
    }

    // MARK: Implementation

    private func readReady() {
        let scratch = loop.readScratch
        let count = Glibc.read(fd, scratch.bytes.baseAddress, scratch.bytes.count)
        if count < 0 {
            let failure = errno
            if failure == EAGAIN || failure == EWOULDBLOCK || failure == EINTR { return }
            fatalError(SystemError(errno: failure, call: "read(\(fd))"), "Fatal read error on pipe transport")
            return
        }
        if count == 0 {
            // End of file: eofReceived, then connectionLost(nil), each from its own callback.
            closing = true
            loop.setTransportOwner(fd, nil)
            _ = try? loop.transportRemoveReader(fd)
            _ = try? loop.callSoon({ [self] in
                do {
                    switch currentProtocol {
                    case let stream as any StreamProtocol: _ = try stream.eofReceived()
                    case let buffered as any BufferedProtocol: _ = try buffered.eofReceived()
                    default: break
                    }
                } catch {
                    loop.callExceptionHandler(ExceptionContext(
                        message: "Exception in callback protocol.eof_received()", error: error, transport: self, protocol: currentProtocol))
                }
            }, from: nil)
            _ = try? loop.callSoon({ [self] in callConnectionLost(nil) }, from: nil)
            return
        }
        do {
            guard let stream = currentProtocol as? any StreamProtocol else { return }
            try stream.dataReceived(scratch.copy(count))
        } catch {
            fatalError(error, "Fatal error: protocol.data_received() call failed.")
        }
    }

    /// asyncio's `_fatal_error`: system errors end the transport quietly; anything
    /// else also goes to the exception handler.
    private func fatalError(_ error: any Error, _ message: String) {
        if !(error is SystemError) {
            loop.callExceptionHandler(ExceptionContext(
                message: message, error: error, transport: self, protocol: currentProtocol))
        }
        closeNow(error)
    }

    private func closeNow(_ error: (any Error)?) {
        closing = true
        loop.setTransportOwner(fd, nil)
        _ = try? loop.transportRemoveReader(fd)
        _ = try? loop.callSoon({ [self] in callConnectionLost(error) }, from: nil)
    }

    private func callConnectionLost(_ error: (any Error)?) {
        guard !pipeClosed else { return }
        loop.tearDownTransport(self, kind: "ReadPipeTransport", fd: fd, protocol: currentProtocol, error: error)
        pipeClosed = true
    }
}

/// The write end of a pipe as a transport (asyncio's `_UnixWritePipeTransport`):
/// writes at once when the pipe takes the bytes and buffers the rest behind a loop
/// writer, with the usual water marks (`pauseWriting` once above the high mark,
/// `resumeWriting` once drained to the low mark).
///
/// As in asyncio, the transport also watches the write end for readability: a pipe
/// whose read end is closed reports an error there, so the transport learns the reader
/// is gone without writing — with nothing buffered it closes with `connectionLost(nil)`,
/// otherwise with a broken-pipe ``SystemError``. A failed write (EPIPE, …) ends the
/// transport with `connectionLost(error)`. `writeEof()` is `close()`: the buffered bytes
/// are sent, then the pipe is closed. Writes after closing are ignored; from the sixth
/// on each logs "pipe closed by peer or os.write(pipe, data) raised exception.".
///
/// Writing to a pipe whose reader is gone fails with EPIPE rather than killing the
/// process: the first loop of a process ignores SIGPIPE unless the program set its own
/// disposition first, as CPython does.
///
/// Create one with ``BaseEventLoop/connectWritePipe(_:_:)``.
public final class WritePipeTransport: WriteTransport, CustomStringConvertible {
    private unowned let loop: BaseEventLoop
    private let fd: Int32
    private let watchesReadEnd: Bool
    private var currentProtocol: any BaseProtocol
    private var closing = false
    private var lost = ConnectionLostCounter()
    private var pipeClosed = false
    private var flow = WriteFlowControl()
    private var buffer = WriteBuffer()

    init(loop: BaseEventLoop, fd: Int32, watchesReadEnd: Bool, protocol: any BaseProtocol, waiter: Future<Void>) throws {
        self.loop = loop
        self.fd = fd
        self.watchesReadEnd = watchesReadEnd
        self.currentProtocol = `protocol`
        let watchReadEnd: (() throws -> Void)? = watchesReadEnd ? { [self] in
            guard !closing else { return }
            try loop.transportAddReader(fd) { [self] in readEndReady() }
        } : nil
        try loop.startTransport(
            self, fd: fd, protocol: `protocol`, description: "<WritePipeTransport fd=\(fd)>", waiter: waiter,
            startReading: watchReadEnd)
    }

    public var description: String { "<WritePipeTransport fd=\(pipeClosed ? -1 : fd)\(closing ? " closing" : "")>" }

    // MARK: BaseTransport

    public var isClosing: Bool { closing }

    public var `protocol`: any BaseProtocol { currentProtocol }

    public func setProtocol(_ protocol: any BaseProtocol) { currentProtocol = `protocol` }

    /// "pipe" is the pipe's fd.
    public func extraInfo(_ key: String) -> Any? { key == "pipe" ? fd : nil }

    public func close() {
        try? writeEof()
    }

    // MARK: WriteTransport

    /// Sends `bytes` (buffered when the pipe is full). Ignored once the transport is
    /// closing, as in asyncio; never throws.
    public func write(_ bytes: [UInt8]) throws {
        if bytes.isEmpty { return }
        if lost.isLost || closing {
            lost.ignoreWrite(loop: loop, warning: "pipe closed by peer or os.write(pipe, data) raised exception.")
            return
        }
        var written = 0
        if writeBufferSize == 0 {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count >= 0 {
                if count == bytes.count { return }
                written = count
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                lost.markLost()
                fatalError(SystemError(errno: errno, call: "write(\(fd))"), "Fatal write error on pipe transport")
                return
            }
            try loop.transportAddWriter(fd) { [self] in writeReady() }
        }
        buffer.append(bytes[written...])
        maybePauseProtocol()
    }

    /// Closes the pipe once the buffered bytes are sent (asyncio's `write_eof`).
    public func writeEof() throws {
        if closing || pipeClosed { return }
        closing = true
        if writeBufferSize == 0 {
            loop.setTransportOwner(fd, nil)
            _ = try? loop.transportRemoveReader(fd)
            _ = try? loop.callSoon({ [self] in callConnectionLost(nil) }, from: nil)
        }
    }

    public var canWriteEof: Bool { true }

    public func abort() { closeNow(nil) }

    public var writeBufferSize: Int { buffer.count }

    public var writeBufferLimits: (low: Int, high: Int) { flow.limits }

    public func setWriteBufferLimits(high: Int? = nil, low: Int? = nil) throws {
        try flow.setLimits(high: high, low: low)
        maybePauseProtocol()
    }

    // MARK: Implementation

    /// The write end turned readable: the read end is closed (asyncio's `_read_ready`).
    private func readEndReady() {
        if writeBufferSize > 0 {
            fatalError(SystemError(errno: EPIPE, call: "write(\(fd))"), "Fatal write error on pipe transport")
        } else {
            closeNow(nil)
        }
    }

    private func writeReady() {
        if lost.isLost { return }
        if let failure = buffer.drain({ [fd] in Glibc.write(fd, $0.baseAddress, $0.count) }) {
            lost.markLost()
            fatalError(SystemError(errno: failure, call: "write(\(fd))"), "Fatal write error on pipe transport")
            return
        }
        maybeResumeProtocol()
        if buffer.isEmpty {
            _ = try? loop.transportRemoveWriter(fd)
            if closing {
                loop.setTransportOwner(fd, nil)
                _ = try? loop.transportRemoveReader(fd)
                callConnectionLost(nil)
            }
        }
    }

    private func maybePauseProtocol() {
        flow.pauseIfNeeded(buffered: buffer.count, protocol: currentProtocol, transport: self, loop: loop)
    }

    private func maybeResumeProtocol() {
        flow.resumeIfNeeded(buffered: buffer.count, protocol: currentProtocol, transport: self, loop: loop)
    }

    /// asyncio's `_fatal_error`: system errors end the transport quietly; anything
    /// else also goes to the exception handler.
    private func fatalError(_ error: any Error, _ message: String) {
        if !(error is SystemError) {
            loop.callExceptionHandler(ExceptionContext(
                message: message, error: error, transport: self, protocol: currentProtocol))
        }
        closeNow(error)
    }

    /// asyncio's `_close`: drops the buffer, stops watching, `connectionLost` later.
    private func closeNow(_ error: (any Error)?) {
        if pipeClosed || (closing && writeBufferSize == 0) { return }
        closing = true
        buffer.clear()
        loop.setTransportOwner(fd, nil)
        _ = try? loop.transportRemoveWriter(fd)
        _ = try? loop.transportRemoveReader(fd)
        _ = try? loop.callSoon({ [self] in callConnectionLost(error) }, from: nil)
    }

    private func callConnectionLost(_ error: (any Error)?) {
        guard !pipeClosed else { return }
        loop.tearDownTransport(self, kind: "WritePipeTransport", fd: fd, protocol: currentProtocol, error: error)
        pipeClosed = true
    }
}

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
        let kind = try pipeKind(fd)
        guard kind == S_IFIFO || kind == S_IFSOCK || kind == S_IFCHR else {
            throw LoopError(.invalidArgument, "Pipe transport is for pipes/sockets only.")
        }
        try Socket.setNonBlocking(fd)
        return try await establishTransport(fd: fd, closeOnFailure: false, factory) { made, waiter in
            try ReadPipeTransport(loop: self, fd: fd, protocol: made, waiter: waiter)
        } discard: { $0.close() }
    }

    /// Wraps the write end of a pipe (or a socket or character device) in a
    /// ``WritePipeTransport``. Throws ``LoopError/Kind-swift.enum/invalidArgument`` for
    /// anything else ("Pipe transport is only for pipes, sockets and character devices").
    public func connectWritePipe<P: BaseProtocol>(_ factory: () throws -> P, _ fd: Int32) async throws -> (transport: WritePipeTransport, protocol: P) {
        try checkTransportCall("connectWritePipe")
        let kind = try pipeKind(fd)
        guard kind == S_IFIFO || kind == S_IFSOCK || kind == S_IFCHR else {
            throw LoopError(.invalidArgument, "Pipe transport is only for pipes, sockets and character devices")
        }
        try Socket.setNonBlocking(fd)
        // Only pipes and sockets report a closed read end as readability (asyncio's rule).
        let watchesReadEnd = kind == S_IFIFO || kind == S_IFSOCK
        return try await establishTransport(fd: fd, closeOnFailure: false, factory) { made, waiter in
            try WritePipeTransport(loop: self, fd: fd, watchesReadEnd: watchesReadEnd, protocol: made, waiter: waiter)
        } discard: { $0.abort() }
    }

    /// The file type bits of `fd` (`st_mode & S_IFMT`).
    private func pipeKind(_ fd: Int32) throws -> mode_t {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError(errno: errno, call: "fstat(\(fd))") }
        return info.st_mode & S_IFMT
    }
}
