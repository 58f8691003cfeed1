import LoopCore

/// HELP — gather and gatherResults (LoopCore/Concurrency/Gather.swift).
extension HelperCases {
    static let gatherCases: [ConformanceCase] = [
        ConformanceCase("HELP-03", "gather returns results in argument order, accepts futures; gather of nothing is empty") { ctx in
            let loop = try ctx.makeLoop()
            let order = Recorder<String>()
            let (results, empty, pair) = try loop.runUntilComplete { () async throws -> ([String], [Int], String) in
                let slow = try loop.createTask { () async throws -> String in
                    try await sleep(.milliseconds(30))
                    order.record("slow")
                    return "slow"
                }
                let fast = try loop.createTask { () async throws -> String in
                    order.record("fast")
                    return "fast"
                }
                let future = loop.createFuture(of: String.self)
                try loop.callLater(.milliseconds(10)) {
                    order.record("future")
                    try future.setResult("future")
                }
                let results = try await gather([slow, fast, future]).value
                let empty = try await gather([Future<Int>]()).value
                let number = try loop.createTask { () async throws -> Int in 7 }
                let word = loop.createFuture(of: String.self)
                try word.setResult("seven")
                let (n, w) = try await gather(number, word).value
                return (results, empty, "\(n) \(w)")
            }
            try ctx.expectEqual(order.all, ["fast", "future", "slow"], "completion order")
            try ctx.expectEqual(results, ["slow", "fast", "future"], "gather's results (argument order)")
            try ctx.expectEqual(empty, [], "gather of no futures")
            try ctx.expectEqual(pair, "7 seven", "gather of a task and a future of different types")
            try loop.close()
        },
        ConformanceCase("HELP-04", "gather: the first error reaches the awaiter at once; the other child runs to completion") { ctx in
            let loop = try ctx.makeLoop()
            let (caught, otherDoneThen, otherValue, otherCancelled) = try loop.runUntilComplete {
                () async throws -> (String, Bool, Int, Bool) in
                let failing = try loop.createTask { () async throws -> Int in
                    try await sleep(.milliseconds(10))
                    throw HelperError("first")
                }
                let other = try loop.createTask { () async throws -> Int in
                    try await sleep(.milliseconds(80))
                    return 2
                }
                var caught = "nothing"
                do {
                    _ = try await gather([failing, other]).value
                } catch let error as HelperError {
                    caught = error.tag
                }
                let doneThen = other.isDone
                let value = try await other.value
                return (caught, doneThen, value, other.isCancelled)
            }
            try ctx.expectEqual(caught, "first", "the error gather threw")
            try ctx.expect(!otherDoneThen, "gather must throw as soon as the first child fails, before the other finishes")
            try ctx.expectEqual(otherValue, 2, "the other child's result")
            try ctx.expect(!otherCancelled, "the other child must not be cancelled")
            try loop.close()
        },
        ConformanceCase("HELP-05", "gatherResults (return_exceptions) puts failures in the result list") { ctx in
            let loop = try ctx.makeLoop()
            let outcomes = try loop.runUntilComplete { () async throws -> [String] in
                let ok = try loop.createTask { () async throws -> Int in 1 }
                let failing = try loop.createTask { () async throws -> Int in
                    try await sleep(.zero)
                    throw HelperError("bad")
                }
                let future = loop.createFuture(of: Int.self)
                try loop.callSoon { try future.setResult(3) }
                let results = try await gatherResults([ok, failing, future]).value
                let (a, b) = try await gatherResults(ok, failing).value
                return results.map(describe) + [describe(a), describe(b)]
            }
            try ctx.expectEqual(outcomes, ["1", "error bad", "3", "1", "error bad"], "gatherResults outcomes")
            try loop.close()
        },
        ConformanceCase("HELP-06", "cancel() on a gather cancels the pending children, not the done ones; awaiting it throws CancelledError") {
            ctx in
            let loop = try ctx.makeLoop()
            let report = try loop.runUntilComplete { () async throws -> [String] in
                let done = loop.createFuture(of: Int.self)
                try done.setResult(1)
                let pending = try loop.createTask { () async throws -> Int in
                    try await sleep(.seconds(10))
                    return 2
                }
                let gathering = try gather([done, pending])
                try await sleep(.zero)
                var report = ["cancel() = \(gathering.cancel())"]
                do {
                    _ = try await gathering.value
                    report.append("gather returned")
                } catch is CancelledError {
                    report.append("CancelledError")
                }
                report.append("pending cancelled: \(pending.isCancelled)")
                report.append("done cancelled: \(done.isCancelled), result \(try done.result())")
                report.append("second cancel() = \(gathering.cancel())")
                return report
            }
            try ctx.expectEqual(
                report,
                ["cancel() = true", "CancelledError", "pending cancelled: true", "done cancelled: false, result 1",
                 "second cancel() = false"],
                "gather cancellation")
            try loop.close()
        },
        ConformanceCase("HELP-07", "a child cancelled from outside: gather throws CancelledError; gatherResults holds it") { ctx in
            let loop = try ctx.makeLoop()
            let report = try loop.runUntilComplete { () async throws -> [String] in
                var report: [String] = []
                let victim = try loop.createTask { () async throws -> Int in
                    try await sleep(.seconds(10))
                    return 1
                }
                let survivor = try loop.createTask { () async throws -> Int in
                    try await sleep(.milliseconds(20))
                    return 2
                }
                let gathering = try gather([victim, survivor])
                try await sleep(.zero)
                victim.cancel(message: "outside")
                do {
                    _ = try await gathering.value
                    report.append("gather returned")
                } catch let error as CancelledError {
                    report.append("gather: CancelledError \(error.message ?? "")")
                }
                report.append("survivor: \(try await survivor.value), cancelled \(survivor.isCancelled)")

                let victim2 = try loop.createTask { () async throws -> Int in
                    try await sleep(.seconds(10))
                    return 1
                }
                let survivor2 = try loop.createTask { () async throws -> Int in
                    try await sleep(.milliseconds(10))
                    return 2
                }
                let settling = try gatherResults([victim2, survivor2])
                try await sleep(.zero)
                victim2.cancel()
                let results = try await settling.value
                report.append("gatherResults: " + results.map(describe).joined(separator: ", "))
                return report
            }
            try ctx.expectEqual(
                report,
                ["gather: CancelledError outside", "survivor: 2, cancelled false", "gatherResults: CancelledError, 2"],
                "gather with a child cancelled from outside")
            try loop.close()
        },
        ConformanceCase("HELP-X02", "gather: cancelling the task that awaits a gather cancels its children") { ctx in
            let loop = try ctx.makeLoop()
            let child = try loop.createTask { () async throws -> Int in
                try await sleep(.seconds(10))
                return 1
            }
            let waiter = try loop.createTask { () async throws -> [Int] in try await gather([child]).value }
            try loop.runUntilComplete { () async throws in
                try await sleep(.zero)
                waiter.cancel()
                _ = try? await waiter.value
            }
            try ctx.expect(waiter.isCancelled, "the awaiting task must end cancelled")
            try ctx.expect(child.isCancelled, "the gathered child must be cancelled with it")
            try loop.close()
        },
        ConformanceCase("HELP-X03", "gather: a child failing after the first error is consumed, not reported as never retrieved") { ctx in
            let loop = try ctx.makeLoop()
            let (caught, late) = try loop.runUntilComplete { () async throws -> (String, String) in
                let first = try loop.createTask { () async throws -> Int in
                    try await sleep(.zero)
                    throw HelperError("first")
                }
                let second = try loop.createTask { () async throws -> Int in
                    try await sleep(.milliseconds(20))
                    throw HelperError("second")
                }
                var caught = "nothing"
                do {
                    _ = try await gather([first, second]).value
                } catch let error as HelperError {
                    caught = error.tag
                }
                try await sleep(.milliseconds(40))
                return (caught, second.isDone ? "second done" : "second pending")
            }
            try ctx.expectEqual(caught, "first", "the error gather threw")
            try ctx.expectEqual(late, "second done", "the second child")
            try loop.close()
            try ctx.expectEqual(ctx.takeExceptionContexts().map(\.message), [], "exception-handler calls")
        },
        ConformanceCase("HELP-X04", "gather: the same future twice gives its result twice; futures of two loops are refused") { ctx in
            let loop = try ctx.makeLoop()
            let other = try ctx.makeLoop()
            let foreign = other.createFuture(of: Int.self)
            let results = try loop.runUntilComplete { () async throws -> [Int] in
                let future = loop.createFuture(of: Int.self)
                try future.setResult(3)
                try ctx.expectLoopError(.differentLoop, "gather of futures of two loops") {
                    _ = try gather([future, foreign])
                }
                return try await gather([future, future]).value
            }
            try ctx.expectEqual(results, [3, 3], "gather of one future twice")
            try loop.close()
            try other.close()
        },
        ConformanceCase("HELP-X05", "gather: cancel() in the iteration where the last child completes returns false; the results arrive") {
            ctx in
            let loop = try ctx.makeLoop()
            let (cancelResult, values) = try loop.runUntilComplete { () async throws -> (String, [Int]) in
                let child = loop.createFuture(of: Int.self)
                let gathering = try gather([child])
                let cancelResult = Recorder<Bool>()
                try loop.callSoon {
                    try child.setResult(1)
                    cancelResult.record(gathering.cancel())
                }
                let values = try await gathering.value
                return ("\(cancelResult.all)", values)
            }
            try ctx.expectEqual(cancelResult, "[false]", "cancel() on the gather")
            try ctx.expectEqual(values, [1], "gather's results")
            try loop.close()
        },
    ]
}
