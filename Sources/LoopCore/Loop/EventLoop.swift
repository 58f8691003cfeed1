/// The event loop API (asyncio's `AbstractEventLoop`) that every loop type conforms to.
///
/// User code depends on this protocol, never on a backend. Every method that is
/// not marked thread-safe must be called on the loop's thread; in debug mode a
/// call from another thread throws ``LoopError/Kind-swift.enum/wrongThread``.
///
/// The protocol carries the sections of asyncio's event-loop reference that code
/// running on *any* loop needs, including a third-party loop that does not derive
/// from ``BaseEventLoop``: running and stopping,
/// scheduling callbacks and delayed calls, futures and tasks, watching file
/// descriptors, error handling, debug mode, the executor and Unix signals. These are
/// what the library's own loop-generic code (futures, `sleep`, `gather`, `waitFor`,
/// the task functions, `StreamReader`) is written against, and none of them needs a
/// socket layer to implement.
///
/// The other sections (connections, servers, file transfer, TLS upgrade, socket
/// operations, DNS, pipes, subprocesses) are ``BaseEventLoop``-only: they build on
/// its transports, readiness and resolver machinery, which a loop type would
/// otherwise have to reimplement whole.
public protocol EventLoop: AnyObject, Sendable {
    // MARK: Running and stopping

    /// Runs until ``stop()`` is called. A stop requested before the run makes it do
    /// one iteration (polling I/O without blocking) and return.
    func runForever() throws
    /// Runs until `future` is done and returns its result, or rethrows its error.
    func runUntilComplete<T>(_ future: Future<T>) throws -> T
    /// Whether the loop is running now.
    var isRunning: Bool { get }
    /// Asks the loop to stop after the callbacks of the current iteration.
    func stop()
    /// Whether ``close()`` was called.
    var isClosed: Bool { get }
    /// Closes the loop: drops pending callbacks and releases the backend. Refused
    /// while running; idempotent; irreversible.
    func close() throws

    // MARK: Scheduling callbacks

    /// Schedules `body` to run in a later iteration, after everything already queued.
    @discardableResult
    func callSoon(_ body: @escaping () throws -> Void, from location: SourceLocation?) throws -> Handle
    /// Schedules `body` from any thread and wakes the loop if it sleeps. Thread-safe.
    @discardableResult
    func callSoonThreadsafe(_ body: @escaping @Sendable () throws -> Void, from location: SourceLocation?) throws -> Handle
    /// Schedules `body` after `delay` (a negative delay means "due now").
    @discardableResult
    func callLater(_ delay: Duration, _ body: @escaping () throws -> Void, from location: SourceLocation?) throws -> TimerHandle
    /// Schedules `body` at loop time `when` (see ``time()``); a past time means "due now".
    @discardableResult
    func callAt(_ when: Double, _ body: @escaping () throws -> Void, from location: SourceLocation?) throws -> TimerHandle
    /// The loop's monotonic clock, in seconds.
    func time() -> Double

    // MARK: Futures

    /// A new pending future bound to this loop.
    func createFuture<T>(of type: T.Type, from location: SourceLocation?) -> Future<T>

    /// Runs `body` as a ``LoopTask`` on this loop; it starts in a later iteration.
    func createTask<T>(
        name: String?, from location: SourceLocation?, _ body: sending @escaping () async throws -> T
    ) throws -> LoopTask<T>

    /// The table of this loop's tasks, behind ``allTasks(loop:)`` and the task-lifetime
    /// functions. A loop that does not store one gets a default.
    var taskTable: TaskTable { get }

    /// Makes `createTask` use `factory`; `nil` restores the default.
    func setTaskFactory(_ factory: (any TaskFactory)?)
    /// The custom task factory, or `nil` for the default.
    var currentTaskFactory: (any TaskFactory)? { get }

    // MARK: Watching file descriptors

    /// Calls `body` whenever `fd` is readable, until ``removeReader(_:)``. Replaces
    /// an existing reader of `fd`.
    func addReader(_ fd: Int32, _ body: @escaping () throws -> Void) throws
    /// Stops watching `fd` for reading; returns whether a reader was removed.
    @discardableResult func removeReader(_ fd: Int32) throws -> Bool
    /// Calls `body` whenever `fd` is writable, until ``removeWriter(_:)``.
    func addWriter(_ fd: Int32, _ body: @escaping () throws -> Void) throws
    /// Stops watching `fd` for writing; returns whether a writer was removed.
    @discardableResult func removeWriter(_ fd: Int32) throws -> Bool

    // MARK: Error handling

    /// Installs a custom exception handler; `nil` restores the default.
    func setExceptionHandler(_ handler: ExceptionHandler?)
    /// The custom exception handler, or `nil` when the default is in use.
    var exceptionHandler: ExceptionHandler? { get }
    /// Logs `context` the default way (the loop's logger, error level).
    func defaultExceptionHandler(_ context: ExceptionContext)
    /// Passes `context` to the current handler, synchronously.
    func callExceptionHandler(_ context: ExceptionContext)

    // MARK: Debug mode

    /// Whether debug mode is on.
    var debug: Bool { get }
    /// Turns debug mode on or off.
    func setDebug(_ enabled: Bool)
    /// In debug mode, callbacks that take longer than this are logged. Default 100 ms.
    var slowCallbackDuration: Duration { get set }

    // MARK: Identity

    /// The name of the backend this loop runs on, e.g. `"epoll"`.
    var backendName: String { get }

    // MARK: Executor

    /// Runs `body` on `executor` (the default executor when `nil`, a ``ThreadPoolExecutor``
    /// created on first use) and returns at once a future of its result, completed on
    /// the loop's thread. Cancelling the future stops a call that has not started; a
    /// running call is never interrupted, and its outcome is dropped. Throws
    /// ``LoopError/Kind-swift.enum/closed`` on a closed loop and
    /// ``LoopError/Kind-swift.enum/executorShutdown`` for the default executor after
    /// ``shutdownDefaultExecutor(timeout:)``.
    func runInExecutor<T: Sendable>(
        _ executor: (any LoopExecutor)?, from location: SourceLocation?, _ body: @escaping @Sendable () throws -> T
    ) throws -> Future<T>
    /// Makes `executor` the default executor of ``runInExecutor(_:from:_:)``. Only a
    /// ``ThreadPoolExecutor`` is accepted; another executor throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` (asyncio's TypeError).
    func setDefaultExecutor(_ executor: any LoopExecutor) throws
    /// Shuts the default executor down and returns a future that completes once the work
    /// it runs has finished (or after `timeout`, when the executor is abandoned with a
    /// warning). From then on `runInExecutor(nil, …)` throws. Await it from a task
    /// (`try await loop.shutdownDefaultExecutor().value`) or run it with `runUntilComplete`.
    func shutdownDefaultExecutor(timeout: Duration?) throws -> Future<Void>

    // MARK: Signals

    /// Calls `body` on the loop's thread, as a loop callback, whenever `signal` is
    /// delivered to the process; replaces the loop's previous handler for `signal`.
    /// Must be called from the process's main thread. Throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` for an invalid or uncatchable signal
    /// (0, negative, >= NSIG, SIGKILL, SIGSTOP), ``LoopError/Kind-swift.enum/closed`` on
    /// a closed loop, and ``LoopError/Kind-swift.enum/signalInstallFailed`` off the main
    /// thread or when the handler cannot be installed.
    func addSignalHandler(_ signal: Int32, _ body: @escaping () throws -> Void, from location: SourceLocation?) throws
    /// Removes the loop's handler for `signal` and restores the disposition it replaced;
    /// returns whether there was one. Throws ``LoopError/Kind-swift.enum/invalidArgument``
    /// for an invalid signal number.
    @discardableResult func removeSignalHandler(_ signal: Int32) throws -> Bool
}

extension EventLoop {
    /// Schedules `body` to run in a later iteration, after everything already queued.
    /// Throws ``LoopError/Kind-swift.enum/closed`` on a closed loop.
    @discardableResult
    @inlinable
    public func callSoon(
        file: StaticString = #fileID, line: UInt = #line, _ body: @escaping () throws -> Void
    ) throws -> Handle {
        try callSoon(body, from: debug ? SourceLocation(file, line) : nil)
    }

    /// Schedules `body` from any thread; wakes the loop if it sleeps. Thread-safe.
    @discardableResult
    @inlinable
    public func callSoonThreadsafe(
        file: StaticString = #fileID, line: UInt = #line, _ body: @escaping @Sendable () throws -> Void
    ) throws -> Handle {
        try callSoonThreadsafe(body, from: debug ? SourceLocation(file, line) : nil)
    }

    /// Schedules `body` to run after `delay`; a negative delay means "due now".
    @discardableResult
    @inlinable
    public func callLater(
        _ delay: Duration, file: StaticString = #fileID, line: UInt = #line,
        _ body: @escaping () throws -> Void
    ) throws -> TimerHandle {
        try callLater(delay, body, from: debug ? SourceLocation(file, line) : nil)
    }

    /// Schedules `body` at loop time `when`; a time in the past means "due now".
    /// A non-finite `when` throws ``LoopError/Kind-swift.enum/invalidArgument``.
    @discardableResult
    @inlinable
    public func callAt(
        _ when: Double, file: StaticString = #fileID, line: UInt = #line,
        _ body: @escaping () throws -> Void
    ) throws -> TimerHandle {
        try callAt(when, body, from: debug ? SourceLocation(file, line) : nil)
    }

    /// Runs `body` as a ``LoopTask`` on this loop; it starts in a later iteration.
    /// Throws ``LoopError/Kind-swift.enum/closed`` on a closed loop.
    @inlinable
    public func createTask<T>(
        name: String? = nil, file: StaticString = #fileID, line: UInt = #line,
        _ body: sending @escaping () async throws -> T
    ) throws -> LoopTask<T> {
        try createTask(name: name, from: debug ? SourceLocation(file, line) : nil, body)
    }

    /// Runs `body` as a task until it completes and returns its result or rethrows its error.
    public func runUntilComplete<T>(
        file: StaticString = #fileID, line: UInt = #line, _ body: sending @escaping () async throws -> T
    ) throws -> T {
        let task = try createTask(name: nil, from: debug ? SourceLocation(file, line) : nil, body)
        return try runUntilComplete(task)
    }

    /// A new pending future bound to this loop.
    @inlinable
    public func createFuture<T>(
        of type: T.Type = T.self, file: StaticString = #fileID, line: UInt = #line
    ) -> Future<T> {
        createFuture(of: type, from: debug ? SourceLocation(file, line) : nil)
    }
}

extension EventLoop {
    /// Runs `body` on `executor` (by default the loop's default executor) and returns a
    /// future of its result. See ``runInExecutor(_:from:_:)``.
    ///
    /// ```swift
    /// let digest = try await loop.runInExecutor { try hashFile(path) }.value
    /// ```
    @inlinable
    public func runInExecutor<T: Sendable>(
        _ executor: (any LoopExecutor)? = nil, file: StaticString = #fileID, line: UInt = #line,
        _ body: @escaping @Sendable () throws -> T
    ) throws -> Future<T> {
        try runInExecutor(executor, from: debug ? SourceLocation(file, line) : nil, body)
    }

    /// Shuts the default executor down, waiting without limit for the work it runs.
    /// See ``shutdownDefaultExecutor(timeout:)``.
    public func shutdownDefaultExecutor() throws -> Future<Void> {
        try shutdownDefaultExecutor(timeout: nil)
    }

    /// Calls `body` on the loop's thread whenever `signal` is delivered. See
    /// ``addSignalHandler(_:_:from:)``.
    ///
    /// ```swift
    /// try loop.addSignalHandler(SIGTERM) { loop.stop() }
    /// ```
    @inlinable
    public func addSignalHandler(
        _ signal: Int32, file: StaticString = #fileID, line: UInt = #line, _ body: @escaping () throws -> Void
    ) throws {
        try addSignalHandler(signal, body, from: debug ? SourceLocation(file, line) : nil)
    }
}
