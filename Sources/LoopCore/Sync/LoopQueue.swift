/// A first-in, first-out queue for the tasks of one loop (asyncio's `Queue`).
///
/// With a positive `maxsize`, ``put(_:)`` waits while the queue holds that many
/// items; ``get()`` waits while it is empty. Waiting putters and getters are served
/// in the order they came (FIFO). A cancelled ``get()`` takes no item (it stays for
/// the next getter) and a cancelled ``put(_:)`` adds none; neither swallows a wakeup
/// meant for another waiter. ``taskDone()`` and ``join()`` count the items handed
/// out but not yet processed; ``shutdown(immediate:)`` is asyncio 3.13's.
/// ``LoopLifoQueue`` and ``LoopPriorityQueue`` differ only in which item comes out next.
///
/// ```swift
/// let queue = LoopQueue<Job>(maxsize: 100)
/// try await queue.put(job)            // producer
/// let next = try await queue.get()    // consumer
/// ```
public class LoopQueue<Element>: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: used only from tasks of its loop, on the loop thread.
    /// The most items the queue holds; 0 or less means no limit.
    public let maxsize: Int
    private let storage: any QueueStorage<Element>
    private var getters = WaiterQueue()
    private var putters = WaiterQueue()
    private var unfinished = 0
    private let finished: LoopEvent
    private var isShutdown = false
    private var binding: LoopBinding

    /// A FIFO queue holding at most `maxsize` items (0 or less: no limit).
    public convenience init(maxsize: Int = 0, loop: (any EventLoop)? = nil) {
        self.init(maxsize: maxsize, loop: loop, storage: FIFOStorage<Element>())
    }

    init(maxsize: Int, loop: (any EventLoop)?, storage: any QueueStorage<Element>) {
        self.maxsize = maxsize
        self.storage = storage
        binding = LoopBinding(loop)
        finished = LoopEvent(loop: loop)
        finished.set()
    }

    /// How many items the queue holds.
    public var qsize: Int { storage.count }

    /// Whether the queue holds no item.
    public var empty: Bool { storage.count == 0 }

    /// Whether the queue holds `maxsize` items (never, without a limit).
    public var full: Bool { maxsize > 0 && storage.count >= maxsize }

    /// Whether ``shutdown(immediate:)`` was called.
    public var isShutDown: Bool { isShutdown }

    /// Items put but not yet marked done with ``taskDone()``.
    public var unfinishedTasks: Int { unfinished }

    /// Puts `item`, waiting while the queue is full. Throws ``QueueShutDown`` if the
    /// queue is or becomes shut down, ``CancelledError`` if cancelled (nothing is put).
    public func put(_ item: Element) async throws {
        while full {
            if isShutdown { throw QueueShutDown() }
            let putter = Future<Void>(loop: try binding.get(description))
            putters.append(putter)
            do {
                try await putter.value
            } catch {
                putter.cancel()
                putters.remove(putter)
                // Woken for room we will not use: pass the wakeup on.
                if !full, !putter.isCancelled { putters.wakeFirstPending() }
                throw error
            }
        }
        try putNowait(item)
    }

    /// Puts `item` without waiting. Throws ``QueueFull`` if the queue is full,
    /// ``QueueShutDown`` if it was shut down.
    public func putNowait(_ item: Element) throws {
        if isShutdown { throw QueueShutDown() }
        if full { throw QueueFull() }
        storage.put(item)
        unfinished += 1
        finished.clear()
        wakeNext(&getters)
    }

    /// Takes the next item, waiting while the queue is empty. Throws ``QueueShutDown``
    /// if the queue is shut down and empty, ``CancelledError`` if cancelled (the item
    /// that may have arrived stays in the queue for the next getter).
    public func get() async throws -> Element {
        while empty {
            if isShutdown { throw QueueShutDown() }
            let getter = Future<Void>(loop: try binding.get(description))
            getters.append(getter)
            do {
                try await getter.value
            } catch {
                getter.cancel()
                getters.remove(getter)
                // Woken for an item we will not take: the next getter gets the wakeup.
                if !empty, !getter.isCancelled { getters.wakeFirstPending() }
                throw error
            }
        }
        return try getNowait()
    }

    /// Takes the next item without waiting. Throws ``QueueEmpty`` if there is none,
    /// ``QueueShutDown`` if the queue is empty and shut down.
    public func getNowait() throws -> Element {
        if empty {
            if isShutdown { throw QueueShutDown() }
            throw QueueEmpty()
        }
        let item = storage.take()
        wakeNext(&putters)
        return item
    }

    /// Marks one item taken with ``get()`` as processed; when every item put so far
    /// is, ``join()`` returns. Throws ``LoopError/Kind-swift.enum/invalidArgument``
    /// ("task_done() called too many times") with no unfinished item.
    public func taskDone() throws {
        guard unfinished > 0 else { throw LoopError(.invalidArgument, "task_done() called too many times") }
        unfinished -= 1
        if unfinished == 0 { finished.set() }
    }

    /// Waits until every item put has been marked done with ``taskDone()``.
    public func join() async throws {
        if unfinished > 0 { try await finished.wait() }
    }

    /// Shuts the queue down (asyncio 3.13): ``put(_:)`` and ``putNowait(_:)`` throw
    /// ``QueueShutDown`` from now on, and so do ``get()`` and ``getNowait()`` once the
    /// queue is empty; every waiting putter and getter wakes to find that. With
    /// `immediate`, the items left are dropped at once, each counted as done, so
    /// ``join()`` returns when no item taken earlier is still unfinished.
    public func shutdown(immediate: Bool = false) {
        isShutdown = true
        if immediate {
            while !empty {
                _ = storage.take()
                if unfinished > 0 { unfinished -= 1 }
            }
            if unfinished == 0 { finished.set() }
        }
        // Every waiter wakes to re-check and find the queue shut down.
        while let getter = getters.popFirst() {
            if !getter.isDone { try? getter.setResult(()) }
        }
        while let putter = putters.popFirst() {
            if !putter.isDone { try? putter.setResult(()) }
        }
    }

    /// Wakes the oldest waiter that is still waiting, dropping the ones done before it.
    private func wakeNext(_ waiters: inout WaiterQueue) {
        while let waiter = waiters.popFirst() {
            if !waiter.isDone {
                try? waiter.setResult(())
                return
            }
        }
    }

    var typeName: String { "LoopQueue" }

    public var description: String {
        var text = "<\(typeName) maxsize=\(maxsize)"
        if !getters.isEmpty { text += " _getters[\(getters.count)]" }
        if !putters.isEmpty { text += " _putters[\(putters.count)]" }
        if unfinished > 0 { text += " tasks=\(unfinished)" }
        if isShutdown { text += " shutdown" }
        return text + ">"
    }
}
