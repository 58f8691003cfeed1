import Glibc
import LoopCore

/// CALL — callSoon, callSoonThreadsafe, Handle.
///
/// asyncio's positional `*args` are closures capturing values in Swift. Iterations are
/// driven one at a time with stop-before-run (`loop.stop(); try loop.runForever()`)
/// where a line counts iterations.
enum CallCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("CALL-01", "1000 callSoon callbacks run in registration order, each exactly once") { ctx in
            let loop = try ctx.makeLoop()
            let order = Recorder<Int>()
            for index in 0..<1000 { try loop.callSoon { order.record(index) } }
            try loop.callSoon { loop.stop() }
            try loop.runForever()
            try ctx.expectEqual(order.all, Array(0..<1000), "run order")
            try iterate(loop)
            try ctx.expectEqual(order.count, 1000, "callbacks run after a further iteration")
            try loop.close()
        },
        ConformanceCase("CALL-02", "callSoon returns a plain Handle; the callback runs once, in the next iteration, with its captured values") { ctx in
            struct Arguments: Equatable, Sendable {
                let number: Int
                let text: String
                let nothing: Int?
            }
            let loop = try ctx.makeLoop()
            let calls = Recorder<Arguments>()
            func callback(_ number: Int, _ text: String, _ nothing: Int?) {
                calls.record(Arguments(number: number, text: text, nothing: nothing))
            }
            let (number, text, nothing): (Int, String, Int?) = (1, "two", nil)
            let handle = try loop.callSoon { callback(number, text, nothing) }
            try ctx.expect(!(handle is TimerHandle), "callSoon must return a Handle, not a TimerHandle")
            try ctx.expect(!handle.isCancelled, "a new handle is not cancelled")
            try ctx.expectEqual(calls.count, 0, "calls before the loop ran")
            try iterate(loop)
            try ctx.expectEqual(calls.all, [Arguments(number: 1, text: "two", nothing: nil)], "calls after one iteration")
            try iterate(loop)
            try ctx.expectEqual(calls.count, 1, "calls after a second iteration")
            try loop.close()
        },
        ConformanceCase("CALL-03", "a callback scheduled during an iteration runs in a later one, after what was already queued") { ctx in
            let loop = try ctx.makeLoop()
            let order = Recorder<String>()
            try loop.callSoon {
                order.record("A")
                try loop.callSoon { order.record("C") }
            }
            try loop.callSoon { order.record("B") }
            try iterate(loop)
            try ctx.expectEqual(order.all, ["A", "B"], "first iteration")
            try iterate(loop)
            try ctx.expectEqual(order.all, ["A", "B", "C"], "second iteration")
            try loop.close()
        },
        ConformanceCase("CALL-04", "cancel() before a callback runs: cancelled, never runs, others run; a second cancel is harmless") { ctx in
            let loop = try ctx.makeLoop()
            let order = Recorder<String>()
            try loop.callSoon { order.record("A") }
            let handle = try loop.callSoon { order.record("B") }
            try loop.callSoon { order.record("C") }
            handle.cancel()
            try ctx.expect(handle.isCancelled, "isCancelled after cancel()")
            handle.cancel()
            try ctx.expect(handle.isCancelled, "isCancelled after a second cancel()")
            try iterate(loop)
            try iterate(loop)
            try ctx.expectEqual(order.all, ["A", "C"], "callbacks run")
            try loop.close()
        },
        ConformanceCase("CALL-05", "cancel() after the callback ran is harmless and does not run it again") { ctx in
            let loop = try ctx.makeLoop()
            let count = Recorder<Int>()
            let handle = try loop.callSoon { count.record(1) }
            try iterate(loop)
            try ctx.expectEqual(count.count, 1, "runs before cancel()")
            handle.cancel()
            // As in CPython, the handle reports the cancellation even though it already ran.
            try ctx.expect(handle.isCancelled, "isCancelled after cancel()")
            try iterate(loop)
            try ctx.expectEqual(count.count, 1, "runs after cancel()")
            try loop.close()
        },
        ConformanceCase("CALL-06", "callSoonThreadsafe from another thread wakes an idle, sleeping loop") { ctx in
            let loop = try ctx.makeLoop()
            let ran = Recorder<String>()
            let thread = ctx.spawn {
                ctx.block(for: .milliseconds(100))
                _ = try? loop.callSoonThreadsafe { ran.record("cb") }
                _ = try? loop.callSoonThreadsafe { loop.stop() }
            }
            let started = ctx.stopwatch()
            try loop.runForever()
            let elapsed = ContinuousClock.now - started
            thread.join()
            try ctx.expectEqual(ran.all, ["cb"], "callbacks submitted from the thread")
            try ctx.expect(elapsed >= .milliseconds(90), "the loop returned after \(elapsed), before the thread submitted anything")
            try ctx.expect(elapsed < .seconds(2), "the sleeping loop took \(elapsed) to wake up")
            try loop.close()
        },
        ConformanceCase(
            "CALL-07", "8 threads x 500 callSoonThreadsafe: all run once, each thread's in submission order",
            requires: [.realTime]  // the watchdog timer must not fire before the threads have submitted
        ) { ctx in
            struct Submission: Equatable, Sendable {
                let thread: Int
                let index: Int
            }
            let loop = try ctx.makeLoop()
            let seen = Recorder<Submission>()
            let running = Recorder<Bool>()
            let threadCount = 8
            let perThread = 500
            let total = threadCount * perThread
            try loop.callSoon { running.record(true) }
            let threads = (0..<threadCount).map { thread in
                ctx.spawn {
                    // Submit while the loop runs, so the wakeup path is exercised too.
                    let deadline = ContinuousClock.now + .seconds(5)
                    while running.count == 0 && ContinuousClock.now < deadline { usleep(100) }
                    for index in 0..<perThread {
                        _ = try? loop.callSoonThreadsafe {
                            seen.record(Submission(thread: thread, index: index))
                            if seen.count == total { loop.stop() }
                        }
                    }
                }
            }
            let watchdog = try loop.callLater(.seconds(8)) { loop.stop() }
            try loop.runForever()
            watchdog.cancel()
            for thread in threads { thread.join() }
            let all = seen.all
            try ctx.expectEqual(all.count, total, "callbacks run")
            for thread in 0..<threadCount {
                let indices = all.filter { $0.thread == thread }.map(\.index)
                try ctx.expectEqual(indices, Array(0..<perThread), "run order of thread \(thread)'s callbacks")
            }
            try loop.close()
        },
        ConformanceCase("CALL-08", "a callback submitted from another thread runs on the loop's thread") { ctx in
            let loop = try ctx.makeLoop()
            let loopThread = pthread_self()
            let observed = Recorder<String>()
            let thread = ctx.spawn {
                observed.record("submitter is loop thread: \(pthread_equal(pthread_self(), loopThread) != 0)")
                _ = try? loop.callSoonThreadsafe {
                    observed.record("runs on loop thread: \(pthread_equal(pthread_self(), loopThread) != 0)")
                    observed.record("running loop is this loop: \(RunningLoop.current === loop)")
                    loop.stop()
                }
            }
            try loop.runForever()
            thread.join()
            try ctx.expectEqual(
                observed.all,
                ["submitter is loop thread: false", "runs on loop thread: true", "running loop is this loop: true"],
                "threads seen")
            try loop.close()
        },

        // MARK: Beyond the catalogue

        ConformanceCase("CALL-X01", "callSoonThreadsafe from another thread before the loop runs is kept for the first run") { ctx in
            // CPython 3.11: the callback runs in the first iteration of the next run.
            let loop = try ctx.makeLoop()
            let ran = Recorder<String>()
            let thread = ctx.spawn { _ = try? loop.callSoonThreadsafe { ran.record("ts") } }
            try ctx.expect(thread.join(timeout: .seconds(5)), "the submitting thread did not finish")
            try ctx.expectEqual(ran.count, 0, "runs before the loop ran")
            try iterate(loop)
            try ctx.expectEqual(ran.all, ["ts"], "runs after one iteration")
            try loop.close()
        },
        ConformanceCase("CALL-X02", "callSoon and callSoonThreadsafe on the loop's thread share one FIFO order") { ctx in
            // CPython 3.11 gives [1, 2, 3, 4, 5, 6]: both calls append to the same ready queue.
            let loop = try ctx.makeLoop()
            let order = Recorder<Int>()
            try loop.callSoon { order.record(1) }
            try loop.callSoonThreadsafe { order.record(2) }
            try loop.callSoon { order.record(3) }
            try loop.callSoon {
                try loop.callSoon { order.record(4) }
                try loop.callSoonThreadsafe { order.record(5) }
                try loop.callSoon { order.record(6) }
                try loop.callSoon { loop.stop() }
            }
            try loop.runForever()
            try ctx.expectEqual(order.all, [1, 2, 3, 4, 5, 6], "run order (before the run, then from a callback)")
            try loop.close()
        },
        ConformanceCase("CALL-X03", "a handle cancelled by an earlier callback of the same batch does not run") { ctx in
            // CPython 3.11: the run loop skips handles cancelled after they were queued; gives ['A'].
            let loop = try ctx.makeLoop()
            let order = Recorder<String>()
            var victim: Handle?
            try loop.callSoon {
                order.record("A")
                victim?.cancel()
            }
            victim = try loop.callSoon { order.record("B") }
            try iterate(loop)
            try iterate(loop)
            try ctx.expectEqual(order.all, ["A"], "callbacks run")
            try ctx.expect(victim?.isCancelled == true, "the cancelled handle reports isCancelled")
            try loop.close()
        },
    ]

    /// Runs exactly one iteration (stop before run).
    private static func iterate(_ loop: BaseEventLoop) throws {
        loop.stop()
        try loop.runForever()
    }
}
