import Glibc

/// What ``StreamWriter/drain()`` waits on (asyncio's `FlowControlMixin`): the
/// transport's pause/resume-writing calls and the loss of the connection. Drains
/// wait while writing is paused; resuming wakes them, and losing the connection wakes
/// them with its error. Loop-thread only.
final class StreamDrainControl {
    private(set) var isPaused = false
    private(set) var isConnectionLost = false
    private var waiters: [Future<Void>] = []

    func pauseWriting() {
        isPaused = true
    }

    func resumeWriting() {
        isPaused = false
        for waiter in waiters where !waiter.isDone { try? waiter.setResult(()) }
    }

    func connectionLost(_ error: (any Error)?) {
        isConnectionLost = true
        guard isPaused else { return }
        for waiter in waiters where !waiter.isDone {
            if let error {
                try? waiter.setException(error)
            } else {
                try? waiter.setResult(())
            }
        }
    }

    /// Returns at once unless writing is paused, then once it resumes. Throws
    /// ``connectionLostError`` once the connection is lost, or the error that ended it
    /// when that happens while waiting.
    func drain(on loop: any EventLoop) async throws {
        if isConnectionLost { throw Self.connectionLostError }
        guard isPaused else { return }
        let waiter = loop.createFuture(of: Void.self, from: nil)
        waiters.append(waiter)
        defer { waiters.removeAll { $0 === waiter } }
        try await waiter.value
    }

    /// asyncio's `ConnectionResetError('Connection lost')`: ECONNRESET.
    static var connectionLostError: SystemError {
        SystemError(errno: ECONNRESET, call: "drain() (Connection lost)")
    }
}
