/// Tasks that live no longer than a scope (asyncio's `TaskGroup`); see
/// ``withLoopTaskGroup(_:)``.
///
/// The first task that fails cancels the others and the body; once every task is
/// done the errors are thrown together as a ``TaskGroupError``. Cancelling the task
/// that runs the scope cancels every task of the group.
public final class LoopTaskGroup: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: used only from the task running the scope, on its loop's thread.
    private let loop: any EventLoop
    private let parent: any CancellableLoopTask
    private var tasks: [ObjectIdentifier: any AnyLoopFuture] = [:]
    private var errors: [any Error] = []
    private var exiting = false
    private var aborting = false
    private var parentCancelRequested = false
    private var allDone: Future<Void>?

    init(loop: any EventLoop, parent: any CancellableLoopTask) {
        self.loop = loop
        self.parent = parent
    }

    /// Starts `body` as a task of the group (see ``EventLoop/createTask(name:from:_:)``).
    ///
    /// Throws ``LoopError/Kind-swift.enum/invalidState`` when the group is finished
    /// (its scope has ended and its tasks are done) or shutting down (a task failed
    /// or the scope was cancelled).
    @discardableResult
    public func createTask<T>(
        name: String? = nil, file: StaticString = #fileID, line: UInt = #line,
        _ body: sending @escaping () async throws -> T
    ) throws -> LoopTask<T> {
        if exiting && tasks.isEmpty { throw LoopError(.invalidState, "TaskGroup \(self) is finished") }
        if aborting { throw LoopError(.invalidState, "TaskGroup \(self) is shutting down") }
        let task = try loop.createTask(name: name, from: loop.debug ? SourceLocation(file, line) : nil, body)
        guard !task.isDone else {
            // An eager task factory ran it to completion already.
            try taskDone(task)
            return task
        }
        tasks[ObjectIdentifier(task)] = task
        try task.addDoneCallback { [self] task in try taskDone(task) }
        return task
    }

    /// How many of the group's tasks are not done.
    public var pendingCount: Int { tasks.count }

    private func taskDone<T>(_ task: Future<T>) throws {
        tasks.removeValue(forKey: ObjectIdentifier(task))
        if let allDone, tasks.isEmpty, !allDone.isDone { try allDone.setResult(()) }
        if task.isCancelled { return }
        guard let error = task.completionError() else { return }
        errors.append(error)
        if parent.isDone {
            loop.callExceptionHandler(ExceptionContext(
                message: "Task \(task) has errored out but its parent task \(parent.name) is already completed",
                error: error, task: task))
            return
        }
        if !aborting && !parentCancelRequested {
            // Stop whatever the scope's body awaits now: the group is failing.
            abort()
            parentCancelRequested = true
            parent.cancel(message: nil)
        }
    }

    private func abort() {
        aborting = true
        for task in tasks.values where !task.isDone { task.cancel(message: nil) }
    }

    /// The end of the scope (asyncio's `__aexit__`): waits for every task, then
    /// decides what the scope throws. Returns normally when the body's own outcome
    /// (if it threw, that error) is what the scope ends with.
    func exit(bodyError: (any Error)?) async throws {
        exiting = true
        var propagateCancellation = bodyError as? CancelledError
        if bodyError != nil, !aborting { abort() }
        while !tasks.isEmpty {
            let waiter = allDone ?? Future<Void>(loop: loop)
            allDone = waiter
            do {
                try await waiter.value
            } catch let error as CancelledError {
                if !aborting {
                    // The task running the scope is cancelled while its tasks still run.
                    propagateCancellation = error
                    abort()
                }
            }
            allDone = nil
        }
        // Withdrawn after the wait (as asyncio 3.12+), so a request made during the wait counts too.
        if parentCancelRequested, parent.uncancel() == 0 { propagateCancellation = nil }
        if let propagateCancellation, errors.isEmpty { throw propagateCancellation }
        if let bodyError, !(bodyError is CancelledError) { errors.append(bodyError) }
        if !errors.isEmpty {
            let all = errors
            errors = []
            throw TaskGroupError(errors: all)
        }
    }

    public var description: String {
        var text = "<LoopTaskGroup"
        if !tasks.isEmpty { text += " tasks=\(tasks.count)" }
        if !errors.isEmpty { text += " errors=\(errors.count)" }
        if aborting { text += " cancelling" } else if exiting { text += " exiting" } else { text += " entered" }
        return text + ">"
    }
}

/// Runs `body` with a ``LoopTaskGroup`` in the current task and returns its result
/// once every task of the group is done (asyncio's `async with TaskGroup() as tg:`).
///
/// The first task that fails cancels the other tasks and the body; the errors of all
/// of them (the body's last) are then thrown as one ``TaskGroupError``. If the task
/// running this is cancelled, the group's tasks are cancelled and waited for, and
/// ``CancelledError`` is thrown. Call it from a ``LoopTask``; elsewhere it throws
/// ``LoopError/Kind-swift.enum/invalidState``.
///
/// ```swift
/// try await withLoopTaskGroup { group in
///     group.createTask { try await fetch(1) }
///     group.createTask { try await fetch(2) }
/// }
/// ```
public func withLoopTaskGroup<R>(_ body: (LoopTaskGroup) async throws -> R) async throws -> R {
    let loop = try RunningLoop.get()
    guard let parent = currentLoopTask() else {
        throw LoopError(.invalidState, "TaskGroup cannot determine the parent task; enter it from a task running on the loop")
    }
    let group = LoopTaskGroup(loop: loop, parent: parent)
    let outcome: Result<R, any Error>
    do {
        outcome = .success(try await body(group))
    } catch {
        outcome = .failure(error)
    }
    var bodyError: (any Error)?
    if case .failure(let error) = outcome { bodyError = error }
    try await group.exit(bodyError: bodyError)
    return try outcome.get()
}
