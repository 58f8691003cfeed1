/// What a task type offers so that ``allTasks(loop:)`` and ``currentTask(loop:)``
/// can see it. ``LoopTask`` conforms; a third-party task type conforms and calls
/// the lifetime functions (``registerTask(_:)``, ``enterTask(_:loop:)``, …).
public protocol EventLoopTask: AnyObject, Sendable {
    /// The loop the task runs on.
    var loop: any EventLoop { get }
    /// Whether the task has finished (result, error or cancelled).
    var isDone: Bool { get }
    /// The task's name, for messages.
    var name: String { get }
}

/// Makes the tasks that `createTask` returns (asyncio's task factory).
public protocol TaskFactory: Sendable {
    /// Makes and schedules a task running `body` on `loop`.
    func makeTask<T>(
        loop: any EventLoop & TaskExecutor, name: String?, sourceLocation: SourceLocation?,
        _ body: sending @escaping () async throws -> T
    ) -> LoopTask<T>
}
