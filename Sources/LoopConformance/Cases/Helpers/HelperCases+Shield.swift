import LoopCore

/// HELP — shield (LoopCore/Concurrency/Shield.swift).
extension HelperCases {
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
}
