import LoopCore

/// SYNC — LoopBarrier (asyncio's Barrier), checked against CPython 3.11.
enum BarrierCases {
    static let all: [ConformanceCase] = [
        /// ```python
        /// bar = Barrier(3)
        /// async def w(n): i = await bar.wait(); j = await bar.wait(); return (i, j)
        /// ts = [create_task(w(n)) for n in "abc"]; await gather(*ts)
        /// # [(0, 2), (1, 0), (2, 1)], bar.n_waiting 0, bar.broken False: arrival indices, reusable
        /// ```
        ConformanceCase("SYNC-21", "LoopBarrier: parties tasks pass together with their arrival index; the barrier refills") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let barrier = try LoopBarrier(parties: 3)
                var tasks: [LoopTask<String>] = []
                for _ in 0..<3 {
                    tasks.append(try loop.createTask { () async throws -> String in
                        let first = try await barrier.wait()
                        let second = try await barrier.wait()
                        return "(\(first), \(second))"
                    })
                }
                var results: [String] = []
                for task in tasks { results.append(try await task.value) }
                return results + ["\(barrier.waiting)", "\(barrier.broken)"]
            }
            try ctx.expectEqual(result, ["(0, 2)", "(1, 0)", "(2, 1)", "0", "false"], "indices per task, waiting, broken")
        },
        /// ```python
        /// bar = Barrier(3); ts = [create_task(w()) for _ in range(2)]; await sleep(0); nw = bar.n_waiting
        /// await bar.abort(); await gather(*ts); await bar.wait()   # raises too
        /// await bar.reset(); await gather(*[create_task(bar.wait()) for _ in range(3)])
        /// # (2, ['Abort or reset of barrier'] * 2 + ['Barrier aborted'], True, False, [0, 1, 2])
        /// ```
        ConformanceCase("SYNC-22", "LoopBarrier.abort breaks waiters and later waits with BrokenBarrierError until reset") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let barrier = try LoopBarrier(parties: 3)
                var waiters: [LoopTask<Int>] = []
                for _ in 0..<2 { waiters.append(try loop.createTask { try await barrier.wait() }) }
                try await sleep(.zero)
                let waiting = barrier.waiting
                try await barrier.abort()
                var seen: [String] = []
                for waiter in waiters { seen.append(await outcome(waiter)) }
                let broken = barrier.broken
                seen.append(await thrown { _ = try await barrier.wait() })
                try await barrier.reset()
                let brokenAfterReset = barrier.broken
                var round: [LoopTask<Int>] = []
                for _ in 0..<3 { round.append(try loop.createTask { try await barrier.wait() }) }
                var indices: [Int] = []
                for task in round { indices.append(try await task.value) }
                return ["\(waiting)"] + seen + ["\(broken)", "\(brokenAfterReset)", "\(indices.sorted())"]
            }
            try ctx.expectEqual(result, [
                "2",
                "BrokenBarrierError: Abort or reset of barrier", "BrokenBarrierError: Abort or reset of barrier",
                "BrokenBarrierError: Barrier aborted",
                "true", "false", "[0, 1, 2]",
            ], "waiting, outcomes, broken before and after reset, next round")
        },
        /// ```python
        /// bar = Barrier(2); t = create_task(w()); await sleep(0); await bar.reset(); await t
        /// # (['Abort or reset of barrier'], 0, False, 'filling')
        /// ```
        ConformanceCase("SYNC-23", "LoopBarrier.reset makes current waiters throw BrokenBarrierError and refills the barrier") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let barrier = try LoopBarrier(parties: 2)
                let waiter = try loop.createTask { try await barrier.wait() }
                try await sleep(.zero)
                try await barrier.reset()
                return [await outcome(waiter), "\(barrier.waiting)", "\(barrier.broken)", "\(barrier)"]
            }
            try ctx.expectEqual(result, [
                "BrokenBarrierError: Abort or reset of barrier", "0", "false", "<LoopBarrier [filling, waiters:0/2]>",
            ], "waiter, waiting, broken, state")
        },
        /// ```python
        /// bar = Barrier(2); t = create_task(bar.wait()); await sleep(0)
        /// # bar.n_waiting == 1, bar.parties == 2; t.cancel(); await sleep(0); bar.n_waiting == 0 and not bar.broken
        /// ```
        ConformanceCase("SYNC-24", "LoopBarrier: waiting counts arrivals; a cancelled waiter leaves without breaking it") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let barrier = try LoopBarrier(parties: 2)
                let waiter = try loop.createTask { try await barrier.wait() }
                try await sleep(.zero)
                let waiting = barrier.waiting
                waiter.cancel()
                let ended = await outcome(waiter)
                return ["\(waiting)/\(barrier.parties)", ended, "\(barrier.waiting)", "\(barrier.broken)"]
            }
            try ctx.expectEqual(result, ["1/2", "cancelled", "0", "false"], "waiting, cancelled waiter, after")
        },
    ]
}
