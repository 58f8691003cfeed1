/// ``LoopLifoQueue``'s storage: last in, first out.
final class LIFOStorage<Element>: QueueStorage {
    private var items: [Element] = []
    var count: Int { items.count }
    func put(_ item: Element) { items.append(item) }
    func take() -> Element { items.removeLast() }
}
