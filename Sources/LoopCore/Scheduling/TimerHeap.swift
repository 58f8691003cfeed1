/// The loop's pending timers: a binary min-heap on (deadline, insertion order).
///
/// Cancellation is lazy: a cancelled timer stays in the heap until it reaches the
/// top or until cancelled entries dominate and the heap is compacted, so cancel is
/// O(1) and the heap never holds mostly dead entries.
struct TimerHeap {
    private struct Entry {
        let when: Double
        let sequence: UInt64
        let handle: TimerHandle

        @inline(__always)
        func precedes(_ other: Entry) -> Bool {
            when < other.when || (when == other.when && sequence < other.sequence)
        }
    }

    private var entries: ContiguousArray<Entry> = []
    private var nextSequence: UInt64 = 0
    /// Scheduled timers that were cancelled but are still in the heap.
    private(set) var cancelledCount = 0

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// Compaction starts when more than half of at least this many entries are cancelled.
    static let compactionThreshold = 100

    mutating func push(_ handle: TimerHandle) {
        handle.isScheduled = true
        entries.append(Entry(when: handle.when, sequence: nextSequence, handle: handle))
        nextSequence &+= 1
        siftUp(entries.count - 1)
    }

    mutating func noteCancelled() { cancelledCount += 1 }

    /// The earliest deadline of a live timer, dropping cancelled timers from the top.
    mutating func earliestDeadline() -> Double? {
        dropCancelledTop()
        return entries.first?.when
    }

    /// Removes and returns the earliest live timer if it is due at or before `deadline`.
    mutating func popDue(before deadline: Double) -> TimerHandle? {
        dropCancelledTop()
        guard let first = entries.first, first.when <= deadline else { return nil }
        removeTop()
        first.handle.isScheduled = false
        return first.handle
    }

    /// Rebuilds the heap without its cancelled entries when they dominate.
    mutating func compactIfNeeded() {
        guard entries.count > Self.compactionThreshold, cancelledCount * 2 > entries.count else { return }
        for entry in entries where entry.handle.isCancelled { entry.handle.isScheduled = false }
        entries.removeAll { $0.handle.isCancelled }
        cancelledCount = 0
        var index = entries.count / 2 - 1
        while index >= 0 {
            siftDown(index)
            index -= 1
        }
    }

    /// Empties the heap and returns the timers it held, so that the caller releases
    /// them (and whatever their callbacks capture) after the heap is consistent again.
    mutating func removeAll() -> ContiguousArray<TimerHandle> {
        let old = entries
        entries = []
        cancelledCount = 0
        var handles = ContiguousArray<TimerHandle>()
        handles.reserveCapacity(old.count)
        for entry in old {
            entry.handle.isScheduled = false
            handles.append(entry.handle)
        }
        return handles
    }

    private mutating func dropCancelledTop() {
        while let first = entries.first, first.handle.isCancelled {
            removeTop()
            first.handle.isScheduled = false
            cancelledCount -= 1
        }
    }

    private mutating func removeTop() {
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            siftDown(0)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        let moving = entries[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard moving.precedes(entries[parent]) else { break }
            entries[child] = entries[parent]
            child = parent
        }
        entries[child] = moving
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = entries.count
        let moving = entries[parent]
        while true {
            var child = 2 * parent + 1
            if child >= count { break }
            if child + 1 < count, entries[child + 1].precedes(entries[child]) { child += 1 }
            guard entries[child].precedes(moving) else { break }
            entries[parent] = entries[child]
            parent = child
        }
        entries[parent] = moving
    }
}
