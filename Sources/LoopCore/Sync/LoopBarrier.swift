/// A meeting point for a fixed number of tasks of one loop (asyncio's `Barrier`).
///
/// Each of ``parties`` tasks calls ``wait()``; when the last one arrives they all go
/// on, each with its arrival index (0 for the first). The barrier then fills again
/// for the next round. ``abort()`` breaks it: waiters and later callers throw
/// ``BrokenBarrierError``; ``reset()`` makes current waiters throw and refills it.
/// Built over a ``LoopCondition``, as asyncio's is.
public final class LoopBarrier: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: used only from tasks of its loop, on the loop thread.
    enum State: String {
        case filling, draining, resetting, broken
    }

    /// How many tasks must call ``wait()`` for them all to go on.
    public let parties: Int
    private let condition: LoopCondition
    private var state = State.filling
    private var count = 0

    /// A barrier for `parties` tasks. Throws ``LoopError/Kind-swift.enum/invalidArgument``
    /// ("parties must be > 0") for fewer than one.
    public init(parties: Int, loop: (any EventLoop)? = nil) throws {
        guard parties >= 1 else { throw LoopError(.invalidArgument, "parties must be > 0") }
        self.parties = parties
        condition = LoopCondition(loop: loop)
    }

    /// How many tasks are waiting for the barrier to fill.
    public var waiting: Int { state == .filling ? count : 0 }

    /// Whether the barrier is broken (``abort()`` was called).
    public var broken: Bool { state == .broken }

    /// Waits until ``parties`` tasks are waiting, then returns this task's arrival
    /// index (0 ..< parties). Throws ``BrokenBarrierError`` if the barrier is or
    /// becomes broken or is reset while waiting, ``CancelledError`` if cancelled.
    public func wait() async throws -> Int {
        try await condition.withLock {
            try await block()
            let index = count
            count += 1
            defer {
                count -= 1
                exit()
            }
            if index + 1 == parties {
                state = .draining
                try condition.notifyAll()
            } else {
                try await condition.waitFor { state != .filling }
                if state == .broken || state == .resetting {
                    throw BrokenBarrierError("Abort or reset of barrier")
                }
            }
            return index
        }
    }

    /// Refills the barrier: tasks waiting now throw ``BrokenBarrierError``; a broken
    /// barrier becomes usable again.
    public func reset() async throws {
        try await condition.withLock {
            if count > 0 {
                state = .resetting
            } else {
                state = .filling
            }
            try condition.notifyAll()
        }
    }

    /// Breaks the barrier: waiting and later ``wait()`` calls throw ``BrokenBarrierError``
    /// until ``reset()``.
    public func abort() async throws {
        try await condition.withLock {
            state = .broken
            try condition.notifyAll()
        }
    }

    /// Waits while the previous round drains or resets.
    private func block() async throws {
        try await condition.waitFor { state != .draining && state != .resetting }
        if state == .broken { throw BrokenBarrierError("Barrier aborted") }
    }

    /// The last task out of a drained or reset round refills the barrier.
    private func exit() {
        guard count == 0 else { return }
        if state == .resetting || state == .draining { state = .filling }
        try? condition.notifyAll()
    }

    public var description: String {
        "<LoopBarrier [\(state.rawValue), waiters:\(waiting)/\(parties)]>"
    }
}
