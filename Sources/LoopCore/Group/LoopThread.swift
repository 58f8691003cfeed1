import CLoopShims
import Glibc
import Synchronization

/// One loop of a ``LoopGroup`` and the thread that runs it: the thread runs the loop
/// until the group asks it to stop (a `stop()` from user code just restarts the run),
/// then cleans up as asyncio's `Runner.close()` does — cancels and awaits the tasks
/// left, shuts the default executor down, closes the loop — and ends.
final class LoopThread: @unchecked Sendable {
    // @unchecked: `thread` is written once before the thread can be observed and read
    // by the group's shutdown only; the rest is atomics and locks.
    let loop: BaseEventLoop
    let index: Int
    private var thread = pthread_t()
    private let stopRequested = Atomic<Bool>(false)
    private let ownThreadID = Atomic<UInt>(0)
    private let done = ConditionLock()
    private var finished = false
    private var failure: (any Error)?

    init(loop: BaseEventLoop, index: Int) {
        self.loop = loop
        self.index = index
    }

    /// Starts the thread, pinned to `cpu` when given. Throws ``SystemError`` when the
    /// thread cannot be made or pinned (then nothing runs).
    func start(name: String, cpu: Int?) throws {
        let box = Unmanaged.passRetained(ThreadBody(name: name, owner: self)).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let body = Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue()
            body.name.withCString { cloop_set_thread_name($0) }
            body.owner.main()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            throw SystemError(errno: result, call: "pthread_create (LoopGroup loop \(index))")
        }
        if let cpu {
            do {
                try CPUPinning.pin(thread, to: cpu)
            } catch {
                requestStop()
                _ = join(untilNanoseconds: Int64.max / 2)
                throw error
            }
        }
    }

    /// Whether the calling thread is this loop's thread.
    var isCurrent: Bool { ownThreadID.load(ordering: .acquiring) == cloop_thread_id() }

    /// Asks the thread to stop its loop and clean up; does not wait.
    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        // A closed loop has stopped already.
        _ = try? loop.callSoonThreadsafe({ [loop] in loop.stop() }, from: nil)
    }

    /// Waits until the thread ended (then joins it) or the monotonic deadline passed;
    /// returns whether it ended.
    func join(untilNanoseconds deadline: Int64) -> Bool {
        let ended = done.withLock { () -> Bool in
            while !finished {
                if !done.wait(untilNanoseconds: deadline) { return finished }
            }
            return true
        }
        if ended { pthread_join(thread, nil) }
        return ended
    }

    /// Lets a thread that did not end in time go on alone.
    func detach() { pthread_detach(thread) }

    /// Why the loop stopped running other than by the group's request, if it did.
    var error: (any Error)? { done.withLock { failure } }

    private func main() {
        ownThreadID.store(cloop_thread_id(), ordering: .releasing)
        var firstError: (any Error)?
        while !stopRequested.load(ordering: .acquiring) {
            do {
                try loop.runForever()
            } catch {
                // A loop that fails to run (a backend failure) would fail again at once.
                firstError = error
                break
            }
        }
        // Errors here are a cleanup cut short by a second stop (the shutdown's deadline);
        // failed tasks were reported to the exception handler already.
        let runner = Runner(loopFactory: { [loop] in loop })
        _ = try? runner.loop()
        try? runner.close()
        // Whatever the cleanup left (it was interrupted): the loop must end closed.
        if !loop.isClosed { try? loop.close() }
        done.withLock {
            failure = firstError
            finished = true
            done.broadcast()
        }
    }
}

private final class ThreadBody {
    let name: String
    let owner: LoopThread

    init(name: String, owner: LoopThread) {
        self.name = name
        self.owner = owner
    }
}
