/// A future a task can be suspended on, so that cancelling the task cancels it.
@usableFromInline
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
    // nonisolated(nonsending): runs on the awaiting task's executor (the loop), so
    // awaiting costs no executor hop on the way in or out.
    @inlinable
    public nonisolated(nonsending) var value: Value {
        get async throws {
            if isDone { return try result() }
            let waiter = LoopTaskContext.current
            guard RunningLoop.isCurrent(loop) else { throw differentLoopError() }
            if let waiter, waiter.task === self { throw Self.awaitsItselfError() }
            if let waiter, waiter.isOwnSwiftTask {
                if waiter.mustCancel {
                    // Cancelled while it ran: the cancellation is delivered here, at the
                    // first suspension, leaving the future (perhaps shared) untouched.
                    waiter.mustCancel = false
                    throw CancelledError(message: waiter.cancelMessage)
                }
                // A LoopTask's own body: LoopTask.cancel() cancels `awaiting` directly,
                // so no Swift cancellation handler is needed on this, the common path.
                waiter.awaiting = self
                defer { waiter.awaiting = nil }
                let value: Value
                do {
                    value = try await suspendUntilDone()
                } catch {
                    // The error (a cancellation among them) is what this step delivers.
                    waiter.mustCancel = false
                    throw error
                }
                if waiter.mustCancel {
                    // Cancelled after the future completed but before the body resumed.
                    waiter.mustCancel = false
                    throw CancelledError(message: waiter.cancelMessage)
                }
                return value
            }
            // Any other Swift task (a child task, or one the user made with the loop as
            // executor): Swift cancellation cancels this future on the loop thread.
            return try await withTaskCancellationHandler {
                try await suspendUntilDone()
            } onCancel: { [self] in
                _ = try? loop.callSoonThreadsafe({ [self] in self.cancel(message: nil) }, from: nil)
            }
        }
    }

    @inlinable
    nonisolated(nonsending) final func suspendUntilDone() async throws -> Value {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Value, any Error>) in
            if isDone {
                resume(continuation)
            } else {
                addWaiter(.continuation(continuation))
            }
        }
    }

    @usableFromInline
    func differentLoopError() -> LoopError {
        LoopError(
            .differentLoop,
            "await \(kindLabel.lowercased()).value: the \(kindLabel.lowercased()) is attached to a different loop than the one running this task; await it from a task on its own loop"
        )
    }

    @usableFromInline
    static func awaitsItselfError() -> LoopError {
        LoopError(.invalidState, "await task.value: Task cannot await on itself")
    }
}
