/// ``LoopQueue/putNowait(_:)`` found the queue full (asyncio's `QueueFull`).
public struct QueueFull: Error, Sendable, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "QueueFull: the queue holds maxsize items; use put() to wait for room" }
}
