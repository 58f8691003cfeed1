/// The deadline of a ``timeout(_:_:)`` or ``timeoutAt(_:_:)`` scope (asyncio's
/// `Timeout`), which the body may move with ``reschedule(_:)``.
///
/// When the deadline passes, the task running the scope is cancelled; the scope
/// turns the resulting ``CancelledError`` into ``TimeoutError``. A cancellation
/// that came from elsewhere stays a ``CancelledError``.
public final class LoopTimeout: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: used only from the task running the scope, on its loop's thread.
    enum State: String {
        case created, active, expiring, expired, finished
    }

    private let loop: any EventLoop
    private let task: any CancellableLoopTask
    private var deadline: Double?
    private var state = State.created
    private var handle: Handle?
    private var cancellingAtEntry = 0

    init(when: Double?, loop: any EventLoop, task: any CancellableLoopTask) {
        deadline = when
        self.loop = loop
        self.task = task
    }

    /// The deadline, in loop time (see ``EventLoop/time()``); `nil` for none.
    public var when: Double? { deadline }

    /// Whether the deadline passed and the scope's task was cancelled for it.
    public var expired: Bool { state == .expiring || state == .expired }

    /// Moves the deadline to loop time `when` (`nil`: none); one already past cancels
    /// the body at the next iteration. Throws ``LoopError/Kind-swift.enum/invalidState``
    /// outside the scope's body or after the deadline passed, and
    /// ``LoopError/Kind-swift.enum/invalidArgument`` for a deadline that is not finite.
    public func reschedule(_ when: Double?) throws {
        guard state == .active else {
            if state == .created { throw LoopError(.invalidState, "Timeout has not been entered") }
            throw LoopError(.invalidState, "Cannot change state of \(state.rawValue) Timeout")
        }
        if let when, !when.isFinite {
            throw LoopError(.invalidArgument, "Timeout.reschedule: the deadline must be a finite loop time, got \(when); use time() plus a delay, or nil")
        }
        deadline = when
        handle?.cancel()
        handle = nil
        guard let when else { return }
        if when <= loop.time() {
            handle = try loop.callSoon({ [self] in onTimeout() }, from: nil)
        } else {
            handle = try loop.callAt(when, { [self] in onTimeout() }, from: nil)
        }
    }

    /// Moves the deadline to `delay` from now (`nil`: none); see ``reschedule(_:)``.
    public func reschedule(after delay: Duration?) throws {
        try reschedule(delay.map { loop.time() + $0.loopSeconds })
    }

    func enter() throws {
        state = .active
        cancellingAtEntry = task.cancelling
        try reschedule(deadline)
    }

    /// Ends the scope; turns the cancellation this scope caused into ``TimeoutError``.
    func exit(bodyError: (any Error)?) throws {
        handle?.cancel()
        handle = nil
        if state == .expiring {
            state = .expired
            if task.uncancel() <= cancellingAtEntry, bodyError is CancelledError {
                throw TimeoutError("timeout: the deadline passed and the body was cancelled")
            }
        } else if state == .active {
            state = .finished
        }
    }

    private func onTimeout() {
        task.cancel(message: nil)
        state = .expiring
        handle = nil
    }

    public var description: String {
        var text = "<LoopTimeout [\(state.rawValue)]"
        if state == .active { text += " when=\(deadline.map { "\($0)" } ?? "nil")" }
        return text + ">"
    }
}

extension Duration {
    /// The duration in seconds, as loop time counts them.
    var loopSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

/// Runs `body` in the current task with a deadline `delay` from now (asyncio's
/// `async with timeout(delay) as cm:`); `nil` means none until the body reschedules.
///
/// When the deadline passes the task is cancelled: the body sees ``CancelledError``
/// at its current `await` and may clean up; the scope then throws ``TimeoutError``.
/// Unlike ``withTimeout(_:name:file:line:_:)`` the body runs in the calling task, not
/// a new one. Call it from a ``LoopTask``; elsewhere it throws
/// ``LoopError/Kind-swift.enum/invalidState`` ("Timeout should be used inside a task").
///
/// ```swift
/// try await timeout(.seconds(5)) { scope in
///     let header = try await reader.readLine()
///     try scope.reschedule(after: .seconds(30))   // the body may take longer
///     try await process(header)
/// }
/// ```
public func timeout<R>(_ delay: Duration?, _ body: (LoopTimeout) async throws -> R) async throws -> R {
    let loop = try RunningLoop.get()
    return try await timeoutAt(delay.map { loop.time() + $0.loopSeconds }, body)
}

/// Runs `body` in the current task until loop time `when` at most (asyncio's
/// `timeout_at(when)`); otherwise as ``timeout(_:_:)``.
public func timeoutAt<R>(_ when: Double?, _ body: (LoopTimeout) async throws -> R) async throws -> R {
    let loop = try RunningLoop.get()
    guard let task = currentLoopTask() else {
        throw LoopError(.invalidState, "Timeout should be used inside a task; call it from a task running on the loop")
    }
    let scope = LoopTimeout(when: when, loop: loop, task: task)
    try scope.enter()
    let outcome: Result<R, any Error>
    do {
        outcome = .success(try await body(scope))
    } catch {
        outcome = .failure(error)
    }
    var bodyError: (any Error)?
    if case .failure(let error) = outcome { bodyError = error }
    try scope.exit(bodyError: bodyError)
    return try outcome.get()
}
