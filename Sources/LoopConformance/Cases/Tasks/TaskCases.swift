import LoopCore
import Synchronization

/// TASK — tasks: async bodies run as futures on a loop; results, errors, cancellation
/// (messages, counts, propagation through awaits, races), names, `currentTask` and
/// `allTasks`, the task factory, third-party tasks through the lifetime functions,
/// pending tasks destroyed with their loop, and Swift concurrency on the loop
/// (task cancellation, actors using the loop as executor).
enum TaskCases {
    /// The helpers shared with the FUT group.
    typealias Kit = FutureCases

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
}
