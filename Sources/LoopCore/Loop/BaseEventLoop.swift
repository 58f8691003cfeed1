import CLoopShims
import Logging
import Synchronization

/// Everything an event loop does that is the same for every backend: the ready
/// queue, the timer heap, the run/stop/close state machine, exception handling,
/// debug mode and file-descriptor watching. A ``SelectorBackend`` supplies the
/// OS readiness mechanism.
///
/// ```swift
/// let loop = try BackendRegistry.shared.makeLoop()   // LOOP_BACKEND or the best backend
/// try loop.callSoon { print("Hello World"); loop.stop() }
/// try loop.runForever()
/// try loop.close()
/// ```
public final class BaseEventLoop: EventLoop, @unchecked Sendable {
    // @unchecked: all mutable state is confined to the thread running the loop
    // (checked in debug mode, as asyncio's _check_thread does), except `inbox`
    // (a Mutex), and `runningThread`, `sleeping`, `inboxPending` (atomics) — the
    // only state that callSoonThreadsafe and wakeups touch from other threads.

    /// The backend this loop runs on.
    public let backend: any SelectorBackend

    /// Where log records go (the default exception handler, slow-callback warnings).
    public var logger: Logger

    // Scheduling state, loop thread only.
    // @exclusivity(unchecked): loop-thread state touched on every iteration; the loop
    // never holds two accesses to one of these at once.
    let ready = RingBuffer<ReadyItem>()
    let timers = TimerHeap()
    @exclusivity(unchecked) var stopping = false
    @exclusivity(unchecked) var closed = false
    @exclusivity(unchecked) var readiness = ReadinessBuffer()
    @exclusivity(unchecked) var watches: [FileDescriptorWatch] = []
    @exclusivity(unchecked) var watchedCount = 0
    @exclusivity(unchecked) var lastIOPollNanoseconds: Int64 = 0
    @exclusivity(unchecked) var iterationsSinceIOPoll = 0
    /// The adaptive busy-poll window (BaseEventLoop+BusyPoll.swift); its limit follows
    /// `busyPollLimitNanoseconds`, which any thread may set.
    @exclusivity(unchecked) var busyPoll = BusyPollWindow(limit: 0)
    /// Work to do as soon as the Swift job running now returns (see `afterCurrentJob`).
    @exclusivity(unchecked) var afterJob: [() -> Void] = []
    // Default executor and signal handlers (BaseEventLoop+RunInExecutor.swift,
    // BaseEventLoop+Signals.swift), loop thread only.
    var executorState = DefaultExecutorState()
    var signalState = LoopSignalState()
    /// The children this loop started and has not reaped (BaseEventLoop+Subprocesses.swift).
    let subprocesses = SubprocessRegistry()
    /// The table of this loop's tasks.
    public let taskTable = TaskTable()
    /// The serial executor actors use to run on this loop (see ``asUnownedSerialExecutor()``).
    public let serialExecutor = LoopSerialExecutor()
    /// What the loop still held when it was closed (`nil` until then).
    public private(set) var stateAtClose: LoopSnapshot?

    // Cross-thread state.
    struct Inbox {
        var handles: [ReadyItem] = []
        var closed = false
    }
    let inbox = Mutex(Inbox())
    let inboxPending = Atomic<Bool>(false)
    let sleeping = Atomic<Bool>(false)
    let busyPollLimitNanoseconds = Atomic<Int64>(0)
    let runningThread = Atomic<UInt>(0)

    var taskFactory: (any TaskFactory)?
    var addressResolver: (any AddressResolver)?
    /// The receive buffer the readiness transports share.
    let readScratch = ReadScratch()

    // Error handling and debug mode.
    var customExceptionHandler: ExceptionHandler?
    @exclusivity(unchecked) var debugEnabled: Bool
    var slowCallbackThreshold: Duration = .milliseconds(100)

    /// The environment variable that turns debug mode on for new loops (any non-empty value).
    public static let debugEnvironmentVariable = "LOOP_DEBUG"

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

    /// A loop driven by `backend`. Debug mode starts on when `LOOP_DEBUG` is non-empty.
    public init(backend: any SelectorBackend, logger: Logger? = nil) {
        self.backend = backend
        self.logger = logger ?? Logger(label: "loop.\(backend.name)")
        let flag = ProcessEnvironment.value(Self.debugEnvironmentVariable) ?? ""
        self.debugEnabled = !flag.isEmpty
        serialExecutor.loop = self
        BrokenPipeSignal.ignoreIfDefault()
    }

    deinit {
        guard !closed else { return }
        removeAllSignalHandlers()
        backend.close()
    }

    /// The name of the backend, e.g. `"epoll"`.
    public var backendName: String { backend.name }

    /// What the backend can do.
    public var capabilities: BackendCapabilities { backend.capabilities }

    // MARK: Running

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
        subprocesses.killAll()
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

    /// The loop time of the earliest timer that is scheduled and not cancelled, if any.
    public var nextTimerDeadline: Double? { timers.earliestDeadline() }

    /// What the loop holds right now.
    public var snapshot: LoopSnapshot {
        LoopSnapshot(
            readyCallbacks: ready.count,
            scheduledTimers: timers.count - timers.cancelledCount,
            watchedDescriptors: watchedCount
        )
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

    /// One iteration: poll I/O (unless callbacks are ready and I/O was polled within
    /// ``ioPollInterval``), move ready I/O callbacks and due timers to the ready queue,
    /// then run exactly the callbacks queued at that point.
    func runOnce() throws {
        if timers.count > 0 { timers.compactIfNeeded() }
        if ready.isEmpty || stopping || ioPollIsDue() {
            try pollIO()
            iterationsSinceIOPoll = 0
            lastIOPollNanoseconds = MonotonicClock.nanoseconds()
        } else {
            iterationsSinceIOPoll &+= 1
        }
        if inboxPending.load(ordering: .relaxed) { drainInbox() }
        if timers.count > 0 {
            let deadline = backend.now() + 1e-9
            while let due = timers.popDue(before: deadline) { ready.append(.handle(due)) }
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

    @inline(__always)
    private func ioPollIsDue() -> Bool {
        if iterationsSinceIOPoll >= Self.ioPollMaxIterations { return true }
        guard iterationsSinceIOPoll & (Self.ioPollCheckIterations - 1) == Self.ioPollCheckIterations - 1 else { return false }
        return MonotonicClock.nanoseconds() - lastIOPollNanoseconds >= Self.ioPollIntervalNanoseconds
    }

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
                timeout = delay > 0 ? .nanoseconds(Int64(min(delay, 86_400) * 1e9)) : .zero
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

    func reportCallbackError(_ error: any Error, handle: Handle) {
        var context = ExceptionContext(message: "Exception in callback \(handle)", error: error, handle: handle)
        if let location = handle.sourceLocation { context.sourceTraceback = [location] }
        callExceptionHandler(context)
    }
}
