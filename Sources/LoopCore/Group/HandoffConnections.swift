import Synchronization

/// The connections a ``GroupServer`` in handoff mode gave one loop: counted from the
/// moment the acceptor hands a socket over (any thread) until its protocol hears
/// `connectionLost` or the handoff fails (the target loop's thread), so that
/// ``GroupServer/waitClosed(timeout:)`` knows when the last one is gone.
final class HandoffConnections: Sendable {
    private struct State {
        var live = 0
        var serverClosed = false
        var waiters: [Future<Void>] = []
    }

    /// The loop the connections run on; waiters belong to it.
    let loop: BaseEventLoop
    private let state = Mutex(State())

    init(loop: BaseEventLoop) {
        self.loop = loop
    }

    /// How many connections are handed over or open.
    var count: Int { state.withLock { $0.live } }

    /// Counts a socket being handed over.
    func add() { state.withLock { $0.live += 1 } }

    /// Uncounts a connection; on the loop's thread, wakes the waiters once none is left.
    func remove(onLoopThread: Bool) {
        let wake = state.withLock { state -> [Future<Void>] in
            state.live -= 1
            guard state.live == 0, state.serverClosed, onLoopThread else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in wake where !waiter.isDone { try? waiter.setResult(()) }
    }

    /// Notes that the server closed (no more handoffs come); wakes the waiters when no
    /// connection is left. On the loop's thread.
    func serverDidClose() {
        let wake = state.withLock { state -> [Future<Void>] in
            state.serverClosed = true
            guard state.live == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in wake where !waiter.isDone { try? waiter.setResult(()) }
    }

    /// Returns once the server closed and no connection is counted. On the loop's thread.
    func waitUntilClosed() async throws {
        let waiter = state.withLock { state -> Future<Void>? in
            guard state.live > 0 || !state.serverClosed else { return nil }
            let waiter = loop.createFuture(of: Void.self, from: nil)
            state.waiters.append(waiter)
            return waiter
        }
        try await waiter?.value
    }
}
