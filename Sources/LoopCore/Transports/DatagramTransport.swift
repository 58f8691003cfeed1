import Glibc

/// A protocol receiving datagrams (asyncio's `DatagramProtocol`). Every method has a
/// default that does nothing.
public protocol DatagramProtocol: BaseProtocol {
    /// A datagram arrived: its bytes and the sender's address (`nil` when the OS reports
    /// none, e.g. an unnamed Unix datagram socket).
    func datagramReceived(_ bytes: [UInt8], from address: SocketAddress?) throws
    /// A send or receive failed with a ``SystemError`` that does not end the endpoint:
    /// an ICMP error such as ECONNREFUSED on a connected endpoint, EMSGSIZE for a
    /// datagram too large to send, … The endpoint stays open.
    func errorReceived(_ error: any Error) throws
}

extension DatagramProtocol {
    public func datagramReceived(_ bytes: [UInt8], from address: SocketAddress?) throws {}
    public func errorReceived(_ error: any Error) throws {}
}

/// The loop's datagram transport (asyncio's `_SelectorDatagramTransport`): receives
/// with a loop reader, sends each datagram at once when the socket takes it and queues
/// the rest behind a loop writer. The transport owns its socket and closes it after
/// `connectionLost`; meanwhile the loop's public reader/writer calls refuse the fd
/// with ``LoopError/Kind-swift.enum/fdInUseByTransport``.
///
/// Sends after `close()` or `abort()` are ignored, as in asyncio (from the fifth on,
/// each logs the warning "socket.send() raised exception."). Extra info: "sockname",
/// "peername" (`nil` unless connected) and "socket".
///
/// Create one with ``BaseEventLoop/createDatagramEndpoint(_:localAddr:remoteAddr:family:proto:flags:reusePort:allowBroadcast:)``.
public final class DatagramTransport: FileDescriptorTransport {
    private let connectedAddress: SocketAddress?
    // Datagrams waiting for the writer, the first one at `queueHead`.
    private var queue: [(bytes: [UInt8], address: SocketAddress?)] = []
    private var queueHead = 0
    private var buffered = 0

    /// Takes `fd` over (a non-blocking datagram socket, connected to `address` when
    /// given) and schedules `connectionMade` and receiving; `waiter` completes after
    /// `connectionMade` ran.
    init(loop: BaseEventLoop, fd: Int32, protocol: any BaseProtocol, address: SocketAddress?, waiter: Future<Void>?) throws {
        self.connectedAddress = address
        super.init(loop: loop, fd: fd, protocol: `protocol`, kind: "DatagramTransport", socket: true)
        extra["socket"] = fd
        extra["sockname"] = try? Socket.localAddress(fd)
        extra["peername"] = try? Socket.peerAddress(fd)
        try start(waiter: waiter)
    }

    @_spi(Backend) public override func startReading() throws {
        try loop.transportAddReader(fd) { [self] in readReady() }
    }

    /// Closes the endpoint: queued datagrams are still sent, then `connectionLost(nil)`
    /// runs from a later loop callback. A second call does nothing.
    public override func close() { super.close() }

    /// Closes at once, discarding queued datagrams; `connectionLost(nil)` runs later.
    public func abort() { forceClose(nil) }

    // MARK: Sending

    /// Sends `bytes` as one datagram to `address`; on a connected endpoint pass `nil`
    /// (or the connected address). The datagram is queued when the socket would block.
    /// An OS error on sending (EMSGSIZE, ECONNREFUSED, …) goes to the protocol's
    /// `errorReceived`. After `close()` the call is ignored.
    ///
    /// Throws ``LoopError/Kind-swift.enum/invalidArgument`` for an address other than
    /// the connected one, or a missing address on an unconnected endpoint.
    public func sendto(_ bytes: [UInt8], to address: SocketAddress? = nil) throws {
        if let connectedAddress, let address, address != connectedAddress {
            throw LoopError(.invalidArgument, "Invalid address: must be nil or \(connectedAddress), got \(address)")
        }
        if connectedAddress == nil && address == nil {
            throw LoopError(.invalidArgument, "sendto: an address is required on an endpoint without a remote address")
        }
        if lost.isLost {
            ignoreWrite()
            return
        }
        let target = connectedAddress == nil ? address : nil
        if queueHead == queue.count {
            let sent = send(bytes, to: target)
            if sent >= 0 { return }
            let failure = errno
            if failure != EAGAIN && failure != EWOULDBLOCK && failure != EINTR {
                reportError(SystemError(errno: failure, call: "sendto(\(fd))"))
                return
            }
            try loop.transportAddWriter(fd) { [self] in writeReady() }
        }
        queue.append((bytes, target))
        buffered += bytes.count
        maybePauseProtocol(buffered: buffered)
    }

    /// How many bytes of queued datagrams wait to be sent.
    public var writeBufferSize: Int { buffered }

    /// The send queue's flow-control marks (pauseWriting above high, resumeWriting at
    /// or below low), as for stream transports.
    public var writeBufferLimits: (low: Int, high: Int) { flow.limits }

    /// Sets the flow-control marks with asyncio's rules; throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` unless high ≥ low ≥ 0.
    public func setWriteBufferLimits(high: Int? = nil, low: Int? = nil) throws {
        try applyWriteBufferLimits(high: high, low: low, buffered: buffered)
    }

    // MARK: Transport core hooks

    @_spi(Backend) public override var hasPendingWrites: Bool { queueHead < queue.count }

    @_spi(Backend) public override func discardOutput() {
        guard queueHead < queue.count else { return }
        queue.removeAll()
        queueHead = 0
        buffered = 0
        _ = try? loop.transportRemoveWriter(fd)
    }

    // MARK: Implementation

    private func send(_ bytes: [UInt8], to address: SocketAddress?) -> Int {
        bytes.withUnsafeBytes { buffer in
            if let address {
                return address.withSockAddr { Glibc.sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), $0, $1) }
            }
            return Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
        }
    }

    private func readReady() {
        if lost.isLost { return }
        let scratch = loop.readScratch
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let count = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.recvfrom(fd, scratch.bytes.baseAddress, scratch.bytes.count, 0, $0, &length)
            }
        }
        if count < 0 {
            let failure = errno
            if failure == EAGAIN || failure == EWOULDBLOCK || failure == EINTR { return }
            reportError(SystemError(errno: failure, call: "recvfrom(\(fd))"))
            return
        }
        let sender = length > 0 ? try? SocketAddress(storage, length: length) : nil
        do {
            guard let datagrams = currentProtocol as? any DatagramProtocol else { return }
            try datagrams.datagramReceived(scratch.copy(count), from: sender)
        } catch {
            loop.callExceptionHandler(ExceptionContext(
                message: "Exception in callback DatagramTransport._read_ready: protocol.datagram_received() failed",
                error: error, transport: self, protocol: currentProtocol))
        }
    }

    override func writeReady() {
        if lost.isLost { return }
        while queueHead < queue.count {
            let (bytes, address) = queue[queueHead]
            let sent = send(bytes, to: address)
            if sent < 0 {
                let failure = errno
                if failure == EINTR { continue }
                if failure == EAGAIN || failure == EWOULDBLOCK { break }
                // asyncio drops the datagram, reports the error and keeps the writer.
                queueHead += 1
                buffered -= bytes.count
                reportError(SystemError(errno: failure, call: "sendto(\(fd))"))
                return
            }
            queueHead += 1
            buffered -= bytes.count
        }
        if queueHead > 64 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        maybeResumeProtocol(buffered: buffered)
        if queueHead == queue.count {
            queue.removeAll()
            queueHead = 0
            buffered = 0
            _ = try? loop.transportRemoveWriter(fd)
            if isClosing { callConnectionLost(nil) }
        }
    }

    /// An OS error that does not end the endpoint goes to `errorReceived`.
    private func reportError(_ error: SystemError) {
        do {
            if let datagrams = currentProtocol as? any DatagramProtocol {
                try datagrams.errorReceived(error)
            }
        } catch {
            loop.callExceptionHandler(ExceptionContext(
                message: "Fatal error: protocol.error_received() call failed.", error: error,
                transport: self, protocol: currentProtocol, socket: fd))
            forceClose(error)
        }
    }
}
