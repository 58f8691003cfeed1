import LoopCore

/// HELP — wait (LoopCore/Concurrency/Wait.swift).
extension HelperCases {
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
}
