import LoopCore
import Synchronization

/// TASK — tasks: async bodies run as futures on a loop; results, errors, cancellation
/// (messages, counts, propagation through awaits, races), names, `currentTask` and
/// `allTasks`, the task factory, third-party tasks through the lifetime functions,
/// pending tasks destroyed with their loop, and Swift concurrency on the loop
/// (task cancellation, actors using the loop as executor).
enum TaskCases {
    /// The helpers shared with the FUT group.
    private typealias Kit = FutureCases

    static let all: [ConformanceCase] = catalogue + extra

    static let catalogue: [ConformanceCase] = [
        ConformanceCase("TASK-01", "createTask returns a future without running the body; runUntilComplete returns its value") { ctx in
            let loop = try ctx.makeLoop()
            let ran = Recorder<String>()
            let task = try loop.createTask { () async throws -> Int in
                ran.record("body")
                return 42
            }
            let asFuture: Future<Int> = task
            try ctx.expectEqual(ran.count, 0, "body runs synchronously in createTask")
            try ctx.expect(!asFuture.isDone, "a new task is pending")
            try ctx.expectEqual(try Kit.runGuarded(loop, task), 42, "runUntilComplete(task)")
            try ctx.expectEqual(try task.result(), 42, "result()")
            try ctx.expectEqual(ran.all, ["body"], "body runs")
            try loop.close()
        },
        ConformanceCase("TASK-02", "a body that throws E after a suspension: runUntilComplete throws E, exception() is E") { ctx in
            let loop = try ctx.makeLoop()
            let error = Kit.TaggedError("E")
            let task = try loop.createTask { () async throws -> Int in
                try await loop.sleepForConformance()
                throw error
            }
            do {
                _ = try Kit.runGuarded(loop, task)
                throw ctx.failure("runUntilComplete must rethrow the body's error")
            } catch let thrown as Kit.TaggedError {
                try ctx.expect(thrown === error, "the same error object")
            }
            try ctx.expect((try task.exception() as? Kit.TaggedError) === error, "exception() must be E")
            try ctx.expect(task.isDone && !task.isCancelled, "done, not cancelled")
            try loop.close()
        },
        ConformanceCase("TASK-03", "cancel(message:) of a sleeping task: the body gets the message, cleanup runs, the task ends cancelled") { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            let started = loop.createFuture(of: Void.self)
            let task = try loop.createTask { () async throws -> Int in
                defer { seen.record("finally") }
                try started.setResult(())
                do {
                    try await sleepOnLoop(loop, .seconds(10))
                } catch let error as CancelledError {
                    seen.record("cancelled:\(error.message ?? "nil")")
                    throw error
                }
                return 1
            }
            try Kit.runGuarded(loop, started)
            try Kit.settle(loop)
            try ctx.expect(task.cancel(message: "stop it"), "cancel() of a sleeping task must return true")
            let clock = ctx.stopwatch()
            let thrown = try Kit.expectCancelled(ctx, "runUntilComplete(task)") { _ = try Kit.runGuarded(loop, task) }
            try ctx.expect(ContinuousClock.now - clock < .seconds(2), "the cancelled task must not wait for its 10 s sleep")
            try ctx.expectEqual(seen.all, ["cancelled:stop it", "finally"], "what the body saw")
            try ctx.expect(task.isCancelled && task.isDone, "cancelled and done")
            try ctx.expectEqual(thrown.message, "stop it", "the CancelledError of the task")
            try Kit.expectCancelled(ctx, "result()") { _ = try task.result() }
            try loop.close()
        },
        ConformanceCase("TASK-04", "cancel right after createTask: the body never starts and the task ends cancelled") { ctx in
            let loop = try ctx.makeLoop()
            let ran = Recorder<String>()
            let task = try loop.createTask { () async throws -> Int in
                ran.record("body")
                return 1
            }
            try ctx.expect(task.cancel(), "cancel() of a new task")
            try Kit.expectCancelled(ctx, "runUntilComplete(task)") { _ = try Kit.runGuarded(loop, task) }
            try ctx.expectEqual(ran.count, 0, "body runs of a task cancelled before its first step")
            try ctx.expect(task.isCancelled, "the task ends cancelled")
            try loop.close()
        },
        ConformanceCase("TASK-05", "a body that catches CancelledError and returns: finished, not cancelled, cancelling still 1") { ctx in
            let loop = try ctx.makeLoop()
            let started = loop.createFuture(of: Void.self)
            let task = try loop.createTask { () async throws -> String in
                try started.setResult(())
                do {
                    try await sleepOnLoop(loop, .seconds(10))
                } catch is CancelledError {
                    return "caught"
                }
                return "slept"
            }
            try Kit.runGuarded(loop, started)
            try Kit.settle(loop)
            task.cancel()
            try ctx.expectEqual(try Kit.runGuarded(loop, task), "caught", "the task's result")
            try ctx.expect(!task.isCancelled, "the task is not cancelled")
            try ctx.expectEqual(task.cancelling, 1, "cancelling")
            try loop.close()
        },
        ConformanceCase("TASK-06", "cancel() of a finished task returns false and keeps the result") { ctx in
            let loop = try ctx.makeLoop()
            let task = try loop.createTask { 5 }
            _ = try Kit.runGuarded(loop, task)
            try ctx.expect(!task.cancel(), "cancel() of a finished task must return false")
            try ctx.expect(!task.isCancelled, "still not cancelled")
            try ctx.expectEqual(try task.result(), 5, "the result is unchanged")
            try loop.close()
        },
        ConformanceCase("TASK-07", "cancelling a task cancels the future it awaits, and the inner task it awaits") { ctx in
            let loop = try ctx.makeLoop()
            let awaited = loop.createFuture(of: Int.self)
            let onFuture = try loop.createTask { try await awaited.value }
            try Kit.settle(loop)
            onFuture.cancel()
            try ctx.expect(awaited.isCancelled, "the awaited future is cancelled by cancel() of the task")
            try Kit.expectCancelled(ctx, "runUntilComplete(task awaiting a future)") { _ = try Kit.runGuarded(loop, onFuture) }

            let seen = Recorder<String>()
            let never = loop.createFuture(of: Int.self)
            let inner = try loop.createTask { () async throws -> Int in
                do {
                    return try await never.value
                } catch let error as CancelledError {
                    seen.record("inner saw CancelledError")
                    throw error
                }
            }
            let outer = try loop.createTask { try await inner.value }
            try Kit.settle(loop)
            outer.cancel()
            try Kit.expectCancelled(ctx, "runUntilComplete(outer)") { _ = try Kit.runGuarded(loop, outer) }
            try ctx.expect(inner.isCancelled, "the inner task is cancelled")
            try ctx.expectEqual(seen.all, ["inner saw CancelledError"], "the inner body")
            try loop.close()
        },
        ConformanceCase("TASK-08", "cancelling is 0, counts each cancel(), and uncancel() returns the new count") { ctx in
            let loop = try ctx.makeLoop()
            let task = try loop.createTask { 1 }
            try ctx.expectEqual(task.cancelling, 0, "cancelling of a new task")
            try ctx.expect(task.cancel(), "first cancel()")
            try ctx.expect(task.cancel(), "second cancel() of a pending task")
            try ctx.expectEqual(task.cancelling, 2, "cancelling after two cancel() calls")
            try ctx.expectEqual(task.uncancel(), 1, "uncancel()")
            try ctx.expectEqual(task.cancelling, 1, "cancelling after uncancel()")
            try Kit.expectCancelled(ctx, "runUntilComplete(task)") { _ = try Kit.runGuarded(loop, task) }
            try loop.close()
        },
        ConformanceCase("TASK-09", "unnamed tasks are Task-<n> with n increasing; a given name is kept; setName renames") { ctx in
            let loop = try ctx.makeLoop()
            let first = try loop.createTask { 1 }
            let second = try loop.createTask { 2 }
            let named = try loop.createTask(name: "worker") { 3 }
            func number(_ name: String) -> Int? { name.hasPrefix("Task-") ? Int(name.dropFirst(5)) : nil }
            guard let n1 = number(first.name), let n2 = number(second.name) else {
                throw ctx.failure("default names must be Task-<n>, got \(first.name) and \(second.name)")
            }
            try ctx.expect(n2 > n1, "task numbers must increase: \(first.name), \(second.name)")
            try ctx.expectEqual(named.name, "worker", "given name")
            named.setName("renamed")
            try ctx.expectEqual(named.name, "renamed", "name after setName")
            for task in [first, second, named] { _ = try Kit.runGuarded(loop, task) }
            try loop.close()
        },
        ConformanceCase("TASK-10", "currentTask: the task inside it, nil in callbacks and on an idle loop, an error with no loop") { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            let task = try loop.createTask { () async throws -> Bool in
                let future = loop.createFuture(of: Void.self)
                try future.addDoneCallback { _ in seen.record("done callback:\((try? currentTask()) == nil ? "nil" : "task")") }
                try loop.callSoon {
                    seen.record("callback:\((try? currentTask()) == nil ? "nil" : "task")")
                    try future.setResult(())
                }
                try await future.value
                try await loop.sleepForConformance()
                return try currentTask() === currentTask(loop: loop) && currentTask() != nil
            }
            try ctx.expect(try Kit.runGuarded(loop, task), "currentTask() inside the task must be the task")
            try ctx.expectEqual(seen.all, ["callback:nil", "done callback:nil"], "currentTask() in callbacks")
            let identity = try loop.runUntilComplete { () async throws -> Bool in
                guard let current = try currentTask() else { return false }
                return current.name.hasPrefix("Task-") && !current.isDone
            }
            try ctx.expect(identity, "currentTask() inside a runUntilComplete body must be its pending task")
            let inside = try loop.createTask { () async throws -> ObjectIdentifier? in
                try currentTask().map { ObjectIdentifier($0) }
            }
            try ctx.expectEqual(try Kit.runGuarded(loop, inside), ObjectIdentifier(inside), "the very task object")
            try ctx.expectLoopError(.noRunningLoop, "currentTask() with no running loop") { _ = try currentTask() }
            try ctx.expect(try currentTask(loop: loop) == nil, "currentTask(loop:) of an idle loop must be nil")
            try loop.close()
        },
        ConformanceCase("TASK-11", "allTasks: the loop's pending tasks (caller included, finished excluded); an error with no loop") { ctx in
            let loop = try ctx.makeLoop()
            let blocker = loop.createFuture(of: Int.self)
            let finished = try loop.createTask { 1 }
            let waiting = try loop.createTask { try await blocker.value }
            let main = try loop.createTask { () async throws -> Set<ObjectIdentifier> in
                try await loop.sleepForConformance()
                return Set(try allTasks().map { ObjectIdentifier($0) })
            }
            let listed = try Kit.runGuarded(loop, main)
            try ctx.expect(finished.isDone, "the finished task is done")
            try ctx.expectEqual(listed, [ObjectIdentifier(waiting), ObjectIdentifier(main)], "allTasks() inside the running loop")
            try ctx.expectLoopError(.noRunningLoop, "allTasks() with no running loop") { _ = try allTasks() }
            try ctx.expectEqual(
                try allTasks(loop: loop).map { ObjectIdentifier($0) }, [ObjectIdentifier(waiting)], "allTasks(loop:) of the idle loop")
            try loop.callSoon { try blocker.setResult(2) }
            _ = try Kit.runGuarded(loop, waiting)
            try ctx.expect(try allTasks(loop: loop).isEmpty, "allTasks(loop:) with no pending task")
            try loop.close()
        },
        ConformanceCase("TASK-12", "setTaskFactory: createTask and async runUntilComplete use the factory; nil restores the default") { ctx in
            // A factory that is not callable cannot be passed at all: the parameter's type
            // (`any TaskFactory`) rejects it at compile time.
            let loop = try ctx.makeLoop()
            try ctx.expect(loop.currentTaskFactory == nil, "a new loop has no task factory")
            let factory = RecordingTaskFactory(id: "f")
            loop.setTaskFactory(factory)
            try ctx.expectEqual((loop.currentTaskFactory as? RecordingTaskFactory)?.id, "f", "currentTaskFactory")
            let made = try loop.createTask(name: "a") { 1 }
            try ctx.expectEqual(made.name, "factory-a", "the task createTask returned is the factory's")
            try ctx.expectEqual(try Kit.runGuarded(loop, made), 1, "the factory's task runs the body")
            let names = try loop.runUntilComplete { () async throws -> [String] in
                guard let current = try currentTask() else { return [] }
                let nested = try createTask(name: "b") { 2 }
                _ = try await nested.value
                return [current.name, nested.name]
            }
            try ctx.expectEqual(names, ["factory-nil", "factory-b"], "tasks of async runUntilComplete and module-level createTask")
            try ctx.expectEqual(factory.calls.all, ["a", "nil", "b"], "factory calls")
            loop.setTaskFactory(nil)
            try ctx.expect(loop.currentTaskFactory == nil, "currentTaskFactory after setTaskFactory(nil)")
            let plain = try loop.createTask { 3 }
            try ctx.expect(plain.name.hasPrefix("Task-"), "the default factory names the task Task-<n>, got \(plain.name)")
            _ = try Kit.runGuarded(loop, plain)
            try ctx.expectEqual(factory.calls.count, 3, "factory calls after it was removed")
            try loop.close()
        },
        ConformanceCase("TASK-13", "setResult and setException on a task fail: tasks do not support them") { ctx in
            let loop = try ctx.makeLoop()
            let task = try loop.createTask { 1 }
            let resultError = try ctx.expectLoopError(.invalidState, "task.setResult") { try task.setResult(2) }
            try ctx.expect(resultError.message.contains("does not support setResult"), "message: \(resultError.message)")
            let exceptionError = try ctx.expectLoopError(.invalidState, "task.setException") { try task.setException(Kit.TaggedError("E")) }
            try ctx.expect(exceptionError.message.contains("does not support setException"), "message: \(exceptionError.message)")
            try ctx.expectEqual(try Kit.runGuarded(loop, task), 1, "the task still completes through its body")
            try loop.close()
        },
        ConformanceCase("TASK-14", "a task awaiting itself fails with 'Task cannot await on itself'") { ctx in
            let loop = try ctx.makeLoop()
            let task = try loop.createTask { () async throws -> Int in
                guard let me = try currentTask() as? LoopTask<Int> else { return -1 }
                return try await me.value
            }
            let error = try ctx.expectLoopError(.invalidState, "runUntilComplete(self-awaiting task)") { _ = try Kit.runGuarded(loop, task) }
            try ctx.expect(error.message.contains("Task cannot await on itself"), "message: \(error.message)")
            try ctx.expect(task.isDone && !task.isCancelled, "the task fails")
            try loop.close()
        },
        ConformanceCase("TASK-15", "createTask on a closed loop and module-level createTask with no running loop fail") { ctx in
            let loop = try ctx.makeLoop()
            try loop.close()
            let closed = try ctx.expectLoopError(.closed, "createTask on a closed loop") { _ = try loop.createTask { 1 } }
            try ctx.expect(closed.message.contains("Event loop is closed"), "message: \(closed.message)")
            let noLoop = try ctx.expectLoopError(.noRunningLoop, "createTask with no running loop") { _ = try createTask { 1 } }
            try ctx.expect(noLoop.message.contains("no running event loop"), "message: \(noLoop.message)")
        },
        ConformanceCase("TASK-16", "a third-party task: register, enter and leave, unregister are seen by allTasks/currentTask") { ctx in
            let loop = try ctx.makeLoop()
            let task = ForeignTask(loop: loop, name: "foreign")
            try ctx.expect(try allTasks(loop: loop).isEmpty, "allTasks before registration")
            registerTask(task)
            try ctx.expect(try allTasks(loop: loop).contains { $0 === task }, "allTasks(loop:) after registerTask")
            try enterTask(task, loop: loop)
            try ctx.expect(try currentTask(loop: loop) === task, "currentTask(loop:) after enterTask")
            try leaveTask(task, loop: loop)
            try ctx.expect(try currentTask(loop: loop) == nil, "currentTask(loop:) after leaveTask")
            unregisterTask(task)
            try ctx.expect(!(try allTasks(loop: loop).contains { $0 === task }), "allTasks(loop:) after unregisterTask")
            try loop.close()
        },
        ConformanceCase("TASK-17", "enterTask while another task is current and leaveTask of another task fail; current unchanged") { ctx in
            let loop = try ctx.makeLoop()
            let first = ForeignTask(loop: loop, name: "first")
            let second = ForeignTask(loop: loop, name: "second")
            try enterTask(first, loop: loop)
            let enter = try ctx.expectLoopError(.invalidState, "enterTask(second) while first is current") {
                try enterTask(second, loop: loop)
            }
            try ctx.expect(enter.message.contains("Cannot enter into task"), "message: \(enter.message)")
            try ctx.expect(try currentTask(loop: loop) === first, "the current task after the refused enter")
            let leave = try ctx.expectLoopError(.invalidState, "leaveTask(second) while first is current") {
                try leaveTask(second, loop: loop)
            }
            try ctx.expect(leave.message.contains("does not match the current task"), "message: \(leave.message)")
            try ctx.expect(try currentTask(loop: loop) === first, "the current task after the refused leave")
            try leaveTask(first, loop: loop)
            try ctx.expect(try currentTask(loop: loop) == nil, "no current task after leaving")
            try loop.close()
        },
        ConformanceCase("TASK-18", "a registered third-party task that is never unregistered drops out of allTasks once done") { ctx in
            let loop = try ctx.makeLoop()
            let task = ForeignTask(loop: loop, name: "foreign")
            registerTask(task)
            try ctx.expect(try allTasks(loop: loop).contains { $0 === task }, "listed while pending")
            task.finish()
            try ctx.expect(!(try allTasks(loop: loop).contains { $0 === task }), "listed after it is done")
            try loop.close()
        },
        ConformanceCase("TASK-19", "a task pending when its loop closes reports once, when released: destroyed but pending") { ctx in
            let loop = try ctx.makeLoop()
            var identifier: ObjectIdentifier?
            do {
                let never = loop.createFuture(of: Int.self)
                let started = loop.createFuture(of: Void.self)
                let task = try loop.createTask { () async throws -> Int in
                    try started.setResult(())
                    return try await never.value
                }
                identifier = ObjectIdentifier(task)
                try Kit.runGuarded(loop, started)
                try Kit.settle(loop)
                try loop.close()
                try withExtendedLifetime(task) {
                    try ctx.expect(!task.isDone, "the task is still pending")
                    try ctx.expectEqual(ctx.takeExceptionContexts().count, 0, "handler calls while the task is referenced")
                }
            }
            let calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "handler calls after the task was released")
            try ctx.expectEqual(calls.first?.message, "Task was destroyed but it is pending!", "message")
            let released = calls.first?.task as? ReleasedFuture
            try ctx.expectEqual(released?.identifier, identifier, "the context's task must be the released task")
            try ctx.expectEqual(ctx.takeExceptionContexts().count, 0, "further reports")
        },
    ]

    // MARK: Beyond the catalogue (each checked against CPython 3.11 where it has the behaviour)

    static let extra: [ConformanceCase] = [
        ConformanceCase("TASK-X01", "cancel in the iteration its awaited future completes: the task still ends cancelled") { ctx in
            // asyncio: the future is done, so cancel() cannot cancel it; the request is kept
            // and delivered as CancelledError when the task resumes.
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let task = try loop.createTask { try await future.value }
            let caughtFuture = loop.createFuture(of: Int.self)
            let catching = try loop.createTask { () async throws -> String in
                do {
                    return "value \(try await caughtFuture.value)"
                } catch let error as CancelledError {
                    return "caught \(error.message ?? "nil")"
                }
            }
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
            let late = try loop.createTask { () async throws -> String in
                do {
                    return "value \(try await awaited.value)"
                } catch let error as CancelledError {
                    return "caught \(error.message ?? "nil")"
                }
            }
            // Registered before the task's first step awaits the future, so it runs before the task resumes.
            try awaited.addDoneCallback { _ in late.cancel(message: "from cb") }
            try Kit.settle(loop)
            try awaited.setResult(5)
            try ctx.expectEqual(try Kit.runGuarded(loop, late), "caught from cb", "cancelled by the awaited future's callback")

            let inner = loop.createFuture(of: Int.self)
            let trigger = loop.createFuture(of: Void.self)
            let early = try loop.createTask { () async throws -> String in
                do {
                    return "value \(try await inner.value)"
                } catch let error as CancelledError {
                    return "caught \(error.message ?? "nil")"
                }
            }
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
            let inner = try loop.createTask { () async throws -> Int in
                do {
                    return try await future.value
                } catch let error as CancelledError {
                    seen.record("inner:\(error.message ?? "nil")")
                    throw error
                }
            }
            let outer = try loop.createTask { () async throws -> Int in
                do {
                    return try await inner.value
                } catch let error as CancelledError {
                    seen.record("outer:\(error.message ?? "nil")")
                    throw error
                }
            }
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
            let outer = try loop.createTask { () async throws -> Int in
                do {
                    return try await inner.value
                } catch let error as CancelledError {
                    seen.record("outer:\(error.message ?? "nil")")
                    throw error
                }
            }
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

extension TaskCases {
    /// Suspends the calling task for `delay` (a timer resolving a future); the timer is
    /// cancelled when the wait ends early.
    static func sleepOnLoop(_ loop: any EventLoop, _ delay: Duration) async throws {
        let future = loop.createFuture(of: Void.self)
        let timer = try loop.callLater(delay) { if !future.isDone { try future.setResult(()) } }
        defer { timer.cancel() }
        try await future.value
    }

    /// A task type of a third party, made visible through the task-lifetime functions.
    private final class ForeignTask: EventLoopTask {
        let loop: any EventLoop
        let name: String
        private let done = Atomic<Bool>(false)

        init(loop: any EventLoop, name: String) {
            self.loop = loop
            self.name = name
        }

        var isDone: Bool { done.load(ordering: .relaxed) }

        func finish() { done.store(true, ordering: .relaxed) }
    }

    /// A task factory that records its calls and names its tasks "factory-<name>".
    private struct RecordingTaskFactory: TaskFactory {
        let id: String
        let calls = Recorder<String>()

        func makeTask<T>(
            loop: any EventLoop & TaskExecutor, name: String?, sourceLocation: SourceLocation?,
            _ body: sending @escaping () async throws -> T
        ) -> LoopTask<T> {
            calls.record(name ?? "nil")
            return LoopTask(loop: loop, name: "factory-\(name ?? "nil")", sourceLocation: sourceLocation, body)
        }
    }

    /// An actor whose serial executor is the loop.
    private actor LoopBoundCounter {
        let loop: BaseEventLoop
        private(set) var value = 0

        init(loop: BaseEventLoop) { self.loop = loop }

        nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

        /// Counts one and says whether it ran on the loop's thread.
        func increment() -> Bool {
            value += 1
            return loop.isOnLoopThread
        }
    }
}
