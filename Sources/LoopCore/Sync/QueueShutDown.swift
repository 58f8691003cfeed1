/// The queue was shut down (asyncio 3.13's `QueueShutDown`): no more puts, and gets
/// once it is empty (at once after `shutdown(immediate: true)`).
public struct QueueShutDown: Error, Sendable, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "QueueShutDown: the queue was shut down" }
}
