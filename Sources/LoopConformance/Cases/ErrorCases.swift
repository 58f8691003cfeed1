import Logging
@_spi(Backend) import LoopCore

/// ERR — the exception handler API, the contexts it receives, and errors that never
/// stop the loop (callbacks that throw, futures whose error nobody retrieved).
enum ErrorCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("ERR-01", "a throwing callback reaches the handler once; the rest of the batch still runs") { ctx in
            let loop = try ctx.makeLoop()
            let order = Recorder<String>()
            let failing = try loop.callSoon {
                order.record("A")
                throw Boom(id: 1)
            }
            try loop.callSoon { order.record("B") }
            try loop.callSoon {
                order.record("C")
                loop.stop()
            }
            try loop.runForever()
            try ctx.expectEqual(order.all, ["A", "B", "C"], "callbacks after the throwing one")
            let calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "handler calls")
            let context = calls[0]
            try ctx.expect(context.message.hasPrefix("Exception in callback "), "message: \(context.message)")
            try ctx.expectEqual(context.error as? Boom, Boom(id: 1), "context error")
            try ctx.expect(context.handle === failing, "the context's handle must be the failing callback's Handle")
            try ctx.expect(!(context.handle is TimerHandle), "a callSoon handle is not a TimerHandle")
            try loop.callSoon { loop.stop() }
            try loop.runForever()
            try loop.close()
        },
        ConformanceCase("ERR-02", "the custom handler is nil by default, can be set, and nil restores the default") { ctx in
            // A loop of our own: the harness's loops come with its recording handler installed.
            let loop = BaseEventLoop(backend: try ctx.backend.make(), logger: ctx.capturingLogger())
            defer { try? loop.close() }
            try ctx.expect(loop.exceptionHandler == nil, "a new loop has no custom exception handler")
            let calls = Recorder<String>()
            loop.setExceptionHandler { _, context in calls.record(context.message) }
            try ctx.expect(loop.exceptionHandler != nil, "exceptionHandler after setExceptionHandler(h)")
            loop.callExceptionHandler(ExceptionContext(message: "to the custom handler"))
            try ctx.expectEqual(calls.all, ["to the custom handler"], "calls of the installed handler")
            try ctx.expectEqual(ctx.takeLogRecords().count, 0, "log records while a custom handler is installed")
            loop.setExceptionHandler(nil)
            try ctx.expect(loop.exceptionHandler == nil, "exceptionHandler after setExceptionHandler(nil)")
            loop.callExceptionHandler(ExceptionContext(message: "to the default handler"))
            try ctx.expectEqual(calls.count, 1, "the removed handler must not be called again")
            let records = ctx.takeLogRecords()
            try ctx.expectEqual(records.count, 1, "log records of the default handler")
            try ctx.expect(records[0].message.hasPrefix("to the default handler"), "logged: \(records[0].message)")
            try loop.close()
        },
        ConformanceCase("ERR-03", "callExceptionHandler passes the loop and every context key, synchronously, once") { ctx in
            let loop = try ctx.makeLoop()
            let received = Box<[(loop: any EventLoop, context: ExceptionContext)]>([])
            loop.setExceptionHandler { handlerLoop, context in received.value.append((handlerLoop, context)) }
            let handle = try loop.callSoon {}
            let future = loop.createFuture(of: Int.self)
            let transport = Marker(name: "transport")
            let proto = Marker(name: "protocol")
            loop.callExceptionHandler(ExceptionContext(
                message: "custom context",
                error: Boom(id: 3),
                handle: handle,
                future: future,
                transport: transport,
                protocol: proto,
                socket: 17,
                extra: ["unknown_key": "value", "answer": 42]
            ))
            try ctx.expectEqual(received.value.count, 1, "handler calls when callExceptionHandler returned")
            let (handlerLoop, context) = received.value[0]
            try ctx.expect(handlerLoop === loop, "the handler must receive the loop itself")
            try ctx.expectEqual(context.message, "custom context", "message")
            try ctx.expectEqual(context.error as? Boom, Boom(id: 3), "error")
            try ctx.expect(context.handle === handle, "handle key")
            try ctx.expect(context.future === future, "future key")
            try ctx.expect(context.transport === transport, "transport key")
            try ctx.expect(context.protocol === proto, "protocol key")
            try ctx.expectEqual(context.socket, 17, "socket key")
            try ctx.expectEqual(context.extra["unknown_key"] as? String, "value", "unknown key")
            try ctx.expectEqual(context.extra["answer"] as? Int, 42, "second unknown key")
            loop.setExceptionHandler(ctx.recordingHandler)
            // Run the queued no-op so the loop closes with nothing pending.
            loop.stop()
            try loop.runForever()
            try loop.close()
        },
        ConformanceCase("ERR-04", "a throwing timer callback's context names its TimerHandle") { ctx in
            let loop = try ctx.makeLoop()
            let timer = try loop.callLater(.milliseconds(1)) {
                loop.stop()
                throw Boom(id: 4)
            }
            try loop.runForever()
            let calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "handler calls")
            try ctx.expect(calls[0].handle is TimerHandle, "the context's handle must be a TimerHandle")
            try ctx.expect(calls[0].handle === timer, "the context's handle must be the timer that threw")
            try ctx.expectEqual(calls[0].error as? Boom, Boom(id: 4), "context error")
            try loop.close()
        },
        ConformanceCase("ERR-05", "a throwing custom handler is logged by the default handler; the loop carries on") { ctx in
            let loop = try ctx.makeLoop()
            let handlerRuns = Recorder<String>()
            loop.setExceptionHandler { _, context in
                handlerRuns.record(context.message)
                throw HandlerBoom()
            }
            let order = Recorder<String>()
            try loop.callSoon {
                order.record("A")
                throw Boom(id: 5)
            }
            try loop.callSoon {
                order.record("B")
                loop.stop()
            }
            try loop.runForever()
            loop.setExceptionHandler(ctx.recordingHandler)
            try ctx.expectEqual(order.all, ["A", "B"], "callbacks (the next one must run after the handler threw)")
            try ctx.expectEqual(handlerRuns.count, 1, "custom handler calls")
            let errors = ctx.takeLogRecords().filter { $0.level == .error }
            try ctx.expectEqual(errors.count, 1, "error-level log records")
            try ctx.expect(
                errors[0].message.hasPrefix("Unhandled error in exception handler"),
                "the log record must say the handler failed: \(errors[0].message)")
            try ctx.expect(
                errors[0].error?.contains("HandlerBoom") ?? false,
                "the handler's own error must be attached to the record, got \(errors[0].error ?? "none")")
            try loop.close()
        },
        ConformanceCase("ERR-06", "the default handler logs the context at error level; it can be called directly") { ctx in
            let loop = try ctx.makeLoop()
            loop.setExceptionHandler(nil)
            try loop.callSoon {
                loop.stop()
                throw Boom(id: 6)
            }
            try loop.runForever()
            let errors = ctx.takeLogRecords().filter { $0.level == .error }
            try ctx.expectEqual(errors.count, 1, "error-level log records of the default handler")
            let lines = errors[0].message.split(separator: "\n", omittingEmptySubsequences: false)
            try ctx.expect(
                lines.first?.hasPrefix("Exception in callback <") ?? false,
                "the first line must be the context message, got \(errors[0].message)")
            try ctx.expect(
                lines.dropFirst().contains { $0.hasPrefix("handle: <") },
                "the other context keys must be rendered (handle: …), got \(errors[0].message)")
            try ctx.expect(
                errors[0].error?.contains("Boom") ?? false,
                "the callback's error must be attached to the record, got \(errors[0].error ?? "none")")

            // A custom handler that delegates to the default one.
            let delegated = Recorder<String>()
            loop.setExceptionHandler { handlerLoop, context in
                delegated.record(context.message)
                handlerLoop.defaultExceptionHandler(context)
            }
            loop.callExceptionHandler(ExceptionContext(message: "handled, then logged", extra: ["answer": 42]))
            try ctx.expectEqual(delegated.all, ["handled, then logged"], "custom handler calls")
            let logged = ctx.takeLogRecords()
            try ctx.expectEqual(logged.count, 1, "records of a direct defaultExceptionHandler call")
            try ctx.expectEqual(logged[0].level, .error, "level")
            try ctx.expect(logged[0].message.hasPrefix("handled, then logged"), "logged: \(logged[0].message)")
            try ctx.expect(logged[0].message.contains("answer: 42"), "extra keys must be rendered: \(logged[0].message)")
            loop.setExceptionHandler(ctx.recordingHandler)
            try loop.close()
        },
        ConformanceCase("ERR-07", "an unretrieved future error is reported exactly once, when the future is released") { ctx in
            let loop = try ctx.makeLoop()
            var identifier: ObjectIdentifier?
            do {
                let future = loop.createFuture(of: Int.self)
                identifier = ObjectIdentifier(future)
                try future.setException(Boom(id: 7))
                try withExtendedLifetime(future) {
                    try ctx.expectEqual(ctx.takeExceptionContexts().count, 0, "handler calls while the future is alive")
                }
            }
            let calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "handler calls after the last reference was dropped")
            try ctx.expectEqual(calls[0].message, "Future exception was never retrieved", "message")
            try ctx.expectEqual(calls[0].error as? Boom, Boom(id: 7), "error")
            let released = calls[0].future as? ReleasedFuture
            try ctx.expect(released != nil, "the context's future must describe the released future")
            try ctx.expectEqual(released?.identifier, identifier, "the released future's identity")
            try ctx.expect(released?.description.contains("Boom") ?? false, "description: \(released?.description ?? "nil")")
            try loop.close()
            try ctx.expectEqual(ctx.takeExceptionContexts().count, 0, "further reports")
        },
        ConformanceCase("ERR-08", "a failed task released with its error unretrieved is reported once, naming the task") { ctx in
            let loop = try ctx.makeLoop()
            var identifier: ObjectIdentifier?
            do {
                let task = try loop.createTask { () async throws -> Int in throw Boom(id: 8) }
                identifier = ObjectIdentifier(task)
                try task.addDoneCallback { _ in loop.stop() }
                try loop.runForever()
                try withExtendedLifetime(task) {
                    try ctx.expect(task.isDone && !task.isCancelled, "the task must have failed")
                    try ctx.expectEqual(ctx.takeExceptionContexts().count, 0, "handler calls while the task is alive")
                }
            }
            let calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "handler calls after the task was released")
            try ctx.expectEqual(calls[0].message, "Task exception was never retrieved", "message")
            try ctx.expectEqual(calls[0].error as? Boom, Boom(id: 8), "error")
            let released = calls[0].future as? ReleasedFuture
            try ctx.expectEqual(released?.identifier, identifier, "the context's future must be the released task")
            try ctx.expect(released?.description.contains("Task") ?? false, "description: \(released?.description ?? "nil")")
            try loop.close()
        },
        ConformanceCase("ERR-09", "no never-retrieved report after result() threw, exception(), an awaiting task, cancel, or a success") { ctx in
            let loop = try ctx.makeLoop()
            func resultThrew() throws {
                let future = loop.createFuture(of: Int.self)
                try future.setException(Boom(id: 1))
                let outcome = Result { try future.result() }
                guard case .failure(let error) = outcome else { throw ctx.failure("result() of a failed future must throw") }
                try ctx.expectEqual(error as? Boom, Boom(id: 1), "error thrown by result()")
            }
            func exceptionCalled() throws {
                let future = loop.createFuture(of: Int.self)
                try future.setException(Boom(id: 2))
                try ctx.expectEqual(try future.exception() as? Boom, Boom(id: 2), "exception()")
            }
            func cancelled() throws {
                let future = loop.createFuture(of: Int.self)
                try ctx.expect(future.cancel(), "cancel() of a pending future")
            }
            func succeededUnread() throws {
                let future = loop.createFuture(of: Int.self)
                try future.setResult(9)
            }
            func retrievedInDoneCallback() throws {
                let future = loop.createFuture(of: Int.self)
                try future.addDoneCallback { done in _ = try? done.exception() }
                try future.setException(Boom(id: 3))
                loop.stop()
                try loop.runForever()
            }
            func awaitedByTask() throws {
                let future = loop.createFuture(of: Int.self)
                let task = try loop.createTask { () async throws -> String in
                    do {
                        _ = try await future.value
                        return "no error"
                    } catch {
                        return "caught \(error is Boom)"
                    }
                }
                try loop.callSoon { try future.setException(Boom(id: 4)) }
                try ctx.expectEqual(try loop.runUntilComplete(task), "caught true", "the awaiting task's result")
            }
            try resultThrew()
            try exceptionCalled()
            try cancelled()
            try succeededUnread()
            try retrievedInDoneCallback()
            try awaitedByTask()
            let calls = ctx.takeExceptionContexts()
            try ctx.expect(calls.isEmpty, "unexpected reports: \(calls.map(\.message))")
            try loop.close()
        },
        ConformanceCase("ERR-10", "a throwing done callback reaches the handler; the next done callback still runs") { ctx in
            let loop = try ctx.makeLoop()
            let order = Recorder<String>()
            let future = loop.createFuture(of: Int.self)
            try future.addDoneCallback { _ in
                order.record("first")
                throw Boom(id: 10)
            }
            try future.addDoneCallback { done in
                order.record("second=\((try? done.result()) ?? -1)")
                loop.stop()
            }
            try future.setResult(1)
            try loop.runForever()
            try ctx.expectEqual(order.all, ["first", "second=1"], "done callbacks")
            let calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "handler calls")
            try ctx.expect(calls[0].handle != nil, "the context must carry the done callback's handle")
            try ctx.expectEqual(calls[0].error as? Boom, Boom(id: 10), "error")
            try ctx.expect(calls[0].message.hasPrefix("Exception in callback "), "message: \(calls[0].message)")
            try loop.close()
        },
        ConformanceCase("ERR-11", "an error thrown in a task is stored in it; no handler call while the task lives") { ctx in
            let loop = try ctx.makeLoop()
            let steps = Recorder<String>()
            let task = try loop.createTask { () async throws -> Int in
                steps.record("started")
                throw Boom(id: 11)
            }
            try task.addDoneCallback { _ in loop.stop() }
            try loop.runForever()
            try ctx.expectEqual(steps.all, ["started"], "task body")
            try ctx.expect(task.isDone && !task.isCancelled, "the task is done, not cancelled")
            try ctx.expectEqual(ctx.takeExceptionContexts().count, 0, "handler calls while the task is alive")
            try ctx.expectEqual(try task.exception() as? Boom, Boom(id: 11), "task.exception()")
            let outcome = Result { try task.result() }
            guard case .failure(let error) = outcome else { throw ctx.failure("task.result() must rethrow the body's error") }
            try ctx.expectEqual(error as? Boom, Boom(id: 11), "error rethrown by task.result()")
            try loop.close()
        },
    ]
}

private struct Boom: Error, Equatable {
    let id: Int
}

private struct HandlerBoom: Error {}

/// An object to pass as a context's transport or protocol.
private final class Marker: CustomStringConvertible {
    let name: String
    init(name: String) { self.name = name }
    var description: String { "<Marker \(name)>" }
}

/// A mutable value captured by a handler that runs on the case's own thread.
private final class Box<Value> {
    var value: Value
    init(_ value: Value) { self.value = value }
}
