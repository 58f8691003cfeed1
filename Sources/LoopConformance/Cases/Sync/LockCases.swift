import LoopCore

/// SYNC — LoopLock (asyncio's Lock), checked against CPython 3.11.
enum LockCases {
    static let all: [ConformanceCase] = [
        /// ```python
        /// lock = Lock(); order = []; await lock.acquire()
        /// async def w(n):
        ///     async with lock: order.append(n)
        /// ts = [create_task(w(n)) for n in "abc"]; await sleep(0); lock.release(); await gather(*ts)
        /// # order == ['a', 'b', 'c']
        /// ```
        ConformanceCase("SYNC-01", "LoopLock: waiters acquire in the order they asked (FIFO)") { ctx in
            let order = try syncScenario(ctx) { loop -> [String] in
                let lock = LoopLock()
                let order = Recorder<String>()
                try await lock.acquire()
                var tasks: [LoopTask<Void>] = []
                for name in ["a", "b", "c"] {
                    tasks.append(try loop.createTask { try await lock.withLock { order.record(name) } })
                }
                try await sleep(.zero)
                try lock.release()
                for task in tasks { try await task.value }
                return order.all
            }
            try ctx.expectEqual(order, ["a", "b", "c"], "acquisition order")
        },
        /// ```python
        /// lock = Lock(); seen = []; get_running_loop().call_soon(seen.append, "cb")
        /// await lock.acquire(); seen.append(("locked", lock.locked()))
        /// lock.release(); seen.append(("locked", lock.locked())); await sleep(0)
        /// # [('locked', True), ('locked', False), 'cb']: acquiring a free lock does not yield
        /// ```
        ConformanceCase("SYNC-02", "LoopLock: acquiring a free lock does not suspend; locked follows acquire and release") { ctx in
            let seen = try syncScenario(ctx) { loop -> [String] in
                let lock = LoopLock()
                let seen = Recorder<String>()
                try loop.callSoon { seen.record("cb") }
                try await lock.acquire()
                seen.record("locked \(lock.locked)")
                try lock.release()
                seen.record("locked \(lock.locked)")
                try await sleep(.zero)
                return seen.all
            }
            try ctx.expectEqual(seen, ["locked true", "locked false", "cb"], "events")
        },
        /// ```python
        /// lock = Lock(); await lock.acquire()
        /// async with timeout(0.05): await lock.acquire()   # TimeoutError; lock.locked() is True
        /// ```
        ConformanceCase("SYNC-03", "LoopLock is not reentrant: the holder acquiring again waits (until a timeout)") { ctx in
            let result = try syncScenario(ctx) { _ -> String in
                let lock = LoopLock()
                try await lock.acquire()
                let text = await thrown { try await timeout(.milliseconds(50)) { _ in _ = try await lock.acquire() } }
                return "\(text) locked=\(lock.locked)"
            }
            try ctx.expectEqual(result, "TimeoutError locked=true", "second acquire by the holder")
        },
        /// ```python
        /// lock = Lock(); await lock.acquire()
        /// b = create_task(lock.acquire()); c = create_task(lock.acquire()); await sleep(0)
        /// lock.release(); b.cancel(); await sleep(0); await sleep(0)
        /// # b.cancelled() True, c.result() True, lock.locked() True: the release passed to c
        /// ```
        ConformanceCase("SYNC-04", "LoopLock: a release to a waiter cancelled before it resumes passes to the next waiter") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let lock = LoopLock()
                try await lock.acquire()
                let b = try loop.createTask { try await lock.acquire() }
                let c = try loop.createTask { try await lock.acquire() }
                try await sleep(.zero)
                try lock.release()
                b.cancel()
                try await sleep(.zero)
                try await sleep(.zero)
                return [await outcome(b), c.isDone ? await outcome(c) : "pending", "locked=\(lock.locked)"]
            }
            try ctx.expectEqual(result, ["cancelled", "true", "locked=true"], "b, c, lock")
        },
        /// ```python
        /// lock = Lock(); await lock.acquire(); b = create_task(lock.acquire()); await sleep(0)
        /// b.cancel(); lock.release(); loop.call_soon(seen.append, "cb")
        /// await lock.acquire()   # at once: only a cancelled waiter is queued; seen == []
        /// ```
        ConformanceCase("SYNC-05", "LoopLock: a cancelled waiter does not block a newcomer from a free lock") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let lock = LoopLock()
                try await lock.acquire()
                let b = try loop.createTask { try await lock.acquire() }
                try await sleep(.zero)
                b.cancel()
                try lock.release()
                let seen = Recorder<String>()
                try loop.callSoon { seen.record("cb") }
                try await lock.acquire()
                let then = "callbacks run: \(seen.all), locked=\(lock.locked)"
                return [then, await outcome(b)]
            }
            try ctx.expectEqual(result, ["callbacks run: [], locked=true", "cancelled"], "newcomer, cancelled waiter")
        },
        /// ```python
        /// try:
        ///     async with lock: raise ValueError("x")
        /// except ValueError: pass
        /// async def f():
        ///     async with lock: return 5
        /// # lock.locked() False, await f() == 5, lock.locked() False
        /// ```
        ConformanceCase("SYNC-06", "LoopLock.withLock returns the body's value and releases however the body ends") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let lock = LoopLock()
                let failed = await thrown { try await lock.withLock { throw SyncTestError("x") } }
                let after = lock.locked
                let value = try await lock.withLock { 5 }
                return [failed, "\(after)", "\(value)", "\(lock.locked)"]
            }
            try ctx.expectEqual(result, ["SyncTestError(x)", "false", "5", "false"], "withLock")
        },
    ]
}
