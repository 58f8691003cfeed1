#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
/// Create one with `BaseEventLoop.createConnection`, `connectAcceptedSocket` or a server.
public final class SocketTransport: Transport, CustomStringConvertible {
    /// The read size (asyncio's `max_size`).
    /// Writes ignored after a lost connection before each further one logs a warning.
    static let lostWriteWarningThreshold = 5

    private unowned let loop: BaseEventLoop
    private let fd: Int32
    private var currentProtocol: any BaseProtocol
    private var extra: [String: Any] = [:]
    private var closing = false
    private var paused = false
    private var eof = false
    private var connectionLostCount = 0
    private var flow = WriteFlowControl()
    private var socketClosed = false
    private var buffer = WriteBuffer()
    /// Called once the transport has closed its socket (servers count connections).
    var onDetach: (() -> Void)?

    /// Takes `fd` over (a connected, non-blocking stream socket) and schedules
    /// `connectionMade` and reading; `waiter` completes after `connectionMade` ran.
    init(loop: BaseEventLoop, fd: Int32, protocol: any BaseProtocol, waiter: Future<Void>?) throws {
        self.loop = loop
        self.fd = fd
        self.currentProtocol = `protocol`
        if let family = try? Socket.family(of: fd), family == .inet || family == .inet6 {
            try? Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        }
        extra["socket"] = fd
        extra["sockname"] = try? Socket.localAddress(fd)
        extra["peername"] = try? Socket.peerAddress(fd)
        _ = try loop.callSoon({ [self] in try currentProtocol.connectionMade(self) }, from: nil)
        _ = try loop.callSoon({ [self] in
            guard !closing, !paused else { return }
            try loop.transportAddReader(fd) { [self] in readReady() }
        }, from: nil)
        if let waiter {
            _ = try loop.callSoon({ if !waiter.isDone { try waiter.setResult(()) } }, from: nil)
        }
        loop.setTransportOwner(fd, "<SocketTransport fd=\(fd)>")
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
        loop.setTransportOwner(fd, nil)
        _ = try? loop.transportRemoveReader(fd)
        if buffer.isEmpty {
            connectionLostCount += 1
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
        if connectionLostCount > 0 {
            if connectionLostCount >= Self.lostWriteWarningThreshold {
                loop.logger.warning("socket.send() raised exception.")
            }
            connectionLostCount += 1
            return
        }
        var remaining = bytes[...]
        if buffer.isEmpty {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent >= 0 {
                if sent == bytes.count { return }
                remaining = bytes[sent...]
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                fatalError(SystemError(errno: errno, call: "send(\(fd))"), "Fatal write error on socket transport")
                return
            }
            try loop.transportAddWriter(fd) { [self] in writeReady() }
        }
        buffer.append(remaining)
        maybePauseProtocol()
    }

    public func writelines(_ pieces: [[UInt8]]) throws {
        try write(pieces.flatMap { $0 })
    }

    public func writeEof() throws {
        if closing || eof { return }
        eof = true
        if buffer.isEmpty { try Socket.shutdown(fd, Int(SHUT_WR)) }
    }

    public var canWriteEof: Bool { true }

    public func abort() { forceClose(nil) }

    public var writeBufferSize: Int { buffer.count }

    public var writeBufferLimits: (low: Int, high: Int) { (buffer.low, buffer.high) }

    public func setWriteBufferLimits(high: Int? = nil, low: Int? = nil) throws {
        try buffer.setLimits(high: high, low: low)
        maybePauseProtocol()
    }

    // MARK: Implementation

    private func readReady() {
        if connectionLostCount > 0 { return }
        if let buffered = currentProtocol as? any BufferedProtocol {
            readIntoBuffer(buffered)
        } else {
            readData()
        }
    }

    private func readData() {
        let scratch = loop.readScratch
        let count = Glibc.recv(fd, scratch.bytes.baseAddress, scratch.bytes.count, 0)
        if count < 0 {
            let failure = errno
            if failure == EAGAIN || failure == EWOULDBLOCK || failure == EINTR { return }
            fatalError(SystemError(errno: failure, call: "recv(\(fd))"), "Fatal read error on socket transport")
            return
        }
        if count == 0 {
            readEof()
            return
        }
        let data = scratch.copy(count)
        do {
            guard let stream = currentProtocol as? any StreamProtocol else { return }
            try stream.dataReceived(data)
        } catch {
            fatalError(error, "Fatal error: protocol.data_received() call failed.")
        }
    }

    private func readIntoBuffer(_ target: any BufferedProtocol) {
        let buffer: UnsafeMutableRawBufferPointer
        do {
            buffer = try target.getBuffer(sizeHint: -1)
            guard buffer.count > 0 else {
                throw LoopError(.invalidState, "get_buffer() returned an empty buffer")
            }
        } catch {
            fatalError(error, "Fatal error: protocol.get_buffer() call failed.")
            return
        }
        let count = Glibc.recv(fd, buffer.baseAddress, buffer.count, 0)
        if count < 0 {
            let failure = errno
            if failure == EAGAIN || failure == EWOULDBLOCK || failure == EINTR { return }
            fatalError(SystemError(errno: failure, call: "recv(\(fd))"), "Fatal read error on socket transport")
            return
        }
        if count == 0 {
            readEof()
            return
        }
        do {
            try target.bufferUpdated(count)
        } catch {
            fatalError(error, "Fatal error: protocol.buffer_updated() call failed.")
        }
    }

    private func readEof() {
        let keepOpen: Bool
        do {
            switch currentProtocol {
            case let buffered as any BufferedProtocol: keepOpen = try buffered.eofReceived()
            case let stream as any StreamProtocol: keepOpen = try stream.eofReceived()
            default: keepOpen = false
            }
        } catch {
            fatalError(error, "Fatal error: protocol.eof_received() call failed.")
            return
        }
        if keepOpen {
            _ = try? loop.transportRemoveReader(fd)
        } else {
            close()
        }
    }

    private func writeReady() {
        if connectionLostCount > 0 { return }
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
        flow.pauseIfNeeded(buffered: buffer.count, high: buffer.high, protocol: currentProtocol, transport: self, loop: loop)
    }

    private func maybeResumeProtocol() {
        flow.resumeIfNeeded(buffered: buffer.count, low: buffer.low, protocol: currentProtocol, transport: self, loop: loop)
    }

    /// asyncio's `_fatal_error`: system errors (a reset peer, …) end the connection
    /// quietly; anything else also goes to the exception handler.
    private func fatalError(_ error: any Error, _ message: String) {
        if !(error is SystemError) {
            loop.callExceptionHandler(ExceptionContext(
                message: message, error: error, transport: self, protocol: currentProtocol, socket: fd))
        }
        forceClose(error)
    }

    private func forceClose(_ error: (any Error)?) {
        if connectionLostCount > 0 { return }
        if !buffer.isEmpty {
            buffer.clear()
            _ = try? loop.transportRemoveWriter(fd)
        }
        if !closing {
            closing = true
            loop.setTransportOwner(fd, nil)
            _ = try? loop.transportRemoveReader(fd)
        }
        connectionLostCount += 1
        _ = try? loop.callSoon({ [self] in callConnectionLost(error) }, from: nil)
    }

    private func callConnectionLost(_ error: (any Error)?) {
        guard !socketClosed else { return }
        loop.tearDownTransport(self, kind: "SocketTransport", fd: fd, protocol: currentProtocol, error: error)
        socketClosed = true
        onDetach?()
        onDetach = nil
    }
}
