/// The serial executor of a ``BaseEventLoop``: jobs of actors that use the loop as
/// their executor run on the loop thread, in order, as loop callbacks.
public final class LoopSerialExecutor: SerialExecutor, @unchecked Sendable {
    // @unchecked: `loop` is set once, in the loop's initialiser, before the executor
    // is handed to anyone; the loop is itself thread-safe for enqueue.
    /// The loop must outlive the actors that use it, as any executor must.
    unowned var loop: BaseEventLoop?

    init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        loop?.enqueueJob(.isolatedJob(UnownedJob(job)))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func checkIsolated() {
        // The runtime calls this to verify isolation and requires a trap when it does not hold.
        precondition(loop?.isOnLoopThread == true, "expected to run on the thread of loop '\(loop?.backendName ?? "?")'")
    }
}
