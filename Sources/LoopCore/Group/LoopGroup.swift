import CLoopShims
import Synchronization

/// Several event loops, each running on a thread of its own (SwiftNIO's
/// `MultiThreadedEventLoopGroup`; asyncio and uvloop only scale with processes).
///
/// Each loop is an ordinary ``BaseEventLoop`` on the backend the registry chooses (or
/// the one named). Work gets onto a group loop from any thread with the loop's
/// thread-safe calls, ``EventLoop/callSoonThreadsafe(file:line:_:)`` and
/// ``runCoroutineThreadsafe(on:file:line:_:)``, or with the group's own
/// ``callSoonThreadsafe(_:)`` and ``runCoroutineThreadsafe(_:)``, which pick the
/// ``next()`` loop. Everything else a loop offers is used from a task or callback
/// running on that loop. ``GroupServer`` serves one port across the loops.
///
/// ```swift
/// let group = try LoopGroup(loops: 4)
/// let answer = try group.runCoroutineThreadsafe { try await compute() }.result()
/// try group.shutdownGracefully(timeout: .seconds(5))
/// ```
///
/// Shut the group down when done: ``shutdownGracefully(timeout:)`` stops every loop,
/// cancels and awaits the tasks each still has, shuts each default executor down,
/// closes the loops and joins their threads. A group dropped without a shutdown asks
/// its loops to stop and lets the threads finish alone.
public final class LoopGroup: Sendable, CustomStringConvertible {
    /// How long ``shutdown()`` gives the loops to finish.
    public static let defaultShutdownTimeout: Duration = .seconds(10)

    /// The number of loops a group has by default: one per online CPU.
    public static var defaultLoopCount: Int { Int(cloop_online_cpu_count()) }

    /// The group's loops, in the order ``next()`` hands them out.
    public let loops: [BaseEventLoop]

    private let threads: [LoopThread]
    private let counter = Atomic<Int>(0)
    private enum State { case running, shuttingDown, shutDown }
    private let state = Mutex(State.running)

    /// A group of `loops` loops on the backend named `backend` (default: what
    /// `LOOP_BACKEND` or the registry's priorities choose, see
    /// ``BackendRegistry/choose(name:environment:)``), each on its own thread, pinned
    /// as `pinning` says. Throws ``LoopError/Kind-swift.enum/invalidArgument`` for fewer
    /// than one loop or a CPU the process may not use,
    /// ``LoopError/Kind-swift.enum/backendUnavailable`` for a backend that cannot run
    /// here, and ``SystemError`` when a thread cannot be started.
    public convenience init(
        loops count: Int = LoopGroup.defaultLoopCount, backend: String? = nil,
        registry: BackendRegistry = .shared, pinning: CPUPinning = .none
    ) throws {
        try Self.checkCount(count)
        let choice = try registry.choose(name: backend)
        try self.init(loops: count, backend: choice.descriptor, pinning: pinning)
    }

    /// A group of `loops` loops, each made from `backend`; `configure`, when given, is
    /// called with each new loop, on the calling thread, before the loop's thread starts (to set debug mode or an
    /// exception handler, say). Throws what
    /// ``init(loops:backend:registry:pinning:)`` throws, and what `backend` throws.
    public init(
        loops count: Int, backend: BackendDescriptor, pinning: CPUPinning = .none,
        configure: ((BaseEventLoop) -> Void)? = nil
    ) throws {
        try Self.checkCount(count)
        if case .unavailable(let why) = backend.availability() {
            throw LoopError(.backendUnavailable, "LoopGroup: loop backend '\(backend.name)' is not available here: \(why)")
        }
        var cpus: [Int?] = []
        for index in 0..<count { cpus.append(try pinning.cpu(forLoop: index)) }
        var loops: [BaseEventLoop] = []
        for _ in 0..<count {
            let loop = try BaseEventLoop(backend: backend.make())
            configure?(loop)
            loops.append(loop)
        }
        let threads = loops.enumerated().map { LoopThread(loop: $1, index: $0) }
        var started: [LoopThread] = []
        do {
            for thread in threads {
                try thread.start(name: "loop-group-\(thread.index)", cpu: cpus[thread.index])
                started.append(thread)
            }
        } catch {
            for thread in started { thread.requestStop() }
            for thread in started { _ = thread.join(untilNanoseconds: Int64.max / 2) }
            for loop in loops where !loop.isClosed { try? loop.close() }
            throw error
        }
        self.loops = loops
        self.threads = threads
    }

    deinit {
        let alreadyDown = state.withLock { $0 != .running }
        guard !alreadyDown else { return }
        for thread in threads {
            thread.requestStop()
            thread.detach()
        }
    }

    public var description: String {
        "<LoopGroup loops=\(loops.count) backend=\(loops.first?.backendName ?? "?")\(isShutDown ? " shut down" : "")>"
    }

    /// The next loop, round robin: loop 0, 1, …, n-1, 0, … Thread-safe. After a
    /// shutdown it still returns a (closed) loop, which refuses work with
    /// ``LoopError/Kind-swift.enum/closed``.
    public func next() -> BaseEventLoop {
        let ticket = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[Int(UInt(bitPattern: ticket) % UInt(loops.count))]
    }

    /// Whether a shutdown began.
    public var isShutDown: Bool { state.withLock { $0 != .running } }

    /// The group loop running on the calling thread, if the caller is on one.
    public var currentLoop: BaseEventLoop? {
        threads.first(where: \.isCurrent)?.loop
    }

    /// Schedules `body` on the ``next()`` loop from any thread (as
    /// ``EventLoop/callSoonThreadsafe(file:line:_:)``). Throws
    /// ``LoopError/Kind-swift.enum/closed`` once the group is shutting down.
    @discardableResult
    public func callSoonThreadsafe(_ body: @escaping @Sendable () throws -> Void) throws -> Handle {
        try state.withLock { state in
            guard state == .running else { throw Self.shutDownError("callSoonThreadsafe") }
            return try next().callSoonThreadsafe(body, from: nil)
        }
    }

    /// Runs `body` as a task on the ``next()`` loop from any thread and returns a
    /// thread-safe future of its outcome (as ``runCoroutineThreadsafe(on:file:line:_:)``).
    /// Throws ``LoopError/Kind-swift.enum/closed`` once the group is shutting down; work
    /// accepted before then is cancelled by the shutdown if still running.
    public func runCoroutineThreadsafe<T: Sendable>(
        file: StaticString = #fileID, line: UInt = #line, _ body: @escaping @Sendable () async throws -> T
    ) throws -> ConcurrentFuture<T> {
        try state.withLock { state in
            guard state == .running else { throw Self.shutDownError("runCoroutineThreadsafe") }
            return try LoopCore.runCoroutineThreadsafe(on: next(), file: file, line: line, body)
        }
    }

    /// ``shutdownGracefully(timeout:)`` with ``defaultShutdownTimeout``.
    public func shutdown() throws {
        try shutdownGracefully(timeout: Self.defaultShutdownTimeout)
    }

    /// Stops every loop after the callbacks it is running, cancels and awaits the
    /// tasks each still has, shuts each default executor down, closes the loops and
    /// joins their threads, all within `timeout`. Loops still busy at the deadline are
    /// stopped again (their cleanup is cut short and they are closed) and get one more
    /// second. Throws ``LoopError/Kind-swift.enum/invalidState`` on a group already
    /// shut down, ``LoopError/Kind-swift.enum/wrongThread`` when called on one of the
    /// group's loops (it would wait for itself), ``TimeoutError`` when a thread still
    /// had not ended (its loop is blocked in a callback; the thread is left to end
    /// alone), and ``LoopError/Kind-swift.enum/backendFailure`` when a loop had stopped
    /// on its own because it failed.
    public func shutdownGracefully(timeout: Duration) throws {
        if timeout < .zero {
            throw LoopError(.invalidArgument, "LoopGroup.shutdownGracefully: timeout must not be negative, got \(timeout)")
        }
        if currentLoop != nil {
            throw LoopError(
                .wrongThread,
                "LoopGroup.shutdownGracefully: called on one of the group's own loops, which would wait for itself; call it from another thread")
        }
        try state.withLock { state in
            guard state == .running else {
                throw LoopError(.invalidState, "LoopGroup.shutdownGracefully: the group is already shut down; shut a group down once")
            }
            state = .shuttingDown
        }
        defer { state.withLock { $0 = .shutDown } }
        for thread in threads { thread.requestStop() }
        let deadline = MonotonicClock.nanoseconds() &+ timeout.clampedNanoseconds
        var late: [LoopThread] = []
        for thread in threads where !thread.join(untilNanoseconds: deadline) { late.append(thread) }
        if !late.isEmpty {
            for thread in late { thread.requestStop() }
            let grace = MonotonicClock.nanoseconds() &+ 1_000_000_000
            late = late.filter { !$0.join(untilNanoseconds: grace) }
            for thread in late { thread.detach() }
        }
        if !late.isEmpty {
            throw TimeoutError(
                "LoopGroup.shutdownGracefully: loop \(late.map { String($0.index) }.joined(separator: ", ")) did not stop within \(timeout); a callback blocks its thread, which is left to end alone")
        }
        if let failed = threads.first(where: { $0.error != nil }), let error = failed.error {
            throw LoopError(.backendFailure, "LoopGroup: loop \(failed.index) stopped with an error: \(error)")
        }
    }

    private static func checkCount(_ count: Int) throws {
        guard count >= 1 else {
            throw LoopError(.invalidArgument, "LoopGroup(loops: \(count)): a group needs at least one loop")
        }
    }

    private static func shutDownError(_ call: String) -> LoopError {
        LoopError(.closed, "LoopGroup.\(call): the group is shut down; its loops take no more work")
    }
}
