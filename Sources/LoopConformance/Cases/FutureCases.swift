import LoopCore

/// FUT — futures: states and their errors, cancellation, done callbacks (when, in
/// which order, how often), and `await future.value` from tasks.
enum FutureCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("FUT-01", "a new future is bound to its loop, pending; result() and exception() are invalid-state errors") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            try ctx.expect(future.loop === loop, "future.loop must be the loop that created it")
            try ctx.expect(!future.isDone && !future.isCancelled, "a new future is neither done nor cancelled")
            try ctx.expectLoopError(.invalidState, "result() of a pending future") { _ = try future.result() }
            try ctx.expectLoopError(.invalidState, "exception() of a pending future") { _ = try future.exception() }
            try loop.close()
        },
        ConformanceCase("FUT-02", "setResult(nil) makes the future done with a nil result and no exception") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int?.self)
            try future.setResult(nil)
            try ctx.expect(future.isDone && !future.isCancelled, "done and not cancelled after setResult")
            try ctx.expect(try future.result() == nil, "result() must be nil")
            try ctx.expect(try future.exception() == nil, "exception() must be nil")
            try loop.close()
        },
        ConformanceCase("FUT-03", "setException(E): exception() returns E and result() throws the same E") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let error = TaggedError("E")
            try future.setException(error)
            try ctx.expect(future.isDone && !future.isCancelled, "done and not cancelled after setException")
            try ctx.expect((try future.exception() as? TaggedError) === error, "exception() must return the same error object")
            do {
                _ = try future.result()
                throw ctx.failure("result() of a failed future must throw")
            } catch let thrown as TaggedError {
                try ctx.expect(thrown === error, "result() must throw the same error object")
            }
            try loop.close()
        },
        ConformanceCase("FUT-04", "after a result, an error or a cancel, setResult and setException fail and the first outcome stays") { ctx in
            let loop = try ctx.makeLoop()
            let withResult = loop.createFuture(of: Int.self)
            try withResult.setResult(1)
            try ctx.expectLoopError(.invalidState, "setResult after setResult") { try withResult.setResult(2) }
            try ctx.expectLoopError(.invalidState, "setException after setResult") { try withResult.setException(TaggedError("late")) }
            try ctx.expectEqual(try withResult.result(), 1, "the first result is kept")

            let withError = loop.createFuture(of: Int.self)
            let first = TaggedError("first")
            try withError.setException(first)
            try ctx.expectLoopError(.invalidState, "setResult after setException") { try withError.setResult(2) }
            try ctx.expectLoopError(.invalidState, "setException after setException") { try withError.setException(TaggedError("second")) }
            try ctx.expect((try withError.exception() as? TaggedError) === first, "the first error is kept")

            let cancelled = loop.createFuture(of: Int.self)
            try ctx.expect(cancelled.cancel(), "cancel() of a pending future")
            try ctx.expectLoopError(.invalidState, "setResult after cancel") { try cancelled.setResult(2) }
            try ctx.expectLoopError(.invalidState, "setException after cancel") { try cancelled.setException(TaggedError("late")) }
            try ctx.expect(cancelled.isCancelled, "the future stays cancelled")
            try loop.close()
        },
        ConformanceCase("FUT-05", "cancel(): true once, then false; result() and exception() throw CancelledError; no effect on a result") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            try ctx.expect(future.cancel(), "cancel() of a pending future must return true")
            try ctx.expect(future.isCancelled && future.isDone, "cancelled and done after cancel()")
            try expectCancelled(ctx, "result()") { _ = try future.result() }
            try expectCancelled(ctx, "exception()") { _ = try future.exception() }
            try ctx.expect(!future.cancel(), "a second cancel() must return false")

            let finished = loop.createFuture(of: Int.self)
            try finished.setResult(3)
            try ctx.expect(!finished.cancel(), "cancel() of a future with a result must return false")
            try ctx.expect(!finished.isCancelled, "a future with a result is not cancelled by cancel()")
            try ctx.expectEqual(try finished.result(), 3, "the result is unchanged")
            try loop.close()
        },
        ConformanceCase("FUT-06", "cancel(message:) puts the message in the CancelledError that result() throws") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            future.cancel(message: "why")
            let error = try expectCancelled(ctx, "result()") { _ = try future.result() }
            try ctx.expectEqual(error.message, "why", "the CancelledError's message")
            try loop.close()
        },
        ConformanceCase("FUT-07", "done callbacks run in the next iteration, in registration order, each given the future") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let order = Recorder<String>()
            try future.addDoneCallback { done in order.record("A:\(done === future):\((try? done.result()) ?? -1)") }
            try future.addDoneCallback { done in order.record("B:\(done === future):\((try? done.result()) ?? -1)") }
            try future.setResult(9)
            try ctx.expectEqual(order.count, 0, "done callbacks run synchronously by setResult")
            try runOneIteration(loop)
            try ctx.expectEqual(order.all, ["A:true:9", "B:true:9"], "done callbacks after one iteration")
            try loop.close()
        },
        ConformanceCase("FUT-08", "a done callback added to a done future runs in the next iteration, not synchronously") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            try future.setResult(1)
            let ran = Recorder<Int>()
            try future.addDoneCallback { done in ran.record(try done.result()) }
            try ctx.expectEqual(ran.count, 0, "addDoneCallback on a done future ran the callback synchronously")
            try runOneIteration(loop)
            try ctx.expectEqual(ran.all, [1], "the callback after one iteration")
            try loop.close()
        },
        ConformanceCase("FUT-09", "removeDoneCallback removes every registration of a callback and returns how many") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let ran = Recorder<String>()
            let twice = try future.addDoneCallback { _ in ran.record("twice") }
            try future.addDoneCallback(twice)
            try future.addDoneCallback { _ in ran.record("other") }
            try ctx.expectEqual(future.removeDoneCallback(twice), 2, "registrations removed by the first call")
            try ctx.expectEqual(future.removeDoneCallback(twice), 0, "registrations removed by a second call")
            try future.setResult(1)
            try runOneIteration(loop)
            try runOneIteration(loop)
            try ctx.expectEqual(ran.all, ["other"], "callbacks run after completion")
            try loop.close()
        },
        ConformanceCase("FUT-10", "done callbacks run on cancel (cancelled inside) and on failure (exception() inside)") { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            let cancelled = loop.createFuture(of: Int.self)
            try cancelled.addDoneCallback { done in seen.record("cancelled:\(done.isCancelled)") }
            let failed = loop.createFuture(of: Int.self)
            try failed.addDoneCallback { done in
                seen.record("failed:\((try done.exception() as? TaggedError)?.tag ?? "none")")
            }
            cancelled.cancel()
            try failed.setException(TaggedError("E"))
            try runOneIteration(loop)
            try ctx.expectEqual(seen.all, ["cancelled:true", "failed:E"], "done callbacks")
            try loop.close()
        },
        ConformanceCase("FUT-11", "three tasks awaiting one future all get its result; a done future returns at once; a failed one throws") { ctx in
            let loop = try ctx.makeLoop()
            let shared = loop.createFuture(of: Int.self)
            var awaiters: [LoopTask<Int>] = []
            for offset in 0..<3 {
                awaiters.append(try loop.createTask { try await shared.value + offset })
            }
            try loop.callSoon { try shared.setResult(10) }
            let results = try loop.runUntilComplete { [awaiters] () async throws -> [Int] in
                var values: [Int] = []
                for task in awaiters { values.append(try await task.value) }
                return values
            }
            try ctx.expectEqual(results, [10, 11, 12], "what each awaiter got")

            let done = loop.createFuture(of: String.self)
            try done.setResult("ready")
            let (value, ticksBefore) = try loop.runUntilComplete { () async throws -> (String, Int) in
                let ticks = Recorder<String>()
                try loop.callSoon { ticks.record("tick") }
                let value = try await done.value
                return (value, ticks.count)
            }
            try ctx.expectEqual(value, "ready", "value of an already-done future")
            try ctx.expectEqual(ticksBefore, 0, "callbacks that ran while awaiting an already-done future")

            let failed = loop.createFuture(of: Int.self)
            let error = TaggedError("failed")
            try failed.setException(error)
            let caught = try loop.runUntilComplete { () async throws -> Bool in
                do {
                    _ = try await failed.value
                    return false
                } catch let thrown as TaggedError {
                    return thrown === error
                }
            }
            try ctx.expect(caught, "awaiting a failed future must throw its error object")
            try loop.close()
        },
        ConformanceCase("FUT-12", "a task awaiting a future that gets cancelled ends cancelled") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let task = try loop.createTask { try await future.value }
            try loop.callSoon { future.cancel(message: "gone") }
            try expectCancelled(ctx, "runUntilComplete(task)") { _ = try runGuarded(loop, task) }
            try ctx.expect(task.isCancelled && task.isDone, "the awaiting task must end cancelled")
            try loop.close()
        },
        ConformanceCase("FUT-13", "a task awaiting a future of another loop fails: attached to a different loop") { ctx in
            let loop = try ctx.makeLoop()
            let other = try ctx.makeLoop()
            let foreign = other.createFuture(of: Int.self)
            let task = try loop.createTask { try await foreign.value }
            let error = try ctx.expectLoopError(.differentLoop, "runUntilComplete(task awaiting a foreign future)") {
                _ = try runGuarded(loop, task)
            }
            try ctx.expect(error.message.contains("attached to a different loop"), "message: \(error.message)")
            try ctx.expect(task.isDone && !task.isCancelled, "the task fails, it is not cancelled")
            try ctx.expect(!foreign.isDone, "the foreign future is left alone")
            try loop.close()
            try other.close()
        },
        ConformanceCase("FUT-14", "a done callback runs exactly once, however many iterations follow") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let ran = Recorder<Int>()
            try future.addDoneCallback { _ in ran.record(1) }
            try future.setResult(1)
            for _ in 0..<5 { try runOneIteration(loop) }
            try ctx.expectEqual(ran.count, 1, "runs of the done callback")
            try loop.close()
        },

        // MARK: Beyond the catalogue (each checked against CPython 3.11)

        ConformanceCase("FUT-X01", "done callbacks and callSoon callbacks run in the order they were scheduled") { ctx in
            let loop = try ctx.makeLoop()
            let order = Recorder<String>()
            let future = loop.createFuture(of: Int.self)
            try loop.callSoon { order.record("soon-before") }
            try future.addDoneCallback { _ in order.record("done-A") }
            try future.setResult(1)
            try future.addDoneCallback { _ in order.record("done-late") }
            try loop.callSoon { order.record("soon-after") }
            try future.addDoneCallback { _ in order.record("done-later") }
            try runOneIteration(loop)
            try ctx.expectEqual(
                order.all, ["soon-before", "done-A", "done-late", "soon-after", "done-later"],
                "callbacks are scheduled at completion (or registration, when already done) and keep that order")
            try loop.close()
        },
        ConformanceCase("FUT-X02", "a task woken by a future resumes before a callback scheduled after the completion") { ctx in
            // asyncio runs the task's next step from the future's done callback itself, so the
            // task resumes ahead of anything scheduled after setResult.
            let loop = try ctx.makeLoop()
            let order = Recorder<String>()
            let future = loop.createFuture(of: Int.self)
            let task = try loop.createTask {
                _ = try await future.value
                order.record("task-resumed")
            }
            try settle(loop)
            try loop.callSoon {
                try future.setResult(1)
                try loop.callSoon { order.record("soon-after-set") }
            }
            try runGuarded(loop, task)
            try runOneIteration(loop)
            try ctx.expectEqual(order.all, ["task-resumed", "soon-after-set"], "order after the completion")
            try loop.close()
        },
        ConformanceCase("FUT-X03", "removeDoneCallback after completion removes nothing; the scheduled callback still runs") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let ran = Recorder<String>()
            let callback = try future.addDoneCallback { _ in ran.record("cb") }
            try future.setResult(1)
            try ctx.expectEqual(future.removeDoneCallback(callback), 0, "registrations removed after completion")
            try runOneIteration(loop)
            try ctx.expectEqual(ran.all, ["cb"], "the callback scheduled at completion")
            try loop.close()
        },
        ConformanceCase("FUT-X04", "a throwing done callback goes to the exception handler; the next callback still runs") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let ran = Recorder<String>()
            try future.addDoneCallback { _ in throw TaggedError("bad") }
            try future.addDoneCallback { _ in ran.record("after-bad") }
            try future.setResult(1)
            try runOneIteration(loop)
            try ctx.expectEqual(ran.all, ["after-bad"], "callbacks after the throwing one")
            let calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "handler calls")
            try ctx.expect(calls[0].message.hasPrefix("Exception in callback"), "message: \(calls[0].message)")
            try ctx.expectEqual((calls[0].error as? TaggedError)?.tag, "bad", "the context's error")
            try loop.close()
        },
        ConformanceCase("FUT-X05", "a task awaiting an already cancelled future ends cancelled with the future's message") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            future.cancel(message: "x")
            let task = try loop.createTask { try await future.value }
            let error = try expectCancelled(ctx, "runUntilComplete(task)") { _ = try runGuarded(loop, task) }
            try ctx.expectEqual(error.message, "x", "the CancelledError's message")
            try ctx.expect(task.isCancelled, "the task ends cancelled")
            try loop.close()
        },
    ]
}

/// Helpers shared by the FUT and TASK groups (namespaced: other groups have their own).
extension FutureCases {
    /// An error with an identity, to check that the very same error object comes back.
    final class TaggedError: Error, Sendable, CustomStringConvertible {
        let tag: String
        init(_ tag: String) { self.tag = tag }
        var description: String { "TaggedError(\(tag))" }
    }

    /// Runs exactly one loop iteration (a stop requested before the run).
    static func runOneIteration(_ loop: any EventLoop) throws {
        loop.stop()
        try loop.runForever()
    }

    /// Runs loop iterations until no callback or task step is ready, so that every task
    /// has reached its next suspension (asyncio needs one iteration for the tasks here).
    static func settle(_ loop: BaseEventLoop, file: StaticString = #fileID, line: UInt = #line) throws {
        for _ in 0..<1_000 {
            try runOneIteration(loop)
            if loop.snapshot.readyCallbacks == 0 { return }
        }
        throw CaseFailure("the loop still had ready work after 1,000 iterations", location: SourceLocation(file, line))
    }

    /// Runs the loop until `future` is done and returns its result, as
    /// `runUntilComplete` does, but gives up after `limit`: a lost wakeup or
    /// cancellation fails the case instead of hanging it.
    @discardableResult
    static func runGuarded<T>(
        _ loop: any EventLoop, _ future: Future<T>, within limit: Duration = .seconds(5),
        file: StaticString = #fileID, line: UInt = #line
    ) throws -> T {
        let watchdog = try loop.callLater(limit) { loop.stop() }
        defer { watchdog.cancel() }
        do {
            return try loop.runUntilComplete(future)
        } catch let error as LoopError where error.kind == .stoppedBeforeFutureCompleted && !future.isDone {
            throw CaseFailure("\(future) was not done after \(limit)", location: SourceLocation(file, line))
        }
    }

    /// Runs `body` and returns the ``CancelledError`` it throws, failing the case otherwise.
    @discardableResult
    static func expectCancelled(
        _ ctx: CaseContext, _ what: String, file: StaticString = #fileID, line: UInt = #line, _ body: () throws -> Void
    ) throws -> CancelledError {
        do {
            try body()
        } catch let error as CancelledError {
            return error
        } catch {
            throw ctx.failure("\(what): expected CancelledError, got \(error)", file: file, line: line)
        }
        throw ctx.failure("\(what): expected CancelledError, nothing was thrown", file: file, line: line)
    }
}
