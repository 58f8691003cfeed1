/// The errors of a ``LoopTaskGroup``'s tasks (and of its body), gathered when the
/// group ends (asyncio's `BaseExceptionGroup('unhandled errors in a TaskGroup', …)`).
public struct TaskGroupError: Error, CustomStringConvertible, @unchecked Sendable {
    // @unchecked: the errors are the tasks' own, handed over once the tasks are done.
    /// "unhandled errors in a TaskGroup", as asyncio says.
    public let message: String
    /// Every error, in the order the tasks failed; the body's own comes last.
    public let errors: [any Error]

    public init(_ message: String = "unhandled errors in a TaskGroup", errors: [any Error]) {
        self.message = message
        self.errors = errors
    }

    public var description: String {
        "\(message) (\(errors.count) sub-exception\(errors.count == 1 ? "" : "s")): " + errors.map { "\($0)" }.joined(separator: "; ")
    }
}
