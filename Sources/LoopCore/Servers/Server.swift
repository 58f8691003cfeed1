import Glibc

/// A listening TCP server made by `BaseEventLoop.createServer` (asyncio's `Server`):
/// it owns its listening sockets and wraps each accepted connection in a transport (a
/// ``SocketTransport``, or the backend's own: ``SelectorBackend/makeSocketTransport(_:)``)
/// with a protocol from its factory. Use it on the loop's thread.
///
/// ```swift
/// let server = try await loop.createServer({ EchoServer() }, host: "127.0.0.1", port: 8888)
/// try await server.serveForever()   // until the task is cancelled; then the server is closed
/// ```
public final class Server: CustomStringConvertible, @unchecked Sendable {
    // @unchecked: like the loop's, all mutable state is used on the loop's thread only;
    // Sendable so a task (e.g. one running serveForever) can hold the server.
    /// The loop the server runs on (asyncio's `get_loop()`).
    public unowned let loop: BaseEventLoop
    private var listeners: [Int32]
    private let factory: () throws -> any BaseProtocol
    private let backlog: Int32
    private var serving = false
    private var closed = false
    private var activeCount = 0
    private var waiters: [Future<Void>] = []
    private var servingForever: Future<Void>?
    /// Timers that resume accepting on listeners paused after a resource error.
    private var acceptRetries: [Int32: TimerHandle] = [:]

    /// How long a listening socket stops accepting after accept(2) fails for lack of
    /// a resource (EMFILE, ENFILE, ENOBUFS, ENOMEM), so that the loop does not spin
    /// on a connection it cannot take; asyncio's `ACCEPT_RETRY_DELAY`, 1 second.
    public var acceptRetryDelay: Duration = .seconds(1)

    /// A fault to inject for tests: called before each accept(2) with the listening
    /// socket; an errno it returns makes that accept fail with it.
    @_spi(Testing) public var acceptFault: ((Int32) -> Int32?)?

    init(loop: BaseEventLoop, sockets: [Int32], factory: @escaping () throws -> any BaseProtocol, backlog: Int32) {
        self.loop = loop
        self.listeners = sockets
        self.factory = factory
        self.backlog = backlog
    }

    public var description: String { "<Server sockets=\(listeners)>" }

    /// The listening sockets; empty once the server is closed.
    public var sockets: [Int32] { closed ? [] : listeners }

    /// Whether the server accepts connections.
    public var isServing: Bool { serving }

    /// Starts listening and accepting (a no-op when already serving). Throws
    /// ``LoopError/Kind-swift.enum/invalidState`` on a closed server and ``SystemError``
    /// when listen(2) fails.
    public func startServing() throws {
        if closed { throw LoopError(.invalidState, "startServing: server \(description) is closed") }
        if serving { return }
        serving = true
        for fd in listeners {
            try Socket.listen(fd, backlog: backlog)
            try loop.transportAddReader(fd) { [self] in accept(fd) }
        }
    }

    /// Stops listening and closes the listening sockets; accepted connections stay
    /// open until their owners close them. A second call does nothing.
    public func close() {
        if closed { return }
        closed = true
        for fd in listeners {
            _ = try? loop.transportRemoveReader(fd)
            _ = Glibc.close(fd)
        }
        for retry in acceptRetries.values { retry.cancel() }
        acceptRetries = [:]
        listeners = []
        serving = false
        if let servingForever, !servingForever.isDone { _ = servingForever.cancel() }
        if activeCount == 0 { wakeWaiters() }
    }

    /// Returns once the server is closed and every connection it accepted is closed.
    public func waitClosed() async throws {
        if closed && activeCount == 0 { return }
        let waiter = loop.createFuture(of: Void.self, from: nil)
        waiters.append(waiter)
        try await waiter.value
    }

    /// Starts serving if needed and waits until the calling task is cancelled; then
    /// closes the server (and waits for it to close) before rethrowing the
    /// cancellation. Throws ``LoopError/Kind-swift.enum/invalidState`` when another
    /// task already awaits it or the server is closed.
    public func serveForever() async throws {
        if servingForever != nil {
            throw LoopError(.invalidState, "serveForever: server \(description) is already being awaited on serveForever()")
        }
        if closed { throw LoopError(.invalidState, "serveForever: server \(description) is closed") }
        try startServing()
        let forever = loop.createFuture(of: Void.self, from: nil)
        servingForever = forever
        defer { servingForever = nil }
        do {
            try await forever.value
        } catch {
            close()
            try? await waitClosed()
            throw error
        }
    }

    /// Runs `body` with the server and closes the server when it returns or throws
    /// (asyncio's `async with server:`).
    public func closing<T>(_ body: (Server) async throws -> T) async throws -> T {
        defer { close() }
        return try await body(self)
    }

    // MARK: Implementation

    private func wakeWaiters() {
        let pending = waiters
        waiters = []
        for waiter in pending where !waiter.isDone { try? waiter.setResult(()) }
    }

    /// Accepts up to `backlog` pending connections (asyncio's `_accept_connection`).
    private func accept(_ listener: Int32) {
        for _ in 0..<max(backlog, 1) {
            let connection: Int32
            switch loop.acceptConnection(on: listener, fault: acceptFault?(listener)) {
            case .connection(let fd): connection = fd
            case .skipped: continue
            case .drained: return
            case .failed:
                // The pending connection stays readable: without a pause the loop would
                // call accept again at once, and again, without making progress.
                pauseAccepting(listener)
                return
            }
            do {
                let made = try factory()
                _ = try loop.makeSocketTransport(SocketTransportRequest(
                    loop: loop, fd: connection, protocol: made, waiter: nil, server: self))
            } catch {
                _ = Glibc.close(connection)
                loop.callExceptionHandler(ExceptionContext(
                    message: "Error on transport creation for incoming connection", error: error, socket: listener))
            }
        }
    }

    /// Stops accepting on `listener` for ``acceptRetryDelay``.
    private func pauseAccepting(_ listener: Int32) {
        guard acceptRetries[listener] == nil else { return }
        _ = try? loop.transportRemoveReader(listener)
        let resume = { [self] in
            acceptRetries[listener] = nil
            guard serving, listeners.contains(listener) else { return }
            try loop.transportAddReader(listener) { [self] in accept(listener) }
        }
        do {
            acceptRetries[listener] = try loop.callLater(acceptRetryDelay, resume, from: nil)
        } catch {
            // The loop is closing: there is nothing left to resume.
        }
    }

    /// Counts a connection's transport (asyncio's `_attach`); see ``SocketTransportRequest``.
    func attach() {
        activeCount += 1
    }

    /// Uncounts a connection's transport once it closed its socket (asyncio's `_detach`).
    func detach() {
        activeCount -= 1
        if activeCount == 0 && closed { wakeWaiters() }
    }
}
