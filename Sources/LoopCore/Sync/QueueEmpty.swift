/// ``LoopQueue/getNowait()`` found the queue empty (asyncio's `QueueEmpty`).
public struct QueueEmpty: Error, Sendable, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "QueueEmpty: the queue has no item; use get() to wait for one" }
}
