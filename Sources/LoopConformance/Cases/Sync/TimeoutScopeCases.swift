import LoopCore

/// SYNC — the timeout / timeoutAt scopes and LoopTimeout (asyncio's `timeout`,
/// `timeout_at` and `Timeout`), checked against CPython 3.11.
enum TimeoutScopeCases {
    static let all: [ConformanceCase] = [
        /// ```python
        /// try:
        ///     async with timeout(0.02) as cm:
        ///         try: await sleep(1)
        ///         except CancelledError: seen.append("body cancelled"); raise
        /// except TimeoutError: seen.append("TimeoutError")
        /// # (['body cancelled', 'TimeoutError'], cm.expired() True, current_task().cancelling() 0)
        /// ```
        ConformanceCase("SYNC-43", "timeout: the expired deadline cancels the body in the same task and the scope throws TimeoutError") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let seen = Recorder<String>()
                let scopes = Recorder<LoopTimeout>()
                let me = try currentTask()
                let error = await thrown {
                    try await timeout(.milliseconds(20)) { scope in
                        scopes.record(scope)
                        seen.record("same task: \(try currentTask() === me)")
                        do {
                            try await sleep(.seconds(1))
                        } catch let error as CancelledError {
                            seen.record("body cancelled")
                            throw error
                        }
                    }
                }
                let cancelling = (me as? LoopTask<[String]>)?.cancelling ?? -1
                return seen.all + [error, "\(scopes.all.first?.expired ?? false)", "\(cancelling)"]
            }
            try ctx.expectEqual(result, ["same task: true", "body cancelled", "TimeoutError", "true", "0"], "scope")
        },
        /// ```python
        /// async with timeout(0.02) as cm:
        ///     cm.reschedule(loop.time() + 0.5); await sleep(0.05); w = cm.when() is not None
        ///     cm.reschedule(None); await sleep(0.03); n = cm.when()
        /// # (True, None, False): moved, then removed; the body completes
        /// ```
        ConformanceCase("SYNC-44", "LoopTimeout.reschedule moves or removes the deadline; the body then completes") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                try await timeout(.milliseconds(20)) { scope -> [String] in
                    try scope.reschedule(loop.time() + 0.5)
                    try await sleep(.milliseconds(50))
                    let moved = scope.when.map { $0 > loop.time() } ?? false
                    try scope.reschedule(nil)
                    try await sleep(.milliseconds(30))
                    return ["\(moved)", "\(scope.when.map { "\($0)" } ?? "nil")", "\(scope.expired)"]
                }
            }
            try ctx.expectEqual(result, ["true", "nil", "false"], "moved, removed, expired")
        },
        /// ```python
        /// async with timeout(None) as cm: await sleep(0)
        /// cm.reschedule(1.0)        # RuntimeError: Cannot change state of finished Timeout
        /// cm2 expired -> cm2.reschedule(1.0)   # RuntimeError: Cannot change state of expired Timeout
        /// t = create_task(inner()); await sleep(0.01); t.cancel()  # inner: async with timeout(1): await sleep(1)
        /// # t ends with CancelledError, not TimeoutError: the cancellation came from outside
        /// ```
        ConformanceCase("SYNC-45", "LoopTimeout: reschedule after the scope throws; a cancellation from outside stays CancelledError") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let scopes = Recorder<LoopTimeout>()
                try await timeout(nil) { scope in
                    scopes.record(scope)
                    try await sleep(.zero)
                }
                _ = await thrown { try await timeout(.milliseconds(10)) { scope in
                    scopes.record(scope)
                    try await sleep(.seconds(1))
                } }
                var seen = scopes.all.map { scope in thrownSync { try scope.reschedule(1.0) } }
                let inner = try loop.createTask {
                    try await timeout(.seconds(1)) { _ in try await sleep(.seconds(1)) }
                }
                try await sleep(.milliseconds(10))
                inner.cancel()
                seen.append(await outcome(inner))
                return seen
            }
            try ctx.expectEqual(result, [
                "LoopError.invalidState: Cannot change state of finished Timeout",
                "LoopError.invalidState: Cannot change state of expired Timeout",
                "cancelled",
            ], "reschedule after finish and expiry, outer cancellation")
        },
        /// ```python
        /// async with timeout_at(loop.time() - 1): await sleep(1)   # TimeoutError at the next iteration
        /// async with timeout_at(loop.time() + 1): r = 5            # completes: 5
        /// ```
        ConformanceCase("SYNC-46", "timeoutAt: a deadline in the past times out at the first await; a later one lets the body finish") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let past = await thrown { try await timeoutAt(loop.time() - 1) { _ in try await sleep(.seconds(1)) } }
                let value = try await timeoutAt(loop.time() + 1) { _ in 5 }
                return [past, "\(value)"]
            }
            try ctx.expectEqual(result, ["TimeoutError", "5"], "past deadline, future deadline")
        },
    ]
}
