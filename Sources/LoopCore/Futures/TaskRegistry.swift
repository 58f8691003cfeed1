import Synchronization

/// The tasks of every loop (asyncio's `_scheduled_tasks` and `_current_tasks`).
///
/// ``LoopTask``s are held strongly until they finish — the loop keeps a running task
/// alive — and dropped when their loop closes. Third-party tasks are held weakly.
enum TaskRegistry {
    private struct WeakTask {
        weak var task: (any EventLoopTask)?
    }

    private struct LoopTasks {
        var owned: [ObjectIdentifier: any EventLoopTask] = [:]
        var registered: [ObjectIdentifier: WeakTask] = [:]
        var entered: (any EventLoopTask)?
        var isEmpty: Bool { owned.isEmpty && registered.isEmpty && entered == nil }
    }

    private static let state = Mutex<[ObjectIdentifier: LoopTasks]>([:])

    static func key(_ loop: any EventLoop) -> ObjectIdentifier { ObjectIdentifier(loop as AnyObject) }

    /// Keeps `task` alive and listed until ``release(_:)``.
    static func own(_ task: any EventLoopTask) {
        let loopKey = key(task.loop)
        state.withLock { $0[loopKey, default: LoopTasks()].owned[ObjectIdentifier(task)] = task }
    }

    /// Stops keeping `task` alive; returns it so the caller drops it outside the lock.
    @discardableResult
    static func release(_ task: any EventLoopTask) -> (any EventLoopTask)? {
        let loopKey = key(task.loop)
        return state.withLock { state -> (any EventLoopTask)? in
            let removed = state[loopKey]?.owned.removeValue(forKey: ObjectIdentifier(task))
            if state[loopKey]?.isEmpty == true { state[loopKey] = nil }
            return removed
        }
    }

    static func register(_ task: any EventLoopTask) {
        let loopKey = key(task.loop)
        state.withLock { $0[loopKey, default: LoopTasks()].registered[ObjectIdentifier(task)] = WeakTask(task: task) }
    }

    static func unregister(_ task: any EventLoopTask) {
        let loopKey = key(task.loop)
        state.withLock { state in
            state[loopKey]?.registered[ObjectIdentifier(task)] = nil
            if state[loopKey]?.isEmpty == true { state[loopKey] = nil }
        }
    }

    /// The pending tasks of `loop`.
    static func pending(of loop: any EventLoop) -> [any EventLoopTask] {
        let loopKey = key(loop)
        let tasks = state.withLock { state -> [any EventLoopTask] in
            guard let entry = state[loopKey] else { return [] }
            var tasks = Array(entry.owned.values)
            for weak in entry.registered.values {
                if let task = weak.task, entry.owned[ObjectIdentifier(task)] == nil { tasks.append(task) }
            }
            return tasks
        }
        return tasks.filter { !$0.isDone }
    }

    static func entered(on loop: any EventLoop) -> (any EventLoopTask)? {
        let loopKey = key(loop)
        return state.withLock { $0[loopKey]?.entered }
    }

    static func setEntered(_ task: (any EventLoopTask)?, on loop: any EventLoop) {
        let loopKey = key(loop)
        state.withLock { state in
            state[loopKey, default: LoopTasks()].entered = task
            if state[loopKey]?.isEmpty == true { state[loopKey] = nil }
        }
    }

    /// Forgets every task of a closed loop; returns them so the caller releases them
    /// outside the lock (a pending task then reports that it was destroyed).
    static func loopClosed(_ loop: any EventLoop) -> [any EventLoopTask] {
        let loopKey = key(loop)
        return state.withLock { state -> [any EventLoopTask] in
            defer { state[loopKey] = nil }
            return Array(state[loopKey]?.owned.values ?? [:].values)
        }
    }
}

// MARK: Public task-lifetime API (asyncio's extending guide)

/// Lists `task` among its loop's tasks (asyncio's `_register_task`). Call it from a
/// third-party task's initialiser. The task is held weakly and drops out of
/// ``allTasks(loop:)`` once it is done.
public func registerTask(_ task: any EventLoopTask) { TaskRegistry.register(task) }

/// Removes `task` from its loop's tasks (asyncio's `_unregister_task`).
public func unregisterTask(_ task: any EventLoopTask) { TaskRegistry.unregister(task) }

/// Makes `task` the current task of `loop` while it runs a step (asyncio's `_enter_task`).
/// Throws ``LoopError/Kind-swift.enum/invalidState`` if another task is current.
public func enterTask(_ task: any EventLoopTask, loop: any EventLoop) throws {
    if let current = try currentTask(loop: loop) {
        throw LoopError(
            .invalidState,
            "enterTask: Cannot enter into task \(task.name) while another task \(current.name) is being executed; leave it first"
        )
    }
    TaskRegistry.setEntered(task, on: loop)
}

/// Ends the step of `task` on `loop` (asyncio's `_leave_task`). Throws
/// ``LoopError/Kind-swift.enum/invalidState`` if `task` is not the current task.
public func leaveTask(_ task: any EventLoopTask, loop: any EventLoop) throws {
    let current = TaskRegistry.entered(on: loop)
    guard let current, current === task else {
        throw LoopError(
            .invalidState,
            "leaveTask: Leaving task \(task.name) does not match the current task \(current?.name ?? "nil"); leave the task you entered"
        )
    }
    TaskRegistry.setEntered(nil, on: loop)
}

/// The task running now on `loop` (default: the running loop), or `nil` in a plain
/// callback. Throws ``LoopError/Kind-swift.enum/noRunningLoop`` without a loop.
public func currentTask(loop: (any EventLoop)? = nil) throws -> (any EventLoopTask)? {
    let loop = try loop ?? RunningLoop.get()
    if let entered = TaskRegistry.entered(on: loop) { return entered }
    if let context = LoopTaskContext.current, let task = context.task as? any EventLoopTask, task.loop === loop {
        return task
    }
    return nil
}

/// The tasks of `loop` (default: the running loop) that are not done.
/// Throws ``LoopError/Kind-swift.enum/noRunningLoop`` without a loop.
public func allTasks(loop: (any EventLoop)? = nil) throws -> [any EventLoopTask] {
    TaskRegistry.pending(of: try loop ?? RunningLoop.get())
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
