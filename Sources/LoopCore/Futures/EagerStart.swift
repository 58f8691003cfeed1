// Eager task start (asyncio 3.12's `eager_task_factory` and `create_task(eager_start=)`).
//
// An eagerly started ``LoopTask`` runs its body at once, inside `createTask`, up to
// its first suspension; a body that finishes without suspending is done when
// `createTask` returns and never passes through the ready queue. Its done
// callbacks are still scheduled with `callSoon`. Eager start needs the loop to be
// running on the calling thread (as asyncio needs a running loop); otherwise the
// task starts in a later iteration like any other.
//
// How: the body's Swift task is made with `Task.immediate(executorPreference:)`
// (SE-0472, Swift 6.2): a nonisolated body starts synchronously on the calling
// thread — the loop's — and, once it suspends, resumes through the loop, its task
// executor, like every task. The creating task's step goes on after the first
// suspension, exactly where asyncio's `create_task` returns.

/// The task factory that starts every task eagerly (asyncio's `eager_task_factory`):
/// `loop.setTaskFactory(eagerTaskFactory)`.
public let eagerTaskFactory: any TaskFactory = EagerTaskFactory()

/// Makes ``LoopTask``s that start eagerly; see ``eagerTaskFactory``.
public struct EagerTaskFactory: TaskFactory {
    public init() {}

    public func makeTask<T>(
        loop: any EventLoop & TaskExecutor, name: String?, sourceLocation: SourceLocation?,
        _ body: sending @escaping () async throws -> T
    ) -> LoopTask<T> {
        LoopTask(loop: loop, name: name, sourceLocation: sourceLocation, eagerStart: true, body)
    }
}

/// Runs `body` as a task on the running loop, started eagerly or not as
/// `eagerStart` says, whatever the loop's task factory (asyncio 3.14's
/// `create_task(coro, eager_start=)`). Throws ``LoopError/Kind-swift.enum/noRunningLoop``
/// when no loop runs on this thread.
public func createTask<T>(
    name: String? = nil, eagerStart: Bool, file: StaticString = #fileID, line: UInt = #line,
    _ body: sending @escaping () async throws -> T
) throws -> LoopTask<T> {
    let loop = try RunningLoop.get()
    if let base = loop as? BaseEventLoop {
        return try base.createTask(name: name, eagerStart: eagerStart, file: file, line: line, body)
    }
    // A loop of another kind makes its tasks its own way; eager start is BaseEventLoop's.
    return try loop.createTask(name: name, from: loop.debug ? SourceLocation(file, line) : nil, body)
}
