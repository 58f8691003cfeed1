/// A thread-safe future (Python's `concurrent.futures.Future`): the result of work
/// running on another thread, e.g. submitted to a ``ThreadPoolExecutor``.
///
/// Unlike ``Future``, it belongs to no loop: any thread may wait for it with
/// ``result(timeout:)`` (blocking), cancel it, complete it, or register done
/// callbacks. ``wrapFuture(_:loop:file:line:)`` turns it into a loop ``Future``.
///
/// ```swift
/// let pool = try ThreadPoolExecutor(maxWorkers: 2)
/// let future = try pool.submit { 6 * 7 }
/// print(try future.result(timeout: .seconds(1)))   // 42
/// pool.shutdown()
/// ```
public final class ConcurrentFuture<Value: Sendable>: Sendable, CustomStringConvertible {
    enum State {
        case pending
        case running
        case cancelled
        case finished(Value)
        case failed(any Error)
    }

    private struct Storage {
        var state: State = .pending
        var callbacks: [@Sendable (ConcurrentFuture<Value>) -> Void] = []
    }

    private let lock = ConditionLock()
    private nonisolated(unsafe) var storage = Storage()
    // nonisolated(unsafe): `storage` is read and written only while `lock` is held.

    /// A pending future.
    public init() {}

    private func withStorage<R>(_ body: (inout Storage) throws -> R) rethrows -> R {
        try lock.withLock { try body(&storage) }
    }

    // MARK: State

    /// Whether the future was cancelled.
    public var isCancelled: Bool {
        withStorage { if case .cancelled = $0.state { return true } else { return false } }
    }

    /// Whether the work is running now (and so can no longer be cancelled).
    public var isRunning: Bool {
        withStorage { if case .running = $0.state { return true } else { return false } }
    }

    /// Whether the future has a result, an error, or was cancelled.
    public var isDone: Bool {
        withStorage { Self.isDone($0.state) }
    }

    private static func isDone(_ state: State) -> Bool {
        switch state {
        case .pending, .running: return false
        case .cancelled, .finished, .failed: return true
        }
    }

    // MARK: Waiting

    /// Waits until the future is done and returns its result or rethrows its error.
    /// Throws ``CancelledError`` if it was cancelled, and ``TimeoutError`` if it is
    /// not done within `timeout` (`nil` waits without limit). Blocks the calling
    /// thread: never call it on a loop's thread for work the loop must do.
    public func result(timeout: Duration? = nil) throws -> Value {
        switch try wait(timeout: timeout, call: "result") {
        case .finished(let value): return value
        case .failed(let error): throw error
        default: throw CancelledError()
        }
    }

    /// Waits like ``result(timeout:)`` and returns the error the future failed with,
    /// or `nil` if it has a result. Throws ``CancelledError`` if it was cancelled and
    /// ``TimeoutError`` on timeout.
    public func exception(timeout: Duration? = nil) throws -> (any Error)? {
        switch try wait(timeout: timeout, call: "exception") {
        case .finished: return nil
        case .failed(let error): return error
        default: throw CancelledError()
        }
    }

    private func wait(timeout: Duration?, call: String) throws -> State {
        let deadline = timeout.map { MonotonicClock.nanoseconds() &+ $0.clampedNanoseconds }
        return try lock.withLock {
            while !Self.isDone(storage.state) {
                if let deadline {
                    if !lock.wait(untilNanoseconds: deadline), !Self.isDone(storage.state) {
                        throw TimeoutError("ConcurrentFuture.\(call)(timeout:): not done within \(timeout ?? .zero)")
                    }
                } else {
                    lock.wait()
                }
            }
            return storage.state
        }
    }

    // MARK: Cancelling and completing

    /// Cancels the future unless its work is running or done. Returns whether the
    /// future is cancelled now (`true` also when it already was). Done callbacks run
    /// on the calling thread.
    @discardableResult
    public func cancel() -> Bool {
        let callbacks: [@Sendable (ConcurrentFuture<Value>) -> Void]? = withStorage { storage in
            switch storage.state {
            case .running, .finished, .failed: return nil
            case .cancelled: return []
            case .pending:
                storage.state = .cancelled
                lock.broadcast()
                defer { storage.callbacks.removeAll() }
                return storage.callbacks
            }
        }
        guard let callbacks else { return false }
        for callback in callbacks { callback(self) }
        return true
    }

    /// For executors: marks the work as running and returns `true`, or returns `false`
    /// if the future was cancelled (the work must then not run). Throws
    /// ``LoopError/Kind-swift.enum/invalidState`` if it is running or done already.
    public func setRunningOrNotifyCancel() throws -> Bool {
        try withStorage { storage in
            switch storage.state {
            case .pending:
                storage.state = .running
                return true
            case .cancelled:
                return false
            case .running, .finished, .failed:
                throw LoopError(
                    .invalidState,
                    "ConcurrentFuture.setRunningOrNotifyCancel(): the future is already \(Self.name(storage.state)); call it once, before the work starts")
            }
        }
    }

    /// Completes the future with `value`, wakes every waiter and runs the done
    /// callbacks on the calling thread. Throws ``LoopError/Kind-swift.enum/invalidState``
    /// if it is done (or cancelled) already.
    public func setResult(_ value: Value) throws {
        try complete(.finished(value), call: "setResult")
    }

    /// Fails the future with `error`, wakes every waiter and runs the done callbacks
    /// on the calling thread. Throws ``LoopError/Kind-swift.enum/invalidState`` if it
    /// is done (or cancelled) already.
    public func setException(_ error: any Error) throws {
        try complete(.failed(error), call: "setException")
    }

    private func complete(_ final: State, call: String) throws {
        let callbacks = try withStorage { storage in
            if Self.isDone(storage.state) {
                throw LoopError(
                    .invalidState,
                    "ConcurrentFuture.\(call)(): the future is already \(Self.name(storage.state)); a future completes once")
            }
            storage.state = final
            lock.broadcast()
            defer { storage.callbacks.removeAll() }
            return storage.callbacks
        }
        for callback in callbacks { callback(self) }
    }

    /// Calls `body` with the future once it is done: right away on the calling thread
    /// if it is done already, otherwise on the thread that completes or cancels it.
    public func addDoneCallback(_ body: @escaping @Sendable (ConcurrentFuture<Value>) -> Void) {
        let runNow = withStorage { storage -> Bool in
            if Self.isDone(storage.state) { return true }
            storage.callbacks.append(body)
            return false
        }
        if runNow { body(self) }
    }

    // MARK: Description

    public var description: String {
        let state = withStorage { $0.state }
        switch state {
        case .finished(let value): return "<ConcurrentFuture finished result=\(value)>"
        case .failed(let error): return "<ConcurrentFuture finished error=\(error)>"
        default: return "<ConcurrentFuture \(Self.name(state))>"
        }
    }

    private static func name(_ state: State) -> String {
        switch state {
        case .pending: return "pending"
        case .running: return "running"
        case .cancelled: return "cancelled"
        case .finished, .failed: return "finished"
        }
    }
}
