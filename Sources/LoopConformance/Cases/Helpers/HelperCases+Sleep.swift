import LoopCore

/// HELP — sleep (LoopCore/Concurrency/Sleep.swift).
extension HelperCases {
    static let sleepCases: [ConformanceCase] = [
        ConformanceCase("HELP-01", "sleep(50 ms, result:) returns the result after at least 49 ms of loop time") { ctx in
            let loop = try ctx.makeLoop()
            let (value, elapsed) = try loop.runUntilComplete { () async throws -> (String, Double) in
                let start = loop.time()
                let value = try await sleep(.milliseconds(50), result: "r")
                return (value, loop.time() - start)
            }
            try ctx.expectEqual(value, "r", "sleep's result")
            try ctx.expect(elapsed >= 0.049, "sleep(50 ms) returned after \(elapsed) s of loop time")
            try ctx.expect(elapsed < 2, "sleep(50 ms) took \(elapsed) s")
            try loop.close()
        },
        ConformanceCase("HELP-02", "sleep(0) and a negative sleep yield exactly one loop iteration") { ctx in
            let loop = try ctx.makeLoop()
            let seen = try loop.runUntilComplete { () async throws -> [String] in
                let counter = try IterationCounter(loop: loop)
                var seen: [String] = []
                let order = Recorder<String>()
                try loop.callSoon { order.record("queued before") }
                order.record("step 1")
                var before = counter.count
                try await sleep(.zero)
                order.record("step 2")
                seen.append("zero: \(counter.count - before)")
                before = counter.count
                try await sleep(.milliseconds(-5))
                seen.append("negative: \(counter.count - before)")
                before = counter.count
                try await loop.sleep(.zero)
                seen.append("loop.sleep(0): \(counter.count - before)")
                counter.stop()
                seen.append(contentsOf: order.all)
                return seen
            }
            try ctx.expectEqual(
                seen,
                ["zero: 1", "negative: 1", "loop.sleep(0): 1", "step 1", "queued before", "step 2"],
                "iterations each sleep let pass, then the order of steps and callback")
            try drain(loop)
            try loop.close()
        },
        ConformanceCase("HELP-X01", "sleep: cancelling a sleeping task ends it cancelled with the message; its timer is gone") { ctx in
            let loop = try ctx.makeLoop()
            let sleeper = try loop.createTask { try await sleep(.seconds(10)) }
            let outcome = try loop.runUntilComplete { () async throws -> String in
                try await sleep(.zero)
                sleeper.cancel(message: "wake up")
                do {
                    try await sleeper.value
                    return "finished"
                } catch let error as CancelledError {
                    return error.message ?? "no message"
                }
            }
            try ctx.expectEqual(outcome, "wake up", "the sleeper's CancelledError message")
            try ctx.expect(sleeper.isCancelled, "the sleeping task must end cancelled")
            try ctx.expectEqual(loop.nextTimerDeadline == nil, true, "no timer may be left after the cancelled sleep")
            try loop.close()
        },
    ]
}
