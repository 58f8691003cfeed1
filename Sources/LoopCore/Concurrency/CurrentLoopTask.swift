/// A task as the structured helpers (task groups, timeout scopes) see the task they
/// run in: they cancel it and withdraw their own cancellation requests again.
protocol CancellableLoopTask: AnyLoopFuture {
    var name: String { get }
    var cancelling: Int { get }
    @discardableResult func uncancel() -> Int
}

extension LoopTask: CancellableLoopTask {}

/// The ``LoopTask`` the caller runs in, on the running loop; `nil` outside one.
func currentLoopTask() -> (any CancellableLoopTask)? {
    guard let context = LoopTaskContext.current, let task = context.task as? any CancellableLoopTask,
        let running = RunningLoop.current, task.loop === running
    else { return nil }
    return task
}
