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
///
/// ## Where things are
///
/// Each public method lives in `Loop/BaseEventLoop+<Section>.swift`, named after its
/// section of asyncio's event-loop reference: +Running, +Scheduling,
/// +FuturesAndTasks, +Connections, +Servers, +FileDescriptors, +Sockets, +DNS,
/// +Pipes, +Signals, +Executor, +ErrorHandling, +Debug (plus +BusyPoll and
/// +TaskExecutor, which asyncio has not). This file holds the stored state and the
/// initialiser; `RunLoop.swift` holds the iteration and the one path by which work
/// from other threads reaches it. The types serving a section (transports, sockets,
/// the resolver, signal delivery, executors) live in that concern's folder.
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
    /// The adaptive busy-poll window (BaseEventLoop+BusyPoll.swift, RunLoop.swift); its limit follows
    /// `busyPollLimitNanoseconds`, which any thread may set.
    @exclusivity(unchecked) var busyPoll = BusyPollWindow(limit: 0)
    /// Work to do as soon as the Swift job running now returns (see `afterCurrentJob`).
    @exclusivity(unchecked) var afterJob: [() -> Void] = []
    // Default executor and signal handlers (BaseEventLoop+Executor.swift,
    // BaseEventLoop+Signals.swift), loop thread only.
    var executorState = DefaultExecutorState()
    var signalState = LoopSignalState()
    /// The table of this loop's tasks.
    public let taskTable = TaskTable()
    /// The serial executor actors use to run on this loop (see ``asUnownedSerialExecutor()``).
    public let serialExecutor = LoopSerialExecutor()
    /// What the loop still held when it was closed (`nil` until then).
    public internal(set) var stateAtClose: LoopSnapshot?

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


    /// Refuses a call on a closed loop with ``LoopError/Kind-swift.enum/closed``.
    @inline(__always)
    func checkOpen(_ call: String) throws {
        if closed { throw LoopError.closed(call) }
    }
}
