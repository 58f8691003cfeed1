/// A ``LoopSemaphore`` that refuses to be released above its initial value
/// (asyncio's `BoundedSemaphore`): a release without a matching acquire is a bug.
public final class LoopBoundedSemaphore: LoopSemaphore, @unchecked Sendable {
    /// The initial, and highest, number of free slots.
    public let bound: Int

    /// A bounded semaphore with `value` free slots. Throws as ``LoopSemaphore/init(value:loop:)``.
    public override init(value: Int = 1, loop: (any EventLoop)? = nil) throws {
        bound = value
        try super.init(value: value, loop: loop)
    }

    /// Gives a slot back. Throws ``LoopError/Kind-swift.enum/invalidArgument``
    /// ("BoundedSemaphore released too many times") if every slot is already free.
    public override func release() throws {
        guard value < bound else { throw LoopError(.invalidArgument, "BoundedSemaphore released too many times") }
        try super.release()
    }

    override var typeName: String { "LoopBoundedSemaphore" }
}
