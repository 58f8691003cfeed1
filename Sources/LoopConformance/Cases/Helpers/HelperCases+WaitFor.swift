import LoopCore

/// HELP — waitFor and withTimeout (LoopCore/Concurrency/WaitFor.swift).
extension HelperCases {
    static let waitForCases: [ConformanceCase] = [
        ConformanceCase("HELP-08", "waitFor(10 s sleep, 50 ms) throws TimeoutError after >= 45 ms; the inner saw CancelledError") { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            let (outcome, elapsed, innerCancelled) = try loop.runUntilComplete { () async throws -> (String, Double, Bool) in
                let inner = try loop.createTask { () async throws -> Int in
                    do {
                        try await sleep(.seconds(10))
                    } catch let error as CancelledError {
                        seen.record("inner: CancelledError")
                        throw error
                    }
                    return 1
                }
                let start = loop.time()
                var outcome = "returned"
                do {
                    _ = try await waitFor(inner, timeout: .milliseconds(50))
                } catch is TimeoutError {
                    outcome = "TimeoutError"
                }
                return (outcome, loop.time() - start, inner.isCancelled)
            }
            try ctx.expectEqual(outcome, "TimeoutError", "waitFor's outcome")
            try ctx.expect(elapsed >= 0.045, "waitFor timed out after \(elapsed) s")
            try ctx.expect(elapsed < 2, "waitFor took \(elapsed) s")
            try ctx.expectEqual(seen.all, ["inner: CancelledError"], "what the inner task saw")
            try ctx.expect(innerCancelled, "the inner task ends cancelled")
            try loop.close()
        },
        ConformanceCase("HELP-09", "waitFor passes the result through; a nil timeout waits without limit") { ctx in
            let loop = try ctx.makeLoop()
            let (quick, unlimited) = try loop.runUntilComplete { () async throws -> (Int, Int) in
                let quick = try loop.createTask { () async throws -> Int in
                    try await sleep(.milliseconds(5))
                    return 5
                }
                let slow = try loop.createTask { () async throws -> Int in
                    try await sleep(.milliseconds(30))
                    return 30
                }
                return (try await waitFor(quick, timeout: .seconds(5)), try await waitFor(slow, timeout: nil))
            }
            try ctx.expectEqual(quick, 5, "result within the timeout")
            try ctx.expectEqual(unlimited, 30, "result without a timeout")
            try ctx.expectEqual(loop.nextTimerDeadline == nil, true, "waitFor's timer must be cancelled once the result is in")
            try loop.close()
        },
        ConformanceCase("HELP-10", "waitFor(x, 0): a done x gives its result; a pending x is cancelled and TimeoutError thrown") { ctx in
            let loop = try ctx.makeLoop()
            let report = try loop.runUntilComplete { () async throws -> [String] in
                var report: [String] = []
                let done = loop.createFuture(of: Int.self)
                try done.setResult(4)
                report.append("done: \(try await waitFor(done, timeout: .zero))")
                let pending = try loop.createTask { () async throws -> Int in
                    try await sleep(.seconds(10))
                    return 1
                }
                do {
                    _ = try await waitFor(pending, timeout: .zero)
                    report.append("pending returned")
                } catch is TimeoutError {
                    report.append("pending: TimeoutError, cancelled \(pending.isCancelled)")
                }
                let future = loop.createFuture(of: Int.self)
                do {
                    _ = try await waitFor(future, timeout: .milliseconds(-1))
                    report.append("negative returned")
                } catch is TimeoutError {
                    report.append("negative: TimeoutError, cancelled \(future.isCancelled)")
                }
                return report
            }
            try ctx.expectEqual(
                report,
                ["done: 4", "pending: TimeoutError, cancelled true", "negative: TimeoutError, cancelled true"],
                "waitFor with a zero timeout")
            try loop.close()
        },
        ConformanceCase("HELP-X06", "waitFor: a future finishing in the same iteration as the timeout wins over it") { ctx in
            let loop = try ctx.makeLoop()
            let value = try loop.runUntilComplete { () async throws -> Int in
                let future = loop.createFuture(of: Int.self)
                try loop.callLater(.milliseconds(30)) { try future.setResult(1) }
                return try await waitFor(future, timeout: .milliseconds(30))
            }
            try ctx.expectEqual(value, 1, "waitFor's result")
            try loop.close()
        },
        ConformanceCase("HELP-X07", "waitFor: cancelled in the iteration where the future completes, it returns the result") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let waiting = try loop.createTask { () async throws -> Int in try await waitFor(future, timeout: .seconds(10)) }
            let (value, cancelled) = try loop.runUntilComplete { () async throws -> (Int, Bool) in
                try await sleep(.zero)
                try await sleep(.zero)
                try loop.callSoon {
                    try future.setResult(7)
                    waiting.cancel()
                }
                let value = try await waiting.value
                return (value, waiting.isCancelled)
            }
            try ctx.expectEqual(value, 7, "the waiting task's result")
            try ctx.expect(!cancelled, "the waiting task ends with the result, not cancelled")
            try ctx.expectEqual(loop.nextTimerDeadline == nil, true, "waitFor's timer must be cancelled")
            try loop.close()
        },
        ConformanceCase("HELP-X08", "waitFor: an inner task that swallows the cancellation gives its value instead of TimeoutError") { ctx in
            let loop = try ctx.makeLoop()
            let value = try loop.runUntilComplete { () async throws -> String in
                let stubborn = try loop.createTask { () async throws -> String in
                    do {
                        try await sleep(.seconds(10))
                        return "slept"
                    } catch is CancelledError {
                        return "swallowed"
                    }
                }
                return try await waitFor(stubborn, timeout: .milliseconds(10))
            }
            try ctx.expectEqual(value, "swallowed", "waitFor's result")
            try loop.close()
        },
        ConformanceCase("HELP-X09", "withTimeout: an expired body is cancelled and TimeoutError thrown; a quick body returns its value") { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            let (quick, outcome, elapsed) = try loop.runUntilComplete { () async throws -> (Int, String, Double) in
                let quick = try await withTimeout(.seconds(5)) { () async throws -> Int in
                    try await sleep(.milliseconds(5))
                    return 5
                }
                let start = loop.time()
                var outcome = "returned"
                do {
                    try await withTimeout(.milliseconds(30)) { () async throws in
                        do {
                            try await sleep(.seconds(10))
                        } catch let error as CancelledError {
                            seen.record("body: CancelledError")
                            throw error
                        }
                    }
                } catch is TimeoutError {
                    outcome = "TimeoutError"
                }
                let unlimited = try await withTimeout(nil) { () async throws -> Int in 1 }
                return (quick + unlimited, outcome, loop.time() - start)
            }
            try ctx.expectEqual(quick, 6, "results of bodies that finish in time")
            try ctx.expectEqual(outcome, "TimeoutError", "outcome of the expired body")
            try ctx.expect(elapsed >= 0.025 && elapsed < 2, "the expired body took \(elapsed) s")
            try ctx.expectEqual(seen.all, ["body: CancelledError"], "what the expired body saw")
            try loop.close()
        },
    ]
}
