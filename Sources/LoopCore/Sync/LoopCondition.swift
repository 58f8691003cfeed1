/// A condition variable for the tasks of one loop, over a ``LoopLock`` (asyncio's `Condition`).
///
/// A task holding the lock calls ``wait()``: the lock is released, the task waits for
/// ``notify(_:)`` or ``notifyAll()``, then takes the lock again before returning, also
/// when it is cancelled (it then throws ``CancelledError`` holding the lock). Waiters
/// are notified oldest first; a waiter that was notified but leaves through an error
/// passes its notification on to the next one (asyncio 3.13), so none is lost.
///
/// ```swift
/// try await condition.withLock {
///     try await condition.waitFor { !items.isEmpty }
///     use(items.removeFirst())
/// }
/// ```
public final class LoopCondition: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: used only from tasks of its loop, on the loop thread.
    /// The lock the condition is over.
    public let lock: LoopLock
    private var waiters = WaiterQueue()
    private var binding: LoopBinding

    /// A condition over `lock`, or over a new lock of its own.
    public init(lock: LoopLock? = nil, loop: (any EventLoop)? = nil) {
        self.lock = lock ?? LoopLock(loop: loop)
        binding = LoopBinding(loop)
    }

    /// Whether the condition's lock is held.
    public var locked: Bool { lock.locked }

    /// Takes the condition's lock (see ``LoopLock/acquire()``).
    @discardableResult
    public func acquire() async throws -> Bool { try await lock.acquire() }

    /// Releases the condition's lock (see ``LoopLock/release()``).
    public func release() throws { try lock.release() }

    /// Runs `body` holding the condition's lock (asyncio's `async with condition:`).
    public func withLock<R>(_ body: () async throws -> R) async throws -> R { try await lock.withLock(body) }

    /// Releases the lock, waits until notified, takes the lock again; returns `true`.
    ///
    /// Throws ``LoopError/Kind-swift.enum/invalidState`` ("cannot wait on un-acquired
    /// lock") if the lock is not held. A cancelled waiter still takes the lock back
    /// before it throws ``CancelledError``.
    @discardableResult
    public func wait() async throws -> Bool {
        guard lock.locked else { throw LoopError(.invalidState, "cannot wait on un-acquired lock") }
        let loop = try binding.get(description)
        try lock.release()
        var failure: (any Error)?
        let waiter = Future<Void>(loop: loop)
        waiters.append(waiter)
        do {
            try await waiter.value
        } catch {
            failure = error
        }
        waiters.remove(waiter)
        // The lock must be taken back whatever happened; cancellations meanwhile are
        // kept and the latest one thrown once the lock is held.
        while true {
            do {
                try await lock.acquire()
                break
            } catch let error as CancelledError {
                failure = error
            }
        }
        if let failure {
            // We may have been notified just before the error: hand that notification on.
            notifyUnchecked(1)
            throw failure
        }
        return true
    }

    /// Waits until `predicate` is true, checking it first and after each wakeup, with
    /// the lock held; returns the predicate's last value.
    @discardableResult
    public func waitFor(_ predicate: () throws -> Bool) async throws -> Bool {
        var result = try predicate()
        while !result {
            try await wait()
            result = try predicate()
        }
        return result
    }

    /// Wakes up to `n` waiting tasks, oldest first. Throws
    /// ``LoopError/Kind-swift.enum/invalidState`` ("cannot notify on un-acquired lock")
    /// if the lock is not held.
    public func notify(_ n: Int = 1) throws {
        guard lock.locked else { throw LoopError(.invalidState, "cannot notify on un-acquired lock") }
        notifyUnchecked(n)
    }

    /// Wakes every waiting task. Throws as ``notify(_:)`` does.
    public func notifyAll() throws { try notify(waiters.count) }

    private func notifyUnchecked(_ n: Int) {
        var woken = 0
        for waiter in waiters.all {
            if woken >= n { break }
            if !waiter.isDone {
                woken += 1
                try? waiter.setResult(())
            }
        }
    }

    public var description: String {
        "<LoopCondition [\(lock.locked ? "locked" : "unlocked")\(waiters.isEmpty ? "" : ", waiters:\(waiters.count)")]>"
    }
}
