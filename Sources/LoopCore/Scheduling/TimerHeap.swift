/// Counts the scheduled timers that were cancelled while still in the heap.
/// Shared by a heap and its handles (instead of each handle referring back to its
/// loop) so that cancel() is one increment and no reference cycle exists.
final class TimerCancellations {
    @exclusivity(unchecked) var count = 0
}

/// The loop's pending timers: a 4-ary min-heap on (deadline, insertion order).
///
/// Cancellation is lazy: a cancelled timer stays in the heap until it reaches the
/// top or until cancelled entries dominate and the heap is compacted, so cancel is
/// O(1) and the heap never holds mostly dead entries. Entries live in manually
/// managed memory and are moved, never copied, while sifting, so reordering the
/// heap costs no reference counting.
final class TimerHeap {
    private struct Entry {
        let when: Double
        let sequence: UInt64
        let handle: TimerHandle

        @inline(__always)
        func precedes(_ other: Entry) -> Bool {
            when < other.when || (when == other.when && sequence < other.sequence)
        }
    }

    private var storage: UnsafeMutablePointer<Entry>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private(set) var count = 0
    @exclusivity(unchecked) private var nextSequence: UInt64 = 0
    /// Shared with every handle pushed here.
    let cancellations = TimerCancellations()

    /// Compaction starts when more than half of at least this many entries are cancelled.
    static let compactionThreshold = 100

    init(capacity: Int = 64) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit {
        // Keeps the invariant handles rely on: isScheduled is true only inside a live heap.
        for index in 0..<count { storage[index].handle.isScheduled = false }
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    /// Scheduled timers that were cancelled but are still in the heap.
    var cancelledCount: Int { cancellations.count }

    func push(_ handle: TimerHandle) {
        handle.isScheduled = true
        handle.cancellations = Unmanaged.passUnretained(cancellations)
        if count == capacity { grow() }
        (storage + count).initialize(to: Entry(when: handle.when, sequence: nextSequence, handle: handle))
        nextSequence &+= 1
        count += 1
        siftUp(count - 1)
    }

    /// The earliest deadline of a live timer, dropping cancelled timers from the top.
    func earliestDeadline() -> Double? {
        dropCancelledTop()
        return count > 0 ? storage.pointee.when : nil
    }

    /// Removes and returns the earliest live timer if it is due at or before `deadline`.
    func popDue(before deadline: Double) -> TimerHandle? {
        dropCancelledTop()
        guard count > 0, storage.pointee.when <= deadline else { return nil }
        let handle = removeTop()
        handle.isScheduled = false
        return handle
    }

    /// Rebuilds the heap without its cancelled entries when they dominate.
    func compactIfNeeded() {
        guard count > Self.compactionThreshold, cancellations.count * 2 > count else { return }
        var kept = 0
        var dropped: [TimerHandle] = []
        dropped.reserveCapacity(cancellations.count)
        for index in 0..<count {
            let entry = (storage + index).move()
            if entry.handle.isCancelled {
                entry.handle.isScheduled = false
                dropped.append(entry.handle)
            } else {
                (storage + kept).initialize(to: entry)
                kept += 1
            }
        }
        count = kept
        cancellations.count = 0
        var index = (count - 2) / Self.arity
        while index >= 0 {
            siftDown(index)
            index -= 1
        }
        withExtendedLifetime(dropped) {}
    }

    /// Empties the heap and returns the timers it held, so that the caller releases
    /// them (and whatever their callbacks capture) after the heap is consistent again.
    func removeAll() -> ContiguousArray<TimerHandle> {
        var handles = ContiguousArray<TimerHandle>()
        handles.reserveCapacity(count)
        for index in 0..<count {
            let entry = (storage + index).move()
            entry.handle.isScheduled = false
            handles.append(entry.handle)
        }
        count = 0
        cancellations.count = 0
        return handles
    }

    private func dropCancelledTop() {
        while count > 0, storage.pointee.handle.isCancelled {
            let handle = removeTop()
            handle.isScheduled = false
            cancellations.count -= 1
        }
    }

    private func removeTop() -> TimerHandle {
        let top = storage.move()
        count -= 1
        if count > 0 {
            storage.moveInitialize(from: storage + count, count: 1)
            siftDown(0)
        }
        return top.handle
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<Entry>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: storage, count: count)
        storage.deallocate()
        storage = bigger
        capacity *= 2
    }

    // A 4-ary heap: half the levels of a binary one, and the four children of a node
    // share cache lines, which is what popping from a large heap is bound by.
    // Both sifts lift the moving entry out, slide others into the hole, then drop it in.
    private static let arity = 4

    private func siftUp(_ start: Int) {
        var child = start
        let moving = (storage + child).move()
        while child > 0 {
            let parent = (child - 1) / Self.arity
            guard moving.precedes(storage[parent]) else { break }
            (storage + child).moveInitialize(from: storage + parent, count: 1)
            child = parent
        }
        (storage + child).initialize(to: moving)
    }

    private func siftDown(_ start: Int) {
        var parent = start
        let moving = (storage + parent).move()
        while true {
            let first = Self.arity * parent + 1
            if first >= count { break }
            var best = first
            var candidate = first + 1
            let end = min(first + Self.arity, count)
            while candidate < end {
                if storage[candidate].precedes(storage[best]) { best = candidate }
                candidate += 1
            }
            guard storage[best].precedes(moving) else { break }
            (storage + parent).moveInitialize(from: storage + best, count: 1)
            parent = best
        }
        (storage + parent).initialize(to: moving)
    }
}
