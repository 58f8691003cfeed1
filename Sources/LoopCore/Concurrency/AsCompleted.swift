/// The futures of ``asCompleted(_:timeout:)``, yielded as they finish.
///
/// Each element is a future that is done: read it with `result()` (which rethrows
/// its error). When the timeout expires before every future is done, the next
/// step throws ``TimeoutError``; the remaining futures are not cancelled. Iterate
/// it from a task on the futures' loop, once.
public struct AsCompletedSequence<T>: AsyncSequence {
    /// A future that is done.
    public typealias Element = Future<T>
    /// What a step may throw: ``TimeoutError``, or ``CancelledError`` when the iterating task is cancelled.
    public typealias Failure = any Error

    let state: AsCompletedState<T>

    /// The iterator; all iterators of one sequence share its futures.
    public func makeAsyncIterator() -> Iterator { Iterator(state: state) }

    /// Steps through the futures in completion order.
    public struct Iterator: AsyncIteratorProtocol {
        let state: AsCompletedState<T>

        /// The next future to finish; `nil` when all were yielded; throws
        /// ``TimeoutError`` once the timeout has expired.
        public mutating func next() async throws -> Future<T>? {
            try await state.next()
        }
    }
}

/// The shared state of one ``asCompleted(_:timeout:)`` call, confined to the loop's thread.
final class AsCompletedState<T> {
    private let loop: any EventLoop
    private var finished: [Future<T>] = []
    private var todo: Int
    private var yielded = 0
    private let total: Int
    private var timedOut = false
    private var timer: TimerHandle?
    private var waiter: Future<Void>?
    private let timeoutText: String

    init(loop: any EventLoop, count: Int, timeout: Duration?) {
        self.loop = loop
        self.todo = count
        self.total = count
        self.timeoutText = timeout.map { "\($0)" } ?? "no limit"
    }

    deinit { timer?.cancel() }

    func start(_ futures: [Future<T>], timeout: Duration?) throws {
        for future in futures {
            try future.addDoneCallback { [weak self] future in try self?.completed(future) }
        }
        if todo > 0, let timeout {
            timer = try loop.callLater(timeout, { [weak self] in try self?.expire() }, from: nil)
        }
    }

    private func completed(_ future: Future<T>) throws {
        guard todo > 0 else { return }  // the timeout came first
        todo -= 1
        finished.append(future)
        if todo == 0 {
            timer?.cancel()
            timer = nil
        }
        try wake()
    }

    private func expire() throws {
        timer = nil
        guard todo > 0 else { return }
        todo = 0
        timedOut = true
        try wake()
    }

    private func wake() throws {
        if let waiter { try setResultUnlessDone(waiter, ()) }
    }

    func next() async throws -> Future<T>? {
        guard yielded < total else { return nil }
        while finished.isEmpty && !timedOut {
            let waiter = Future<Void>(loop: loop)
            self.waiter = waiter
            defer { self.waiter = nil }
            try await waiter.value
        }
        yielded += 1
        if !finished.isEmpty { return finished.removeFirst() }
        throw TimeoutError("asCompleted: not every future finished within \(timeoutText)")
    }
}

/// The futures of `futures`, yielded in the order they finish (asyncio's
/// `as_completed`).
///
/// The timeout counts from this call. When it expires, the next step of the
/// iteration throws ``TimeoutError`` and the futures that are still pending are
/// left running (not cancelled). A future passed twice is yielded once. Call it
/// from a task on the futures' loop.
///
/// ```swift
/// for try await done in try asCompleted(tasks, timeout: .seconds(2)) {
///     print(try done.result())
/// }
/// ```
public func asCompleted<T>(_ futures: [Future<T>], timeout: Duration? = nil) throws -> AsCompletedSequence<T> {
    let loop = try RunningLoop.get()
    let unique = try uniqueFutures(
        futures, on: loop, caller: "asCompleted", hint: "iterate from a task on its own loop")
    let state = AsCompletedState<T>(loop: loop, count: unique.count, timeout: timeout)
    try state.start(unique, timeout: timeout)
    return AsCompletedSequence(state: state)
}
