/// Waits for `future` for at most `timeout` and returns its result (asyncio's `wait_for`).
///
/// When the timeout expires the future is cancelled, this waits until it is done
/// (a task sees ``CancelledError`` and may clean up), then throws ``TimeoutError``;
/// if the task swallowed the cancellation and returned a value, that value is
/// returned instead. A `nil` timeout waits without limit. A zero or negative
/// timeout returns the result of a future that is already done and otherwise
/// cancels it and throws ``TimeoutError``. If the waiting task is cancelled, the
/// future is cancelled too (and awaited) unless it is already done, in which case
/// its result is returned. Call it from a task on the future's loop.
public func waitFor<T>(_ future: Future<T>, timeout: Duration?) async throws -> T {
    let loop = try RunningLoop.get()
    guard future.loop === loop else {
        throw LoopError(
            .differentLoop,
            "waitFor: the future belongs to a different loop than the running one; wait for it from a task on its own loop"
        )
    }
    guard let timeout else { return try await future.value }

    if timeout <= .zero {
        if future.isDone { return try future.result() }
        try await cancelAndWait(future, loop: loop)
        return try resultOrTimeout(future, timeout)
    }

    let waiter = Future<Void>(loop: loop)
    let timer = try loop.callLater(timeout, { try setResultUnlessDone(waiter, ()) }, from: nil)
    defer { timer.cancel() }
    let release = try future.addDoneCallback { _ in try setResultUnlessDone(waiter, ()) }
    do {
        try await waiter.value
    } catch {
        // The waiting task was cancelled. A future that finished meanwhile wins.
        if future.isDone { return try future.result() }
        future.removeDoneCallback(release)
        try await cancelAndWait(future, loop: loop)
        throw error
    }
    if future.isDone { return try future.result() }
    future.removeDoneCallback(release)
    try await cancelAndWait(future, loop: loop)
    return try resultOrTimeout(future, timeout)
}

/// The result of a future that was cancelled by a timeout: ``TimeoutError`` if the
/// cancellation took, else whatever the future ended with.
private func resultOrTimeout<T>(_ future: Future<T>, _ timeout: Duration) throws -> T {
    do {
        return try future.result()
    } catch is CancelledError {
        throw TimeoutError("waitFor: the awaited future did not finish within \(timeout) and was cancelled")
    }
}

/// Cancels `future` and waits until it is done, through a separate waiter so the
/// wait itself stays cancellable (asyncio's `_cancel_and_wait`).
func cancelAndWait(_ future: some AnyLoopFuture, loop: any EventLoop) async throws {
    let waiter = Future<Void>(loop: loop)
    let token = try future.addCompletionCallback { try setResultUnlessDone(waiter, ()) }
    defer { future.removeCompletionCallback(token) }
    future.cancel(message: nil)
    try await waiter.value
}

/// Runs `body` as a task on the running loop and waits for it for at most `delay`
/// (asyncio's `async with timeout(delay)`, and `wait_for` on a coroutine).
///
/// When the delay expires the body is cancelled: it sees ``CancelledError`` at its
/// current `await` and may clean up; then this throws ``TimeoutError`` (unless the
/// body swallowed the cancellation and returned a value, which is returned).
/// A `nil` delay means no limit. The body runs as its own ``LoopTask`` (so
/// ``currentTask(loop:)`` inside it names that task); cancelling the caller
/// cancels the body and waits for it.
///
/// ```swift
/// let page = try await withTimeout(.seconds(5)) { try await download(url) }
/// ```
public func withTimeout<T>(
    _ delay: Duration?, name: String? = nil, file: StaticString = #fileID, line: UInt = #line,
    _ body: sending @escaping () async throws -> T
) async throws -> T {
    let loop = try RunningLoop.get()
    let task = try loop.createTask(name: name, from: loop.debug ? SourceLocation(file, line) : nil, body)
    return try await waitFor(task, timeout: delay)
}

/// Runs `body` as a task on the running loop until loop time `deadline` (see
/// ``EventLoop/time()``) at most (asyncio's `timeout_at`); otherwise as
/// ``withTimeout(_:name:file:line:_:)``. A deadline in the past cancels the body
/// before it starts and throws ``TimeoutError``.
public func withDeadline<T>(
    _ deadline: Double?, name: String? = nil, file: StaticString = #fileID, line: UInt = #line,
    _ body: sending @escaping () async throws -> T
) async throws -> T {
    let loop = try RunningLoop.get()
    guard let deadline else { return try await withTimeout(nil, name: name, file: file, line: line, body) }
    guard deadline.isFinite else {
        throw LoopError(.invalidArgument, "withDeadline: the deadline must be a finite loop time, got \(deadline); use time() plus a delay")
    }
    let seconds = deadline - loop.time()
    let delay: Duration = seconds > 0 ? Duration(seconds: min(seconds, 1e9)) : .zero
    return try await withTimeout(delay, name: name, file: file, line: line, body)
}
