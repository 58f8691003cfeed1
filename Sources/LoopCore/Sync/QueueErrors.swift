/// ``LoopQueue/getNowait()`` found the queue empty (asyncio's `QueueEmpty`).
public struct QueueEmpty: Error, Sendable, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "QueueEmpty: the queue has no item; use get() to wait for one" }
}

/// ``LoopQueue/putNowait(_:)`` found the queue full (asyncio's `QueueFull`).
public struct QueueFull: Error, Sendable, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "QueueFull: the queue holds maxsize items; use put() to wait for room" }
}

/// The queue was shut down (asyncio 3.13's `QueueShutDown`): no more puts, and gets
/// once it is empty (at once after `shutdown(immediate: true)`).
public struct QueueShutDown: Error, Sendable, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "QueueShutDown: the queue was shut down" }
}
