/// A future that mirrors `inner` but protects it from cancellation (asyncio's `shield`).
///
/// Cancelling the returned future (for example by cancelling the task that awaits
/// it) leaves `inner` running to completion; its outcome is then dropped (an error
/// counts as retrieved). Cancelling `inner` itself cancels the returned future.
/// An `inner` that is already done is returned as is.
///
/// ```swift
/// let saved = try await shield(saveTask).value   // cancelling us does not stop the save
/// ```
public func shield<T>(
    _ inner: Future<T>, file: StaticString = #fileID, line: UInt = #line
) throws -> Future<T> {
    if inner.isDone { return inner }
    let loop = inner.loop
    let outer = Future<T>(loop: loop, sourceLocation: loop.debug ? SourceLocation(file, line) : nil)
    let innerDone = try inner.addDoneCallback { inner in
        if outer.isCancelled {
            if !inner.isCancelled { _ = inner.completionError() }
            return
        }
        guard !outer.isDone else { return }
        switch inner.state {
        case .pending:
            return
        case .cancelled:
            outer.cancel()
        case .failed(let error):
            inner.markErrorRetrieved()
            try outer.setException(error)
        case .finished(let value):
            try outer.setResult(value)
        }
    }
    try outer.addDoneCallback { _ in
        if !inner.isDone { inner.removeDoneCallback(innerDone) }
    }
    return outer
}
