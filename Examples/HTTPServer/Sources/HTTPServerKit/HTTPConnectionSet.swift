import LoopCore

/// The open connections of one loop, so a shutdown can close them (a server's close
/// leaves accepted connections open). Loop-thread only.
public final class HTTPConnectionSet: @unchecked Sendable {
    // @unchecked: used on its loop's thread only.
    private var open: [ObjectIdentifier: HTTPConnection] = [:]
    private var emptyWaiters: [Future<Void>] = []
    /// The loop the connections run on.
    public let loop: BaseEventLoop

    public init(loop: BaseEventLoop) { self.loop = loop }

    /// How many connections are open.
    public var count: Int { open.count }

    /// Closes every open connection (each finishes sending what it wrote).
    public func closeAll() {
        for connection in open.values { connection.close() }
    }

    /// Returns once no connection is open.
    public func waitUntilEmpty() async throws {
        if open.isEmpty { return }
        let waiter = loop.createFuture(of: Void.self)
        emptyWaiters.append(waiter)
        try await waiter.value
    }

    func add(_ connection: HTTPConnection) { open[ObjectIdentifier(connection)] = connection }

    func remove(_ connection: HTTPConnection) {
        open[ObjectIdentifier(connection)] = nil
        guard open.isEmpty else { return }
        let waiters = emptyWaiters
        emptyWaiters = []
        for waiter in waiters where !waiter.isDone { try? waiter.setResult(()) }
    }
}
