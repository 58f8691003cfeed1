import CLoopShims

// The iteration (asyncio's `_run_once`) and the one path by which work from any
// thread reaches it. A callback's walk: callSoon (BaseEventLoop+Scheduling) appends a
// Handle to the ready RingBuffer (Scheduling/); runOnce below polls the backend's wait
// hook, queues ready I/O callbacks and due timers, and runs the queue.
extension BaseEventLoop {
    /// How long a busy ready queue may keep the loop from polling I/O: while callbacks
    /// keep the queue busy, readiness is collected once this much time has passed
    /// (checked every ``ioPollCheckIterations`` iterations) and at least every
    /// ``ioPollMaxIterations`` iterations.
    public static let ioPollInterval: Duration = .microseconds(500)
    static let ioPollIntervalNanoseconds: Int64 = 500_000
    /// Iterations between two clock readings for the I/O poll interval.
    public static let ioPollCheckIterations = 16
    /// Iterations after which I/O is polled whatever the clock says.
    public static let ioPollMaxIterations = 256

    // MARK: One iteration

    /// One iteration: poll I/O (unless callbacks are ready, no timer is due and I/O
    /// was polled within ``ioPollInterval``), move ready I/O callbacks and then due
    /// timers to the ready queue, then run exactly the callbacks queued at that point.
    func runOnce() throws {
        if timers.count == 0 {
            if ready.isEmpty || stopping || ioPollIsDue() { try pollIOAndRecord() } else { iterationsSinceIOPoll &+= 1 }
            if inboxPending.load(ordering: .relaxed) { drainInbox() }
            // The backend's wait may have run code that scheduled a timer.
            if timers.count > 0 { queueDueTimers(before: backend.now() + 1e-9) }
        } else {
            timers.compactIfNeeded()
            // Timers due up to this loop time are queued; read once when I/O is not polled.
            var deadline: Double?
            if ready.isEmpty || stopping || ioPollIsDue() {
                try pollIOAndRecord()
            } else if timerIsDue(&deadline) {
                // A due timer must not overtake I/O that is ready already (asyncio queues
                // I/O callbacks before due timers): poll without waiting first.
                try pollIOAndRecord()
                deadline = nil
            } else {
                iterationsSinceIOPoll &+= 1
            }
            if inboxPending.load(ordering: .relaxed) { drainInbox() }
            queueDueTimers(before: deadline ?? backend.now() + 1e-9)
        }
        var remaining = ready.count
        while remaining > 0, let item = ready.removeFirst() {
            remaining &-= 1
            switch item {
            case .handle(let handle): runHandle(handle)
            case .job(let job): run(job: job, isolated: false)
            case .isolatedJob(let job): run(job: job, isolated: true)
            }
            if !afterJob.isEmpty { runAfterJobWork() }
        }
    }

    /// Whether a busy ready queue has kept I/O unpolled for long enough.
    @inline(__always)
    private func ioPollIsDue() -> Bool {
        if iterationsSinceIOPoll >= Self.ioPollMaxIterations { return true }
        guard iterationsSinceIOPoll & (Self.ioPollCheckIterations - 1) == Self.ioPollCheckIterations - 1 else { return false }
        return MonotonicClock.nanoseconds() - lastIOPollNanoseconds >= Self.ioPollIntervalNanoseconds
    }

    @inline(__always)
    private func pollIOAndRecord() throws {
        try pollIO()
        iterationsSinceIOPoll = 0
        lastIOPollNanoseconds = MonotonicClock.nanoseconds()
    }

    /// Moves the timers due at or before `deadline` to the ready queue, earliest first.
    @inline(__always)
    private func queueDueTimers(before deadline: Double) {
        while let due = timers.popDue(before: deadline) { ready.append(.handle(due)) }
    }

    /// Whether a live timer is due now; leaves in `deadline` the loop time it compared with.
    @inline(__always)
    private func timerIsDue(_ deadline: inout Double?) -> Bool {
        let now = backend.now() + 1e-9
        deadline = now
        guard let next = timers.earliestDeadline() else { return false }
        return next <= now
    }

    // MARK: Polling I/O

    private func pollIO() throws {
        var timeout: Duration? = .zero
        let mayBlock = ready.isEmpty && !stopping
        // Busy polling (off unless setBusyPoll(limit:) turned it on): poll without
        // sleeping for the adaptive window first, and time the idle period.
        var idleSince: Int64 = 0
        if mayBlock, busyPollIsOn() {
            idleSince = MonotonicClock.nanoseconds()
            if busyPoll.current > 0, try pollBeforeSleeping(since: idleSince) { return }
        }
        if mayBlock {
            if let next = timers.earliestDeadline() {
                let delay = next - backend.now()
                timeout = delay > 0 ? Duration(seconds: min(delay, 86_400)) : .zero
            } else {
                timeout = nil
            }
            sleeping.store(true, ordering: .sequentiallyConsistent)
            if inboxPending.load(ordering: .sequentiallyConsistent) { timeout = .zero }
        }
        defer { if mayBlock { sleeping.store(false, ordering: .sequentiallyConsistent) } }
        try waitForReadiness(timeout: timeout)
        if idleSince != 0, timeout != .zero { busyPoll.record(idle: MonotonicClock.nanoseconds() - idleSince) }
        if !readiness.isEmpty { processReadiness() }
    }

    /// Asks the backend for readiness into `readiness`, waiting at most `timeout`.
    func waitForReadiness(timeout: Duration?) throws {
        readiness.removeAll()
        do {
            try backend.wait(timeout: timeout, into: &readiness)
        } catch {
            throw LoopError(.backendFailure, "backend '\(backend.name)' failed in its wait hook: \(error)")
        }
    }

    /// Queues the reader and writer callbacks of every fd the backend reported.
    func processReadiness() {
        for index in 0..<readiness.count {
            let event = readiness[index]
            let fd = Int(event.fd)
            guard fd >= 0, fd < watches.count, !watches[fd].registered.isEmpty else {
                callExceptionHandler(ExceptionContext(
                    message: "backend '\(backend.name)' hook wait(timeout:into:) reported fd \(event.fd), which the loop never registered",
                    error: LoopError(.backendFailure, "backend '\(backend.name)': wait reported unregistered fd \(event.fd)")
                ))
                continue
            }
            if event.events.contains(.readable), let reader = watches[fd].reader, !reader.isCancelledFlag {
                ready.append(.handle(reader))
            }
            if event.events.contains(.writable), let writer = watches[fd].writer, !writer.isCancelledFlag {
                ready.append(.handle(writer))
            }
        }
    }

    // MARK: Busy polling (see BaseEventLoop+BusyPoll.swift)

    /// Whether busy polling is on, taking a limit set since the last idle period.
    @inline(__always)
    func busyPollIsOn() -> Bool {
        let limit = busyPollLimitNanoseconds.load(ordering: .relaxed)
        if limit != busyPoll.limit { busyPoll.setLimit(limit) }
        return limit > 0
    }

    /// Polls with a zero timeout until readiness, a callback the backend scheduled or
    /// work from another thread turns up, the window that began at `start` ends, or the
    /// next timer is due. Handles the readiness it finds; returns whether it found work.
    func pollBeforeSleeping(since start: Int64) throws -> Bool {
        var until = start + busyPoll.current
        if let next = timers.earliestDeadline() {
            let delay = max(0, next - backend.now())
            until = min(until, start + Int64(min(delay, 1) * 1e9))
        }
        repeat {
            try waitForReadiness(timeout: .zero)
            if !readiness.isEmpty {
                processReadiness()
                return true
            }
            // A backend's own transports schedule their callbacks from inside its wait.
            if !ready.isEmpty || inboxPending.load(ordering: .relaxed) { return true }
        } while MonotonicClock.nanoseconds() < until
        return false
    }

    // MARK: Work from any thread

    /// Queues `item` from any thread: on the running loop's own thread straight into
    /// the ready queue, with no lock and no wakeup; from elsewhere into the inbox,
    /// waking the loop if it sleeps. Returns false when the loop is closed (the item
    /// is dropped). The one path of `callSoonThreadsafe` and of Swift job enqueueing.
    ///
    /// The sleeping/pending handshake with `pollIO` guarantees that either the loop
    /// sees `inboxPending` before it sleeps or the submitter sees `sleeping` and wakes it.
    @inline(__always)
    func submit(_ item: ReadyItem) -> Bool {
        if runningThread.load(ordering: .relaxed) == cloop_thread_id() {
            ready.append(item)
            return true
        }
        let accepted = inbox.withLock { inbox -> Bool in
            if inbox.closed { return false }
            inbox.handles.append(item)
            return true
        }
        guard accepted else { return false }
        inboxPending.store(true, ordering: .sequentiallyConsistent)
        if sleeping.exchange(false, ordering: .sequentiallyConsistent) { backend.wakeup() }
        return true
    }

    /// Moves work submitted from other threads to the ready queue, in submission order.
    func drainInbox() {
        inboxPending.store(false, ordering: .sequentiallyConsistent)
        let arrived = inbox.withLock { inbox -> [ReadyItem] in
            defer { inbox.handles.removeAll(keepingCapacity: true) }
            return inbox.handles
        }
        for item in arrived { ready.append(item) }
    }

    // MARK: Running what is ready

    @inline(__always)
    func runHandle(_ handle: Handle) {
        guard let callback = handle.callback else { return }
        if debugEnabled {
            runHandleInDebugMode(handle, callback)
            return
        }
        do {
            try callback()
        } catch {
            reportCallbackError(error, handle: handle)
        }
    }

    /// Runs a callback timing it, and logs it when it is slow (debug mode).
    func runHandleInDebugMode(_ handle: Handle, _ callback: () throws -> Void) {
        let start = MonotonicClock.nanoseconds()
        do {
            try callback()
        } catch {
            reportCallbackError(error, handle: handle)
        }
        let elapsed = Duration.nanoseconds(MonotonicClock.nanoseconds() - start)
        if elapsed >= slowCallbackThreshold {
            let rounded = (elapsed.seconds * 1000).rounded() / 1000
            logger.warning("Executing \(handle) took \(rounded) seconds")
        }
    }

    /// Runs one job taken from the ready queue.
    @inline(__always)
    func run(job: UnownedJob, isolated: Bool) {
        if isolated {
            job.runSynchronously(isolatedTo: serialExecutor.asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
        } else {
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    func runAfterJobWork() {
        let work = afterJob
        afterJob.removeAll(keepingCapacity: true)
        for body in work { body() }
    }
}
