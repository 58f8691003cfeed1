/// Makes the loop a ``Runner`` or ``run(loopFactory:debug:_:)`` uses.
public typealias LoopFactory = () throws -> any EventLoop

/// Runs `main` as a task on a new loop until it finishes, cleans up, closes the
/// loop and returns main's result or rethrows its error (asyncio's `run`).
///
/// The loop comes from `loopFactory`; without one, from
/// `BackendRegistry.shared.makeLoop()`, which honours `LOOP_BACKEND` and otherwise
/// picks the best registered backend. The built-in backends live outside
/// `LoopCore`: `import Loops` and call `BuiltinBackends.register()` (which
/// `newEventLoop()` does) to make them available, or pass `newEventLoop` as the
/// factory. An explicit factory overrides both the variable and the registry.
/// `debug` sets the loop's debug mode when given.
///
/// When `main` ends, every task still pending on the loop is cancelled and
/// awaited (its cleanup may await too); one that fails instead of stopping is
/// reported to the loop's exception handler. Then the default executor is shut
/// down, waiting for the work it runs, and the loop is closed, also when `main`
/// throws. Calling this from a running loop throws
/// ``LoopError/Kind-swift.enum/anotherLoopRunning``: await the work instead.
///
/// ```swift
/// import Loops
///
/// let answer = try run(loopFactory: newEventLoop) {
///     try await sleep(.milliseconds(10))
///     return 42
/// }
/// ```
public func run<T>(
    loopFactory: LoopFactory? = nil, debug: Bool? = nil, _ main: sending @escaping () async throws -> T
) throws -> T {
    if RunningLoop.current != nil {
        throw LoopError(
            .anotherLoopRunning,
            "run() cannot be called from a running event loop; await the work, or create a task for it, instead"
        )
    }
    let runner = Runner(debug: debug, loopFactory: loopFactory)
    return try runner.runThenClose(main)
}

/// Runs async bodies, one after another, on one loop it makes when first needed,
/// and cleans up when closed (asyncio's `Runner`).
///
/// The loop factory is not called until the loop is first needed (``run(file:line:_:)`` or
/// ``loop()``), then exactly once. ``close()`` cancels and awaits the tasks left
/// pending, then closes the loop; a closed runner refuses to run. Use it on one
/// thread, and close it (or use ``with(debug:loopFactory:_:)``, which does).
///
/// ```swift
/// try Runner.with(loopFactory: newEventLoop) { runner in
///     try runner.run { try await connect() }
///     try runner.run { try await serve() }
/// }
/// ```
public final class Runner {
    private enum State {
        case created
        case initialized(any EventLoop)
        case closed
    }

    private var state = State.created
    private let debug: Bool?
    private let loopFactory: LoopFactory?

    /// A runner whose loop `loopFactory` will make (default: the shared
    /// ``BackendRegistry``, see ``run(loopFactory:debug:_:)``); `debug` sets the
    /// loop's debug mode when given.
    public init(debug: Bool? = nil, loopFactory: LoopFactory? = nil) {
        self.debug = debug
        self.loopFactory = loopFactory
    }

    /// Makes a runner, passes it to `body`, and closes it when `body` returns or
    /// throws (asyncio's `with Runner() as runner:`). An error from closing is thrown
    /// only if `body` succeeded.
    public static func with<R>(
        debug: Bool? = nil, loopFactory: LoopFactory? = nil, _ body: (Runner) throws -> R
    ) throws -> R {
        let runner = Runner(debug: debug, loopFactory: loopFactory)
        let outcome: Result<R, any Error>
        do {
            outcome = .success(try body(runner))
        } catch {
            outcome = .failure(error)
        }
        do {
            try runner.close()
        } catch {
            if case .success = outcome { throw error }
        }
        return try outcome.get()
    }

    /// The runner's loop, made now if it does not exist yet (asyncio's `get_loop`).
    /// Throws ``LoopError/Kind-swift.enum/closed`` after ``close()``.
    public func loop() throws -> any EventLoop {
        switch state {
        case .initialized(let loop):
            return loop
        case .closed:
            throw LoopError(.closed, "Runner is closed: make a new Runner to run more work")
        case .created:
            let loop = try loopFactory?() ?? BackendRegistry.shared.makeLoop()
            if let debug { loop.setDebug(debug) }
            state = .initialized(loop)
            return loop
        }
    }

    /// Runs `main` as a task on the runner's loop until it finishes and returns its
    /// result or rethrows its error. Tasks it leaves pending stay on the loop until
    /// the next run or ``close()``. Throws ``LoopError/Kind-swift.enum/anotherLoopRunning``
    /// when called from a running loop, ``LoopError/Kind-swift.enum/closed`` once closed.
    public func run<T>(
        file: StaticString = #fileID, line: UInt = #line, _ main: sending @escaping () async throws -> T
    ) throws -> T {
        if RunningLoop.current != nil {
            throw LoopError(
                .anotherLoopRunning,
                "Runner.run() cannot be called from a running event loop; await the work, or create a task for it, instead"
            )
        }
        let loop = try loop()
        let task = try loop.createTask(name: nil, from: loop.debug ? SourceLocation(file, line) : nil, main)
        return try loop.runUntilComplete(task)
    }

    /// Cancels and awaits the tasks still pending on the loop, shuts the default
    /// executor down (waiting for the work it runs), then closes the loop (asyncio's
    /// `Runner.close`). The runner is closed afterwards even if that
    /// fails. Does nothing if the loop was never made or the runner is closed.
    public func close() throws {
        guard case .initialized(let loop) = state else { return }
        state = .closed
        var firstError: (any Error)?
        do {
            try cancelAllTasks(of: loop)
            try loop.runUntilComplete(loop.shutdownDefaultExecutor())
        } catch {
            firstError = error
        }
        do {
            try loop.close()
        } catch {
            firstError = firstError ?? error
        }
        if let firstError { throw firstError }
    }

    /// `run(main)` then `close()`; main's error wins over an error from closing.
    func runThenClose<T>(_ main: sending @escaping () async throws -> T) throws -> T {
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try run(main))
        } catch {
            outcome = .failure(error)
        }
        do {
            try close()
        } catch {
            if case .success = outcome { throw error }
        }
        return try outcome.get()
    }
}

/// Cancels every pending task of `loop`, runs the loop until they are all done,
/// and reports those that failed instead of stopping (asyncio's `_cancel_all_tasks`).
private func cancelAllTasks(of loop: any EventLoop) throws {
    let tasks = try allTasks(loop: loop).compactMap { $0 as? any AnyLoopFuture }
    guard !tasks.isEmpty else { return }
    for task in tasks { task.cancel(message: nil) }
    let all = GatheringFuture<Void>(loop: loop, sourceLocation: nil, children: tasks)
    try all.start(returnErrors: true) {}
    try loop.runUntilComplete(all)
    for task in tasks where !task.isCancelled {
        if let error = task.completionError() {
            loop.callExceptionHandler(ExceptionContext(
                message: "unhandled exception during run() shutdown", error: error, task: task))
        }
    }
}
