import Glibc
import Logging
@_spi(Backend) import LoopCore

/// DBG — debug mode: the environment default, slow-callback warnings, the thread
/// check of non-thread-safe calls, and where callbacks and futures were created.
///
/// Each case sets the debug flag it needs itself (the suite runs every case with
/// debug mode off and on).
enum DebugCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("DBG-01", "debug mode starts from LOOP_DEBUG (off when unset or empty); setDebug is reflected") { ctx in
            let variable = BaseEventLoop.debugEnvironmentVariable
            let previous = ProcessEnvironment.value(variable)
            defer {
                if let previous { setenv(variable, previous, 1) } else { unsetenv(variable) }
            }
            // Loops made here are the case's own (not the harness's): it closes them.
            func debugOfNewLoop() throws -> Bool {
                let loop = BaseEventLoop(backend: try ctx.backend.make(), logger: ctx.capturingLogger())
                defer { try? loop.close() }
                return loop.debug
            }
            unsetenv(variable)
            try ctx.expect(try !debugOfNewLoop(), "debug must be off when \(variable) is unset")
            setenv(variable, "", 1)
            try ctx.expect(try !debugOfNewLoop(), "debug must be off when \(variable) is empty")
            setenv(variable, "1", 1)
            try ctx.expect(try debugOfNewLoop(), "debug must be on when \(variable)=1")
            setenv(variable, "yes", 1)
            try ctx.expect(try debugOfNewLoop(), "debug must be on for any non-empty \(variable)")

            let loop = BaseEventLoop(backend: try ctx.backend.make(), logger: ctx.capturingLogger())
            defer { try? loop.close() }
            loop.setDebug(false)
            try ctx.expect(!loop.debug, "debug after setDebug(false)")
            loop.setDebug(true)
            try ctx.expect(loop.debug, "debug after setDebug(true)")
            loop.setDebug(false)
            try ctx.expect(!loop.debug, "debug after setDebug(false) again")
            try loop.close()
        },
        ConformanceCase("DBG-02", "debug on: a callback slower than slowCallbackDuration logs one warning naming its handle") { ctx in
            let loop = try ctx.makeLoop()
            loop.setDebug(true)
            try ctx.expectEqual(loop.slowCallbackDuration, .milliseconds(100), "default slowCallbackDuration")
            loop.slowCallbackDuration = .milliseconds(50)
            try ctx.expectEqual(loop.slowCallbackDuration, .milliseconds(50), "slowCallbackDuration after setting it")
            _ = ctx.takeLogRecords()
            let slow = try loop.callSoon { ctx.block(for: .milliseconds(80)) }
            let fast = try loop.callSoon { loop.stop() }
            try loop.runForever()
            let warnings = ctx.takeLogRecords().filter { $0.level == .warning }
            try ctx.expectEqual(warnings.count, 1, "warnings (slow: \(slow), fast: \(fast)); got \(warnings)")
            let message = warnings[0].message
            try ctx.expect(message.hasPrefix("Executing \(slow) took "), "the warning must name the slow handle: \(message)")
            try ctx.expect(message.hasSuffix(" seconds"), "the warning must end in seconds: \(message)")
            let number = message.dropFirst("Executing \(slow) took ".count).dropLast(" seconds".count)
            let seconds = Double(String(number)) ?? -1
            try ctx.expect(seconds >= 0.05 && seconds < 5, "reported duration \(number) must be at least the threshold")
            try loop.close()
        },
        ConformanceCase("DBG-03", "debug off: a slow callback logs nothing") { ctx in
            let loop = try ctx.makeLoop()
            loop.setDebug(false)
            loop.slowCallbackDuration = .milliseconds(10)
            _ = ctx.takeLogRecords()
            try loop.callSoon {
                ctx.block(for: .milliseconds(30))
                loop.stop()
            }
            try loop.runForever()
            let records = ctx.takeLogRecords()
            try ctx.expect(records.isEmpty, "nothing may be logged with debug off, got \(records)")
            try loop.close()
        },
        ConformanceCase(
            "DBG-04", "debug on: callSoon/callLater/callAt from another thread throw; callSoonThreadsafe works",
            requires: [.crossThreadWakeup, .realTime]  // the guard timer must not fire before the other thread has acted
        ) { ctx in
            let loop = try ctx.makeLoop()
            loop.setDebug(true)
            let outcomes = Recorder<String>()
            let ran = Recorder<String>()
            let guardTimer = try loop.callLater(.seconds(5)) {
                ran.record("guard timer")
                loop.stop()
            }
            let thread = ctx.spawn {
                let deadline = ContinuousClock.now + .seconds(5)
                while !loop.isRunning && ContinuousClock.now < deadline { usleep(200) }
                func attempt(_ call: String, _ body: () throws -> Void) {
                    do {
                        try body()
                        outcomes.record("\(call): accepted")
                    } catch let error as LoopError {
                        let named = error.message.hasPrefix(call) ? "named" : "unnamed: \(error.message)"
                        outcomes.record("\(call): \(error.kind) \(named)")
                    } catch {
                        outcomes.record("\(call): \(error)")
                    }
                }
                attempt("callSoon") { try loop.callSoon { ran.record("callSoon") } }
                attempt("callLater") { try loop.callLater(.zero) { ran.record("callLater") } }
                attempt("callAt") { try loop.callAt(loop.time()) { ran.record("callAt") } }
                attempt("callSoonThreadsafe") {
                    try loop.callSoonThreadsafe {
                        ran.record("callSoonThreadsafe")
                        loop.stop()
                    }
                }
            }
            try loop.runForever()
            try ctx.expect(thread.join(timeout: .seconds(5)), "the other thread did not finish")
            guardTimer.cancel()
            try ctx.expectEqual(
                outcomes.all,
                [
                    "callSoon: wrongThread named", "callLater: wrongThread named", "callAt: wrongThread named",
                    "callSoonThreadsafe: accepted",
                ],
                "calls from another thread")
            try ctx.expectEqual(ran.all, ["callSoonThreadsafe"], "callbacks that ran")
            try loop.close()
        },
        ConformanceCase("DBG-05", "debug on: a throwing callback's context has the scheduling line; debug off: none") { ctx in
            let loop = try ctx.makeLoop()
            loop.setDebug(true)
            let site = SourceLocation(#fileID, #line + 1)
            try loop.callSoon { throw DebugBoom() }
            loop.stop()
            try loop.runForever()
            var calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "handler calls (debug on)")
            try ctx.expectEqual(calls[0].sourceTraceback?.last, site, "last frame of the source traceback")

            loop.setDebug(false)
            try loop.callSoon { throw DebugBoom() }
            loop.stop()
            try loop.runForever()
            calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "handler calls (debug off)")
            try ctx.expect(calls[0].sourceTraceback == nil, "no source traceback with debug off, got \(calls[0].sourceTraceback ?? [])")
            try loop.close()
        },
        ConformanceCase("DBG-06", "debug on: a never-retrieved report names the future's creation site") { ctx in
            let loop = try ctx.makeLoop()
            loop.setDebug(true)
            let site = SourceLocation(#fileID, #line + 2)
            do {
                let future = loop.createFuture(of: Int.self)
                try future.setException(DebugBoom())
            }
            var calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "reports (debug on)")
            try ctx.expectEqual(calls[0].message, "Future exception was never retrieved", "message")
            try ctx.expect(
                calls[0].sourceTraceback?.contains(site) ?? false,
                "the source traceback must contain \(site), got \(calls[0].sourceTraceback ?? [])")

            loop.setDebug(false)
            do {
                let future = loop.createFuture(of: Int.self)
                try future.setException(DebugBoom())
            }
            calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "reports (debug off)")
            try ctx.expect(calls[0].sourceTraceback == nil, "no source traceback with debug off")
            try loop.close()
        },
    ]
}

private struct DebugBoom: Error {}
