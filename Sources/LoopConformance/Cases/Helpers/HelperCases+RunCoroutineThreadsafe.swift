import LoopCore

/// HELP — runCoroutineThreadsafe (LoopCore/Concurrency/RunCoroutineThreadsafe.swift).
extension HelperCases {
    static let runCoroutineThreadsafeCases: [ConformanceCase] = [
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
