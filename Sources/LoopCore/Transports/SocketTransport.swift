import Glibc

/// The loop's stream-socket transport (asyncio's `_SelectorSocketTransport`): reads
/// with a loop reader, writes at once when the socket takes the bytes and buffers the
/// rest behind a loop writer. The transport owns its socket and closes it after
/// `connectionLost`; while it does, the loop's public `addReader`/`removeReader`
/// (and writer) calls refuse the fd with ``LoopError/Kind-swift.enum/fdInUseByTransport``.
///
/// Writes to a transport that is closed (or lost its connection) are ignored, as in
/// asyncio; from the fifth such write on, each one logs the warning
/// "socket.send() raised exception.".
///
/// The loop makes one for every connected stream socket unless its backend supplies
/// its own transport (``SelectorBackend/makeSocketTransport(_:)``); the public
/// methods return it as `any Transport`. A backend may also make one itself, e.g. to
/// wrap it.
public final class SocketTransport: FileDescriptorTransport, Transport {
    private var eof = false

    /// Takes over the request's socket and schedules `connectionMade`, reading, and the
    /// request's waiter. Throws when the loop is closed.
    public init(_ request: SocketTransportRequest) throws {
        super.init(request, kind: "SocketTransport")
        extra = request.prepareSocket()
        try start(waiter: request.waiter)
    }

    @_spi(Backend) public override func startReading() throws {
        try loop.transportAddReader(fd) { [self] in readReady() }
    }

    // MARK: WriteTransport

    public func write(_ bytes: [UInt8]) throws {
        if eof {
            throw LoopError(.invalidState, "Cannot call write() after write_eof(); the transport's writing side is shut down")
        }
        if bytes.isEmpty { return }
        if lost.isLost {
            ignoreWrite()
            return
        }
        try sendOrBuffer(bytes, message: "Fatal write error on socket transport") { [fd] in try Socket.sendAvailable(fd, $0) }
    }

    public func writeEof() throws {
        if isClosing || eof { return }
        eof = true
        if buffer.isEmpty { try Socket.shutdown(fd, Int(SHUT_WR)) }
    }

    public var canWriteEof: Bool { true }

    // MARK: Implementation

    private func readReady() {
        if lost.isLost { return }
        var failure: Int32 = 0
        let count: Int
        do {
            count = try StreamDelivery.read(for: self) { [fd] memory in
                let count = Glibc.recv(fd, memory.baseAddress, memory.count, 0)
                if count < 0 { failure = errno }
                return count
            }
        } catch {
            fail(error.error, message: error.message)
            return
        }
        if count == 0 {
            readEof()
        } else if count < 0 && failure != EAGAIN && failure != EWOULDBLOCK && failure != EINTR {
            fail(SystemError(errno: failure, call: "recv(\(fd))"), message: "Fatal read error on socket transport")
        }
    }

    private func readEof() {
        if deliverEndOfStream() { stopReading() }
    }

    override func writeReady() {
        if lost.isLost { return }
        let drained = drainWriteBuffer(call: "send", message: "Fatal write error on socket transport") { [fd] in
            Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
        }
        guard drained else { return }
        if isClosing {
            callConnectionLost(nil)
        } else if eof {
            try? Socket.shutdown(fd, Int(SHUT_WR))
        }
    }
}
