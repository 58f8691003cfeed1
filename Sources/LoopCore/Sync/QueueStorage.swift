/// Where a ``LoopQueue`` keeps its items: the order items come out in is the only
/// thing the FIFO, LIFO and priority queues differ in (asyncio's `_init` / `_put` /
/// `_get` / `qsize` overrides).
protocol QueueStorage<Element>: AnyObject {
    associatedtype Element
    var count: Int { get }
    func put(_ item: Element)
    /// The next item; called only when `count > 0`.
    func take() -> Element
}
