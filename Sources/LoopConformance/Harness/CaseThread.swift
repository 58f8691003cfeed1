import Glibc
import Synchronization

/// A plain OS thread running one closure, which the starter can wait for with a deadline.
public final class CaseThread: Sendable {
    private let done = Atomic<Bool>(false)
    private let state = Mutex<pthread_t?>(nil)

    /// Starts `body` on a new thread.
    public init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(ThreadStart(body: body, finished: self)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let start = Unmanaged<ThreadStart>.fromOpaque(raw).takeRetainedValue()
            start.body()
            start.finished.done.store(true, ordering: .releasing)
            return nil
        }, box)
        if result != 0 {
            // No thread: run inline so the work is never silently dropped.
            Unmanaged<ThreadStart>.fromOpaque(box).release()
            body()
            done.store(true, ordering: .releasing)
        } else {
            state.withLock { $0 = thread }
        }
    }

    /// Whether the body has returned.
    public var isFinished: Bool { done.load(ordering: .acquiring) }

    /// Waits up to `timeout` for the body to return; returns whether it did.
    @discardableResult
    public func join(timeout: Duration = .seconds(30)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        var pause: UInt32 = 50
        while !isFinished {
            if ContinuousClock.now >= deadline { return false }
            usleep(pause)
            pause = min(pause * 2, 2_000)
        }
        if let thread = state.withLock({ state -> pthread_t? in defer { state = nil }; return state }) {
            pthread_join(thread, nil)
        }
        return true
    }

    deinit {
        if let thread = state.withLock({ $0 }) { pthread_detach(thread) }
    }
}

private final class ThreadStart: Sendable {
    let body: @Sendable () -> Void
    let finished: CaseThread

    init(body: @escaping @Sendable () -> Void, finished: CaseThread) {
        self.body = body
        self.finished = finished
    }
}
