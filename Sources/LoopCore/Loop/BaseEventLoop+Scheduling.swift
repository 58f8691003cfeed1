import CLoopShims

// Scheduling callbacks and delayed calls (the reference's "Scheduling callbacks" and
// "Scheduling delayed callbacks"). What runs them is in RunLoop.swift.
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
        guard submit(.handle(handle)) else { throw LoopError.closed("callSoonThreadsafe") }
        return handle
    }

    @discardableResult
    public func callLater(
        _ delay: Duration, _ body: @escaping () throws -> Void, from location: SourceLocation?
    ) throws -> TimerHandle {
        try scheduleTimer(at: time() + delay.seconds, call: "callLater", body, location)
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

    /// The loop time of the earliest timer that is scheduled and not cancelled, if any.
    public var nextTimerDeadline: Double? { timers.earliestDeadline() }

    private func scheduleTimer(
        at when: Double, call: String, _ body: @escaping () throws -> Void, _ location: SourceLocation?
    ) throws -> TimerHandle {
        try checkOpen(call)
        if debugEnabled { try checkThread(call) }
        let handle = TimerHandle(when: when, callback: body, sourceLocation: location)
        timers.push(handle)
        return handle
    }
}
