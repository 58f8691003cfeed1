/// Suspends the current task for `delay` of loop time (asyncio's `sleep`).
///
/// A zero or negative delay just yields to the loop: callbacks already queued
/// run before the task resumes. Call it from a task running on a loop;
/// without a running loop it throws ``LoopError/Kind-swift.enum/noRunningLoop``.
/// Cancelling the task while it sleeps makes this throw ``CancelledError``.
public func sleep(_ delay: Duration) async throws {
    try await RunningLoop.get().sleep(delay)
}

/// Suspends the current task for `delay` of loop time and returns `result`
/// (asyncio's `sleep(delay, result)`).
public func sleep<T>(_ delay: Duration, result: T) async throws -> T {
    try await RunningLoop.get().sleep(delay)
    return result
}

extension EventLoop {
    /// Suspends the current task for `delay` of this loop's time; the loop must be
    /// the one running the task. A zero or negative delay just yields to the loop.
    public func sleep(_ delay: Duration) async throws {
        guard let running = RunningLoop.current, running === self else {
            throw LoopError(
                .differentLoop,
                "sleep(\(delay)): this loop is not the one running the current task; sleep on the running loop"
            )
        }
        if delay <= .zero {
            try await yieldOneIteration(self)
            return
        }
        let wakeup = Future<Void>(loop: self)
        let timer = try callLater(delay, { try setResultUnlessDone(wakeup, ()) }, from: nil)
        defer { timer.cancel() }
        try await wakeup.value
    }

    /// Suspends the current task for `delay` of this loop's time and returns `result`.
    public func sleep<T>(_ delay: Duration, result: T) async throws -> T {
        try await sleep(delay)
        return result
    }
}

/// asyncio's bare `yield` (`__sleep0`): suspends for exactly one iteration, so the
/// callbacks already queued run first. The wakeup is a future completed as soon as
/// the task's current step returns (so its next step is queued for the next
/// iteration); cancelling the task cancels it like any other await. Loops that do
/// not derive from ``BaseEventLoop`` complete it from a callback instead.
private func yieldOneIteration(_ loop: any EventLoop) async throws {
    let wakeup = Future<Void>(loop: loop)
    if let base = loop as? BaseEventLoop, base.isOnLoopThread {
        base.afterCurrentJob { try? setResultUnlessDone(wakeup, ()) }
    } else {
        try loop.callSoon({ try setResultUnlessDone(wakeup, ()) }, from: nil)
    }
    try await wakeup.value
}

/// Completes `future` with `value` unless it is already done (a cancelled waiter
/// stays cancelled): asyncio's `_set_result_unless_cancelled` / `_release_waiter`.
func setResultUnlessDone<T>(_ future: Future<T>, _ value: T) throws {
    guard !future.isDone else { return }
    try future.setResult(value)
}
