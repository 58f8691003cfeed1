/// A growable FIFO queue on a circular buffer: O(1) append and removeFirst, no
/// shifting, memory kept when it empties. A class with manually managed storage
/// because it sits on the loop's hottest path: no uniqueness or exclusivity checks.
final class RingBuffer<Element> {
    private var storage: UnsafeMutablePointer<Element>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var head = 0
    @exclusivity(unchecked) private(set) var count = 0

    init(capacity requested: Int = 1024) {
        var size = 16
        while size < requested { size <<= 1 }
        capacity = size
        storage = .allocate(capacity: size)
    }

    deinit {
        _ = removeAll()
        storage.deallocate()
    }

    @inline(__always)
    var isEmpty: Bool { count == 0 }

    @inline(__always)
    func append(_ element: Element) {
        if count == capacity { grow() }
        (storage + ((head &+ count) & (capacity &- 1))).initialize(to: element)
        count &+= 1
    }

    @inline(__always)
    func removeFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = (storage + head).move()
        head = (head &+ 1) & (capacity &- 1)
        count &-= 1
        return element
    }

    /// Empties the queue and returns what it held, so that the caller releases the
    /// elements after the queue is consistent again.
    func removeAll() -> [Element] {
        var elements: [Element] = []
        elements.reserveCapacity(count)
        while let element = removeFirst() { elements.append(element) }
        head = 0
        return elements
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        let firstRun = min(count, capacity - head)
        (bigger).moveInitialize(from: storage + head, count: firstRun)
        (bigger + firstRun).moveInitialize(from: storage, count: count - firstRun)
        storage.deallocate()
        storage = bigger
        capacity *= 2
        head = 0
    }
}
