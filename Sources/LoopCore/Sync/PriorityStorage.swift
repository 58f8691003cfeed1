/// ``LoopPriorityQueue``'s storage: lowest first, by `areInIncreasingOrder` (a binary
/// min-heap, as `heapq`); items that compare equal come out in no guaranteed order, as in asyncio.
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
