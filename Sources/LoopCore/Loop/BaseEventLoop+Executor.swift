import CLoopShims

/// The loop is a Swift executor: a job enqueued on it runs as a loop callback on
/// the loop's thread. A Swift task whose executor preference is the loop (every
/// ``LoopTask``) resumes each `await` there with no thread hop, and an actor may
/// use the loop as its serial executor.
extension BaseEventLoop: SerialExecutor, TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if runningThread.load(ordering: .relaxed) == cloop_thread_id() {
            ready.append(.job(job))
            return
        }
        let accepted = inbox.withLock { inbox -> Bool in
            if inbox.closed { return false }
            inbox.handles.append(.job(job))
            return true
        }
        guard accepted else {
            // Like a callback scheduled on a closed loop, the job can never run; its task stays pending.
            logger.warning("a Swift job was enqueued on closed loop '\(backend.name)' and is dropped; its task stays pending")
            return
        }
        inboxPending.store(true, ordering: .sequentiallyConsistent)
        if sleeping.exchange(false, ordering: .sequentiallyConsistent) { backend.wakeup() }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    public func isSameExclusiveExecutionContext(other: BaseEventLoop) -> Bool { other === self }

    public func checkIsolated() {
        // The runtime calls this to verify isolation and requires a trap when it does not hold.
        precondition(
            runningThread.load(ordering: .relaxed) == cloop_thread_id(),
            "expected to run on the thread of loop '\(backend.name)'"
        )
    }

    /// Whether the calling thread is the one running this loop now.
    public var isOnLoopThread: Bool { runningThread.load(ordering: .relaxed) == cloop_thread_id() }
}
