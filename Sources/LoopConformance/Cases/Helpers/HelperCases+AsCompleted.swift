import LoopCore

/// HELP — asCompleted (LoopCore/Concurrency/AsCompleted.swift).
extension HelperCases {
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
}
