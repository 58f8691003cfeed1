/// Wraps a thread-safe future in a ``Future`` of `loop` (asyncio's `wrap_future`), so a
/// task can `await` it.
///
/// When `source` is done, its outcome is copied to the loop future on the loop's thread
/// (through `callSoonThreadsafe`). Cancelling the loop future cancels `source` (from
/// the loop's next iteration), which stops work that has not started yet; work already
/// running is never interrupted, and its outcome is then dropped. `loop` defaults to
/// the running loop; without one this throws ``LoopError/Kind-swift.enum/noRunningLoop``.
///
/// ```swift
/// let value = try await wrapFuture(pool.submit { expensive() }).value
/// ```
public func wrapFuture<T: Sendable>(
    _ source: ConcurrentFuture<T>, loop: (any EventLoop)? = nil,
    file: StaticString = #fileID, line: UInt = #line
) throws -> Future<T> {
    let loop = try loop ?? RunningLoop.get()
    let destination = loop.createFuture(of: T.self, from: loop.debug ? SourceLocation(file, line) : nil)
    try chain(source, to: destination)
    return destination
}

/// Links `source` to `destination` (asyncio's `_chain_future` for a thread-safe source
/// and a loop destination).
func chain<T: Sendable>(_ source: ConcurrentFuture<T>, to destination: Future<T>) throws {
    let loop = destination.loop
    try destination.addDoneCallback { destination in
        if destination.isCancelled { source.cancel() }
    }
    source.addDoneCallback { source in
        // A closed loop can take nothing: the outcome has nowhere to go (as asyncio).
        _ = try? loop.callSoonThreadsafe({ copyOutcome(of: source, to: destination) }, from: nil)
    }
}

/// Copies a finished thread-safe future's outcome to a loop future, unless that was
/// cancelled (or completed) meanwhile: a cancelled await never receives the worker's result.
private func copyOutcome<T: Sendable>(of source: ConcurrentFuture<T>, to destination: Future<T>) {
    guard !destination.isDone else { return }
    if source.isCancelled {
        destination.cancel()
        return
    }
    do {
        try destination.setResult(source.result(timeout: .zero))
    } catch let cancelled as CancelledError {
        destination.cancel(message: cancelled.message)
    } catch {
        try? destination.setException(error)
    }
}
