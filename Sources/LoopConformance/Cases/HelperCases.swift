import LoopCore

/// HELP — the helpers users expect on top of futures and tasks: sleep, gather,
/// waitFor / withTimeout, wait, shield, asCompleted, run and Runner, and
/// runCoroutineThreadsafe; each as asyncio 3.11 behaves (CONFORMANCE.md, group HELP).
enum HelperCases {
    static let all: [ConformanceCase] =
        sleepCases + gatherCases + timeoutCases + waitCases + shieldCases + asCompletedCases + runCases

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

    static let timeoutCases: [ConformanceCase] = [
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

    static let waitCases: [ConformanceCase] = [
        ConformanceCase("HELP-11", "wait(FIRST_COMPLETED) returns (done: [a], pending: [b]); b is not cancelled") { ctx in
            let loop = try ctx.makeLoop()
            let report = try loop.runUntilComplete { () async throws -> [String] in
                let a = loop.createFuture(of: String.self)
                let b = loop.createFuture(of: String.self)
                try loop.callLater(.milliseconds(10)) { try a.setResult("a") }
                let (done, pending) = try await wait([a, b], returnWhen: .firstCompleted)
                let report = [
                    "done: " + done.map { (try? $0.result()) ?? "?" }.joined(separator: ","),
                    "pending is b: \(pending.count == 1 && pending.first === b)",
                    "b cancelled: \(b.isCancelled)",
                ]
                try b.setResult("b")
                return report
            }
            try ctx.expectEqual(report, ["done: a", "pending is b: true", "b cancelled: false"], "wait(FIRST_COMPLETED)")
            try loop.close()
        },
        ConformanceCase("HELP-12", "wait: FIRST_EXCEPTION returns at the failure; a timeout returns pending; ALL_COMPLETED waits; empty is refused") {
            ctx in
            let loop = try ctx.makeLoop()
            let report = try loop.runUntilComplete { () async throws -> [String] in
                var report: [String] = []
                let failing = try loop.createTask { () async throws -> Int in
                    try await sleep(.zero)
                    throw HelperError("boom")
                }
                let open = loop.createFuture(of: Int.self)
                let (done1, pending1) = try await wait([failing, open], returnWhen: .firstException)
                report.append("firstException: done \(done1.count) (failing: \(done1.first === failing)), pending \(pending1.count)")

                let (done2, pending2) = try await wait([open], timeout: .milliseconds(20))
                report.append("timeout: done \(done2.count), pending \(pending2.count), cancelled \(open.isCancelled)")

                let later = loop.createFuture(of: Int.self)
                try loop.callLater(.milliseconds(10)) { try open.setResult(1) }
                try loop.callLater(.milliseconds(20)) { try later.setResult(2) }
                let (done3, pending3) = try await wait([open, later])
                report.append("allCompleted: done \(done3.count), pending \(pending3.count)")

                do {
                    _ = try await wait([Future<Int>]())
                    report.append("empty accepted")
                } catch let error as LoopError {
                    report.append("empty: \(error.kind)")
                }
                return report
            }
            try ctx.expectEqual(
                report,
                ["firstException: done 1 (failing: true), pending 1", "timeout: done 0, pending 1, cancelled false",
                 "allCompleted: done 2, pending 0", "empty: invalidArgument"],
                "wait")
            try ctx.expectEqual(loop.nextTimerDeadline == nil, true, "wait's timers must be gone")
            try loop.close()
        },
        ConformanceCase("HELP-X10", "wait(FIRST_EXCEPTION) does not count a cancelled future as a failure") { ctx in
            let loop = try ctx.makeLoop()
            let (done, pending) = try loop.runUntilComplete { () async throws -> (Int, Int) in
                let cancelled = loop.createFuture(of: Int.self)
                let later = loop.createFuture(of: Int.self)
                try loop.callSoon { cancelled.cancel() }
                try loop.callLater(.milliseconds(20)) { try later.setResult(1) }
                let (done, pending) = try await wait([cancelled, later], returnWhen: .firstException)
                return (done.count, pending.count)
            }
            try ctx.expectEqual("\(done) done, \(pending) pending", "2 done, 0 pending", "wait(FIRST_EXCEPTION) with a cancelled future")
            try loop.close()
        },
        ConformanceCase("HELP-X11", "wait: a future finishing in the iteration of the timeout is reported done") { ctx in
            let loop = try ctx.makeLoop()
            let (done, pending) = try loop.runUntilComplete { () async throws -> (Int, Int) in
                let future = loop.createFuture(of: Int.self)
                try loop.callLater(.milliseconds(30)) { try future.setResult(1) }
                let (done, pending) = try await wait([future], timeout: .milliseconds(30))
                return (done.count, pending.count)
            }
            try ctx.expectEqual("\(done) done, \(pending) pending", "1 done, 0 pending", "wait's split")
            try loop.close()
        },
        ConformanceCase("HELP-X12", "wait: cancelling the waiting task leaves the futures alone") { ctx in
            let loop = try ctx.makeLoop()
            let future = loop.createFuture(of: Int.self)
            let waiting = try loop.createTask { () async throws -> Int in
                _ = try await wait([future], timeout: .seconds(10))
                return 0
            }
            try loop.runUntilComplete { () async throws in
                try await sleep(.zero)
                waiting.cancel()
                _ = try? await waiting.value
            }
            try ctx.expect(waiting.isCancelled, "the waiting task ends cancelled")
            try ctx.expect(!future.isDone, "the awaited future stays pending")
            try ctx.expectEqual(loop.nextTimerDeadline == nil, true, "wait's timeout timer must be cancelled")
            try loop.close()
        },
    ]

    static let shieldCases: [ConformanceCase] = [
        ConformanceCase("HELP-13", "shield: cancelling the shield leaves inner running; cancelling inner cancels the shield") { ctx in
            let loop = try ctx.makeLoop()
            let report = try loop.runUntilComplete { () async throws -> [String] in
                var report: [String] = []
                let inner = try loop.createTask { () async throws -> String in
                    try await sleep(.milliseconds(20))
                    return "inner done"
                }
                let shielded = try shield(inner)
                let waiter = try loop.createTask { () async throws -> String in try await shielded.value }
                try await sleep(.zero)
                waiter.cancel()
                do {
                    _ = try await waiter.value
                    report.append("waiter finished")
                } catch is CancelledError {
                    report.append("waiter cancelled")
                }
                report.append("shield cancelled: \(shielded.isCancelled), inner cancelled: \(inner.isCancelled)")
                report.append(try await inner.value)

                let inner2 = try loop.createTask { () async throws -> String in
                    try await sleep(.seconds(10))
                    return "never"
                }
                let shielded2 = try shield(inner2)
                try await sleep(.zero)
                inner2.cancel()
                do {
                    _ = try await shielded2.value
                    report.append("shield 2 returned")
                } catch is CancelledError {
                    report.append("shield 2 cancelled: \(shielded2.isCancelled)")
                }
                let done = loop.createFuture(of: Int.self)
                try done.setResult(1)
                report.append("done inner returned as is: \(try shield(done) === done)")
                return report
            }
            try ctx.expectEqual(
                report,
                ["waiter cancelled", "shield cancelled: true, inner cancelled: false", "inner done",
                 "shield 2 cancelled: true", "done inner returned as is: true"],
                "shield")
            try loop.close()
        },
        ConformanceCase("HELP-X13", "shield: cancelled in the iteration where inner fails, the error is consumed, not reported") { ctx in
            let loop = try ctx.makeLoop()
            let cancelled = try loop.runUntilComplete { () async throws -> Bool in
                let inner = loop.createFuture(of: Int.self)
                let shielded = try shield(inner)
                try loop.callSoon {
                    shielded.cancel()
                    try inner.setException(HelperError("late"))
                }
                try await sleep(.zero)
                try await sleep(.zero)
                try await sleep(.zero)
                return shielded.isCancelled
            }
            try ctx.expect(cancelled, "the shield is cancelled")
            try loop.close()
            try ctx.expectEqual(ctx.takeExceptionContexts().map(\.message), [], "exception-handler calls")
        },
    ]

    static let asCompletedCases: [ConformanceCase] = [
        ConformanceCase("HELP-14", "asCompleted yields in completion order; an expired timeout throws TimeoutError, leaving the rest running") {
            ctx in
            let loop = try ctx.makeLoop()
            let report = try loop.runUntilComplete { () async throws -> [String] in
                var report: [String] = []
                let slow = loop.createFuture(of: String.self)
                let fast = loop.createFuture(of: String.self)
                try loop.callLater(.milliseconds(30)) { try slow.setResult("slow") }
                try loop.callLater(.milliseconds(10)) { try fast.setResult("fast") }
                let now = try loop.createTask { () async throws -> String in "now" }
                for try await done in try asCompleted([slow, fast, now, fast]) {
                    report.append(try done.result())
                }

                let quick = loop.createFuture(of: String.self)
                let stuck = loop.createFuture(of: String.self)
                try loop.callLater(.milliseconds(10)) { try quick.setResult("quick") }
                do {
                    for try await done in try asCompleted([stuck, quick], timeout: .milliseconds(40)) {
                        report.append(try done.result())
                    }
                    report.append("no timeout")
                } catch is TimeoutError {
                    report.append("TimeoutError")
                }
                report.append("stuck cancelled: \(stuck.isCancelled)")
                try stuck.setResult("late")
                return report
            }
            try ctx.expectEqual(
                report, ["now", "fast", "slow", "quick", "TimeoutError", "stuck cancelled: false"], "asCompleted")
            try loop.close()
        },
        ConformanceCase("HELP-X14", "asCompleted: a timeout that does not expire leaves no timer behind") { ctx in
            let loop = try ctx.makeLoop()
            let values = try loop.runUntilComplete { () async throws -> [Int] in
                let a = loop.createFuture(of: Int.self)
                try loop.callLater(.milliseconds(5)) { try a.setResult(1) }
                var values: [Int] = []
                for try await done in try asCompleted([a], timeout: .seconds(10)) {
                    values.append(try done.result())
                }
                return values
            }
            try ctx.expectEqual(values, [1], "values")
            try ctx.expectEqual(loop.nextTimerDeadline == nil, true, "asCompleted's timeout timer must be cancelled")
            try loop.close()
        },
    ]

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
        ConformanceCase("HELP-18", "runCoroutineThreadsafe from another thread: result, rethrown error, cancel cancels the task", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            let sawCancel = ConcurrentFuture<Bool>()
            let finish = loop.createFuture(of: Void.self)
            let thread = ctx.spawn {
                do {
                    let answer = try runCoroutineThreadsafe(on: loop) { () async throws -> Int in
                        try await sleep(.milliseconds(5))
                        return 42
                    }
                    seen.record("result \(try answer.result(timeout: .seconds(5)))")
                    let failing = try runCoroutineThreadsafe(on: loop) { () async throws -> Int in
                        try await sleep(.zero)
                        throw HelperError("thrown")
                    }
                    do {
                        _ = try failing.result(timeout: .seconds(5))
                        seen.record("no error")
                    } catch let error as HelperError {
                        seen.record("error \(error.tag)")
                    }
                    let started = ConcurrentFuture<Bool>()
                    let endless = try runCoroutineThreadsafe(on: loop) { () async throws -> Int in
                        try started.setResult(true)
                        do {
                            try await sleep(.seconds(10))
                        } catch let error as CancelledError {
                            try sawCancel.setResult(true)
                            throw error
                        }
                        return 0
                    }
                    _ = try started.result(timeout: .seconds(5))
                    seen.record("cancel() = \(endless.cancel())")
                    seen.record("task saw CancelledError: \(try sawCancel.result(timeout: .seconds(5)))")
                } catch {
                    seen.record("thread failed: \(error)")
                }
                _ = try? loop.callSoonThreadsafe { try finish.setResult(()) }
            }
            try loop.runUntilComplete(finish)
            thread.join()
            try drain(loop)
            try ctx.expectEqual(
                seen.all,
                ["result 42", "error thrown", "cancel() = true", "task saw CancelledError: true"],
                "what the other thread saw")
            try loop.close()
        },
    ]
}

/// An error a case throws on purpose, identified by its tag.
private struct HelperError: Error, Equatable {
    let tag: String
    init(_ tag: String) { self.tag = tag }
}

/// Counts loop iterations by rescheduling itself with callSoon once per iteration.
private final class IterationCounter {
    private(set) var count = 0
    private var stopped = false
    private let loop: any EventLoop

    init(loop: any EventLoop) throws {
        self.loop = loop
        try loop.callSoon { [self] in try tick() }
    }

    private func tick() throws {
        guard !stopped else { return }
        count += 1
        try loop.callSoon { [self] in try tick() }
    }

    func stop() { stopped = true }
}

/// Runs one more iteration so callbacks left by a finished scenario run before close.
private func drain(_ loop: BaseEventLoop) throws {
    loop.stop()
    try loop.runForever()
}

/// A short text for an outcome: the value, "error <tag>", or "CancelledError".
private func describe<T>(_ outcome: Result<T, any Error>) -> String {
    switch outcome {
    case .success(let value):
        return "\(value)"
    case .failure(let error as HelperError):
        return "error \(error.tag)"
    case .failure(is CancelledError):
        return "CancelledError"
    case .failure(let error):
        return "\(error)"
    }
}
