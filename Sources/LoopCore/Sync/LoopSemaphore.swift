/// A counter of free slots for the tasks of one loop (asyncio's `Semaphore`).
///
/// ``acquire()`` takes a slot, waiting while none is free; ``release()`` gives one
/// back. Waiters get slots in the order they asked (FIFO): a newcomer does not jump
/// ahead of a waiter that was already woken. A waiter that is cancelled after it was
/// handed a slot gives the slot back and it goes to the next waiter.
public class LoopSemaphore: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: used only from tasks of its loop, on the loop thread.
    var value: Int
    private var waiters = WaiterQueue()
    private var binding: LoopBinding

    /// A semaphore with `value` free slots. Throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` ("Semaphore initial value must
    /// be >= 0") for a negative value.
    public init(value: Int = 1, loop: (any EventLoop)? = nil) throws {
        guard value >= 0 else { throw LoopError(.invalidArgument, "Semaphore initial value must be >= 0") }
        self.value = value
        binding = LoopBinding(loop)
    }

    /// Whether ``acquire()`` would wait: no slot is free, or tasks are already waiting.
    public var locked: Bool { value == 0 || waiters.all.contains { !$0.isCancelled } }

    /// How many slots are free now.
    public var freeSlots: Int { value }

    /// Takes a slot, waiting for one if none is free; returns `true`.
    /// Throws ``CancelledError`` if the waiting task is cancelled (it then holds no slot).
    @discardableResult
    public func acquire() async throws -> Bool {
        if !locked {
            value -= 1
            return true
        }
        let waiter = Future<Void>(loop: try binding.get(description))
        waiters.append(waiter)
        defer {
            // New waiters may have queued behind us while slots came free: wake as many as fit.
            while value > 0, wakeNext() {}
        }
        do {
            try await waiter.value
            waiters.remove(waiter)
        } catch {
            waiters.remove(waiter)
            // Handed a slot (the wakeup took it for us) but not taking it: give it back.
            if waiter.isDone, !waiter.isCancelled { value += 1 }
            throw error
        }
        return true
    }

    /// Gives a slot back and wakes the first waiter.
    public func release() throws {
        value += 1
        wakeNext()
    }

    /// Runs `body` holding a slot (asyncio's `async with semaphore:`).
    public func withSlot<R>(_ body: () async throws -> R) async throws -> R {
        try await acquire()
        let result: R
        do {
            result = try await body()
        } catch {
            try release()
            throw error
        }
        try release()
        return result
    }

    /// Hands a slot to the oldest waiter not woken yet; returns whether there was one.
    @discardableResult
    private func wakeNext() -> Bool {
        guard let waiter = waiters.firstPending else { return false }
        value -= 1
        try? waiter.setResult(())
        return true
    }

    var typeName: String { "LoopSemaphore" }

    public var description: String {
        "<\(typeName) [\(locked ? "locked" : "unlocked, value:\(value)")\(waiters.isEmpty ? "" : ", waiters:\(waiters.count)")]>"
    }
}
