@_spi(Backend) import LoopCore

/// An event loop on virtual time, for testing timeout logic without sleeping.
///
/// The loop's clock (`loop.time()`, and so every `callLater` and `callAt`) stands
/// still until the test moves it: ``advance(by:)`` runs every timer that falls due on
/// the way, each at its own deadline, and ``runUntilIdle()`` runs whatever is ready
/// now without moving the clock.
///
/// ```swift
/// import LoopTesting
/// import Loops
///
/// let test = try VirtualTimeLoop(wrapping: BuiltinBackends.poll)
/// var fired: [Double] = []
/// try test.loop.callLater(.seconds(30)) { fired.append(test.loop.time()) }
/// try test.advance(by: .seconds(29))      // returns at once; nothing fired
/// try test.advance(by: .seconds(1))       // the timer fires, at loop time 30
/// try test.close()
/// ```
///
/// File descriptors are watched by the real backend it wraps (polled without
/// blocking on every iteration), and `callSoonThreadsafe` works from other threads.
///
/// ## Running the loop yourself
/// ``loop`` is an ordinary ``BaseEventLoop``. `runForever()` and `runUntilComplete(_:)`
/// on it follow the backend's ``VirtualClockBackend/IdlePolicy``: with the default
/// ``VirtualClockBackend/IdlePolicy/manual`` the clock does not move by itself, so a
/// loop with only future timers blocks (without spinning) until a watched fd is ready,
/// a `callSoonThreadsafe` arrives or another thread calls
/// ``VirtualClockBackend/advanceClock(by:)``; with
/// ``VirtualClockBackend/IdlePolicy/jumpToNextTimer`` it jumps from timer to timer.
///
/// ## Threading
/// ``advance(by:)``, ``advance(to:)``, ``runUntilIdle(maxIterations:)`` and ``close()``
/// run the loop, so they are called on the test's thread, never from inside one of
/// the loop's callbacks (that would run a running loop).
public final class VirtualTimeLoop: Sendable {
    /// The loop under test.
    public let loop: BaseEventLoop
    /// Its backend, which holds the virtual clock.
    @_spi(Backend) public let clock: VirtualClockBackend

    /// How many iterations ``runUntilIdle(maxIterations:)`` allows by default.
    public static let defaultMaxIterations = 10_000

    /// A loop on a virtual clock starting at `start`, watching fds with `backend`.
    ///
    /// - Parameters:
    ///   - backend: a fresh real backend (e.g. `PollSelector()`), owned from now on.
    ///   - start: the loop time before any advance.
    ///   - idlePolicy: what `runForever` does when only future timers remain.
    @_spi(Backend) public convenience init(
        wrapping backend: any SelectorBackend,
        start: Double = 0,
        idlePolicy: VirtualClockBackend.IdlePolicy = .manual
    ) {
        self.init(clock: VirtualClockBackend(wrapping: backend, start: start, idlePolicy: idlePolicy))
    }

    /// A loop on a virtual clock starting at `start`, watching fds with a fresh backend
    /// made from `descriptor` (e.g. `BuiltinBackends.poll`).
    public convenience init(
        wrapping descriptor: BackendDescriptor, start: Double = 0, idlePolicy: VirtualIdlePolicy = .manual
    ) throws {
        self.init(wrapping: try descriptor.make(), start: start, idlePolicy: idlePolicy)
    }

    /// A loop on `clock`.
    @_spi(Backend) public init(clock: VirtualClockBackend) {
        self.clock = clock
        self.loop = BaseEventLoop(backend: clock)
    }

    /// The loop time now, in seconds (the same as `loop.time()`).
    public var now: Double { clock.now() }

    /// Runs callbacks until none is ready, no timer is due at the current loop time
    /// and the last poll found no fd ready. The clock does not move.
    ///
    /// Each iteration polls I/O without blocking, queues what became ready and due,
    /// and runs that batch (`stop()` then `runForever()`, one iteration each).
    ///
    /// - Throws: what the loop throws (e.g. `.closed`, `.backendFailure`); `.alreadyRunning`
    ///   when called from inside the loop; `.invalidState` when the loop is still busy
    ///   after `maxIterations` (a callback that reschedules itself forever, or a watched
    ///   fd that stays ready without its callback draining it).
    public func runUntilIdle(maxIterations: Int = VirtualTimeLoop.defaultMaxIterations) throws {
        try checkNotRunning("runUntilIdle")
        for _ in 0..<max(maxIterations, 1) {
            loop.stop()
            try loop.runForever()
            if !isBusy { return }
        }
        throw LoopError(
            .invalidState,
            "VirtualTimeLoop.runUntilIdle: still busy after \(maxIterations) iterations (\(loop.snapshot)); "
                + "a callback keeps rescheduling itself or a watched fd stays ready; remove it or raise maxIterations")
    }

    /// Moves the clock forward by `duration`, running every timer that falls due on the
    /// way at its own deadline (the clock stands at each deadline while those callbacks
    /// run), then runs until idle at the final time.
    ///
    /// - Throws: `.invalidArgument` for a negative duration, and what
    ///   ``runUntilIdle(maxIterations:)`` throws.
    public func advance(by duration: Duration) throws {
        guard duration >= .zero else {
            throw LoopError(
                .invalidArgument, "VirtualTimeLoop.advance(by:): time never goes backwards, got \(duration); pass a duration >= 0")
        }
        try advance(to: now + duration.virtualSeconds, call: "advance(by:)")
    }

    /// Moves the clock forward to loop time `time`, running every timer that falls due
    /// on the way at its own deadline, then runs until idle. A time already passed only
    /// runs until idle.
    ///
    /// - Throws: `.invalidArgument` for a non-finite time, and what
    ///   ``runUntilIdle(maxIterations:)`` throws.
    public func advance(to time: Double) throws {
        guard time.isFinite else {
            throw LoopError(.invalidArgument, "VirtualTimeLoop.advance(to:): the time must be finite, got \(time)")
        }
        try advance(to: time, call: "advance(to:)")
    }

    /// Closes the loop (see `BaseEventLoop.close()`), which closes the wrapped backend.
    public func close() throws { try loop.close() }

    private func advance(to target: Double, call: String) throws {
        try checkNotRunning(call)
        try runUntilIdle()
        // The loop is not running: moving the clock needs no wakeup.
        while let next = loop.nextTimerDeadline, next <= target {
            clock.moveClock(to: next, wakingTheLoop: false)
            try runUntilIdle()
        }
        clock.moveClock(to: target, wakingTheLoop: false)
        try runUntilIdle()
    }

    /// Whether another iteration would run something without the clock moving.
    private var isBusy: Bool {
        if loop.snapshot.readyCallbacks > 0 || clock.lastWaitReportedReadiness { return true }
        // The loop runs a timer when its deadline is within a nanosecond of the clock.
        if let next = loop.nextTimerDeadline, next <= now + 1e-9 { return true }
        return false
    }

    private func checkNotRunning(_ call: String) throws {
        guard !loop.isRunning else {
            throw LoopError(
                .alreadyRunning,
                "VirtualTimeLoop.\(call): the loop is running; call it from the test, not from a loop callback "
                    + "(another thread may move the clock with clock.advanceClock(by:))")
        }
    }
}
