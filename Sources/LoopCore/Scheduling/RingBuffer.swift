/// A growable FIFO queue on a circular buffer: O(1) append and removeFirst,
/// no shifting, and the memory is kept when it empties.
struct RingBuffer<Element> {
    private var storage: ContiguousArray<Element?>
    private var head = 0
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity { size <<= 1 }
        storage = ContiguousArray(repeating: nil, count: size)
    }

    var isEmpty: Bool { count == 0 }

    mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head &+ count) & (storage.count &- 1)] = element
        count &+= 1
    }

    mutating func removeFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head &+ 1) & (storage.count &- 1)
        count &-= 1
        return element
    }

    /// Empties the queue and returns what it held, so that the caller releases the
    /// elements after the queue is consistent again.
    mutating func removeAll() -> [Element] {
        var elements: [Element] = []
        elements.reserveCapacity(count)
        while let element = removeFirst() { elements.append(element) }
        head = 0
        return elements
    }

    private mutating func grow() {
        var bigger = ContiguousArray<Element?>(repeating: nil, count: storage.count * 2)
        for offset in 0..<count {
            bigger[offset] = storage[(head + offset) & (storage.count - 1)]
        }
        storage = bigger
        head = 0
    }
}
