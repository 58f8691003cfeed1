import Synchronization

/// The tasks of one loop: the ``LoopTask``s it keeps alive while they run, the
/// third-party tasks registered through ``registerTask(_:)``, and the task entered
/// through ``enterTask(_:loop:)`` (asyncio's `_scheduled_tasks` and `_current_tasks`).
///
/// Running ``LoopTask``s are linked through their contexts (an intrusive list: O(1)
/// to add and remove, nothing to grow or hash) and held strongly until they finish or
/// the loop closes; registered third-party tasks are held weakly.
public final class TaskTable: @unchecked Sendable {
    // @unchecked: every field is read and written with `lock` held.
    private struct WeakTask {
        weak var task: (any EventLoopTask)?
    }

    private let lock = Mutex<Void>(())
    private var ownedHead: LoopTaskContext?
    private var registered: [ObjectIdentifier: WeakTask] = [:]
    private var enteredTask: (any EventLoopTask)?

    public init() {}

    /// Lists a running LoopTask (through its context, which holds the task).
    @usableFromInline
    func own(_ context: LoopTaskContext) {
        lock.withLock { _ in
            context.nextOwned = ownedHead
            ownedHead?.previousOwned = context
            ownedHead = context
        }
    }

    /// Unlists a LoopTask that finished. Its context's task reference is cut by the caller.
    @usableFromInline
    func release(_ context: LoopTaskContext) {
        lock.withLock { _ in
            guard context.isOwned(by: ownedHead) else { return }
            let next = context.nextOwned
            if let previous = context.previousOwned { previous.nextOwned = next } else { ownedHead = next }
            next?.previousOwned = context.previousOwned
            context.nextOwned = nil
            context.previousOwned = nil
        }
    }

    func register(_ task: any EventLoopTask) {
        lock.withLock { _ in registered[ObjectIdentifier(task)] = WeakTask(task: task) }
    }

    func unregister(_ task: any EventLoopTask) {
        lock.withLock { _ in _ = registered.removeValue(forKey: ObjectIdentifier(task)) }
    }

    /// The tasks that are not done.
    func pending() -> [any EventLoopTask] {
        let tasks = lock.withLock { _ -> [any EventLoopTask] in
            var tasks: [any EventLoopTask] = []
            var owned = Set<ObjectIdentifier>()
            var node = ownedHead
            while let context = node {
                if let task = context.task as? any EventLoopTask {
                    tasks.append(task)
                    owned.insert(ObjectIdentifier(task))
                }
                node = context.nextOwned
            }
            for weak in registered.values {
                if let task = weak.task, !owned.contains(ObjectIdentifier(task)) { tasks.append(task) }
            }
            return tasks
        }
        return tasks.filter { !$0.isDone }
    }

    var entered: (any EventLoopTask)? {
        get { lock.withLock { _ in enteredTask } }
        set { lock.withLock { _ in enteredTask = newValue } }
    }

    /// Empties the table when its loop closes; returns the contexts of the tasks it
    /// kept alive, unlinked, so the caller cuts them off from their bodies outside
    /// the lock (a pending task is then released and reports that it was destroyed).
    func removeAll() -> [LoopTaskContext] {
        lock.withLock { _ -> [LoopTaskContext] in
            var contexts: [LoopTaskContext] = []
            var node = ownedHead
            while let context = node {
                contexts.append(context)
                node = context.nextOwned
                context.nextOwned = nil
                context.previousOwned = nil
            }
            ownedHead = nil
            registered.removeAll()
            enteredTask = nil
            return contexts
        }
    }
}

/// Task tables of loops that do not store their own (see ``EventLoop/taskTable``).
enum FallbackTaskTables {
    private static let tables = Mutex<[ObjectIdentifier: TaskTable]>([:])

    static func table(for loop: any EventLoop) -> TaskTable {
        let key = ObjectIdentifier(loop as AnyObject)
        return tables.withLock { tables in
            if let table = tables[key] { return table }
            let table = TaskTable()
            tables[key] = table
            return table
        }
    }
}

extension EventLoop {
    /// The table of this loop's tasks. Loops that derive from ``BaseEventLoop`` store
    /// their own; others get one from a process-wide map by default.
    public var taskTable: TaskTable { FallbackTaskTables.table(for: self) }
}

// MARK: Public task-lifetime API (asyncio's extending guide)

/// Lists `task` among its loop's tasks (asyncio's `_register_task`). Call it from a
/// third-party task's initialiser. The task is held weakly and drops out of
/// ``allTasks(loop:)`` once it is done.
public func registerTask(_ task: any EventLoopTask) { task.loop.taskTable.register(task) }

/// Removes `task` from its loop's tasks (asyncio's `_unregister_task`).
public func unregisterTask(_ task: any EventLoopTask) { task.loop.taskTable.unregister(task) }

/// Makes `task` the current task of `loop` while it runs a step (asyncio's `_enter_task`).
/// Throws ``LoopError/Kind-swift.enum/invalidState`` if another task is current.
public func enterTask(_ task: any EventLoopTask, loop: any EventLoop) throws {
    if let current = try currentTask(loop: loop) {
        throw LoopError(
            .invalidState,
            "enterTask: Cannot enter into task \(task.name) while another task \(current.name) is being executed; leave it first"
        )
    }
    loop.taskTable.entered = task
}

/// Ends the step of `task` on `loop` (asyncio's `_leave_task`). Throws
/// ``LoopError/Kind-swift.enum/invalidState`` if `task` is not the current task.
public func leaveTask(_ task: any EventLoopTask, loop: any EventLoop) throws {
    let current = loop.taskTable.entered
    guard let current, current === task else {
        throw LoopError(
            .invalidState,
            "leaveTask: Leaving task \(task.name) does not match the current task \(current?.name ?? "nil"); leave the task you entered"
        )
    }
    loop.taskTable.entered = nil
}

/// The task running now on `loop` (default: the running loop), or `nil` in a plain
/// callback. Throws ``LoopError/Kind-swift.enum/noRunningLoop`` without a loop.
public func currentTask(loop: (any EventLoop)? = nil) throws -> (any EventLoopTask)? {
    let loop = try loop ?? RunningLoop.get()
    if let entered = loop.taskTable.entered { return entered }
    if let context = LoopTaskContext.current, let task = context.task as? any EventLoopTask, task.loop === loop {
        return task
    }
    return nil
}

/// The tasks of `loop` (default: the running loop) that are not done.
/// Throws ``LoopError/Kind-swift.enum/noRunningLoop`` without a loop.
public func allTasks(loop: (any EventLoop)? = nil) throws -> [any EventLoopTask] {
    try (loop ?? RunningLoop.get()).taskTable.pending()
}

/// Runs `body` as a task on the running loop (asyncio's module-level `create_task`).
/// Throws ``LoopError/Kind-swift.enum/noRunningLoop`` when no loop runs on this thread.
public func createTask<T>(
    name: String? = nil, file: StaticString = #fileID, line: UInt = #line,
    _ body: sending @escaping () async throws -> T
) throws -> LoopTask<T> {
    let loop = try RunningLoop.get()
    return try loop.createTask(name: name, from: loop.debug ? SourceLocation(file, line) : nil, body)
}
