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

/// First in, first out.
final class FIFOStorage<Element>: QueueStorage {
    private let ring = RingBuffer<Element>(capacity: 16)
    var count: Int { ring.count }
    func put(_ item: Element) { ring.append(item) }
    func take() -> Element {
        guard let item = ring.removeFirst() else { fatalError("QueueStorage.take() on an empty queue") }
        return item
    }
}

/// Last in, first out.
final class LIFOStorage<Element>: QueueStorage {
    private var items: [Element] = []
    var count: Int { items.count }
    func put(_ item: Element) { items.append(item) }
    func take() -> Element { items.removeLast() }
}

/// Lowest first, by `areInIncreasingOrder` (a binary min-heap, as `heapq`); items
/// that compare equal come out in no guaranteed order, as in asyncio.
final class PriorityStorage<Element>: QueueStorage {
    private var heap: [Element] = []
    private let areInIncreasingOrder: (Element, Element) -> Bool

    init(by areInIncreasingOrder: @escaping (Element, Element) -> Bool) {
        self.areInIncreasingOrder = areInIncreasingOrder
    }

    var count: Int { heap.count }

    func put(_ item: Element) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard areInIncreasingOrder(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    func take() -> Element {
        let last = heap.count - 1
        heap.swapAt(0, last)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            var smallest = left
            let right = left + 1
            if right < heap.count, areInIncreasingOrder(heap[right], heap[left]) { smallest = right }
            guard areInIncreasingOrder(heap[smallest], heap[parent]) else { break }
            heap.swapAt(smallest, parent)
            parent = smallest
        }
        return top
    }
}
