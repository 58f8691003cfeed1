/// ``LoopQueue``'s storage: first in, first out.
final class FIFOStorage<Element>: QueueStorage {
    private let ring = RingBuffer<Element>(capacity: 16)
    var count: Int { ring.count }
    func put(_ item: Element) { ring.append(item) }
    func take() -> Element {
        guard let item = ring.removeFirst() else { fatalError("QueueStorage.take() on an empty queue") }
        return item
    }
}
