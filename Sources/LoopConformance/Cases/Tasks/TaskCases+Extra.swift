import LoopCore
import Synchronization

/// TASK cases beyond the catalogue (each checked against CPython 3.11 where it has the behaviour).
extension TaskCases {
    static let extra: [ConformanceCase] = [
        ConformanceCase("TASK-X01", "cancel in the iteration its awaited future completes: the task still ends cancelled") { ctx in
            // asyncio: the future is done, so cancel() cannot cancel it; the request is kept
            // and delivered as CancelledError when the task resumes.
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let task = try loop.createTask { try await future.value }
            let caughtFuture = loop.createFuture(of: Int.self)
            let catching = try catchingTask(loop, awaiting: caughtFuture)
            try Kit.settle(loop)
            let returned = Recorder<Bool>()
            try loop.callSoon {
                try future.setResult(1)
                returned.record(task.cancel(message: "m"))
                try caughtFuture.setResult(2)
                returned.record(catching.cancel(message: "late"))
            }
            let error = try Kit.expectCancelled(ctx, "runUntilComplete(task)") { _ = try Kit.runGuarded(loop, task) }
            try ctx.expectEqual(returned.all, [true, true], "cancel() results")
            try ctx.expect(task.isCancelled, "the task ends cancelled")
            try ctx.expectEqual(error.message, "m", "the CancelledError's message")
            try ctx.expectEqual(try Kit.runGuarded(loop, catching), "caught late", "a body catching the late cancel")
            try ctx.expectEqual(catching.cancelling, 1, "cancelling of the catching task")
            try loop.close()
        },
        ConformanceCase("TASK-X02", "cancel then complete in one callback: the future is already cancelled, the body sees CancelledError") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let task = try loop.createTask { () async throws -> String in
                do {
                    return "value \(try await future.value)"
                } catch is CancelledError {
                    return "caught"
                }
            }
            try Kit.settle(loop)
            let outcome = Recorder<String>()
            try loop.callSoon {
                outcome.record("cancel \(task.cancel())")
                do {
                    try future.setResult(1)
                    outcome.record("setResult accepted")
                } catch let error as LoopError where error.kind == .invalidState {
                    outcome.record("setResult invalidState")
                }
            }
            try ctx.expectEqual(try Kit.runGuarded(loop, task), "caught", "the body's result")
            try ctx.expectEqual(outcome.all, ["cancel true", "setResult invalidState"], "in the callback")
            try loop.close()
        },
        ConformanceCase("TASK-X03", "cancel() twice: both true, cancelling 2, the first message is the one delivered") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let task = try loop.createTask { try await future.value }
            try Kit.settle(loop)
            try ctx.expect(task.cancel(message: "first"), "first cancel()")
            try ctx.expect(task.cancel(message: "second"), "second cancel()")
            try ctx.expectEqual(task.cancelling, 2, "cancelling")
            try ctx.expect(future.isCancelled, "the awaited future is cancelled")
            let error = try Kit.expectCancelled(ctx, "runUntilComplete(task)") { _ = try Kit.runGuarded(loop, task) }
            try ctx.expectEqual(error.message, "first", "the CancelledError's message")
            try ctx.expect(task.isCancelled, "the task ends cancelled")
            try loop.close()
        },
        ConformanceCase("TASK-X04", "cancel from a done callback: of the awaited future (late) or of another future (early)") { ctx in
            let loop = try ctx.makeLoop()
            let awaited = loop.createFuture(of: Int.self)
            let late = try catchingTask(loop, awaiting: awaited)
            // Registered before the task's first step awaits the future, so it runs before the task resumes.
            try awaited.addDoneCallback { _ in late.cancel(message: "from cb") }
            try Kit.settle(loop)
            try awaited.setResult(5)
            try ctx.expectEqual(try Kit.runGuarded(loop, late), "caught from cb", "cancelled by the awaited future's callback")

            let inner = loop.createFuture(of: Int.self)
            let trigger = loop.createFuture(of: Void.self)
            let early = try catchingTask(loop, awaiting: inner)
            try trigger.addDoneCallback { _ in early.cancel(message: "trigger done") }
            try Kit.settle(loop)
            try trigger.setResult(())
            try ctx.expectEqual(try Kit.runGuarded(loop, early), "caught trigger done", "cancelled by another future's callback")
            try ctx.expect(inner.isCancelled, "the future the task awaited is cancelled")

            let finished = try loop.createTask { 1 }
            let fromOwnCallback = Recorder<Bool>()
            try finished.addDoneCallback { done in fromOwnCallback.record(done.cancel()) }
            _ = try Kit.runGuarded(loop, finished)
            try Kit.settle(loop)
            try ctx.expectEqual(fromOwnCallback.all, [false], "cancel() from the task's own done callback")
            try loop.close()
        },
        ConformanceCase("TASK-X05", "cancelling an outer task awaiting an inner task awaiting a future cancels all three") { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            let future = loop.createFuture(of: Int.self)
            let inner = try recordingTask(loop, "inner", awaiting: future, into: seen)
            let outer = try recordingTask(loop, "outer", awaiting: inner, into: seen)
            try Kit.settle(loop)
            try ctx.expect(outer.cancel(message: "top"), "cancel() of the outer task")
            let error = try Kit.expectCancelled(ctx, "runUntilComplete(outer)") { _ = try Kit.runGuarded(loop, outer) }
            try ctx.expectEqual(seen.all, ["inner:top", "outer:top"], "what the bodies saw")
            try ctx.expectEqual(error.message, "top", "the outer task's CancelledError")
            try ctx.expect(future.isCancelled && inner.isCancelled && outer.isCancelled, "future, inner and outer all cancelled")
            try ctx.expectEqual(inner.cancelling, 1, "inner cancelling")
            try ctx.expectEqual(outer.cancelling, 1, "outer cancelling")
            try loop.close()
        },
        ConformanceCase("TASK-X06", "cancelling an inner task directly ends the awaiting outer task cancelled (cancelling 0)") { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            let future = loop.createFuture(of: Int.self)
            let inner = try loop.createTask { try await future.value }
            let outer = try recordingTask(loop, "outer", awaiting: inner, into: seen)
            try Kit.settle(loop)
            inner.cancel(message: "inner only")
            try Kit.expectCancelled(ctx, "runUntilComplete(outer)") { _ = try Kit.runGuarded(loop, outer) }
            try ctx.expectEqual(seen.all, ["outer:inner only"], "what the outer body saw")
            try ctx.expect(outer.isCancelled, "the outer task ends cancelled")
            try ctx.expectEqual(outer.cancelling, 0, "outer cancelling (nobody cancelled it)")
            try loop.close()
        },
        ConformanceCase("TASK-X07", "1,000 tasks awaiting one future all get its result") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            var tasks: [LoopTask<Int>] = []
            for _ in 0..<1_000 { tasks.append(try loop.createTask { try await future.value + 1 }) }
            try Kit.settle(loop)
            try future.setResult(41)
            let results = try loop.runUntilComplete { [tasks] () async throws -> [Int] in
                var values: [Int] = []
                for task in tasks { values.append(try await task.value) }
                return values
            }
            try ctx.expectEqual(results.count, 1_000, "results")
            try ctx.expectEqual(Set(results), [42], "every result")
            try ctx.expect(try allTasks(loop: loop).isEmpty, "no task left pending")
            try loop.close()
        },
        ConformanceCase("TASK-X08", "a body that catches CancelledError can await again and finish normally") { ctx in
            let loop = try ctx.makeLoop()
            let first = loop.createFuture(of: Int.self)
            let second = loop.createFuture(of: String.self)
            let task = try loop.createTask { () async throws -> String in
                do {
                    _ = try await first.value
                } catch is CancelledError {
                    // caught; go on
                }
                return try await second.value
            }
            try Kit.settle(loop)
            task.cancel()
            try Kit.settle(loop)
            try Kit.settle(loop)
            try loop.callSoon { if !second.isDone { try second.setResult("after") } }
            try ctx.expectEqual(try Kit.runGuarded(loop, task), "after", "the task's result")
            try ctx.expect(!task.isCancelled, "the task is not cancelled")
            try ctx.expectEqual(task.cancelling, 1, "cancelling")

            let third = loop.createFuture(of: Int.self)
            let fourth = loop.createFuture(of: String.self)
            let uncancelling = try loop.createTask { () async throws -> String in
                do {
                    _ = try await third.value
                } catch is CancelledError {
                    (try currentTask() as? LoopTask<String>)?.uncancel()
                }
                return try await fourth.value
            }
            try Kit.settle(loop)
            uncancelling.cancel()
            try Kit.settle(loop)
            try Kit.settle(loop)
            try loop.callSoon { if !fourth.isDone { try fourth.setResult("after uncancel") } }
            try ctx.expectEqual(try Kit.runGuarded(loop, uncancelling), "after uncancel", "result after uncancel()")
            try ctx.expectEqual(uncancelling.cancelling, 0, "cancelling after uncancel()")
            try loop.close()
        },
        ConformanceCase("TASK-X09", "an actor whose executor is the loop runs on the loop thread when a task calls it") { ctx in
            let loop = try ctx.makeLoop()
            let counter = LoopBoundCounter(loop: loop)
            var workers: [LoopTask<Bool>] = []
            for _ in 0..<10 {
                workers.append(try loop.createTask { () async throws -> Bool in
                    var onLoop = true
                    for _ in 0..<100 {
                        onLoop = await counter.increment() && onLoop
                        onLoop = loop.isOnLoopThread && onLoop
                    }
                    return onLoop
                })
            }
            let allOnLoop = try loop.runUntilComplete { [workers] () async throws -> Bool in
                var onLoop = true
                for worker in workers { onLoop = try await worker.value && onLoop }
                return onLoop
            }
            try ctx.expect(allOnLoop, "the actor's methods and the tasks must run on the loop thread")
            let total = try loop.runUntilComplete { await counter.value }
            try ctx.expectEqual(total, 1_000, "increments seen by the actor")
            try loop.close()
        },
        ConformanceCase("TASK-X10", "Swift Task.isCancelled is false in a running LoopTask and true once the task is cancelled") { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            let future = loop.createFuture(of: Int.self)
            let task = try loop.createTask { () async throws -> Int in
                seen.record("before:\(Task.isCancelled)")
                do {
                    return try await future.value
                } catch let error as CancelledError {
                    seen.record("after:\(Task.isCancelled)")
                    throw error
                }
            }
            try Kit.settle(loop)
            task.cancel()
            try Kit.expectCancelled(ctx, "runUntilComplete(task)") { _ = try Kit.runGuarded(loop, task) }
            try ctx.expectEqual(seen.all, ["before:false", "after:true"], "Task.isCancelled in the body")
            try loop.close()
        },
        ConformanceCase("TASK-X11", "a task that cancels itself and then awaits ends cancelled with its message") { ctx in
            let loop = try ctx.makeLoop()
            let task = try loop.createTask { () async throws -> String in
                (try currentTask() as? LoopTask<String>)?.cancel(message: "self")
                try await loop.sleepForConformance()
                return "not cancelled"
            }
            let error = try Kit.expectCancelled(ctx, "runUntilComplete(self-cancelling task)") { _ = try Kit.runGuarded(loop, task) }
            try ctx.expectEqual(error.message, "self", "the CancelledError's message")
            try ctx.expect(task.isCancelled, "the task ends cancelled")
            try loop.close()
        },
        ConformanceCase("TASK-X12", "cancelling a task cancels the future a Swift child task (async let) of its body awaits") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let started = loop.createFuture(of: Void.self)
            let task = try loop.createTask { () async throws -> Int in
                async let child = future.value
                try started.setResult(())
                return try await child
            }
            // Completes the future if cancellation does not reach the child, so a failure cannot hang.
            let fallback = try loop.callLater(.seconds(2)) { if !future.isDone { try future.setResult(-1) } }
            _ = try Kit.runGuarded(loop, started)
            try Kit.settle(loop)
            task.cancel()
            let outcome = Result { try Kit.runGuarded(loop, task) }
            fallback.cancel()
            guard case .failure(let error) = outcome, error is CancelledError else {
                throw ctx.failure("the task must end with CancelledError, got \(outcome)")
            }
            try ctx.expect(future.isCancelled, "the future the child task awaited is cancelled")
            try ctx.expect(task.isCancelled, "the task ends cancelled")
            try loop.close()
        },
        ConformanceCase("TASK-X13", "a task's first step runs before a callback scheduled after createTask") { ctx in
            let loop = try ctx.makeLoop()
            let order = Recorder<String>()
            let outside = try loop.createTask { order.record("task-start") }
            try loop.callSoon { order.record("soon") }
            try Kit.runGuarded(loop, outside)
            try Kit.settle(loop)
            try ctx.expectEqual(order.all, ["task-start", "soon"], "created before the run")
            order.removeAll()
            try loop.runUntilComplete { () async throws in
                let inside = try createTask { order.record("task-start") }
                try loop.callSoon { order.record("soon") }
                try await inside.value
                try await loop.sleepForConformance()
            }
            try ctx.expectEqual(order.all, ["task-start", "soon"], "created inside a running task")
            try loop.close()
        },
    ]
}
