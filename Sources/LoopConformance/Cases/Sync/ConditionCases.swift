import LoopCore

/// SYNC — LoopCondition (asyncio's Condition), checked against CPython 3.11 (SYNC-14
/// against 3.13, which hands a notification on when its waiter is cancelled).
enum ConditionCases {
    static let all: [ConformanceCase] = [
        /// ```python
        /// c = Condition(); order = []
        /// async def w(n):
        ///     async with c: await c.wait(); order.append(n)
        /// ts = [create_task(w(n)) for n in "abc"]; await sleep(0)
        /// async with c: c.notify(1)
        /// await sleep(0.01); o1 = order[:]
        /// async with c: c.notify(2)
        /// await gather(*ts)   # o1 == ['a'], order == ['a', 'b', 'c']
        /// ```
        ConformanceCase("SYNC-10", "LoopCondition.notify(n) wakes the n oldest waiters") { ctx in
            let result = try syncScenario(ctx) { loop -> [[String]] in
                let condition = LoopCondition()
                let order = Recorder<String>()
                var tasks: [LoopTask<Void>] = []
                for name in ["a", "b", "c"] {
                    tasks.append(try loop.createTask {
                        try await condition.withLock {
                            try await condition.wait()
                            order.record(name)
                        }
                    })
                }
                try await sleep(.zero)
                try await condition.withLock { try condition.notify(1) }
                try await sleep(.milliseconds(10))
                let first = order.all
                try await condition.withLock { try condition.notify(2) }
                for task in tasks { try await task.value }
                return [first, order.all]
            }
            try ctx.expectEqual(result, [["a"], ["a", "b", "c"]], "woken after notify(1), then notify(2)")
        },
        /// ```python
        /// async def w(n):
        ///     async with c: await c.wait(); seen.append((n, c.locked())); await sleep(0.005); seen.append(n + " out")
        /// ts = [create_task(w(n)) for n in "ab"]; await sleep(0)
        /// async with c: c.notify_all()
        /// # [('a', True), 'a out', ('b', True), 'b out']: each returns from wait holding the lock
        /// ```
        ConformanceCase("SYNC-11", "LoopCondition.notifyAll wakes every waiter; each returns from wait holding the lock, one at a time") { ctx in
            let seen = try syncScenario(ctx) { loop -> [String] in
                let condition = LoopCondition()
                let seen = Recorder<String>()
                var tasks: [LoopTask<Void>] = []
                for name in ["a", "b"] {
                    tasks.append(try loop.createTask {
                        try await condition.withLock {
                            try await condition.wait()
                            seen.record("\(name) locked=\(condition.locked)")
                            try await sleep(.milliseconds(5))
                            seen.record("\(name) out")
                        }
                    })
                }
                try await sleep(.zero)
                try await condition.withLock { try condition.notifyAll() }
                for task in tasks { try await task.value }
                return seen.all
            }
            try ctx.expectEqual(seen, ["a locked=true", "a out", "b locked=true", "b out"], "wakeups")
        },
        /// ```python
        /// async with c: immediate = await c.wait_for(lambda: True)      # no wait
        /// t = create_task(w())  # async with c: return await c.wait_for(lambda: len(items) >= 2)
        /// for i in range(2):
        ///     async with c: items.append(i); c.notify()
        ///     await sleep(0)
        /// # (True, True)
        /// ```
        ConformanceCase("SYNC-12", "LoopCondition.waitFor checks the predicate first and after every wakeup") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let condition = LoopCondition()
                let items = Recorder<Int>()
                let checks = Recorder<Int>()
                let immediate = try await condition.withLock { try await condition.waitFor { true } }
                let waiter = try loop.createTask { () async throws -> Bool in
                    try await condition.withLock {
                        try await condition.waitFor {
                            checks.record(items.count)
                            return items.count >= 2
                        }
                    }
                }
                try await sleep(.zero)
                for i in 0..<2 {
                    try await condition.withLock {
                        items.record(i)
                        try condition.notify()
                    }
                    try await sleep(.zero)
                }
                return ["\(immediate)", await outcome(waiter), "\(checks.all)"]
            }
            try ctx.expectEqual(result, ["true", "true", "[0, 1, 2]"], "immediate, waiter, predicate checks")
        },
        /// ```python
        /// async def w():
        ///     async with c:
        ///         try: await c.wait()
        ///         except CancelledError: state.append(c.locked()); raise
        /// t = create_task(w()); await sleep(0)
        /// await c.acquire(); t.cancel(); await sleep(0.01); s1 = t.done(); c.release(); await sleep(0.01)
        /// # s1 False (it waits to take the lock back), state [True], t.cancelled(), c.locked() False
        /// ```
        ConformanceCase("SYNC-13", "LoopCondition: a cancelled wait takes the lock back before it throws CancelledError") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let condition = LoopCondition()
                let state = Recorder<String>()
                let waiter = try loop.createTask {
                    try await condition.withLock {
                        do {
                            try await condition.wait()
                        } catch let error as CancelledError {
                            state.record("holds lock: \(condition.locked)")
                            throw error
                        }
                    }
                }
                try await sleep(.zero)
                try await condition.acquire()
                waiter.cancel()
                try await sleep(.milliseconds(10))
                let doneWhileHeld = waiter.isDone
                try condition.release()
                try await sleep(.milliseconds(10))
                return ["\(doneWhileHeld)", "\(state.all)", await outcome(waiter), "\(condition.locked)"]
            }
            try ctx.expectEqual(result, ["false", "[\"holds lock: true\"]", "cancelled", "false"], "cancelled wait")
        },
        /// Python 3.13 (3.11 loses the notification):
        /// ```python
        /// a = create_task(w("a")); b = create_task(w("b")); await sleep(0)
        /// async with c: c.notify(1); a.cancel()
        /// await sleep(0.01)   # (['a cancelled', 'b'], True, True): b got the notification a did not use
        /// ```
        ConformanceCase("SYNC-14", "LoopCondition: a notified waiter that is cancelled hands the notification on (3.13)") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let condition = LoopCondition()
                let order = Recorder<String>()
                func waiter(_ name: String) throws -> LoopTask<Void> {
                    try loop.createTask {
                        try await condition.withLock {
                            do {
                                try await condition.wait()
                                order.record(name)
                            } catch let error as CancelledError {
                                order.record("\(name) cancelled")
                                throw error
                            }
                        }
                    }
                }
                let a = try waiter("a")
                let b = try waiter("b")
                try await sleep(.zero)
                try await condition.withLock {
                    try condition.notify(1)
                    a.cancel()
                }
                try await sleep(.milliseconds(10))
                return ["\(order.all)", await outcome(a), b.isDone ? await outcome(b) : "b pending"]
            }
            try ctx.expectEqual(result, ["[\"a cancelled\", \"b\"]", "cancelled", "()"], "order, a, b")
        },
        /// ```python
        /// l = Lock(); c = Condition(l); await l.acquire(); r = c.locked(); l.release()
        /// # (True, False): the condition is over the lock it was given
        /// ```
        ConformanceCase("SYNC-15", "LoopCondition over a given LoopLock shares that lock") { ctx in
            let result = try syncScenario(ctx) { _ -> [Bool] in
                let lock = LoopLock()
                let condition = LoopCondition(lock: lock)
                try await lock.acquire()
                let held = condition.locked
                try lock.release()
                return [held, condition.locked, condition.lock === lock]
            }
            try ctx.expectEqual(result, [true, false, true], "locked while the lock is held, then not; same lock")
        },
    ]
}
