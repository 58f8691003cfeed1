import Glibc

/// The fd-owning layer over ``TransportCore``: a transport that owns one file
/// descriptor (a socket or a pipe end), as asyncio's selector and pipe transports do.
///
/// - ``start(waiter:reads:)`` marks the fd as owned (the loop's public
///   `addReader`, `addWriter`, `removeReader` and `removeWriter` then refuse it with
///   ``LoopError/Kind-swift.enum/fdInUseByTransport``) and counts the connection on its
///   ``Server``, if any, so that ``Server/waitClosed()`` waits for it.
/// - The mark goes when the transport starts closing (asyncio lets the loop's fd
///   methods use a closing transport's fd).
/// - After `connectionLost` the layer removes the fd's loop reader and writer, closes
///   the fd and uncounts the connection.
///
/// Its default ``stopReading()`` removes the fd's loop reader. A kind adds its reads and
/// writes; the buffered stream writing of sockets and write pipes is
/// `sendOrBuffer` and `drainWriteBuffer`.
open class FileDescriptorTransport: TransportCore {
    /// The descriptor the transport owns and closes.
    @_spi(Backend) public final let fd: Int32
    /// The server that accepted the connection, if any.
    @_spi(Backend) public final let server: Server?
    /// The stream write buffer (empty for kinds that do not write a stream).
    @exclusivity(unchecked) final var buffer = WriteBuffer()

    /// A transport of type `kind` owning `fd`. `socket`: name the fd in fatal-error reports.
    @_spi(Backend) public init(
        loop: BaseEventLoop, fd: Int32, protocol: any BaseProtocol, kind: String, server: Server? = nil,
        socket: Bool, closeCountsLoss: Bool = true
    ) {
        self.fd = fd
        self.server = server
        super.init(loop: loop, protocol: `protocol`, kind: kind, closeCountsLoss: closeCountsLoss)
        if socket { reportedSocket = fd }
    }

    /// A socket transport for `request` (its loop, fd, protocol and server).
    @_spi(Backend) public init(_ request: SocketTransportRequest, kind: String) {
        self.fd = request.fd
        self.server = request.server
        super.init(loop: request.loop, protocol: request.protocol, kind: kind)
        reportedSocket = fd
    }

    open override var description: String { "<\(kind) fd=\(isFinished ? -1 : fd)\(isClosing ? " closing" : "")>" }

    /// Starts the connection (``TransportCore/startConnection(waiter:reads:)``),
    /// marks the fd as owned and counts the connection on ``server``. Call it once,
    /// from the kind's initializer. Throws when the loop is closed.
    @_spi(Backend) public final func start(waiter: Future<Void>?, reads: Bool = true) throws {
        try startConnection(waiter: waiter, reads: reads)
        loop.setTransportOwner(fd, description)
        server?.attach()
    }

    @_spi(Backend) open override func stopReading() {
        _ = try? loop.transportRemoveReader(fd)
    }

    @_spi(Backend) open override func discardOutput() {
        guard !buffer.isEmpty else { return }
        buffer.clear()
        _ = try? loop.transportRemoveWriter(fd)
    }

    @_spi(Backend) open override var hasPendingWrites: Bool { !buffer.isEmpty }

    @_spi(Backend) open override func closingStarted() {
        loop.setTransportOwner(fd, nil)
    }

    @_spi(Backend) open override func releaseResources() {
        loop.setTransportOwner(fd, nil)
        _ = try? loop.transportRemoveReader(fd)
        _ = try? loop.transportRemoveWriter(fd)
        _ = Glibc.close(fd)
        server?.detach()
    }

    // MARK: Buffered stream writing (sockets and write pipes)

    /// The fd's loop writer fired (installed by `sendOrBuffer`): a kind that buffers
    /// stream writes drains its buffer here with `drainWriteBuffer`.
    func writeReady() {}

    /// Writes `bytes` at once with `send` when nothing waits, and buffers what it did
    /// not take behind a loop writer that calls ``writeReady()``; then applies flow
    /// control. `send` returns what it took, 0 when the fd would block, or throws the
    /// failure, which ends the transport (``TransportCore/fail(_:message:)`` with `message`).
    final func sendOrBuffer(
        _ bytes: [UInt8], message: String, _ send: ([UInt8]) throws -> Int
    ) throws {
        var remaining = bytes[...]
        if buffer.isEmpty {
            do {
                let sent = try send(bytes)
                if sent == bytes.count { return }
                remaining = bytes[sent...]
            } catch {
                failWriting(error, message: message)
                return
            }
            try loop.transportAddWriter(fd) { [self] in writeReady() }
        }
        buffer.append(remaining)
        maybePauseProtocol(buffered: buffer.count)
    }

    /// The writer's step: sends what the buffer holds with `send` (as
    /// ``WriteBuffer/drain(_:)``), resumes the protocol at the low mark, and once the
    /// buffer is empty removes the writer and returns `true`. A failure ends the
    /// transport with a ``SystemError`` naming `call` and `message`, and returns `false`.
    final func drainWriteBuffer(call: String, message: String, _ send: (UnsafeRawBufferPointer) -> Int) -> Bool {
        if let failure = buffer.drain(send) {
            discardOutput()
            failWriting(SystemError(errno: failure, call: "\(call)(\(fd))"), message: message)
            return false
        }
        maybeResumeProtocol(buffered: buffer.count)
        guard buffer.isEmpty else { return false }
        _ = try? loop.transportRemoveWriter(fd)
        return true
    }

    /// A failed write counts one loss: a pipe counts it here (asyncio's
    /// `self._conn_lost += 1` before `_fatal_error`), a socket in ``TransportCore/forceClose(_:)``.
    private func failWriting(_ error: any Error, message: String) {
        if !closeCountsLoss { lost.markLost() }
        fail(error, message: message)
    }
}

/// The write buffer of a ``WriteTransport`` built on ``FileDescriptorTransport``.
extension WriteTransport where Self: FileDescriptorTransport {
    public var writeBufferSize: Int { buffer.count }
}

extension BaseEventLoop {
    /// How every connect call makes its transport: the protocol from `factory`, then the
    /// transport from `make` (given the protocol and a waiter the transport completes
    /// once `connectionMade` ran), then the wait for that waiter. A failure before the
    /// transport exists closes `fd` when `closeOnFailure` (the loop made it); a failed
    /// or cancelled wait hands the transport to `discard`, which closes it and its fd.
    func establishTransport<P, T>(
        fd: Int32, closeOnFailure: Bool, _ factory: () throws -> P,
        make: (P, Future<Void>) throws -> T, discard: (T) -> Void
    ) async throws -> (transport: T, protocol: P) {
        let made: P
        let transport: T
        let waiter = createFuture(of: Void.self, from: nil)
        do {
            made = try factory()
            transport = try make(made, waiter)
        } catch {
            if closeOnFailure { _ = Glibc.close(fd) }
            throw error
        }
        do {
            try await waiter.value
        } catch {
            discard(transport)
            throw error
        }
        return (transport, made)
    }
}
