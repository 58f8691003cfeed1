import Glibc
internal import CLibevent
import CLoopShims
@_spi(Backend) import LoopCore

/// The libevent backend's stream-socket transport: a libevent bufferevent on the
/// backend's own `event_base` reads the socket into its input buffer and writes its
/// output buffer, and the transport keeps the contract of the loop's ``SocketTransport``
/// (the conformance suite runs the same cases on both): it is a kind of LoopCore's
/// `FileDescriptorTransport`, whose `TransportCore` holds the lifecycle (closing,
/// `connectionLost` once, fatal errors, ignored writes, flow control); this class
/// supplies the bufferevent I/O through the core's hooks.
///
/// ``LibeventSelector`` supplies one for every TCP and Unix stream connection through
/// ``SelectorBackend/makeSocketTransport(_:)``. Its extra info has the keys of
/// ``SocketTransport`` plus ``bufferEventKey``.
///
/// - libevent's callbacks, which run inside the backend's `wait`, only record what
///   happened and schedule one loop callback; protocol methods run in that callback,
///   as ordinary loop callbacks, in SocketTransport's order (`connectionMade`,
///   `dataReceived`…, `eofReceived`, `connectionLost`).
/// - A write goes straight to the socket when nothing is buffered (as asyncio's
///   transports do); what the socket does not take waits in the bufferevent's output
///   buffer, which libevent writes as the socket drains. ``writeBufferSize`` is the
///   output buffer's length; flow control follows ``WriteFlowControl``.
/// - libevent writes without `MSG_NOSIGNAL`; while output waits, the backend blocks
///   SIGPIPE on the loop thread during its wait and discards one raised there, so a
///   reset peer is a ``SystemError`` (EPIPE) rather than the end of the process.
/// - The bufferevent is freed exactly once: when the transport ends (before its socket
///   is closed) or when the backend closes first, after which the transport does no I/O.
///
/// Loop-thread only, like every transport.
public final class BuffereventTransport: FileDescriptorTransport, Transport {
    /// The extra-info key whose value is the transport's `struct bufferevent *` (an
    /// `OpaquePointer`), present until the bufferevent is freed.
    public static let bufferEventKey = "libevent.bufferevent"
    /// The most libevent reads from (or writes to) the socket at once (asyncio's `max_size`).
    static let maxReadSize = 256 * 1024
    /// What libevent 2.1 reads at most per readable event.
    static let libeventReadCap = 4096
    /// How much one top-up read reserves in the input buffer (below malloc's mmap threshold).
    static let topUpChunk = 64 * 1024

    private weak var selector: LibeventSelector?
    /// The bufferevent; `nil` once freed.
    private var bufferEvent: OpaquePointer?
    private var eof = false
    /// The input buffer's length after the last top-up or delivery: what libevent's
    /// next read adds is measured from it.
    private var inputSeen = 0
    /// Capped reads still to pass without a top-up, and the current back-off.
    private var topUpSkips = 0
    private var topUpBackoff = 0
    /// Whether this transport is counted in the backend's transports with waiting output.
    private var outputCounted = false

    // What libevent's callbacks recorded for the next `process()`.
    private var processScheduled = false
    private var sawEndOfFile = false
    private var readFailure: Int32?
    private var wroteSome = false
    private var writeFailure: Int32?

    init(_ request: SocketTransportRequest, base: OpaquePointer, selector: LibeventSelector) throws {
        guard let bufferEvent = bufferevent_socket_new(base, request.fd, 0) else {
            throw LoopError(.backendFailure, "libevent: bufferevent_socket_new failed for fd \(request.fd)")
        }
        self.selector = selector
        self.bufferEvent = bufferEvent
        super.init(request, kind: "BuffereventTransport")
        extra = request.prepareSocket()
        bufferevent_setcb(
            bufferEvent, buffereventReadCallback, buffereventWriteCallback, buffereventEventCallback,
            Unmanaged.passUnretained(self).toOpaque())
        bufferevent_setwatermark(bufferEvent, Int16(EV_WRITE), flow.low, 0)
        _ = bufferevent_set_max_single_read(bufferEvent, Self.maxReadSize)
        // libevent writes at most 16 KiB per writable event by default: a 64 KiB
        // message left in the output buffer would take four loop iterations.
        _ = bufferevent_set_max_single_write(bufferEvent, Self.maxReadSize)
        selector.adopt(self)
        do {
            try start(waiter: request.waiter)
        } catch {
            releaseBufferEvent()
            throw error
        }
    }

    public override func extraInfo(_ key: String) -> Any? {
        if key == Self.bufferEventKey { return bufferEvent }
        return extra[key]
    }

    // MARK: WriteTransport

    public func write(_ bytes: [UInt8]) throws {
        if eof {
            throw LoopError(.invalidState, "Cannot call write() after write_eof(); the transport's writing side is shut down")
        }
        if bytes.isEmpty { return }
        guard !lost.isLost, let bufferEvent else {
            ignoreWrite()
            return
        }
        var remaining = bytes[...]
        if evbuffer_get_length(bufferevent_get_output(bufferEvent)) == 0 {
            do {
                let sent = try Socket.sendAvailable(fd, bytes)
                if sent == bytes.count { return }
                remaining = bytes[sent...]
            } catch {
                fail(error, message: "Fatal write error on socket transport")
                return
            }
        }
        let added = remaining.withUnsafeBytes { bufferevent_write(bufferEvent, $0.baseAddress, $0.count) }
        guard added == 0 else {
            throw LoopError(.backendFailure, "libevent: bufferevent_write failed for fd \(fd)")
        }
        if !outputCounted {
            outputCounted = true
            selector?.outputWaiting(+1)
        }
        maybePauseProtocol(buffered: writeBufferSize)
    }

    public func writeEof() throws {
        if isClosing || eof { return }
        eof = true
        if writeBufferSize == 0 { try Socket.shutdown(fd, Int(SHUT_WR)) }
    }

    public var canWriteEof: Bool { true }

    /// The bytes waiting in the bufferevent's output buffer.
    public var writeBufferSize: Int {
        guard let bufferEvent else { return 0 }
        return evbuffer_get_length(bufferevent_get_output(bufferEvent))
    }

    public func setWriteBufferLimits(high: Int? = nil, low: Int? = nil) throws {
        try applyWriteBufferLimits(high: high, low: low, buffered: writeBufferSize)
        // libevent calls the write callback whenever a write leaves at most `low` bytes.
        if let bufferEvent { bufferevent_setwatermark(bufferEvent, Int16(EV_WRITE), flow.low, 0) }
    }

    // MARK: libevent callbacks (inside the backend's wait: record and schedule only)

    fileprivate func libeventRead() {
        topUpInput()
        scheduleProcessing()
    }

    /// libevent 2.1 reads at most 4 KiB per readable event (`EVBUFFER_MAX_READ`): a
    /// 64 KiB message would take sixteen loop iterations. When its read was capped,
    /// read on into the same input buffer (through space reserved in it) until the
    /// socket has nothing more. An end of file or error met here is left in the socket
    /// for libevent's own next read to report.
    private func topUpInput() {
        guard let bufferEvent else { return }
        let input = bufferevent_get_input(bufferEvent)
        let length = evbuffer_get_length(input)
        defer { inputSeen = evbuffer_get_length(input) }
        guard length >= inputSeen + Self.libeventReadCap else { return }
        // A read of exactly 4 KiB may also be a whole 4 KiB message: when a top-up finds
        // nothing, skip the next 1, 2, 4 … 32 capped reads before trying again.
        if topUpSkips > 0 {
            topUpSkips -= 1
            return
        }
        // A socket bufferevent keeps the end of its input frozen except while it reads.
        evbuffer_unfreeze(input, 0)
        defer { evbuffer_freeze(input, 0) }
        var space = iovec()
        var first = true
        while evbuffer_get_length(input) < Self.maxReadSize {
            guard evbuffer_reserve_space(input, Self.topUpChunk, &space, 1) == 1 else { return }
            let count = Glibc.recv(fd, space.iov_base, space.iov_len, 0)
            if first {
                topUpBackoff = count > 0 ? 0 : min(max(1, topUpBackoff * 2), 32)
                topUpSkips = topUpBackoff
                first = false
            }
            guard count > 0 else {
                evbuffer_commit_space(input, &space, 0)
                return
            }
            space.iov_len = count
            evbuffer_commit_space(input, &space, 1)
            if count < Self.topUpChunk { return }
        }
    }

    fileprivate func libeventWrote() {
        wroteSome = true
        scheduleProcessing()
    }

    fileprivate func libeventEvent(_ what: Int16, errno failure: Int32) {
        let what = Int32(what)
        if what & Int32(BEV_EVENT_WRITING) != 0 {
            // A write returning 0 is reported as EOF while writing: the peer is gone.
            writeFailure = what & Int32(BEV_EVENT_ERROR) != 0 ? socketError(failure, default: EPIPE) : EPIPE
        } else if what & Int32(BEV_EVENT_ERROR) != 0 {
            readFailure = socketError(failure, default: ECONNRESET)
        } else if what & Int32(BEV_EVENT_EOF) != 0 {
            sawEndOfFile = true
        }
        scheduleProcessing()
    }

    /// The backend is closing: free the bufferevent now (its base is about to go); the
    /// transport does no more I/O.
    func backendClosing() {
        releaseBufferEvent()
    }

    // MARK: Implementation (loop callbacks)

    private func scheduleProcessing() {
        guard !processScheduled else { return }
        processScheduled = true
        _ = try? loop.callSoon({ [self] in process() }, from: nil)
    }

    /// What libevent recorded, in SocketTransport's order: the reading side (bytes,
    /// then end of file or a read error) while reading, then the writing side.
    private func process() {
        processScheduled = false
        guard !lost.isLost, bufferEvent != nil else { return }
        if readingActive { deliverInput() }
        guard !lost.isLost, bufferEvent != nil else { return }
        if let failure = writeFailure {
            writeFailure = nil
            discardOutput()
            fail(SystemError(errno: failure, call: "send(\(fd))"), message: "Fatal write error on socket transport")
        } else if wroteSome {
            wroteSome = false
            writeProgressed()
        }
    }

    private func deliverInput() {
        while readingActive, !lost.isLost, let bufferEvent {
            let input = bufferevent_get_input(bufferEvent)
            guard evbuffer_get_length(input) > 0 else { break }
            do {
                let count = try StreamDelivery.read(for: self) { memory in
                    Int(evbuffer_remove(input, memory.baseAddress, memory.count))
                }
                if count <= 0 { break }
            } catch {
                fail(error.error, message: error.message)
            }
        }
        if let bufferEvent { inputSeen = evbuffer_get_length(bufferevent_get_input(bufferEvent)) }
        guard readingActive, !lost.isLost, let bufferEvent,
            evbuffer_get_length(bufferevent_get_input(bufferEvent)) == 0
        else { return }
        if let failure = readFailure {
            readFailure = nil
            fail(SystemError(errno: failure, call: "recv(\(fd))"), message: "Fatal read error on socket transport")
        } else if sawEndOfFile {
            sawEndOfFile = false
            // libevent stopped reading at the end of file; keeping open leaves it so.
            _ = deliverEndOfStream()
        }
    }


    private func writeProgressed() {
        maybeResumeProtocol(buffered: writeBufferSize)
        guard writeBufferSize == 0 else { return }
        uncountOutput()
        if isClosing {
            callConnectionLost(nil)
        } else if eof {
            try? Socket.shutdown(fd, Int(SHUT_WR))
        }
    }

    // MARK: Transport core hooks

    /// Bytes or an end of file libevent read before a pause are delivered now.
    @_spi(Backend) public override func startReading() throws {
        guard let bufferEvent else { return }
        _ = bufferevent_enable(bufferEvent, Int16(EV_READ))
        if evbuffer_get_length(bufferevent_get_input(bufferEvent)) > 0 || sawEndOfFile || readFailure != nil {
            scheduleProcessing()
        }
    }

    @_spi(Backend) public override func stopReading() {
        if let bufferEvent { _ = bufferevent_disable(bufferEvent, Int16(EV_READ)) }
    }

    @_spi(Backend) public override var hasPendingWrites: Bool { writeBufferSize > 0 }

    /// Drops the output buffer's bytes (libevent keeps its front frozen between writes).
    @_spi(Backend) public override func discardOutput() {
        guard let bufferEvent else { return }
        _ = bufferevent_disable(bufferEvent, Int16(EV_WRITE))
        let output = bufferevent_get_output(bufferEvent)
        let waiting = evbuffer_get_length(output)
        if waiting > 0 {
            _ = evbuffer_unfreeze(output, 1)
            _ = evbuffer_drain(output, waiting)
            _ = evbuffer_freeze(output, 1)
        }
        uncountOutput()
    }

    private func uncountOutput() {
        guard outputCounted else { return }
        outputCounted = false
        selector?.outputWaiting(-1)
    }

    /// The bufferevent goes before the socket it watches is closed.
    @_spi(Backend) public override func releaseResources() {
        releaseBufferEvent()
        super.releaseResources()
    }

    /// Frees the bufferevent (once) and lets the backend forget this transport. After
    /// `bufferevent_free` libevent calls none of this transport's callbacks.
    private func releaseBufferEvent() {
        guard let bufferEvent else { return }
        self.bufferEvent = nil
        bufferevent_free(bufferEvent)
        uncountOutput()
        selector?.forget(self)
    }

    private func socketError(_ failure: Int32, default fallback: Int32) -> Int32 {
        if failure != 0 && failure != EAGAIN { return failure }
        var pending: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length) == 0 && pending != 0 { return pending }
        return fallback
    }
}

// MARK: - C callbacks (run on the loop thread, inside event_base_loop)

private func buffereventReadCallback(_ bufferEvent: OpaquePointer?, _ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<BuffereventTransport>.fromOpaque(context).takeUnretainedValue().libeventRead()
}

private func buffereventWriteCallback(_ bufferEvent: OpaquePointer?, _ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<BuffereventTransport>.fromOpaque(context).takeUnretainedValue().libeventWrote()
}

private func buffereventEventCallback(_ bufferEvent: OpaquePointer?, _ what: Int16, _ context: UnsafeMutableRawPointer?) {
    let failure = errno
    guard let context else { return }
    Unmanaged<BuffereventTransport>.fromOpaque(context).takeUnretainedValue().libeventEvent(what, errno: failure)
}
