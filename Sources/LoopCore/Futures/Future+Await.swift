extension Future {
    /// Waits for the future from a task running on its loop and returns its result
    /// (or throws its error, or ``CancelledError`` if it is cancelled).
    ///
    /// Cancelling the awaiting task cancels this future. Awaiting from anywhere
    /// but a task on the future's own loop throws ``LoopError/Kind-swift.enum/differentLoop``.
    public var value: Value {
        get async throws {
            if isDone { return try result() }
            guard let running = RunningLoop.current, running === loop else {
                throw LoopError(
                    .differentLoop,
                    "await \(kindLabel.lowercased()).value: the \(kindLabel.lowercased()) is attached to a different loop than the one running this task; await it from a task on its own loop"
                )
            }
            let waiter = LoopTaskContext.current
            if let waiter, waiter.task === self {
                throw LoopError(.invalidState, "await task.value: Task cannot await on itself")
            }
            waiter?.waitingOn = { [weak self] message in self?.cancel(message: message) }
            defer { waiter?.waitingOn = nil }
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Value, any Error>) in
                    do {
                        try addDoneCallback { future in continuation.resume(with: Result { try future.result() }) }
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            } onCancel: { [weak self] in
                guard let self else { return }
                let loop = self.loop
                _ = try? loop.callSoonThreadsafe(
                    { [weak self] in self?.cancel(message: waiter?.cancelMessage) }, from: nil)
            }
        }
    }
}
