import CLoopShims

extension BaseEventLoop {
    @discardableResult
    public func callSoon(_ body: @escaping () throws -> Void, from location: SourceLocation?) throws -> Handle {
        try checkOpen("callSoon")
        if debugEnabled { try checkThread("callSoon") }
        // Keeps callSoonThreadsafe submissions made earlier from this same thread in order.
        if inboxPending.load(ordering: .relaxed) { drainInbox() }
        let handle = Handle(callback: body, sourceLocation: location)
        ready.append(.handle(handle))
        return handle
    }

    @discardableResult
    public func callSoonThreadsafe(
        _ body: @escaping @Sendable () throws -> Void, from location: SourceLocation?
    ) throws -> Handle {
        let handle = Handle(callback: body, sourceLocation: location)
        if runningThread.load(ordering: .relaxed) == cloop_thread_id() {
            // On the loop's own thread while it runs: no lock, no wakeup.
            ready.append(.handle(handle))
            return handle
        }
        try inbox.withLock { inbox in
            if inbox.closed { throw LoopError.closed("callSoonThreadsafe") }
            inbox.handles.append(.handle(handle))
        }
        inboxPending.store(true, ordering: .sequentiallyConsistent)
        if sleeping.exchange(false, ordering: .sequentiallyConsistent) { backend.wakeup() }
        return handle
    }

    @discardableResult
    public func callLater(
        _ delay: Duration, _ body: @escaping () throws -> Void, from location: SourceLocation?
    ) throws -> TimerHandle {
        let (seconds, attoseconds) = delay.components
        return try scheduleTimer(
            at: time() + Double(seconds) + Double(attoseconds) * 1e-18, call: "callLater", body, location)
    }

    @discardableResult
    public func callAt(
        _ when: Double, _ body: @escaping () throws -> Void, from location: SourceLocation?
    ) throws -> TimerHandle {
        guard when.isFinite else {
            throw LoopError(.invalidArgument, "callAt: the deadline must be a finite loop time, got \(when); use time() plus a delay")
        }
        return try scheduleTimer(at: when, call: "callAt", body, location)
    }

    public func time() -> Double { backend.now() }

    @inlinable
    public func createFuture<T>(of type: T.Type, from location: SourceLocation?) -> Future<T> {
        Future(loop: self, sourceLocation: location)
    }

    @inlinable
    public func createTask<T>(
        name: String?, from location: SourceLocation?, _ body: sending @escaping () async throws -> T
    ) throws -> LoopTask<T> {
        if let taskFactory = try taskFactoryForCreateTask() {
            return taskFactory.makeTask(loop: self, name: name, sourceLocation: location, body)
        }
        return LoopTask(loop: self, name: name, sourceLocation: location, body)
    }

    /// Runs `body` as a ``LoopTask`` on this loop; it starts in a later iteration.
    /// Throws ``LoopError/Kind-swift.enum/closed`` on a closed loop.
    // The same as EventLoop's, declared on the concrete class so that the call reaches
    // createTask(name:from:_:) directly and is specialised for `T` in the caller.
    @inlinable
    public func createTask<T>(
        name: String? = nil, file: StaticString = #fileID, line: UInt = #line,
        _ body: sending @escaping () async throws -> T
    ) throws -> LoopTask<T> {
        try createTask(name: name, from: debug ? SourceLocation(file, line) : nil, body)
    }

    /// Checks that a task may be created now; returns the custom task factory, if any.
    @usableFromInline
    func taskFactoryForCreateTask() throws -> (any TaskFactory)? {
        try checkOpen("createTask")
        if debugEnabled { try checkThread("createTask") }
        return taskFactory
    }

    /// Makes `createTask` (and `runUntilComplete { }`) use `factory`; `nil` restores
    /// the default (asyncio's `set_task_factory`).
    public func setTaskFactory(_ factory: (any TaskFactory)?) { taskFactory = factory }

    /// The custom task factory, or `nil` for the default.
    public var currentTaskFactory: (any TaskFactory)? { taskFactory }

    private func scheduleTimer(
        at when: Double, call: String, _ body: @escaping () throws -> Void, _ location: SourceLocation?
    ) throws -> TimerHandle {
        try checkOpen(call)
        if debugEnabled { try checkThread(call) }
        let handle = TimerHandle(when: when, callback: body, sourceLocation: location)
        timers.push(handle)
        return handle
    }


    /// Moves callbacks submitted from other threads to the ready queue, in submission order.
    func drainInbox() {
        inboxPending.store(false, ordering: .sequentiallyConsistent)
        let arrived = inbox.withLock { inbox -> [ReadyItem] in
            defer { inbox.handles.removeAll(keepingCapacity: true) }
            return inbox.handles
        }
        for item in arrived { ready.append(item) }
    }

    @inline(__always)
    func checkOpen(_ call: String) throws {
        if closed { throw LoopError.closed(call) }
    }
}
