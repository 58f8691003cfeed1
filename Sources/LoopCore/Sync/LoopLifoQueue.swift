/// A last-in, first-out ``LoopQueue`` (asyncio's `LifoQueue`): ``LoopQueue/get()``
/// returns the item put most recently.
public final class LoopLifoQueue<Element>: LoopQueue<Element>, @unchecked Sendable {
    /// A LIFO queue holding at most `maxsize` items (0 or less: no limit).
    public init(maxsize: Int = 0, loop: (any EventLoop)? = nil) {
        super.init(maxsize: maxsize, loop: loop, storage: LIFOStorage<Element>())
    }

    override var typeName: String { "LoopLifoQueue" }
}
