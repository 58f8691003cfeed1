import Glibc

/// The read end of a pipe as a transport (asyncio's `_UnixReadPipeTransport`): reads
/// with a loop reader and delivers the bytes to a ``StreamProtocol``'s `dataReceived`.
/// At end of file the transport calls `eofReceived` (its result is ignored, as in
/// asyncio) and then `connectionLost(nil)`, and closes the pipe. While the transport
/// owns the fd, the loop's public `addReader`/`removeReader` refuse it.
///
/// Create one with ``BaseEventLoop/connectReadPipe(_:_:)``.
public final class ReadPipeTransport: FileDescriptorTransport, ReadTransport {

    init(loop: BaseEventLoop, fd: Int32, protocol: any BaseProtocol, waiter: Future<Void>) throws {
        super.init(loop: loop, fd: fd, protocol: `protocol`, kind: "ReadPipeTransport", socket: false, closeCountsLoss: false)
        // "pipe" is the pipe's fd.
        extra = ["pipe": fd]
        try start(waiter: waiter)
    }

    @_spi(Backend) public override func startReading() throws {
        try loop.transportAddReader(fd) { [self] in readReady() }
    }

    // MARK: Implementation

    private func readReady() {
        let scratch = loop.readScratch
        let count = Glibc.read(fd, scratch.bytes.baseAddress, scratch.bytes.count)
        if count < 0 {
            let failure = errno
            if failure == EAGAIN || failure == EWOULDBLOCK || failure == EINTR { return }
            fail(SystemError(errno: failure, call: "read(\(fd))"), message: "Fatal read error on pipe transport")
            return
        }
        if count == 0 {
            // End of file: eofReceived, then connectionLost(nil), each from its own callback.
            markClosing()
            stopReading()
            _ = try? loop.callSoon({ [self] in deliverEndOfFile() }, from: nil)
            scheduleConnectionLost(nil)
            return
        }
        do {
            guard let stream = streamProtocol else { return }
            try stream.dataReceived(scratch.copy(count))
        } catch {
            fail(error, message: "Fatal error: protocol.data_received() call failed.")
        }
    }

    /// `eofReceived`, its result ignored (asyncio's read pipe closes at end of file).
    private func deliverEndOfFile() {
        do {
            if let stream = streamProtocol {
                _ = try stream.eofReceived()
            } else if let buffered = bufferedProtocol {
                _ = try buffered.eofReceived()
            }
        } catch {
            loop.callExceptionHandler(ExceptionContext(
                message: "Exception in callback protocol.eof_received()", error: error, transport: self, protocol: currentProtocol))
        }
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
public final class WritePipeTransport: FileDescriptorTransport, WriteTransport {
    init(loop: BaseEventLoop, fd: Int32, watchesReadEnd: Bool, protocol: any BaseProtocol, waiter: Future<Void>) throws {
        super.init(loop: loop, fd: fd, protocol: `protocol`, kind: "WritePipeTransport", socket: false, closeCountsLoss: false)
        // "pipe" is the pipe's fd.
        extra = ["pipe": fd]
        // Only pipes and sockets report a closed read end as readability.
        try start(waiter: waiter, reads: watchesReadEnd)
    }

    /// Watches the write end for readability: the read end closed (asyncio's `_read_ready`).
    @_spi(Backend) public override func startReading() throws {
        try loop.transportAddReader(fd) { [self] in readEndReady() }
    }

    /// As ``writeEof()``: the buffered bytes are sent, then the pipe is closed.
    public override func close() {
        try? writeEof()
    }

    // MARK: WriteTransport

    /// Sends `bytes` (buffered when the pipe is full). Ignored once the transport is
    /// closing, as in asyncio; never throws.
    public func write(_ bytes: [UInt8]) throws {
        if bytes.isEmpty { return }
        if lost.isLost || isClosing {
            ignoreWrite(warning: "pipe closed by peer or os.write(pipe, data) raised exception.")
            return
        }
        try sendOrBuffer(bytes, message: "Fatal write error on pipe transport") { [fd] bytes in
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count >= 0 { return count }
            let failure = errno
            if failure == EAGAIN || failure == EWOULDBLOCK || failure == EINTR { return 0 }
            throw SystemError(errno: failure, call: "write(\(fd))")
        }
    }

    /// Closes the pipe once the buffered bytes are sent (asyncio's `write_eof`).
    public func writeEof() throws {
        if isClosing || isFinished { return }
        markClosing()
        if buffer.isEmpty {
            stopReading()
            scheduleConnectionLost(nil)
        }
    }

    public var canWriteEof: Bool { true }

    // MARK: Implementation

    /// The write end turned readable: the read end is closed (asyncio's `_read_ready`).
    private func readEndReady() {
        if buffer.isEmpty {
            forceClose(nil)
        } else {
            fail(SystemError(errno: EPIPE, call: "write(\(fd))"), message: "Fatal write error on pipe transport")
        }
    }

    override func writeReady() {
        if lost.isLost { return }
        let drained = drainWriteBuffer(call: "write", message: "Fatal write error on pipe transport") { [fd] in
            Glibc.write(fd, $0.baseAddress, $0.count)
        }
        if drained && isClosing { callConnectionLost(nil) }
    }
}
