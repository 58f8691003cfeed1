import LoopCore

/// HELP — run and Runner (LoopCore/Concurrency/Run.swift).
extension HelperCases {
    static let runCases: [ConformanceCase] = [
        ConformanceCase("HELP-15", "run(main) returns main's result on a fresh loop closed afterwards; debug; refused inside a loop") { ctx in
            let made = Recorder<BaseEventLoop>()
            let factory: LoopFactory = {
                let loop = try ctx.makeLoop()
                made.record(loop)
                return loop
            }
            let (value, wasRunning) = try run(loopFactory: factory) { () async throws -> (String, Bool) in
                try await sleep(.milliseconds(1))
                return ("main", RunningLoop.current === made.all.first)
            }
            try ctx.expectEqual(value, "main", "run's result")
            try ctx.expectEqual(made.count, 1, "loops made")
            try ctx.expect(wasRunning, "main must run on the loop the factory made")
            try ctx.expect(made.all.allSatisfy(\.isClosed), "run must close its loop")

            let debugOn = try run(loopFactory: factory, debug: true) { () async throws -> Bool in
                try RunningLoop.get().debug
            }
            let debugOff = try run(loopFactory: factory, debug: false) { () async throws -> Bool in
                try RunningLoop.get().debug
            }
            try ctx.expect(debugOn && !debugOff, "debug: true/false must set the loop's debug mode (got \(debugOn), \(debugOff))")

            let outer = try ctx.makeLoop()
            let message = try outer.runUntilComplete { () async throws -> String in
                do {
                    _ = try run(loopFactory: factory) { () async throws -> Int in 1 }
                    return "run was accepted"
                } catch let error as LoopError {
                    return "\(error.kind): \(error.message)"
                }
            }
            try ctx.expect(
                message.hasPrefix("anotherLoopRunning: ") && message.contains("run() cannot be called from a running event loop"),
                "run inside a running loop: \(message)")
            try ctx.expectEqual(made.count, 3, "no loop may be made when run is refused")
            try outer.close()
            // asyncio's "a non-coroutine argument is refused" has no Swift analogue: main is typed as an async body.
        },
        ConformanceCase("HELP-16", "run: leftover tasks are cancelled and awaited (cleanup may await); executor shut down; loop closed when main throws") {
            ctx in
            let made = Recorder<BaseEventLoop>()
            let factory: LoopFactory = {
                let loop = try ctx.makeLoop()
                made.record(loop)
                return loop
            }
            let events = Recorder<String>()
            let value = try run(loopFactory: factory) { () async throws -> String in
                _ = try RunningLoop.get().runInExecutor { () throws -> Void in
                    ctx.block(for: .milliseconds(30))
                    events.record("executor job done")
                }
                _ = try createTask { () async throws in
                    do {
                        try await sleep(.seconds(10))
                    } catch let error as CancelledError {
                        events.record("leftover cancelled")
                        try await sleep(.milliseconds(10))
                        events.record("leftover cleaned up")
                        throw error
                    }
                }
                try await sleep(.zero)
                return "main done"
            }
            try ctx.expectEqual(value, "main done", "run's result")
            // The executor job and the leftover's cleanup overlap; only each one's own order is fixed.
            try ctx.expectEqual(
                events.all.filter { $0.hasPrefix("leftover") }, ["leftover cancelled", "leftover cleaned up"],
                "the leftover task's cleanup, before run returns")
            try ctx.expect(events.all.contains("executor job done"), "run must wait for the default executor's work: \(events.all)")
            try ctx.expect(made.all.first?.isClosed == true, "the loop must be closed")

            do {
                _ = try run(loopFactory: factory) { () async throws -> Int in
                    _ = try createTask { () async throws in
                        do {
                            try await sleep(.seconds(10))
                        } catch {
                            events.record("second leftover: \(error is CancelledError ? "cancelled" : "\(error)")")
                            throw error
                        }
                    }
                    try await sleep(.zero)
                    throw HelperError("main failed")
                }
                throw ctx.failure("run must rethrow main's error")
            } catch let error as HelperError {
                try ctx.expectEqual(error.tag, "main failed", "the error run threw")
            }
            try ctx.expectEqual(events.all.last, "second leftover: cancelled", "the leftover of a failing main")
            try ctx.expectEqual(made.count, 2, "loops made")
            try ctx.expect(made.all.allSatisfy(\.isClosed), "the loop must be closed even when main throws")
        },
        ConformanceCase("HELP-X15", "run: a leftover task that fails instead of stopping is reported to the exception handler") { ctx in
            let made = Recorder<BaseEventLoop>()
            let value = try run(loopFactory: {
                let loop = try ctx.makeLoop()
                made.record(loop)
                return loop
            }) { () async throws -> Int in
                _ = try createTask { () async throws in
                    do {
                        try await sleep(.seconds(10))
                    } catch is CancelledError {
                        throw HelperError("cleanup failed")
                    }
                }
                try await sleep(.zero)
                return 1
            }
            try ctx.expectEqual(value, 1, "run's result")
            let reports = ctx.takeExceptionContexts()
            try ctx.expectEqual(reports.map(\.message), ["unhandled exception during run() shutdown"], "exception-handler calls")
            try ctx.expectEqual((reports.first?.error as? HelperError)?.tag, "cleanup failed", "the reported error")
            try ctx.expect(made.all.first?.isClosed == true, "the loop must be closed")
        },
        ConformanceCase("HELP-17", "Runner: lazy factory called once; runs share the loop; close; run after close refused; scope closes") { ctx in
            let made = Recorder<BaseEventLoop>()
            let factory: LoopFactory = {
                let loop = try ctx.makeLoop()
                made.record(loop)
                return loop
            }
            let runner = Runner(loopFactory: factory)
            try ctx.expectEqual(made.count, 0, "loops made before the runner is used")
            let first = try runner.run { () async throws -> ObjectIdentifier? in
                RunningLoop.current.map { ObjectIdentifier($0) }
            }
            let second = try runner.run { () async throws -> ObjectIdentifier? in
                RunningLoop.current.map { ObjectIdentifier($0) }
            }
            let loop = try runner.loop()
            try ctx.expectEqual(made.count, 1, "loops made after two runs")
            try ctx.expect(first != nil && first == second, "both runs must use the same loop")
            try ctx.expect(first == ObjectIdentifier(loop), "loop() must return the loop the runs used")
            try ctx.expect(!loop.isClosed, "the loop stays open between runs")
            try runner.close()
            try ctx.expect(loop.isClosed, "close() closes the loop")
            try runner.close()
            let refused = try ctx.expectLoopError(.closed, "run after close") { _ = try runner.run { () async throws in } }
            try ctx.expect(refused.message.contains("Runner is closed"), "message: \(refused.message)")
            try ctx.expectLoopError(.closed, "loop() after close") { _ = try runner.loop() }

            let scoped = try Runner.with(loopFactory: factory) { runner -> any EventLoop in
                try runner.run { () async throws in try await sleep(.zero) }
                return try runner.loop()
            }
            try ctx.expect(scoped.isClosed, "the scope must close the runner's loop on exit")
            try Runner.with(loopFactory: factory) { _ in }
            try ctx.expectEqual(made.count, 2, "an unused runner must not call its factory")
        },
    ]
}
