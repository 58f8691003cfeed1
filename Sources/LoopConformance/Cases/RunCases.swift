import LoopCore

/// RUN — runForever / runUntilComplete / stop / close.
enum RunCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("RUN-01", "a new loop is neither running nor closed; close() closes it") { ctx in
            let loop = try ctx.makeLoop()
            try ctx.expect(!loop.isRunning && !loop.isClosed, "a new loop must be idle and open")
            try loop.close()
            try ctx.expect(loop.isClosed && !loop.isRunning, "after close() the loop is closed and not running")
        },
        ConformanceCase("RUN-02", "inside a callback the loop is running and is the running loop; not after") { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            try loop.callSoon {
                seen.record("running=\(loop.isRunning)")
                seen.record("current=\(RunningLoop.current === loop)")
                loop.stop()
            }
            try loop.runForever()
            try ctx.expectEqual(seen.all, ["running=true", "current=true"], "state inside the callback")
            try ctx.expect(!loop.isRunning, "isRunning after runForever returned")
            try ctx.expectLoopError(.noRunningLoop, "RunningLoop.get() after the run") { _ = try RunningLoop.get() }
            try loop.close()
        },
        ConformanceCase("RUN-03", "stop before run runs one iteration, not waiting for timers; callbacks it schedules wait") { ctx in
            let loop = try ctx.makeLoop()
            let order = Recorder<String>()
            try loop.callSoon {
                order.record("A")
                try loop.callSoon { order.record("C") }
            }
            try loop.callSoon { order.record("B") }
            let timer = try loop.callLater(.seconds(30)) { order.record("timer") }
            loop.stop()
            let started = ctx.stopwatch()
            try loop.runForever()
            try ctx.expect(ContinuousClock.now - started < .seconds(1), "stop-before-run must not wait for the 30 s timer")
            try ctx.expectEqual(order.all, ["A", "B"], "first run")
            try loop.callSoon { order.record("D") }
            loop.stop()
            try loop.runForever()
            try ctx.expectEqual(order.all, ["A", "B", "C", "D"], "second run")
            timer.cancel()
            try loop.close()
        },
        ConformanceCase("RUN-04", "stop before run polls I/O once with zero timeout and runs due timers") { ctx in
            let loop = try ctx.makeLoop()
            let (a, b) = try ctx.socketPair()
            try ctx.write(b, "x")
            let seen = Recorder<String>()
            try loop.addReader(a) { seen.record("reader") }
            try loop.callLater(.zero) { seen.record("timer") }
            loop.stop()
            try loop.runForever()
            try ctx.expect(seen.all.contains("reader"), "the reader of an already-readable fd must run in the single iteration")
            try ctx.expect(seen.all.contains("timer"), "the due timer must run in the single iteration")
            try loop.removeReader(a)
            try loop.close()
        },
        ConformanceCase("RUN-05", "stop during a batch finishes the batch; what it scheduled waits for the next run") { ctx in
            let loop = try ctx.makeLoop()
            let order = Recorder<String>()
            try loop.callSoon {
                order.record("A")
                loop.stop()
                try loop.callSoon { order.record("C") }
            }
            try loop.callSoon { order.record("B") }
            try loop.runForever()
            try ctx.expectEqual(order.all, ["A", "B"], "first run")
            loop.stop()
            try loop.runForever()
            try ctx.expectEqual(order.all, ["A", "B", "C"], "second run")
            try loop.close()
        },
        ConformanceCase("RUN-06", "stop twice before run gives one iteration and is consumed") { ctx in
            let loop = try ctx.makeLoop()
            let count = Recorder<Int>()
            try loop.callSoon { count.record(1) }
            loop.stop()
            loop.stop()
            try loop.runForever()
            try ctx.expectEqual(count.count, 1, "callbacks run by the stop-before-run iteration")
            let begin = loop.time()
            try loop.callLater(.milliseconds(50)) { loop.stop() }
            try loop.runForever()
            try ctx.expect(loop.time() - begin >= 0.040, "the stop request must be consumed: the next run lasts until the 50 ms timer")
            try loop.close()
        },
        ConformanceCase("RUN-07", "running an already running loop throws; the outer run ends normally") { ctx in
            let loop = try ctx.makeLoop()
            let errors = Recorder<LoopError.Kind>()
            try loop.callSoon {
                do { try loop.runForever() } catch let error as LoopError { errors.record(error.kind) }
                let future = loop.createFuture(of: Int.self)
                do { _ = try loop.runUntilComplete(future) } catch let error as LoopError { errors.record(error.kind) }
                loop.stop()
            }
            try loop.runForever()
            try ctx.expectEqual(errors.all, [.alreadyRunning, .alreadyRunning], "errors from nested runs")
            try ctx.expect(!loop.isRunning, "the outer run ended")
            try loop.close()
        },
        ConformanceCase("RUN-08", "running a second loop on a thread that runs one throws") { ctx in
            let first = try ctx.makeLoop()
            let second = try ctx.makeLoop()
            let errors = Recorder<LoopError.Kind>()
            try first.callSoon {
                do { try second.runForever() } catch let error as LoopError { errors.record(error.kind) }
                first.stop()
            }
            try first.runForever()
            try ctx.expectEqual(errors.all, [.anotherLoopRunning], "error from the second loop")
            try first.close()
            try second.close()
        },
        ConformanceCase("RUN-09", "runUntilComplete returns a future's result, rethrows its error, and returns at once if done") { ctx in
            struct Boom: Error, Equatable { let id: Int }
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            try loop.callSoon { try future.setResult(42) }
            try ctx.expectEqual(try loop.runUntilComplete(future), 42, "result")
            try ctx.expect(!loop.isRunning, "not running afterwards")
            let failing = loop.createFuture(of: Int.self)
            try loop.callSoon { try failing.setException(Boom(id: 7)) }
            do {
                _ = try loop.runUntilComplete(failing)
                throw ctx.failure("runUntilComplete must rethrow the future's error")
            } catch let error as Boom {
                try ctx.expectEqual(error, Boom(id: 7), "the same error")
            }
            let done = loop.createFuture(of: String.self)
            try done.setResult("ready")
            try ctx.expectEqual(try loop.runUntilComplete(done), "ready", "already-done future")
            // An async body (asyncio's coroutine) runs as a task on the loop.
            let value = try loop.runUntilComplete { () async throws -> Int in
                let inner = loop.createFuture(of: Int.self)
                try loop.callSoon { try inner.setResult(20) }
                return try await inner.value + 1
            }
            try ctx.expectEqual(value, 21, "async body result")
            do {
                _ = try loop.runUntilComplete { () async throws -> Int in
                    try await loop.sleepForConformance()
                    throw Boom(id: 9)
                }
                throw ctx.failure("runUntilComplete must rethrow the async body's error")
            } catch let error as Boom {
                try ctx.expectEqual(error, Boom(id: 9), "the same error from the async body")
            }
            try ctx.expect(!loop.isRunning, "not running afterwards")
            try loop.close()
        },
        ConformanceCase("RUN-10", "runUntilComplete returns before a later timer; the timer fires in the next run") { ctx in
            let loop = try ctx.makeLoop()
            let fired = Recorder<String>()
            let future = loop.createFuture(of: Void.self)
            try loop.callSoon {
                try loop.callLater(.milliseconds(200)) {
                    fired.record("timer")
                    loop.stop()
                }
                try future.setResult(())
            }
            try loop.runUntilComplete(future)
            try ctx.expectEqual(fired.count, 0, "timer fired before runUntilComplete returned")
            try loop.runForever()
            try ctx.expectEqual(fired.all, ["timer"], "the timer stays scheduled and fires in the next run")
            try loop.close()
        },
        ConformanceCase("RUN-11", "stop before the future completes throws; the future can still complete later") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            try loop.callSoon { loop.stop() }
            try ctx.expectLoopError(.stoppedBeforeFutureCompleted, "runUntilComplete") { _ = try loop.runUntilComplete(future) }
            try ctx.expect(!future.isDone, "the future is still pending")
            try future.setResult(5)
            try ctx.expectEqual(try loop.runUntilComplete(future), 5, "result after completing it")
            try loop.close()
        },
        ConformanceCase("RUN-12", "runUntilComplete with a future of another loop is an argument error") { ctx in
            let loop = try ctx.makeLoop()
            let other = try ctx.makeLoop()
            let foreign = other.createFuture(of: Int.self)
            try ctx.expectLoopError(.differentLoop, "runUntilComplete(foreign future)") { _ = try loop.runUntilComplete(foreign) }
            try loop.close()
            try other.close()
        },
        ConformanceCase("RUN-13", "close() while running throws; the loop can be closed after it stops") { ctx in
            let loop = try ctx.makeLoop()
            let errors = Recorder<LoopError.Kind>()
            try loop.callSoon {
                do { try loop.close() } catch let error as LoopError { errors.record(error.kind) }
                loop.stop()
            }
            try loop.runForever()
            try ctx.expectEqual(errors.all, [.closeWhileRunning], "close() inside the run")
            try ctx.expect(!loop.isClosed, "the loop stays open")
            try loop.close()
            try ctx.expect(loop.isClosed, "closed after the run")
        },
        ConformanceCase("RUN-14", "close drops pending work, is idempotent, and refuses scheduling afterwards") { ctx in
            ctx.allowPendingCallbacksAtClose()
            let loop = try ctx.makeLoop()
            let ran = Recorder<String>()
            try loop.callSoon { ran.record("soon") }
            try loop.callLater(.zero) { ran.record("timer") }
            try loop.close()
            try loop.close()
            try ctx.expectEqual(ran.count, 0, "callbacks run by close")
            try ctx.expectLoopError(.closed, "callSoon") { try loop.callSoon {} }
            try ctx.expectLoopError(.closed, "callLater") { try loop.callLater(.seconds(1)) {} }
            try ctx.expectLoopError(.closed, "callAt") { try loop.callAt(loop.time()) {} }
            try ctx.expectLoopError(.closed, "callSoonThreadsafe") { try loop.callSoonThreadsafe {} }
            try ctx.expectLoopError(.closed, "runForever") { try loop.runForever() }
            let future = loop.createFuture(of: Int.self)
            try ctx.expectLoopError(.closed, "runUntilComplete") { _ = try loop.runUntilComplete(future) }
            let done = loop.createFuture(of: Int.self)
            try done.setResult(1)
            try ctx.expectLoopError(.closed, "addDoneCallback on a done future") { try done.addDoneCallback { _ in } }
            try ctx.expectEqual(ran.count, 0, "nothing ran after close")
        },
        ConformanceCase("RUN-15", "callSoonThreadsafe(stop) from another thread ends a sleeping runForever") { ctx in
            let loop = try ctx.makeLoop()
            let thread = ctx.spawn {
                ctx.block(for: .milliseconds(50))
                _ = try? loop.callSoonThreadsafe { loop.stop() }
            }
            let started = ctx.stopwatch()
            try loop.runForever()
            let elapsed = ContinuousClock.now - started
            thread.join()
            try ctx.expect(elapsed >= .milliseconds(40), "the loop returned after \(elapsed), before the stop was sent")
            try ctx.expect(elapsed < .seconds(2), "the sleeping loop took \(elapsed) to wake up")
            try loop.close()
        },
    ]
}

extension EventLoop {
    /// Suspends the current task for one loop iteration (a future resolved by callSoon).
    func sleepForConformance() async throws {
        let tick = createFuture(of: Void.self)
        try callSoon { try tick.setResult(()) }
        try await tick.value
    }
}
