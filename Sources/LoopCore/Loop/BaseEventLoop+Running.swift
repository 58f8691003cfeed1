import CLoopShims

// Running and stopping the loop (the reference's "Running and stopping the loop").
// The iteration itself is in RunLoop.swift.
extension BaseEventLoop {
    public var isRunning: Bool { runningThread.load(ordering: .relaxed) != 0 }

    public var isClosed: Bool { closed }

    public func runForever() throws {
        try beginRun("runForever")
        defer { endRun() }
        while true {
            try runOnce()
            if stopping { break }
        }
    }

    public func runUntilComplete<T>(_ future: Future<T>) throws -> T {
        try checkCanRun("runUntilComplete")
        guard future.loop === self else {
            throw LoopError(
                .differentLoop,
                "runUntilComplete: the future belongs to a different loop than the one it was passed to; run it on its own loop"
            )
        }
        let stopper = try future.addDoneCallback { [unowned self] _ in self.stop() }
        defer { future.removeDoneCallback(stopper) }
        try runForever()
        guard future.isDone else {
            throw LoopError(
                .stoppedBeforeFutureCompleted,
                "runUntilComplete: Event loop stopped before Future completed; the future is still pending"
            )
        }
        return try future.result()
    }

    public func stop() { stopping = true }

    public func close() throws {
        if isRunning {
            throw LoopError(.closeWhileRunning, "close(): Cannot close a running event loop; call stop() and close it after the run returns")
        }
        guard !closed else { return }
        // Before the snapshot: the signal wakeup pipe is the loop's own reader, not the user's.
        removeAllSignalHandlers()
        shutDownDefaultExecutorAtClose()
        closed = true
        stateAtClose = snapshot
        let orphans = inbox.withLock { inbox -> [ReadyItem] in
            inbox.closed = true
            defer { inbox.handles.removeAll() }
            return inbox.handles
        }
        inboxPending.store(false, ordering: .relaxed)
        let dropped = ready.removeAll()
        let droppedTimers = timers.removeAll()
        let oldWatches = watches
        watches = []
        watchedCount = 0
        backend.close()
        // Cut pending tasks off from their bodies (suspended for good now), so that they
        // are released, and report that they died pending, once nobody else holds them.
        let abandonedTasks = taskTable.removeAll().map { context -> AnyObject? in
            defer { context.task = nil }
            return context.task
        }
        // Released last, when the loop is consistent: their captures may run deinit code.
        withExtendedLifetime((orphans, dropped, droppedTimers, oldWatches, abandonedTasks)) {}
    }

    func checkCanRun(_ call: String) throws {
        if closed { throw LoopError.closed(call) }
        if isRunning {
            throw LoopError(.alreadyRunning, "\(call): This event loop is already running; schedule work with callSoon instead of running it again")
        }
        if RunningLoop.isSet {
            throw LoopError(
                .anotherLoopRunning,
                "\(call): Cannot run the event loop while another loop is running on this thread; use one loop per thread"
            )
        }
    }

    private func beginRun(_ call: String) throws {
        try checkCanRun(call)
        runningThread.store(cloop_thread_id(), ordering: .relaxed)
        RunningLoop.set(self)
    }

    private func endRun() {
        stopping = false
        runningThread.store(0, ordering: .relaxed)
        RunningLoop.set(nil)
    }
}
