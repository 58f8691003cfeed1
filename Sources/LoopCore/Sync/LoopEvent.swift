/// A flag tasks of one loop can wait for (asyncio's `Event`).
///
/// ``set()`` wakes every waiter at once; ``clear()`` makes later ``wait()`` calls
/// suspend again. A cancelled waiter simply leaves. The event binds to the loop of
/// the first task that waits on it.
public final class LoopEvent: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: used only from tasks of its loop, on the loop thread.
    private var value = false
    private var waiters = WaiterQueue()
    private var binding: LoopBinding

    /// An event that is not set; `loop` binds it now, otherwise its first waiter's loop does.
    public init(loop: (any EventLoop)? = nil) { binding = LoopBinding(loop) }

    /// Whether the event is set.
    public var isSet: Bool { value }

    /// Sets the event and wakes every task waiting for it.
    public func set() {
        guard !value else { return }
        value = true
        for waiter in waiters.all where !waiter.isDone { try? waiter.setResult(()) }
    }

    /// Clears the event: later ``wait()`` calls suspend until the next ``set()``.
    public func clear() { value = false }

    /// Returns at once if the event is set; otherwise waits until it is, and returns `true`.
    /// Throws ``CancelledError`` if the waiting task is cancelled.
    @discardableResult
    public func wait() async throws -> Bool {
        if value { return true }
        let waiter = Future<Void>(loop: try binding.get(description))
        waiters.append(waiter)
        defer { waiters.remove(waiter) }
        try await waiter.value
        return true
    }

    public var description: String {
        "<LoopEvent [\(value ? "set" : "unset")\(waiters.isEmpty ? "" : ", waiters:\(waiters.count)")]>"
    }
}
