/// A future a task can be suspended on, so that cancelling the task cancels it.
protocol AwaitedFuture: AnyObject, Sendable {
    @discardableResult func cancel(message: String?) -> Bool
}

extension Future: AwaitedFuture {}

extension Future {
    /// Waits for the future from a task running on its loop and returns its result
    /// (or throws its error, or ``CancelledError`` if it is cancelled).
    ///
    /// Cancelling the awaiting task cancels this future. Awaiting from anywhere
    /// but a task on the future's own loop throws ``LoopError/Kind-swift.enum/differentLoop``.
    public var value: Value {
        get async throws {
            if isDone { return try result() }
            guard RunningLoop.isCurrent(loop) else {
                throw LoopError(
                    .differentLoop,
                    "await \(kindLabel.lowercased()).value: the \(kindLabel.lowercased()) is attached to a different loop than the one running this task; await it from a task on its own loop"
                )
            }
            let waiter = LoopTaskContext.current
            if let waiter, waiter.task === self {
                throw LoopError(.invalidState, "await task.value: Task cannot await on itself")
            }
            waiter?.awaiting = self
            defer { waiter?.awaiting = nil }
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Value, any Error>) in
                    if isDone {
                        continuation.resume(with: Result { try result() })
                    } else {
                        addWaiter(.continuation(continuation))
                    }
                }
            } onCancel: { [self] in
                // Any thread: hop to the loop to cancel what the task awaits.
                _ = try? loop.callSoonThreadsafe({ [self] in self.cancel(message: waiter?.cancelMessage) }, from: nil)
            }
        }
    }
}
