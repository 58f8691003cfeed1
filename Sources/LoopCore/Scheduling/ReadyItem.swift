/// What the ready queue holds: a callback's handle, or a Swift job enqueued on the
/// loop as an executor (kept apart so that a job costs no allocation).
enum ReadyItem: Sendable {
    case handle(Handle)
    /// A job of a task that prefers the loop as its task executor.
    case job(UnownedJob)
    /// A job of an actor whose serial executor is the loop's.
    case isolatedJob(UnownedJob)
}
