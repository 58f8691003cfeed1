/// When ``wait(_:timeout:returnWhen:)`` returns (asyncio's `FIRST_COMPLETED`,
/// `FIRST_EXCEPTION`, `ALL_COMPLETED`).
public enum ReturnWhen: Sendable, Hashable {
    /// As soon as any future is done (or cancelled).
    case firstCompleted
    /// As soon as any future fails with an error; when all are done otherwise.
    /// A cancelled future does not count as a failure.
    case firstException
    /// When every future is done.
    case allCompleted
}

/// Waits until `futures` reach the `returnWhen` condition or `timeout` expires,
/// and returns them split into done and pending (asyncio's `wait`).
///
/// Nothing is thrown for the futures' errors and nothing is cancelled, not even
/// on timeout (the timed-out futures are simply in `pending`). Both arrays keep
/// the order of `futures`; a future passed twice appears once. An empty array
/// throws ``LoopError/Kind-swift.enum/invalidArgument``. Call it from a task on the
/// futures' loop; cancelling that task makes this throw ``CancelledError`` and
/// leaves the futures alone.
public func wait<T>(
    _ futures: [Future<T>], timeout: Duration? = nil, returnWhen: ReturnWhen = .allCompleted
) async throws -> (done: [Future<T>], pending: [Future<T>]) {
    guard !futures.isEmpty else {
        throw LoopError(.invalidArgument, "wait: Set of Tasks/Futures is empty; pass at least one future")
    }
    let loop = try RunningLoop.get()
    let unique = try uniqueFutures(futures, on: loop, caller: "wait", hint: "wait for it from a task on its own loop")

    let waiter = Future<Void>(loop: loop)
    var timer: TimerHandle?
    if let timeout {
        timer = try loop.callLater(timeout, { try setResultUnlessDone(waiter, ()) }, from: nil)
    }
    var remaining = unique.count
    let onCompletion = DoneCallback<T> { future in
        remaining -= 1
        let failed = returnWhen == .firstException && !future.isCancelled && future.completionError() != nil
        if remaining <= 0 || returnWhen == .firstCompleted || failed {
            timer?.cancel()
            try setResultUnlessDone(waiter, ())
        }
    }
    defer {
        timer?.cancel()
        for future in unique { future.removeDoneCallback(onCompletion) }
    }
    for future in unique { try future.addDoneCallback(onCompletion) }
    try await waiter.value

    var done: [Future<T>] = []
    var pending: [Future<T>] = []
    for future in unique {
        if future.isDone { done.append(future) } else { pending.append(future) }
    }
    return (done, pending)
}

/// `futures` with every repeat left out (order kept), each checked to belong to `loop`.
///
/// - Throws: ``LoopError`` `.differentLoop` naming `caller`, then `hint`, for a future
///   of another loop.
func uniqueFutures<T>(
    _ futures: [Future<T>], on loop: any EventLoop, caller: String, hint: String
) throws -> [Future<T>] {
    var unique: [Future<T>] = []
    var seen = Set<ObjectIdentifier>()
    for future in futures where seen.insert(ObjectIdentifier(future)).inserted {
        guard future.loop === loop else {
            throw LoopError(.differentLoop, "\(caller): a future belongs to a different loop than the running one; \(hint)")
        }
        unique.append(future)
    }
    return unique
}
