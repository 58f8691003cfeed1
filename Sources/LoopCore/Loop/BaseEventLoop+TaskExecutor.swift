import CLoopShims

/// The loop is a Swift task executor: a job enqueued on it runs as a loop callback on
/// the loop's thread. Every ``LoopTask`` is a Swift task that prefers the loop as its
/// executor, so each `await` inside it resumes on the loop thread with no thread hop.
///
/// For actors the loop offers a serial executor as well (``serialExecutor``,
/// ``asUnownedSerialExecutor()``): an actor whose `unownedExecutor` is the loop's runs
/// on the loop thread. The two roles are separate objects because a job run isolated
/// to a serial executor would make every return to nonisolated task code hop through
/// the ready queue again.
extension BaseEventLoop: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        enqueueJob(.job(UnownedJob(job)))
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    /// The loop's serial executor, for actors: `nonisolated var unownedExecutor:
    /// UnownedSerialExecutor { loop.asUnownedSerialExecutor() }`.
    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        serialExecutor.asUnownedSerialExecutor()
    }

    /// Whether the calling thread is the one running this loop now.
    public var isOnLoopThread: Bool { runningThread.load(ordering: .relaxed) == cloop_thread_id() }

    /// Queues a job from any thread (see ``submit(_:)``); on a closed loop the job is
    /// dropped with a warning.
    @inline(__always)
    func enqueueJob(_ item: ReadyItem) {
        guard submit(item) else {
            // Like a callback scheduled on a closed loop, the job can never run; its task stays pending.
            logger.warning("a Swift job was enqueued on closed loop '\(backend.name)' and is dropped; its task stays pending")
            return
        }
    }

    /// Runs `body` as soon as the Swift job running now returns, still in this
    /// iteration. A task that resumes itself from there runs again in the next
    /// iteration: asyncio's bare `yield`, which `sleep(.zero)` is.
    func afterCurrentJob(_ body: @escaping () -> Void) { afterJob.append(body) }
}
