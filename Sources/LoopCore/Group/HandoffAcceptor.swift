import Glibc

/// The listening side of a ``GroupServer`` in handoff mode (SwiftNIO's shape): one
/// loop accepts on its listening sockets and hands each accepted socket, round robin,
/// to the group's loops, which wrap it with `connectAcceptedSocket`. Used on the
/// acceptor loop's thread only, except where noted.
final class HandoffAcceptor: @unchecked Sendable {
    // @unchecked: mutable state is used on the acceptor loop's thread only.
    let loop: BaseEventLoop
    private let targets: [HandoffConnections]
    private let factory: GroupServer.ProtocolFactory
    private let backlog: Int32
    private var listeners: [Int32]
    private var nextTarget = 0
    private var closed = false
    private var retries: [Int32: TimerHandle] = [:]

    /// How long a listening socket stops accepting after accept(2) fails for lack of a
    /// resource (as ``Server/acceptRetryDelay``).
    static let acceptRetryDelay: Duration = .seconds(1)

    private init(loop: BaseEventLoop, listeners: [Int32], targets: [HandoffConnections], backlog: Int32, factory: @escaping GroupServer.ProtocolFactory) {
        self.loop = loop
        self.listeners = listeners
        self.targets = targets
        self.backlog = backlog
        self.factory = factory
    }

    /// Binds and listens on every address of `host` and `port` (SO_REUSEADDR; IPv6
    /// sockets IPv6-only, as `createServer`), and starts accepting. From a task on `loop`.
    static func open(
        on loop: BaseEventLoop, host: String?, port: Int, backlog: Int,
        targets: [HandoffConnections], factory: @escaping GroupServer.ProtocolFactory
    ) async throws -> HandoffAcceptor {
        let sockets = try await loop.bindStreamSockets(
            hosts: [host.flatMap { $0.isEmpty ? nil : $0 }], port: port, family: .unspecified, flags: AI_PASSIVE,
            reuseAddress: true, reusePort: false)
        do {
            for fd in sockets {
                try Socket.setNonBlocking(fd)
                try Socket.listen(fd, backlog: Int32(clamping: backlog))
            }
            let acceptor = HandoffAcceptor(
                loop: loop, listeners: sockets, targets: targets, backlog: Int32(clamping: backlog), factory: factory)
            for fd in sockets { try loop.addReader(fd) { [acceptor] in acceptor.accept(fd) } }
            return acceptor
        } catch {
            for fd in sockets {
                _ = try? loop.removeReader(fd)
                _ = Glibc.close(fd)
            }
            throw error
        }
    }

    /// The listening sockets; empty once closed.
    var sockets: [Int32] { listeners }

    /// Stops accepting and closes the listening sockets. Sockets already handed over
    /// are their loops' to serve.
    func close() {
        guard !closed else { return }
        closed = true
        for fd in listeners {
            _ = try? loop.removeReader(fd)
            _ = Glibc.close(fd)
        }
        for retry in retries.values { retry.cancel() }
        retries = [:]
        listeners = []
    }

    // MARK: Accepting

    private func accept(_ listener: Int32) {
        for _ in 0..<max(backlog, 1) {
            switch loop.acceptConnection(on: listener, fault: nil) {
            case .connection(let fd): handOff(fd)
            case .skipped: continue
            case .drained: return
            case .failed:
                pauseAccepting(listener)
                return
            }
        }
    }

    private func pauseAccepting(_ listener: Int32) {
        guard retries[listener] == nil else { return }
        _ = try? loop.removeReader(listener)
        let resume = { [self] in
            retries[listener] = nil
            guard !closed, listeners.contains(listener) else { return }
            try loop.addReader(listener) { [self] in accept(listener) }
        }
        retries[listener] = try? loop.callLater(Self.acceptRetryDelay, resume, from: nil)
    }

    /// Gives `fd` to the next loop, round robin.
    private func handOff(_ fd: Int32) {
        let target = targets[nextTarget]
        nextTarget = (nextTarget + 1) % targets.count
        target.add()
        if target.loop === loop {
            Self.connect(fd, target, factory)
            return
        }
        let pending = PendingSocket(fd, connections: target)
        // When the target refuses (it is closed), dropping `pending` closes the socket.
        _ = try? target.loop.callSoonThreadsafe({ [factory] in
            let fd = pending.take()
            if fd >= 0 { Self.connect(fd, target, factory) }
        }, from: nil)
    }

    /// Wraps `fd` in a transport on `connections.loop`; on that loop's thread.
    private static func connect(_ fd: Int32, _ connections: HandoffConnections, _ factory: @escaping GroupServer.ProtocolFactory) {
        let loop = connections.loop
        do {
            _ = try loop.createTask(name: nil, from: nil) { () async -> Void in
                var made: TrackedProtocol?
                do {
                    _ = try await loop.connectAcceptedSocket({ () throws -> TrackedProtocol in
                        let tracked = TrackedProtocol.wrapping(try factory(loop), connections: connections)
                        made = tracked
                        return tracked
                    }, fd)
                } catch {
                    // Before the factory's protocol exists the socket is still ours; after,
                    // the transport (if made) closes it and the protocol uncounts it.
                    if let made { made.release() }
                    failed(fd, connections, error, socketIsOurs: made == nil)
                }
            }
        } catch {
            failed(fd, connections, error, socketIsOurs: true)
        }
    }

    /// Reports a handoff that failed; closes and uncounts the socket when nobody else owns it.
    private static func failed(_ fd: Int32, _ connections: HandoffConnections, _ error: any Error, socketIsOurs: Bool) {
        if socketIsOurs {
            _ = Glibc.close(fd)
            connections.remove(onLoopThread: true)
        }
        connections.loop.callExceptionHandler(ExceptionContext(
            message: "Error on transport creation for incoming connection", error: error))
    }
}
