import Glibc

/// A connected stream socket the loop wants wrapped in a transport: what
/// ``SelectorBackend/makeSocketTransport(_:)`` receives, and the steps of the transport
/// contract that every stream-socket transport shares.
///
/// The loop makes one request per connection
/// (``BaseEventLoop/createConnection(_:host:port:family:proto:flags:localAddr:happyEyeballsDelay:interleave:)``,
/// ``BaseEventLoop/connectAcceptedSocket(_:_:)``, the Unix variants, and each connection
/// a ``Server`` accepts). A transport created from it calls ``start(_:description:startReading:)``
/// once, ``markClosing()`` when it starts closing, ``reportFatalError(_:message:transport:protocol:)``
/// for asyncio's `_fatal_error`, and ``finish(_:kind:protocol:error:)`` exactly once as
/// its last step. Loop-thread only.
public struct SocketTransportRequest {
    /// The loop the transport belongs to.
    public unowned let loop: BaseEventLoop
    /// The connected, non-blocking stream socket (TCP or Unix). The transport owns it
    /// from the moment it is returned and closes it in ``finish(_:kind:protocol:error:)``.
    public let fd: Int32
    /// The protocol that receives the transport's events.
    public let `protocol`: any BaseProtocol
    /// Completed by ``start(_:description:startReading:)``'s callbacks after
    /// `connectionMade` ran; `nil` for a server's connection.
    public let waiter: Future<Void>?
    /// The server that accepted the connection, if any: ``start(_:description:startReading:)``
    /// counts the connection and ``finish(_:kind:protocol:error:)`` uncounts it, so that
    /// ``Server/waitClosed()`` waits for it.
    public let server: Server?

    init(loop: BaseEventLoop, fd: Int32, protocol: any BaseProtocol, waiter: Future<Void>?, server: Server?) {
        self.loop = loop
        self.fd = fd
        self.protocol = `protocol`
        self.waiter = waiter
        self.server = server
    }

    /// The extra info every stream-socket transport reports — `"socket"` (the fd),
    /// `"sockname"` and `"peername"` (``SocketAddress``, absent when unknown) — after
    /// turning Nagle's algorithm off on a TCP socket (`TCP_NODELAY`), as asyncio does.
    public func prepareSocket() -> [String: Any] {
        if let family = try? Socket.family(of: fd), family == .inet || family == .inet6 {
            try? Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        }
        var extra: [String: Any] = ["socket": fd]
        extra["sockname"] = try? Socket.localAddress(fd)
        extra["peername"] = try? Socket.peerAddress(fd)
        return extra
    }

    /// Starts the connection: marks ``fd`` as owned by `transport` (the loop's public
    /// `addReader`, `addWriter`, `removeReader` and `removeWriter` then refuse it with
    /// ``LoopError/Kind-swift.enum/fdInUseByTransport``, naming `description`), counts it
    /// on ``server``, and schedules, in this order, `connectionMade(transport)`,
    /// `startReading` and the completion of ``waiter``. A `connectionMade` or
    /// `startReading` that throws goes to the exception handler.
    ///
    /// Call it once, from the transport's initializer. Throws when the loop is closed.
    public func start(_ transport: any Transport, description: String, startReading: @escaping () throws -> Void) throws {
        try loop.startTransport(
            transport, fd: fd, protocol: `protocol`, description: description, waiter: waiter, startReading: startReading)
        server?.attach()
    }

    /// Releases the ownership mark of ``start(_:description:startReading:)``: call it
    /// when the transport starts closing (``BaseTransport/isClosing`` turns true), as
    /// asyncio lets the loop's public fd methods use a closing transport's socket.
    public func markClosing() {
        loop.setTransportOwner(fd, nil)
    }

    /// asyncio's `_fatal_error` report: an `error` that is not a ``SystemError`` (a
    /// protocol callback that threw, …) goes to the exception handler with `message`,
    /// the transport, the protocol and the socket; system errors (a reset peer, …) are
    /// not reported. The transport then closes itself with `connectionLost(error)`.
    public func reportFatalError(_ error: any Error, message: String, transport: AnyObject, protocol proto: any BaseProtocol) {
        guard !(error is SystemError) else { return }
        loop.callExceptionHandler(ExceptionContext(
            message: message, error: error, transport: transport, protocol: proto, socket: fd))
    }

    /// The transport's last step (asyncio's `_call_connection_lost`): calls
    /// `proto.connectionLost(error)` (an error it throws goes to the exception handler,
    /// naming `kind`), releases the ownership mark and any loop watcher of ``fd``,
    /// closes ``fd``, and uncounts the connection on ``server``. Call it exactly once,
    /// from a loop callback, after the transport stopped using ``fd``.
    public func finish(_ transport: AnyObject, kind: String, protocol proto: any BaseProtocol, error: (any Error)?) {
        loop.tearDownTransport(transport, kind: kind, fd: fd, protocol: proto, error: error)
        server?.detach()
    }
}

extension BaseEventLoop {
    /// The transport for a connected stream socket: the backend's
    /// (``SelectorBackend/makeSocketTransport(_:)``) or, when it declines, a ``SocketTransport``.
    func makeSocketTransport(_ request: SocketTransportRequest) throws -> any Transport {
        if let transport = try backend.makeSocketTransport(request) { return transport }
        return try SocketTransport(request)
    }
}
