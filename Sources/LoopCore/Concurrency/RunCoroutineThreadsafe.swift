/// Runs `body` as a task on `loop` from any thread and returns a thread-safe future
/// of its outcome (asyncio's `run_coroutine_threadsafe`).
///
/// The task is created on the loop's thread, in a later iteration. The returned
/// future gets the task's result or error; any thread may wait for it with
/// ``ConcurrentFuture/result(timeout:)`` (never the loop's own thread, which must
/// keep running for the task to finish). Cancelling the returned future cancels the
/// task; a task that ends cancelled cancels the returned future. Throws
/// ``LoopError/Kind-swift.enum/closed`` when the loop is closed.
///
/// ```swift
/// // On a worker thread, while the loop runs elsewhere:
/// let future = try runCoroutineThreadsafe(on: loop) { try await fetch() }
/// let page = try future.result(timeout: .seconds(5))
/// ```
public func runCoroutineThreadsafe<T: Sendable>(
    on loop: any EventLoop, file: StaticString = #fileID, line: UInt = #line,
    _ body: @escaping @Sendable () async throws -> T
) throws -> ConcurrentFuture<T> {
    let future = ConcurrentFuture<T>()
    let location = loop.debug ? SourceLocation(file, line) : nil
    try loop.callSoonThreadsafe({
        do {
            let task = try loop.createTask(name: nil, from: location, body)
            try chainTask(task, to: future, loop: loop)
        } catch {
            if (try? future.setRunningOrNotifyCancel()) == true { try? future.setException(error) }
            throw error
        }
    }, from: location)
    return future
}

/// Links a loop task to a thread-safe future (asyncio's `_chain_future` for a loop
/// source and a thread-safe destination).
private func chainTask<T: Sendable>(_ task: LoopTask<T>, to future: ConcurrentFuture<T>, loop: any EventLoop) throws {
    future.addDoneCallback { future in
        // Any thread: the task is cancelled on its loop's thread.
        guard future.isCancelled else { return }
        _ = try? loop.callSoonThreadsafe({ task.cancel() }, from: nil)
    }
    try task.addDoneCallback { task in
        if task.isCancelled { future.cancel() }
        guard try future.setRunningOrNotifyCancel() else { return }
        switch task.state {
        case .finished(let value):
            try future.setResult(value)
        case .failed(let error):
            task.markErrorRetrieved()
            try future.setException(error)
        case .pending, .cancelled:
            return
        }
    }
}
