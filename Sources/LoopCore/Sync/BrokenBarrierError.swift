/// A ``LoopBarrier`` was aborted or reset while a task waited on it, or is broken
/// (asyncio's `BrokenBarrierError`).
public struct BrokenBarrierError: Error, Sendable, Equatable, CustomStringConvertible {
    /// "Barrier aborted" or "Abort or reset of barrier", as asyncio says.
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { "BrokenBarrierError: \(message)" }
}
