/// A ``LoopQueue`` that hands out its lowest item first (asyncio's `PriorityQueue`,
/// over a binary heap as `heapq`). Order comes from `Comparable` or a closure; items
/// that compare equal come out in no guaranteed order.
///
/// ```swift
/// let jobs = LoopPriorityQueue<(priority: Int, name: String)>(by: { $0.priority < $1.priority })
/// ```
public final class LoopPriorityQueue<Element>: LoopQueue<Element>, @unchecked Sendable {
    /// A priority queue ordered by `areInIncreasingOrder`, holding at most `maxsize` items.
    public init(maxsize: Int = 0, loop: (any EventLoop)? = nil, by areInIncreasingOrder: @escaping (Element, Element) -> Bool) {
        super.init(maxsize: maxsize, loop: loop, storage: PriorityStorage(by: areInIncreasingOrder))
    }

    override var typeName: String { "LoopPriorityQueue" }
}

extension LoopPriorityQueue where Element: Comparable {
    /// A priority queue of `Comparable` items, smallest first, holding at most `maxsize` items.
    public convenience init(maxsize: Int = 0, loop: (any EventLoop)? = nil) {
        self.init(maxsize: maxsize, loop: loop, by: <)
    }
}
