/// A timeout expired before the awaited work finished (asyncio's `TimeoutError`,
/// which since Python 3.11 is the builtin `TimeoutError`).
///
/// Thrown by ``waitFor(_:timeout:)``, ``withTimeout(_:name:file:line:_:)``,
/// ``withDeadline(_:name:file:line:_:)`` and the iteration of ``asCompleted(_:timeout:)``.
public struct TimeoutError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which call timed out and after how long.
    public let message: String

    /// A timeout error saying what timed out.
    public init(_ message: String = "the operation timed out") { self.message = message }

    public var description: String { "TimeoutError: \(message)" }
}
