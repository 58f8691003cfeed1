import Glibc

/// A connected stream socket the loop wants wrapped in a transport: what
/// ``SelectorBackend/makeSocketTransport(_:)`` receives.
///
/// The loop makes one request per connection
/// (``BaseEventLoop/createConnection(_:host:port:family:proto:flags:localAddr:happyEyeballsDelay:interleave:)``,
/// ``BaseEventLoop/connectAcceptedSocket(_:_:)``, the Unix variants, and each connection
/// a ``Server`` accepts). A transport built on ``FileDescriptorTransport`` takes it with
/// ``FileDescriptorTransport/init(_:kind:)`` and then keeps the contract through that
/// layer and ``TransportCore``. Loop-thread only.
public struct SocketTransportRequest {
    /// The loop the transport belongs to.
    public unowned let loop: BaseEventLoop
    /// The connected, non-blocking stream socket (TCP or Unix). The transport owns it
    /// from the moment it is returned and closes it after `connectionLost`.
    public let fd: Int32
    /// The protocol that receives the transport's events.
    public let `protocol`: any BaseProtocol
    /// Completed after `connectionMade` ran (``FileDescriptorTransport/start(waiter:startReading:)``);
    /// `nil` for a server's connection.
    public let waiter: Future<Void>?
    /// The server that accepted the connection, if any: the transport counts the
    /// connection while it lives, so that ``Server/waitClosed()`` waits for it.
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
}

extension BaseEventLoop {
    /// The transport for a connected stream socket: the backend's
    /// (``SelectorBackend/makeSocketTransport(_:)``) or, when it declines, a ``SocketTransport``.
    func makeSocketTransport(_ request: SocketTransportRequest) throws -> any Transport {
        if let transport = try backend.makeSocketTransport(request) { return transport }
        return try SocketTransport(request)
    }
}
