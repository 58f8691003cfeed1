/// A mutual-exclusion lock for the tasks of one loop (asyncio's `Lock`).
///
/// Not reentrant: a task that holds the lock and acquires it again waits forever.
/// Waiters acquire it in the order they asked (FIFO). Everything happens on the loop
/// thread; acquiring an unlocked lock does not suspend. A waiter that is cancelled
/// never keeps a release meant for another: the lock passes to the next waiter.
/// The lock binds to the loop of the first task that has to wait on it.
///
/// ```swift
/// let lock = LoopLock()
/// try await lock.withLock { try await update(shared) }
/// ```
public final class LoopLock: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: used only from tasks of its loop, on the loop thread.
    private var isLocked = false
    private var waiters = WaiterQueue()
    private var binding: LoopBinding

    /// An unlocked lock; `loop` binds it now, otherwise its first waiter's loop does.
    public init(loop: (any EventLoop)? = nil) { binding = LoopBinding(loop) }

    /// Whether some task holds the lock.
    public var locked: Bool { isLocked }

    /// Waits until the lock is free and takes it; returns `true`, as asyncio does.
    ///
    /// Throws ``CancelledError`` if the waiting task is cancelled (the lock is then
    /// not held by it, and passes on to the next waiter if it was released meanwhile).
    @discardableResult
    public func acquire() async throws -> Bool {
        if !isLocked, waiters.all.allSatisfy(\.isCancelled) {
            isLocked = true
            return true
        }
        let loop = try binding.get(description)
        let waiter = Future<Void>(loop: loop)
        waiters.append(waiter)
        do {
            try await waiter.value
            waiters.remove(waiter)
        } catch {
            waiters.remove(waiter)
            // Woken (or about to be) but leaving: whoever is first now must get the lock.
            if !isLocked { waiters.wakeFirstPending() }
            throw error
        }
        isLocked = true
        return true
    }

    /// Releases the lock and wakes the first waiter. Throws
    /// ``LoopError/Kind-swift.enum/invalidState`` ("Lock is not acquired.") if it is not locked.
    public func release() throws {
        guard isLocked else { throw LoopError(.invalidState, "Lock is not acquired.") }
        isLocked = false
        waiters.wakeFirstPending()
    }

    /// Runs `body` holding the lock (asyncio's `async with lock:`); releases it
    /// however `body` ends.
    public func withLock<R>(_ body: () async throws -> R) async throws -> R {
        try await acquire()
        let result: R
        do {
            result = try await body()
        } catch {
            if isLocked { try release() }
            throw error
        }
        try release()
        return result
    }

    public var description: String {
        "<LoopLock [\(isLocked ? "locked" : "unlocked")\(waiters.isEmpty ? "" : ", waiters:\(waiters.count)")]>"
    }
}
