import Glibc
import LoopCore
import Synchronization

/// Lets a case run short closures on the process's main thread, which only the main
/// thread may do (``EventLoop/addSignalHandler(_:_:from:)``, as asyncio).
///
/// A case still runs on its own thread, under its timeout. When ``ConformanceSuite``
/// is called on the main thread (loopctl, an XCTest test method), the main thread
/// serves the case's requests while it waits for the case to finish. A case marked
/// ``ConformanceCase/needsMainThread`` fails, naming the reason, when the suite is
/// called on another thread: Swift Testing runs tests on pool threads, and under it
/// the process's main thread is parked for good (libdispatch's `dispatch_main`), so no
/// code can ever run there. The built-in tests run those cases from XCTest.
public enum MainThread {
    /// Whether the calling thread is the process's main thread.
    public static var isCurrent: Bool { Signals.isMainThread }

    private static let queue = Mutex<[MainThreadRequest]>([])
    private static let servers = Atomic<Int>(0)

    /// Runs `body` (which starts a case thread and joins it) with the calling thread,
    /// if it is the main thread, registered as serving requests from its start, so a
    /// case that asks for the main thread at once cannot find nobody serving.
    static func serving<Result>(_ body: () -> Result) -> Result {
        guard isCurrent else { return body() }
        servers.add(1, ordering: .sequentiallyConsistent)
        defer { servers.subtract(1, ordering: .sequentiallyConsistent) }
        return body()
    }

    /// Waits for `thread` like ``CaseThread/join(timeout:)``; on the main thread, runs
    /// the requests cases make meanwhile (call it inside ``serving(_:)``).
    static func join(_ thread: CaseThread, timeout: Duration) -> Bool {
        guard isCurrent else { return thread.join(timeout: timeout) }
        let deadline = ContinuousClock.now + timeout
        var pause: UInt32 = 50
        while !thread.isFinished {
            if serveRequests() {
                pause = 50
                continue
            }
            if ContinuousClock.now >= deadline { return false }
            usleep(pause)
            pause = min(pause * 2, 1_000)
        }
        return thread.join(timeout: .zero)
    }

    /// Runs every queued request; returns whether there was one.
    private static func serveRequests() -> Bool {
        let pending = queue.withLock { queue -> [MainThreadRequest] in
            defer { queue.removeAll() }
            return queue
        }
        for request in pending { request.runIfNotAbandoned() }
        return !pending.isEmpty
    }

    /// Runs `body` on the main thread, waiting up to `timeout` for the main thread to
    /// take it. Returns `false` when no main thread serves requests or it did not take
    /// the request in time (the request is then dropped, never run later).
    static func perform(timeout: Duration, _ body: @escaping @Sendable () -> Void) -> Bool {
        if isCurrent {
            body()
            return true
        }
        guard servers.load(ordering: .sequentiallyConsistent) > 0 else { return false }
        let request = MainThreadRequest(body)
        queue.withLock { $0.append(request) }
        return request.wait(timeout: timeout)
    }
}

/// One closure for the main thread, taken at most once.
private final class MainThreadRequest: Sendable {
    private enum State: Int { case queued, running, done, abandoned }
    private let body: @Sendable () -> Void
    private let state = Atomic<Int>(State.queued.rawValue)

    init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    func runIfNotAbandoned() {
        guard state.compareExchange(
            expected: State.queued.rawValue, desired: State.running.rawValue, ordering: .acquiringAndReleasing
        ).exchanged else { return }
        body()
        state.store(State.done.rawValue, ordering: .releasing)
    }

    /// Waits until the body ran; gives up (abandoning it) if it has not started by the deadline.
    func wait(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            switch state.load(ordering: .acquiring) {
            case State.done.rawValue:
                return true
            case State.queued.rawValue where ContinuousClock.now >= deadline:
                if state.compareExchange(
                    expected: State.queued.rawValue, desired: State.abandoned.rawValue, ordering: .acquiringAndReleasing
                ).exchanged { return false }
            default:
                break
            }
            usleep(100)
        }
    }
}

extension CaseContext {
    /// Runs `body` on the process's main thread and returns its result or rethrows its
    /// error, for a case marked ``ConformanceCase/needsMainThread``. Fails the case when
    /// the main thread is out of reach (see ``MainThread``).
    @discardableResult
    public func onMainThread<T: Sendable>(
        file: StaticString = #fileID, line: UInt = #line, _ body: @escaping @Sendable () throws -> T
    ) throws -> T {
        let outcome = Protected<Result<T, any Error>?>(nil)
        let ran = MainThread.perform(timeout: .seconds(5)) {
            let result = Result { try body() }
            outcome.withLock { $0 = result }
        }
        guard ran, let result = outcome.withLock({ $0 }) else {
            throw failure(
                "this step must run on the process's main thread, which is out of reach: call ConformanceSuite.run from the main thread (loopctl, an XCTest test)",
                file: file, line: line)
        }
        return try result.get()
    }
}
