import CLoopShims

// Debug mode (the reference's "Enabling debug mode"), and what the loop holds.
extension BaseEventLoop {
    public var debug: Bool { debugEnabled }

    public func setDebug(_ enabled: Bool) { debugEnabled = enabled }

    public var slowCallbackDuration: Duration {
        get { slowCallbackThreshold }
        set { slowCallbackThreshold = newValue }
    }

    /// Throws ``LoopError/Kind-swift.enum/wrongThread`` when a running loop is
    /// called from another thread (asyncio's `_check_thread`; debug mode only).
    func checkThread(_ call: String) throws {
        let owner = runningThread.load(ordering: .relaxed)
        guard owner != 0, owner != cloop_thread_id() else { return }
        throw LoopError(
            .wrongThread,
            "\(call): Non-thread-safe operation invoked on an event loop other than the current one; use callSoonThreadsafe from other threads"
        )
    }

    /// What the loop holds right now.
    public var snapshot: LoopSnapshot {
        LoopSnapshot(
            readyCallbacks: ready.count,
            scheduledTimers: timers.count - timers.cancelledCount,
            watchedDescriptors: watchedCount
        )
    }
}
