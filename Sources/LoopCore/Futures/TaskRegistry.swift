import Synchronization

/// The tasks of one loop: the ``LoopTask``s it keeps alive while they run, the
/// third-party tasks registered through ``registerTask(_:)``, and the task entered
/// through ``enterTask(_:loop:)`` (asyncio's `_scheduled_tasks` and `_current_tasks`).
///
/// Running ``LoopTask``s sit in numbered slots (no hashing on the create/finish path)
/// and are held strongly until they finish or the loop closes; registered tasks are
/// held weakly.
public final class TaskTable: Sendable {
    private struct WeakTask {
        weak var task: (any EventLoopTask)?
    }

    private struct State {
        var owned: ContiguousArray<(any EventLoopTask)?> = []
        var freeSlots: [Int] = []
        var registered: [ObjectIdentifier: WeakTask] = [:]
        var entered: (any EventLoopTask)?
    }

    private let state = Mutex<State>(State())

    public init() {}

    /// Keeps `task` alive and listed; returns its slot for ``release(slot:)``.
    func own(_ task: any EventLoopTask) -> Int {
        state.withLock { state in
            if let slot = state.freeSlots.popLast() {
                state.owned[slot] = task
                return slot
            }
            state.owned.append(task)
            return state.owned.count - 1
        }
    }

    /// Stops keeping the task in `slot` alive; returns it so the caller drops it
    /// outside the lock.
    func release(slot: Int) -> (any EventLoopTask)? {
        state.withLock { state -> (any EventLoopTask)? in
            guard slot >= 0, slot < state.owned.count, let task = state.owned[slot] else { return nil }
            state.owned[slot] = nil
            state.freeSlots.append(slot)
            return task
        }
    }

    func register(_ task: any EventLoopTask) {
        state.withLock { $0.registered[ObjectIdentifier(task)] = WeakTask(task: task) }
    }

    func unregister(_ task: any EventLoopTask) {
        _ = state.withLock { $0.registered.removeValue(forKey: ObjectIdentifier(task)) }
    }

    /// The tasks that are not done.
    func pending() -> [any EventLoopTask] {
        let tasks = state.withLock { state -> [any EventLoopTask] in
            var tasks: [any EventLoopTask] = state.owned.compactMap { $0 }
            let owned = Set(tasks.map { ObjectIdentifier($0) })
            for weak in state.registered.values {
                if let task = weak.task, !owned.contains(ObjectIdentifier(task)) { tasks.append(task) }
            }
            return tasks
        }
        return tasks.filter { !$0.isDone }
    }

    var entered: (any EventLoopTask)? {
        get { state.withLock { $0.entered } }
        set { state.withLock { $0.entered = newValue } }
    }

    /// Empties the table when its loop closes; returns the tasks it kept alive so the
    /// caller releases them outside the lock (a pending one then reports that it was
    /// destroyed).
    func removeAll() -> [any EventLoopTask] {
        state.withLock { state -> [any EventLoopTask] in
            defer { state = State() }
            return state.owned.compactMap { $0 }
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
