import Glibc
import LoopCore
import Synchronization

/// EXEC — runInExecutor, the default executor (a bounded ThreadPoolExecutor),
/// shutdownDefaultExecutor, wrapFuture. Workers are gated with ``WorkerGate`` so every
/// ordering is forced, never guessed from sleeps.
enum ExecutorCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("EXEC-01", "runInExecutor(nil) returns a loop future at once; the call runs on another thread", requires: [.crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            let onLoopThread = Recorder<Bool>()
            @Sendable func multiply(_ a: Int, _ b: Int) -> Int { a * b }
            let future = try loop.runInExecutor { () -> Int in
                onLoopThread.record(loop.isOnLoopThread)
                return multiply(6, 7)
            }
            try ctx.expect(future.loop === loop, "runInExecutor must return a future of the loop it was called on")
            try ctx.expectEqual(try loop.runUntilComplete(future), 42, "the future's result")
            try ctx.expectEqual(onLoopThread.all, [false], "the call must run once, off the loop's thread")
            try loop.close()
        },
        ConformanceCase("EXEC-02", "an error thrown by the call is rethrown by the future; the handler is not called", requires: [.crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            let future = try loop.runInExecutor { () -> Int in throw ExecutorCaseError(code: 7) }
            do {
                _ = try loop.runUntilComplete(future)
                throw ctx.failure("awaiting the future must rethrow the call's error")
            } catch let error as ExecutorCaseError {
                try ctx.expectEqual(error, ExecutorCaseError(code: 7), "the rethrown error")
            }
            try ctx.expectEqual(ctx.takeExceptionContexts().count, 0, "exception-handler calls")
            try loop.close()
        },
        ConformanceCase("EXEC-03", "an explicit executor is used; setDefaultExecutor(pool) is used by nil; a non-pool default is rejected", requires: [.crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            let inline = InlineTestExecutor()
            let viaInline = try loop.runInExecutor(inline) { 1 }
            try ctx.expectEqual(try loop.runUntilComplete(viaInline), 1, "result through an explicit executor")
            try ctx.expectEqual(inline.submissions.load(ordering: .relaxed), 1, "calls the explicit executor received")

            let pool = try ThreadPoolExecutor(maxWorkers: 1)
            defer { pool.shutdown(wait: true) }
            try loop.setDefaultExecutor(pool)
            let ranOnPool = Recorder<Bool>()
            let viaDefault = try loop.runInExecutor { ranOnPool.record(pool.ownsCurrentThread) }
            try loop.runUntilComplete(viaDefault)
            try ctx.expectEqual(ranOnPool.all, [true], "runInExecutor(nil) must run on the executor set as default")

            let error = try ctx.expectLoopError(.invalidArgument, "setDefaultExecutor(a non-ThreadPoolExecutor)") {
                try loop.setDefaultExecutor(inline)
            }
            try ctx.expect(error.message.contains("ThreadPoolExecutor"), "the error must say a ThreadPoolExecutor is required: \(error.message)")
            let stillPool = try loop.runInExecutor { ranOnPool.record(pool.ownsCurrentThread) }
            try loop.runUntilComplete(stillPool)
            try ctx.expectEqual(ranOnPool.all, [true, true], "a rejected executor must not replace the default")
            try loop.close()
        },
        ConformanceCase("EXEC-04", "shutdownDefaultExecutor waits for running work; then runInExecutor(nil) throws", requires: [.crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            let gate = WorkerGate()
            let order = Recorder<String>()
            let running = try loop.runInExecutor { () -> Int in
                order.record("call started")
                gate.wait()
                order.record("call finished")
                return 1
            }
            let releaser = ctx.spawn {
                // Let the shutdown begin waiting before the call may finish.
                while order.count == 0 { usleep(1_000) }
                usleep(50_000)
                gate.open()
            }
            let shutdown = try loop.shutdownDefaultExecutor()
            try loop.runUntilComplete(shutdown)
            order.record("shutdown done")
            releaser.join()
            try ctx.expectEqual(order.all, ["call started", "call finished", "shutdown done"], "order of events")
            try ctx.expectEqual(try loop.runUntilComplete(running), 1, "the running call's result")
            let error = try ctx.expectLoopError(.executorShutdown, "runInExecutor(nil) after shutdownDefaultExecutor") {
                _ = try loop.runInExecutor { 0 }
            }
            try ctx.expect(error.message.contains("Executor shutdown has been called"), "message: \(error.message)")
            try loop.close()
        },
        ConformanceCase("EXEC-05", "close() while a default-executor call is blocked returns in < 1 s") { ctx in
            let loop = try ctx.makeLoop()
            let (_, gate) = try WorkerGate.blockedCall(ctx, loop) {}
            let clock = ctx.stopwatch()
            try loop.close()
            let elapsed = ContinuousClock.now - clock
            try ctx.expect(elapsed < .seconds(1), "close() took \(elapsed): it must not wait for the executor")
            gate.open()
        },
        ConformanceCase("EXEC-06", "runInExecutor on a closed loop throws 'Event loop is closed'") { ctx in
            let loop = try ctx.makeLoop()
            try loop.close()
            try ctx.expectLoopError(.closed, "runInExecutor(nil) on a closed loop") { _ = try loop.runInExecutor { 1 } }
            let pool = try ThreadPoolExecutor(maxWorkers: 1)
            defer { pool.shutdown() }
            try ctx.expectLoopError(.closed, "runInExecutor(pool) on a closed loop") { _ = try loop.runInExecutor(pool) { 1 } }
        },
        ConformanceCase("EXEC-07", "one worker: cancelling a running and a queued call; the queued one never runs", requires: [.crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            let pool = try ThreadPoolExecutor(maxWorkers: 1)
            let gate = WorkerGate()
            let started = WorkerGate()
            ctx.onCleanup { gate.open() }
            let ran = Recorder<String>()
            let first = try loop.runInExecutor(pool) { () -> Int in
                started.open()
                gate.wait()
                ran.record("first")
                return 1
            }
            let second = try loop.runInExecutor(pool) { () -> Int in
                ran.record("second")
                return 2
            }
            try ctx.expect(started.wait(timeout: .seconds(5)), "the first call did not start")
            first.cancel()
            second.cancel()
            loop.stop()
            try loop.runForever()  // one iteration: the cancellations reach the pool
            gate.open()
            pool.shutdown(wait: true)
            loop.stop()
            try loop.runForever()  // delivers (and drops) the first call's result
            try ctx.expectEqual(ran.all, ["first"], "calls that ran")
            try ctx.expect(first.isCancelled && second.isCancelled, "both loop futures must stay cancelled")
            try loop.close()
        },
        ConformanceCase("EXEC-08", "wrapFuture gives the thread-safe future's result; cancelling the wrapper cancels it", requires: [.crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            let source = ConcurrentFuture<Int>()
            let wrapped = try wrapFuture(source, loop: loop)
            let setter = ctx.spawn {
                usleep(20_000)
                try? source.setResult(42)
            }
            try ctx.expectEqual(try loop.runUntilComplete(wrapped), 42, "the wrapper's result")
            setter.join()

            let pending = ConcurrentFuture<Int>()
            let wrapper = try wrapFuture(pending, loop: loop)
            wrapper.cancel()
            try ctx.expect(!pending.isCancelled, "the source is cancelled by the loop, not inline")
            loop.stop()
            try loop.runForever()
            try ctx.expect(pending.isCancelled, "after one iteration the source must be cancelled")
            loop.stop()
            try loop.runForever()  // the cancelled source reports back (and is ignored)
            try loop.close()
        },
        ConformanceCase("EXEC-X01", "a saturated pool runs at most maxWorkers calls at once and completes them all", requires: [.crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            let pool = try ThreadPoolExecutor(maxWorkers: 2)
            defer { pool.shutdown() }
            let active = Atomic<Int>(0)
            let peak = Atomic<Int>(0)
            var futures: [Future<Int>] = []
            for index in 0..<6 {
                futures.append(try loop.runInExecutor(pool) { () -> Int in
                    let now = active.add(1, ordering: .sequentiallyConsistent).newValue
                    peak.max(now, ordering: .sequentiallyConsistent)
                    usleep(20_000)
                    active.subtract(1, ordering: .sequentiallyConsistent)
                    return index
                })
            }
            var results: [Int] = []
            for future in futures { results.append(try loop.runUntilComplete(future)) }
            try ctx.expectEqual(results, [0, 1, 2, 3, 4, 5], "results")
            try ctx.expect(peak.load(ordering: .relaxed) <= 2, "\(peak.load(ordering: .relaxed)) calls ran at once on a 2-worker pool")
            try ctx.expect(pool.workerCount <= 2, "the pool started \(pool.workerCount) threads")
            try loop.close()
        },
        ConformanceCase("EXEC-X02", "a cancelled call's late outcome (an error) is dropped: no handler call, the future stays cancelled", requires: [.crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            let pool = try ThreadPoolExecutor(maxWorkers: 1)
            let (future, gate) = try WorkerGate.blockedCall(ctx, loop, on: pool) { () throws -> Int in
                throw ExecutorCaseError(code: 1)
            }
            future.cancel()
            gate.open()
            pool.shutdown(wait: true)  // the worker has posted its outcome to the loop
            loop.stop()
            try loop.runForever()
            try ctx.expect(future.isCancelled, "the future must stay cancelled")
            try ctx.expectEqual(ctx.takeExceptionContexts().count, 0, "exception-handler calls")
            try loop.close()
        },
        ConformanceCase("EXEC-X03", "a task awaits runInExecutor; cancelling the task cancels the call's future", requires: [.crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            let value = try loop.runUntilComplete { try await loop.runInExecutor { 6 * 7 }.value }
            try ctx.expectEqual(value, 42, "awaited result")

            let pool = try ThreadPoolExecutor(maxWorkers: 1)
            let (future, gate) = try WorkerGate.blockedCall(ctx, loop, on: pool) { 1 }
            let awaiting = Recorder<Bool>()
            let task = try loop.createTask { () async throws -> Int in
                awaiting.record(true)
                return try await future.value
            }
            while awaiting.count == 0 {
                loop.stop()
                try loop.runForever()  // until the task's body has started
            }
            for _ in 0..<3 {
                // A few more iterations: the body reaches its await through executor hops.
                loop.stop()
                try loop.runForever()
            }
            task.cancel()
            do {
                _ = try loop.runUntilComplete(task)
                throw ctx.failure("the cancelled task must end with CancelledError")
            } catch is CancelledError {}
            try ctx.expect(future.isCancelled, "cancelling the awaiting task must cancel the executor future")
            gate.open()
            pool.shutdown(wait: true)
            loop.stop()
            try loop.runForever()
            try ctx.expect(future.isCancelled, "the call's late result must not reach the future")
            try loop.close()
        },
        ConformanceCase("EXEC-X04", "shutdownDefaultExecutor without a default executor completes at once; explicit executors still work", requires: [.crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            try loop.runUntilComplete(try loop.shutdownDefaultExecutor())
            try ctx.expectLoopError(.executorShutdown, "runInExecutor(nil) after shutdownDefaultExecutor") {
                _ = try loop.runInExecutor { 0 }
            }
            let pool = try ThreadPoolExecutor(maxWorkers: 1)
            defer { pool.shutdown() }
            try ctx.expectEqual(try loop.runUntilComplete(try loop.runInExecutor(pool) { 5 }), 5, "explicit executor result")
            try loop.close()
        },
        ConformanceCase("EXEC-X05", "shutdownDefaultExecutor(timeout:) gives up on a blocked call after the timeout, with a warning", requires: [.realTime, .crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            let (_, gate) = try WorkerGate.blockedCall(ctx, loop) {}
            let clock = ctx.stopwatch()
            try loop.runUntilComplete(try loop.shutdownDefaultExecutor(timeout: .milliseconds(100)))
            let elapsed = ContinuousClock.now - clock
            try ctx.expect(elapsed >= .milliseconds(90), "the shutdown returned after \(elapsed), before its timeout")
            try ctx.expect(elapsed < .seconds(2), "the shutdown took \(elapsed) with a 100 ms timeout")
            let warnings = ctx.takeLogRecords().filter { $0.level == .warning && $0.message.contains("executor") }
            try ctx.expectEqual(warnings.count, 1, "warnings about the executor")
            try loop.close()
            gate.open()
        },
        ConformanceCase("EXEC-X06", "bad input: maxWorkers <= 0, a shut-down executor, shutdown on a closed loop, a negative timeout") { ctx in
            for workers in [0, -1] {
                let error = try ctx.expectLoopError(.invalidArgument, "ThreadPoolExecutor(maxWorkers: \(workers))") {
                    _ = try ThreadPoolExecutor(maxWorkers: workers)
                }
                try ctx.expect(error.message.contains("greater than 0"), "message: \(error.message)")
            }
            let loop = try ctx.makeLoop()
            let pool = try ThreadPoolExecutor(maxWorkers: 1)
            pool.shutdown()
            let error = try ctx.expectLoopError(.executorShutdown, "runInExecutor(a shut-down executor)") {
                _ = try loop.runInExecutor(pool) { 1 }
            }
            try ctx.expect(error.message.contains("after shutdown"), "message: \(error.message)")
            try ctx.expectLoopError(.invalidArgument, "shutdownDefaultExecutor(timeout: -1 s)") {
                _ = try loop.shutdownDefaultExecutor(timeout: .seconds(-1))
            }
            try loop.close()
            try ctx.expectLoopError(.closed, "shutdownDefaultExecutor on a closed loop") {
                _ = try loop.shutdownDefaultExecutor()
            }
        },
        ConformanceCase("EXEC-X07", "wrapFuture: an error is rethrown, a cancelled source cancels the wrapper, no loop is an error", requires: [.crossThreadWakeup]) { ctx in
            let loop = try ctx.makeLoop()
            let failing = ConcurrentFuture<Int>()
            try failing.setException(ExecutorCaseError(code: 3))
            do {
                _ = try loop.runUntilComplete(try wrapFuture(failing, loop: loop))
                throw ctx.failure("the wrapper must rethrow the source's error")
            } catch let error as ExecutorCaseError {
                try ctx.expectEqual(error, ExecutorCaseError(code: 3), "the rethrown error")
            }
            let cancelled = ConcurrentFuture<Int>()
            cancelled.cancel()
            let wrapper = try wrapFuture(cancelled, loop: loop)
            do {
                _ = try loop.runUntilComplete(wrapper)
                throw ctx.failure("the wrapper of a cancelled source must be cancelled")
            } catch is CancelledError {}
            try ctx.expectLoopError(.noRunningLoop, "wrapFuture without a loop and none running") {
                _ = try wrapFuture(ConcurrentFuture<Int>())
            }
            try loop.close()
        },
    ]
}

/// An error with an identity, thrown by calls in executor cases.
struct ExecutorCaseError: Error, Equatable {
    let code: Int
}

/// An executor that is not a thread pool: runs each call inline, on the submitting thread.
final class InlineTestExecutor: LoopExecutor {
    let submissions = Atomic<Int>(0)

    func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> ConcurrentFuture<T> {
        submissions.add(1, ordering: .relaxed)
        let future = ConcurrentFuture<T>()
        guard try future.setRunningOrNotifyCancel() else { return future }
        do {
            try future.setResult(try body())
        } catch {
            try future.setException(error)
        }
        return future
    }

    func shutdown(wait: Bool, cancelFutures: Bool) {}
}

/// A one-shot gate a worker thread blocks on until the case opens it.
final class WorkerGate: Sendable {
    /// Starts `body` on `executor` (the loop's default one when nil) behind a gate: the
    /// call blocks until the returned gate opens (at the latest in the case's cleanup),
    /// then runs `body`. Returns once the call has started.
    static func blockedCall<T: Sendable>(
        _ ctx: CaseContext, _ loop: BaseEventLoop, on executor: (any LoopExecutor)? = nil,
        then body: @escaping @Sendable () throws -> T
    ) throws -> (Future<T>, WorkerGate) {
        let gate = WorkerGate()
        let started = WorkerGate()
        ctx.onCleanup { gate.open() }
        let future = try loop.runInExecutor(executor) { () throws -> T in
            started.open()
            gate.wait()
            return try body()
        }
        try ctx.expect(started.wait(timeout: .seconds(5)), "the call did not start")
        return (future, gate)
    }

    private let isOpen = Atomic<Bool>(false)

    func open() { isOpen.store(true, ordering: .releasing) }

    /// Blocks until the gate opens.
    func wait() {
        while !isOpen.load(ordering: .acquiring) { usleep(500) }
    }

    /// Blocks until the gate opens or `timeout` passes; returns whether it opened.
    func wait(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isOpen.load(ordering: .acquiring) {
            if ContinuousClock.now >= deadline { return false }
            usleep(500)
        }
        return true
    }
}
