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
public final class SocketTransport: Transport, CustomStringConvertible {
    private unowned let loop: BaseEventLoop
    private let request: SocketTransportRequest
    private let fd: Int32
    private var currentProtocol: any BaseProtocol
    private let extra: [String: Any]
    private var closing = false
    private var paused = false
    private var eof = false
    private var lost = ConnectionLostCounter()
    private var flow = WriteFlowControl()
    private var socketClosed = false
    private var buffer = WriteBuffer()

    /// Takes over the request's socket and schedules `connectionMade`, reading, and the
    /// request's waiter (see ``SocketTransportRequest/start(_:description:startReading:)``).
    /// Throws when the loop is closed.
    public init(_ request: SocketTransportRequest) throws {
        self.request = request
        self.loop = request.loop
        self.fd = request.fd
        self.currentProtocol = request.protocol
        self.extra = request.prepareSocket()
        try request.start(self, description: "<SocketTransport fd=\(fd)>") { [self] in
            guard !closing, !paused else { return }
            try loop.transportAddReader(fd) { [self] in readReady() }
        }
    }

    public var description: String { "<SocketTransport fd=\(socketClosed ? -1 : fd)\(closing ? " closing" : "")>" }

    // MARK: BaseTransport

    public var isClosing: Bool { closing }

    public var `protocol`: any BaseProtocol { currentProtocol }

    public func setProtocol(_ protocol: any BaseProtocol) { currentProtocol = `protocol` }

    public func extraInfo(_ key: String) -> Any? { extra[key] }

    public func close() {
        if closing { return }
        closing = true
        request.markClosing()
        _ = try? loop.transportRemoveReader(fd)
        if buffer.isEmpty {
            lost.markLost()
            _ = try? loop.transportRemoveWriter(fd)
            _ = try? loop.callSoon({ [self] in callConnectionLost(nil) }, from: nil)
        }
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

    // MARK: WriteTransport

    public func write(_ bytes: [UInt8]) throws {
        if eof {
            throw LoopError(.invalidState, "Cannot call write() after write_eof(); the transport's writing side is shut down")
        }
        if bytes.isEmpty { return }
        if lost.isLost {
            lost.ignoreWrite(loop: loop)
            return
        }
        var remaining = bytes[...]
        if buffer.isEmpty {
            do {
                let sent = try Socket.sendAvailable(fd, bytes)
                if sent == bytes.count { return }
                remaining = bytes[sent...]
            } catch {
                fatalError(error, "Fatal write error on socket transport")
                return
            }
            try loop.transportAddWriter(fd) { [self] in writeReady() }
        }
        buffer.append(remaining)
        maybePauseProtocol()
    }

    public func writeEof() throws {
        if closing || eof { return }
        eof = true
        if buffer.isEmpty { try Socket.shutdown(fd, Int(SHUT_WR)) }
    }

    public var canWriteEof: Bool { true }

    public func abort() { forceClose(nil) }

    public var writeBufferSize: Int { buffer.count }

    public var writeBufferLimits: (low: Int, high: Int) { flow.limits }

    public func setWriteBufferLimits(high: Int? = nil, low: Int? = nil) throws {
        try flow.setLimits(high: high, low: low)
        maybePauseProtocol()
    }

    // MARK: Implementation

    private func readReady() {
        if lost.isLost { return }
        var failure: Int32 = 0
        let count: Int
        do {
            count = try StreamDelivery.read(to: currentProtocol, on: loop) { [fd] memory in
                let count = Glibc.recv(fd, memory.baseAddress, memory.count, 0)
                if count < 0 { failure = errno }
                return count
            }
        } catch {
            fatalError(error.error, error.message)
            return
        }
        if count == 0 {
            readEof()
        } else if count < 0 && failure != EAGAIN && failure != EWOULDBLOCK && failure != EINTR {
            fatalError(SystemError(errno: failure, call: "recv(\(fd))"), "Fatal read error on socket transport")
        }
    }

    private func readEof() {
        let keepOpen: Bool
        do {
            keepOpen = try StreamDelivery.endOfFile(to: currentProtocol)
        } catch {
            fatalError(error.error, error.message)
            return
        }
        if keepOpen {
            _ = try? loop.transportRemoveReader(fd)
        } else {
            close()
        }
    }

    private func writeReady() {
        if lost.isLost { return }
        if let failure = buffer.drain({ [fd] in Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) {
            _ = try? loop.transportRemoveWriter(fd)
            buffer.clear()
            fatalError(SystemError(errno: failure, call: "send(\(fd))"), "Fatal write error on socket transport")
            return
        }
        maybeResumeProtocol()
        if buffer.isEmpty {
            _ = try? loop.transportRemoveWriter(fd)
            if closing {
                callConnectionLost(nil)
            } else if eof {
                try? Socket.shutdown(fd, Int(SHUT_WR))
            }
        }
    }

    private func maybePauseProtocol() {
        flow.pauseIfNeeded(buffered: buffer.count, protocol: currentProtocol, transport: self, loop: loop)
    }

    private func maybeResumeProtocol() {
        flow.resumeIfNeeded(buffered: buffer.count, protocol: currentProtocol, transport: self, loop: loop)
    }

    /// asyncio's `_fatal_error`: system errors (a reset peer, …) end the connection
    /// quietly; anything else also goes to the exception handler.
    private func fatalError(_ error: any Error, _ message: String) {
        request.reportFatalError(error, message: message, transport: self, protocol: currentProtocol)
        forceClose(error)
    }

    private func forceClose(_ error: (any Error)?) {
        if lost.isLost { return }
        if !buffer.isEmpty {
            buffer.clear()
            _ = try? loop.transportRemoveWriter(fd)
        }
        if !closing {
            closing = true
            request.markClosing()
            _ = try? loop.transportRemoveReader(fd)
        }
        lost.markLost()
        _ = try? loop.callSoon({ [self] in callConnectionLost(error) }, from: nil)
    }

    private func callConnectionLost(_ error: (any Error)?) {
        guard !socketClosed else { return }
        // Writes from now on are ignored (the fd is about to be closed), with asyncio's warning.
        if !lost.isLost { lost.markLost() }
        request.finish(self, kind: "SocketTransport", protocol: currentProtocol, error: error)
        socketClosed = true
    }
}
