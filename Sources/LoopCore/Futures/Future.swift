/// The error a cancelled future or task produces (asyncio's `CancelledError`).
public struct CancelledError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message given to `cancel(message:)`, if any.
    public let message: String?

    public init(message: String? = nil) { self.message = message }

    public var description: String { message.map { "CancelledError: \($0)" } ?? "CancelledError" }
}

/// A done callback with an identity, so the same callback can be registered on a
/// future more than once and removed with every registration at once
/// (asyncio's `remove_done_callback(fn)`; Swift closures have no identity of their own).
public final class DoneCallback<Value>: @unchecked Sendable {
    // @unchecked: used only on its future's loop thread.
    @usableFromInline let body: (Future<Value>) throws -> Void

    /// Wraps `body`, which receives the completed future.
    public init(_ body: @escaping (Future<Value>) throws -> Void) { self.body = body }
}

/// A released future, as named in an exception context (a future cannot hand
/// itself out while it is being destroyed).
public final class ReleasedFuture: CustomStringConvertible, Sendable {
    public let description: String
    public let identifier: ObjectIdentifier

    init(description: String, identifier: ObjectIdentifier) {
        self.description = description
        self.identifier = identifier
    }
}

/// A result that will be available later, bound to one loop (asyncio's `Future`).
///
/// Done callbacks are always scheduled with `callSoon`, never called inline. An error
/// that nobody retrieves is reported to the loop's exception handler exactly once,
/// when the future is released. A future belongs to its loop's thread.
///
/// The completion and await paths are inlinable so that they are specialised in the
/// caller's module: unspecialised generic code would look up generic metadata on
/// every call.
public class Future<Value>: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: a future is confined to its loop's thread, like every loop-bound object.
    @usableFromInline
    enum State {
        case pending
        case finished(Value)
        case failed(any Error)
        case cancelled(CancelledError)
    }

    /// The loop this future belongs to.
    public let loop: any EventLoop
    /// Where the future was created (debug mode only).
    public let sourceLocation: SourceLocation?
    // @exclusivity(unchecked) here and below: loop-thread state on the await path.
    @usableFromInline @exclusivity(unchecked) final var state: State = .pending
    /// Whether `state` is no longer pending, kept apart so that code which is not
    /// specialised for `Value` (deinitialisers) can tell without a metadata lookup.
    @usableFromInline @exclusivity(unchecked) final var settled = false
    /// Who waits for the outcome, in registration order: done callbacks (scheduled
    /// with callSoon) and suspended awaiters (resumed, which enqueues their job on
    /// the loop, so they too run in a later iteration). The first one is kept inline
    /// because most futures have exactly one.
    @usableFromInline
    enum Waiter {
        case callback(DoneCallback<Value>)
        case continuation(UnsafeContinuation<Value, any Error>)
    }
    @usableFromInline @exclusivity(unchecked) final var firstWaiter: Waiter?
    @usableFromInline @exclusivity(unchecked) final var moreWaiters: [Waiter] = []
    /// The future failed and nobody has retrieved the error yet: it is reported at
    /// release. A plain flag, so that releasing a future does not inspect `state`
    /// (which costs a generic metadata lookup in unspecialised code).
    @usableFromInline @exclusivity(unchecked) final var errorUnretrieved = false
    /// "Future" or "Task": how this object names itself in messages.
    @usableFromInline let kindLabel: String
    /// Tasks complete through their body only: setResult/setException refuse.
    @usableFromInline let completesThroughBody: Bool

    /// A pending future bound to `loop` (asyncio's private `Future(loop=)` constructor,
    /// public here so third-party loops and tasks can reuse it).
    @inlinable
    public convenience init(loop: any EventLoop, sourceLocation: SourceLocation? = nil) {
        self.init(loop: loop, sourceLocation: sourceLocation, kindLabel: "Future", completesThroughBody: false)
    }

    // Inlinable so that initialising the generic stored properties is specialised in
    // the caller (unspecialised, each costs a generic metadata lookup).
    @inlinable
    init(loop: any EventLoop, sourceLocation: SourceLocation?, kindLabel: String, completesThroughBody: Bool) {
        self.loop = loop
        self.sourceLocation = sourceLocation
        self.kindLabel = kindLabel
        self.completesThroughBody = completesThroughBody
    }

    deinit {
        guard errorUnretrieved, case .failed(let error) = state else { return }
        var context = ExceptionContext(
            message: "\(kindLabel) exception was never retrieved",
            error: error,
            future: ReleasedFuture(description: describe(), identifier: ObjectIdentifier(self))
        )
        if let sourceLocation { context.sourceTraceback = [sourceLocation] }
        loop.callExceptionHandler(context)
    }

    /// Whether the future has a result, an error, or was cancelled.
    @inlinable
    public final var isDone: Bool { settled }

    /// Whether the future was cancelled.
    @inlinable
    public final var isCancelled: Bool {
        if case .cancelled = state { return true }
        return false
    }

    /// The result; rethrows the future's error; throws ``CancelledError`` if cancelled
    /// and ``LoopError/Kind-swift.enum/invalidState`` if not done yet.
    @inlinable
    public final func result() throws -> Value {
        switch state {
        case .pending:
            throw Self.notDoneError("result")
        case .finished(let value):
            return value
        case .failed(let error):
            errorUnretrieved = false
            throw error
        case .cancelled(let error):
            throw error
        }
    }

    /// The error the future failed with, or `nil` if it has a result. Throws
    /// ``CancelledError`` if cancelled and ``LoopError/Kind-swift.enum/invalidState`` if pending.
    @inlinable
    public final func exception() throws -> (any Error)? {
        switch state {
        case .pending:
            throw Self.notDoneError("exception")
        case .finished:
            return nil
        case .failed(let error):
            errorUnretrieved = false
            return error
        case .cancelled(let error):
            throw error
        }
    }

    /// Completes the future with `value` and schedules its done callbacks.
    /// Throws ``LoopError/Kind-swift.enum/invalidState`` if it is already done.
    @inlinable
    public final func setResult(_ value: Value) throws {
        try requirePending("setResult")
        try complete(.finished(value))
    }

    /// Fails the future with `error` and schedules its done callbacks.
    /// Throws ``LoopError/Kind-swift.enum/invalidState`` if it is already done.
    @inlinable
    public final func setException(_ error: any Error) throws {
        try requirePending("setException")
        if let cancelled = error as? CancelledError {
            throw Self.cancelledAsExceptionError(cancelled)
        }
        try complete(.failed(error))
    }

    /// Moves a pending future to its final state and schedules its done callbacks.
    @inlinable
    final func complete(_ final: State) throws {
        if case .failed = final { errorUnretrieved = true }
        state = final
        settled = true
        try scheduleCallbacks()
    }

    /// Cancels a pending future and schedules its done callbacks; returns `false`
    /// (changing nothing) if it is already done.
    @discardableResult
    public func cancel(message: String? = nil) -> Bool {
        guard case .pending = state else { return false }
        do {
            try complete(.cancelled(CancelledError(message: message)))
        } catch {
            loop.callExceptionHandler(ExceptionContext(
                message: "Future.cancel(): done callbacks could not be scheduled", error: error, future: self))
        }
        return true
    }

    /// Calls `body` with this future once it is done, from a later loop iteration
    /// (also when it is already done). Throws when the loop is closed. Returns the
    /// registration, which ``removeDoneCallback(_:)`` accepts.
    @discardableResult
    public func addDoneCallback(_ body: @escaping (Future<Value>) throws -> Void) throws -> DoneCallback<Value> {
        let callback = DoneCallback(body)
        try addDoneCallback(callback)
        return callback
    }

    /// Registers `callback` (again, if it is already registered): it runs once per
    /// registration, from a later loop iteration, when the future is done.
    @inlinable
    public final func addDoneCallback(_ callback: DoneCallback<Value>) throws {
        if isDone {
            try loop.callSoon({ [self] in try callback.body(self) }, from: nil)
        } else {
            addWaiter(.callback(callback))
        }
    }

    /// Removes every registration of `callback` that has not run yet; returns how many.
    @discardableResult
    public func removeDoneCallback(_ callback: DoneCallback<Value>) -> Int {
        func matches(_ waiter: Waiter) -> Bool {
            if case .callback(let registered) = waiter { return registered === callback }
            return false
        }
        var removed = 0
        if let first = firstWaiter, matches(first) {
            firstWaiter = nil
            removed += 1
        }
        let before = moreWaiters.count
        moreWaiters.removeAll(where: matches)
        removed += before - moreWaiters.count
        if firstWaiter == nil, !moreWaiters.isEmpty { firstWaiter = moreWaiters.removeFirst() }
        return removed
    }

    /// Resumes an awaiter with the outcome of this done future.
    @inlinable
    final func resume(_ continuation: UnsafeContinuation<Value, any Error>) {
        switch state {
        case .finished(let value): continuation.resume(returning: value)
        case .failed(let error):
            errorUnretrieved = false
            continuation.resume(throwing: error)
        case .cancelled(let error): continuation.resume(throwing: error)
        case .pending: continuation.resume(throwing: Self.notDoneError("await"))
        }
    }

    /// Adds a waiter; the future must be pending.
    @inlinable
    final func addWaiter(_ waiter: Waiter) {
        if firstWaiter == nil && moreWaiters.isEmpty {
            firstWaiter = waiter
        } else {
            moreWaiters.append(waiter)
        }
    }

    /// Marks the error as seen so it is not reported at release (for awaiters and tasks
    /// that consume the outcome through ``result()`` on another path).
    public func markErrorRetrieved() { errorUnretrieved = false }

    public var description: String { describe() }

    /// How the future names itself in its description.
    var displayName: String { kindLabel }

    func describe() -> String {
        let stateText: String
        switch state {
        case .pending: stateText = "pending"
        case .finished(let value): stateText = "finished result=\(value)"
        case .failed(let error): stateText = "finished error=\(error)"
        case .cancelled: stateText = "cancelled"
        }
        var text = "<\(displayName) \(stateText)"
        if let sourceLocation { text += " created at \(sourceLocation)" }
        return text + ">"
    }

    @inlinable
    final func requirePending(_ call: StaticString) throws {
        if completesThroughBody { throw taskCompletionError(call) }
        guard case .pending = state else { throw alreadyDoneError(call) }
    }

    // Error construction stays out of line: it is cold, and not worth specialising.
    @usableFromInline
    static func notDoneError(_ call: StaticString) -> LoopError {
        LoopError(.invalidState, "Future.\(call)(): the outcome is not set yet; wait for the future to be done")
    }

    @usableFromInline
    static func cancelledAsExceptionError(_ cancelled: CancelledError) -> LoopError {
        LoopError(.invalidArgument, "Future.setException(): a CancelledError cannot be set as an exception (\(cancelled)); call cancel() instead")
    }

    @usableFromInline
    func alreadyDoneError(_ call: StaticString) -> LoopError {
        LoopError(.invalidState, "\(kindLabel).\(call)(): invalid state, already done (\(describe())); a future completes once")
    }

    @usableFromInline
    func taskCompletionError(_ call: StaticString) -> LoopError {
        let fix = "\(call)" == "setResult" ? "return from the body instead" : "throw from the body instead"
        return LoopError(.invalidState, "LoopTask.\(call)(): Task does not support \(call) operation; \(fix)")
    }

    @inlinable
    final func scheduleCallbacks() throws {
        guard let first = firstWaiter else { return }
        firstWaiter = nil
        let more = moreWaiters
        moreWaiters = []
        var failure: (any Error)?
        func notify(_ waiter: Waiter) {
            switch waiter {
            case .continuation(let continuation):
                resume(continuation)
            case .callback(let callback):
                do {
                    try loop.callSoon({ [self] in try callback.body(self) }, from: nil)
                } catch {
                    failure = failure ?? error
                }
            }
        }
        notify(first)
        for waiter in more { notify(waiter) }
        if let failure { throw failure }
    }
}
