/// The futures of the tasks waiting on a primitive, oldest first (asyncio keeps a
/// `collections.deque` of futures). Appending and taking the oldest are O(1);
/// removing a given waiter (a cancelled one leaving) is O(n) over the waiters, as
/// `deque.remove` is.
struct WaiterQueue {
    private var items: [Future<Void>] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }

    mutating func append(_ waiter: Future<Void>) { items.append(waiter) }

    mutating func popFirst() -> Future<Void>? {
        guard head < items.count else { return nil }
        let first = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32, head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return first
    }

    /// Removes `waiter` if it is still queued (a waiter already woken may have been popped).
    mutating func remove(_ waiter: Future<Void>) {
        guard let index = items[head...].firstIndex(where: { $0 === waiter }) else { return }
        if index == head {
            _ = popFirst()
        } else {
            items.remove(at: index)
        }
    }

    /// The waiters, oldest first.
    var all: ArraySlice<Future<Void>> { items[head...] }

    /// The oldest waiter that is not done yet.
    var firstPending: Future<Void>? { all.first(where: { !$0.isDone }) }

    /// Wakes the oldest waiter that is not done (one cancelled or already woken is
    /// skipped, so a wakeup is never lost on it); returns whether one was woken.
    @discardableResult
    func wakeFirstPending() -> Bool {
        guard let waiter = firstPending else { return false }
        try? waiter.setResult(())
        return true
    }
}
