import LoopCore

/// SYNC — LoopTaskGroup / withLoopTaskGroup (asyncio's TaskGroup), checked against CPython 3.11.
enum TaskGroupCases {
    static let all: [ConformanceCase] = [
        /// ```python
        /// async def c(n, d): await sleep(d); order.append(n); return n
        /// async with TaskGroup() as g: a = g.create_task(c("a", 0.02)); b = g.create_task(c("b", 0.01))
        /// # (['b', 'a'], 'a', 'b'): the scope ends when every task is done
        /// ```
        ConformanceCase("SYNC-37", "withLoopTaskGroup returns once every task of the group is done") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let order = Recorder<String>()
                let (a, b) = try await withLoopTaskGroup { group -> (LoopTask<String>, LoopTask<String>) in
                    let a = try group.createTask { () async throws -> String in
                        try await sleep(.milliseconds(20))
                        order.record("a")
                        return "a"
                    }
                    let b = try group.createTask { () async throws -> String in
                        try await sleep(.milliseconds(10))
                        order.record("b")
                        return "b"
                    }
                    return (a, b)
                }
                return ["\(order.all)", "\(a.isDone && b.isDone)", try a.result(), try b.result()]
            }
            try ctx.expectEqual(result, ["[\"b\", \"a\"]", "true", "a", "b"], "order, done, results")
        },
        /// ```python
        /// async with TaskGroup() as g:
        ///     g.create_task(bad()); s = g.create_task(slow())     # bad raises ValueError("boom") after 10 ms
        ///     await sleep(1)                                      # cancelled
        /// # ['slow cancelled', 'body cancelled', ('group', ['boom'])], s.cancelled(), cancelling() == 0
        /// ```
        ConformanceCase("SYNC-38", "LoopTaskGroup: the first failure cancels the other tasks and the body; the error comes in TaskGroupError") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let seen = Recorder<String>()
                let slowTask = Recorder<LoopTask<Void>>()
                let thrownText = await thrown {
                    try await withLoopTaskGroup { group in
                        try group.createTask {
                            try await sleep(.milliseconds(10))
                            throw SyncTestError("boom")
                        }
                        slowTask.record(try group.createTask {
                            do {
                                try await sleep(.seconds(1))
                            } catch let error as CancelledError {
                                seen.record("slow cancelled")
                                throw error
                            }
                        })
                        do {
                            try await sleep(.seconds(1))
                        } catch let error as CancelledError {
                            seen.record("body cancelled")
                            throw error
                        }
                    }
                }
                let cancelling = (try currentTask() as? LoopTask<[String]>)?.cancelling ?? -1
                return seen.all + [thrownText, "\(slowTask.all.first?.isCancelled ?? false)", "\(cancelling)"]
            }
            try ctx.expectEqual(result, [
                "slow cancelled", "body cancelled", "TaskGroupError([\"SyncTestError(boom)\"])", "true", "0",
            ], "cancellations, error, sibling cancelled, cancelling of the parent")
        },
        /// ```python
        /// async def bad(m): raise ValueError(m)
        /// async with TaskGroup() as g: g.create_task(bad("1")); g.create_task(bad("2"))
        /// # except* ValueError: ['1', '2']: both failed in the same iteration, both are reported
        /// ```
        ConformanceCase("SYNC-39", "LoopTaskGroup aggregates the errors of every task that failed") { ctx in
            let result = try syncScenario(ctx) { _ -> String in
                await thrown {
                    try await withLoopTaskGroup { group in
                        try group.createTask { throw SyncTestError("1") }
                        try group.createTask { throw SyncTestError("2") }
                    }
                }
            }
            try ctx.expectEqual(result, "TaskGroupError([\"SyncTestError(1)\", \"SyncTestError(2)\"])", "error")
        },
        /// ```python
        /// async def parent():
        ///     async with TaskGroup() as g: g.create_task(child()); await sleep(1)
        /// t = create_task(parent()); await sleep(0.01); t.cancel(); await t
        /// # ['child cancelled', 'parent cancelled']: cancelling the parent cancels the group's tasks
        /// ```
        ConformanceCase("SYNC-40", "LoopTaskGroup: cancelling the task running the scope cancels the group's tasks; it ends cancelled") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let seen = Recorder<String>()
                let parent = try loop.createTask {
                    try await withLoopTaskGroup { group in
                        try group.createTask {
                            do {
                                try await sleep(.seconds(1))
                            } catch let error as CancelledError {
                                seen.record("child cancelled")
                                throw error
                            }
                        }
                        try await sleep(.seconds(1))
                    }
                }
                try await sleep(.milliseconds(10))
                parent.cancel()
                let ended = await outcome(parent)
                return seen.all + [ended]
            }
            try ctx.expectEqual(result, ["child cancelled", "cancelled"], "child, parent")
        },
        /// ```python
        /// async with TaskGroup() as g: pass
        /// g.create_task(sleep(0))      # RuntimeError: TaskGroup ... is finished
        /// async with TaskGroup() as g2:
        ///     g2.create_task(bad())
        ///     try: await sleep(0.1)
        ///     except CancelledError: g2.create_task(sleep(0)); raise   # RuntimeError: ... is shutting down
        /// # ['finished', 'shutting down', 'group']
        /// ```
        ConformanceCase("SYNC-41", "LoopTaskGroup.createTask refuses on a finished group and on one shutting down") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let saved = Recorder<LoopTaskGroup>()
                try await withLoopTaskGroup { group in saved.record(group) }
                var seen: [String] = []
                if let group = saved.all.first {
                    seen.append(thrownSync { try group.createTask { () async throws -> Void in } })
                }
                let late = Recorder<String>()
                let groupError = await thrown {
                    try await withLoopTaskGroup { group in
                        try group.createTask { throw SyncTestError("bad") }
                        do {
                            try await sleep(.milliseconds(100))
                        } catch let error as CancelledError {
                            late.record(thrownSync { try group.createTask { () async throws -> Void in } })
                            throw error
                        }
                    }
                }
                return seen.map { $0.hasSuffix("is finished") ? "finished" : $0 }
                    + late.all.map { $0.hasSuffix("is shutting down") ? "shutting down" : $0 } + [groupError]
            }
            try ctx.expectEqual(result, ["finished", "shutting down", "TaskGroupError([\"SyncTestError(bad)\"])"], "refusals")
        },
        /// ```python
        /// async with TaskGroup() as g:
        ///     g.create_task(child()); await sleep(0); raise KeyError("body")
        /// # ['child cancelled', ('group', 1)]: the body's error cancels the tasks and is reported
        /// ```
        ConformanceCase("SYNC-42", "LoopTaskGroup: an error thrown by the body cancels the tasks and is reported in TaskGroupError") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let seen = Recorder<String>()
                let error = await thrown {
                    try await withLoopTaskGroup { group in
                        try group.createTask {
                            do {
                                try await sleep(.seconds(1))
                            } catch let error as CancelledError {
                                seen.record("child cancelled")
                                throw error
                            }
                        }
                        try await sleep(.zero)
                        throw SyncTestError("body")
                    }
                }
                return seen.all + [error]
            }
            try ctx.expectEqual(result, ["child cancelled", "TaskGroupError([\"SyncTestError(body)\"])"], "child, error")
        },
    ]
}
