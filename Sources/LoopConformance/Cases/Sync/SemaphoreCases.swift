import LoopCore

/// SYNC — LoopSemaphore and LoopBoundedSemaphore (asyncio's Semaphore and
/// BoundedSemaphore), checked against CPython 3.11.
enum SemaphoreCases {
    static let all: [ConformanceCase] = [
        /// ```python
        /// s = Semaphore(2); await s.acquire(); await s.acquire(); r = s.locked()
        /// async def w(n): await s.acquire(); order.append(n)
        /// ts = [create_task(w(n)) for n in "ab"]; await sleep(0)
        /// s.release(); await sleep(0); o1 = order[:]; s.release(); await gather(*ts)
        /// # (True, ['a'], ['a', 'b'])
        /// ```
        ConformanceCase("SYNC-16", "LoopSemaphore: value slots are taken at once, further acquires wait, releases wake them in order") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let semaphore = try LoopSemaphore(value: 2)
                let order = Recorder<String>()
                try await semaphore.acquire()
                try await semaphore.acquire()
                let locked = semaphore.locked
                var tasks: [LoopTask<Void>] = []
                for name in ["a", "b"] {
                    tasks.append(try loop.createTask {
                        try await semaphore.acquire()
                        order.record(name)
                    })
                }
                try await sleep(.zero)
                try semaphore.release()
                try await sleep(.zero)
                let first = order.all
                try semaphore.release()
                for task in tasks { try await task.value }
                return ["\(locked)", "\(first)", "\(order.all)"]
            }
            try ctx.expectEqual(result, ["true", "[\"a\"]", "[\"a\", \"b\"]"], "locked, woken after one release, after two")
        },
        /// ```python
        /// s = Semaphore(1); await s.acquire()
        /// a = create_task(w("a")); await sleep(0)
        /// s.release(); lk = s.locked()          # True: the slot is a's already
        /// b = create_task(w("b")); await sleep(0); await sleep(0); o = order[:]; s.release(); await b
        /// # (True, ['a'], ['a', 'b']): the newcomer b does not take the slot released to a
        /// ```
        ConformanceCase("SYNC-17", "LoopSemaphore: a newcomer does not jump ahead of a woken waiter (no barging)") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let semaphore = try LoopSemaphore(value: 1)
                let order = Recorder<String>()
                try await semaphore.acquire()
                func waiter(_ name: String) throws -> LoopTask<Void> {
                    try loop.createTask {
                        try await semaphore.acquire()
                        order.record(name)
                    }
                }
                let a = try waiter("a")
                try await sleep(.zero)
                try semaphore.release()
                let locked = semaphore.locked
                let b = try waiter("b")
                try await sleep(.zero)
                try await sleep(.zero)
                let first = order.all
                try semaphore.release()
                try await a.value
                try await b.value
                return ["\(locked)", "\(first)", "\(order.all)"]
            }
            try ctx.expectEqual(result, ["true", "[\"a\"]", "[\"a\", \"b\"]"], "locked after release, order")
        },
        /// ```python
        /// s = Semaphore(1); await s.acquire()
        /// a = create_task(w("a")); b = create_task(w("b")); await sleep(0)
        /// s.release(); a.cancel(); await sleep(0); await sleep(0)
        /// # (True, 'b', 0): a's slot went back and on to b
        /// ```
        ConformanceCase("SYNC-18", "LoopSemaphore: a waiter cancelled after it was handed a slot passes the slot on") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let semaphore = try LoopSemaphore(value: 1)
                try await semaphore.acquire()
                let a = try loop.createTask { () async throws -> String in
                    try await semaphore.acquire()
                    return "a"
                }
                let b = try loop.createTask { () async throws -> String in
                    try await semaphore.acquire()
                    return "b"
                }
                try await sleep(.zero)
                try semaphore.release()
                a.cancel()
                try await sleep(.zero)
                try await sleep(.zero)
                return [await outcome(a), b.isDone ? await outcome(b) : "b pending", "\(semaphore.freeSlots)"]
            }
            try ctx.expectEqual(result, ["cancelled", "b", "0"], "a, b, free slots")
        },
        /// ```python
        /// s = Semaphore(2)
        /// try:
        ///     async with s: v = s._value; raise ValueError
        /// except ValueError: pass
        /// # (1, 2): the slot is given back when the body throws
        /// ```
        ConformanceCase("SYNC-19", "LoopSemaphore.withSlot holds one slot and gives it back however the body ends") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let semaphore = try LoopSemaphore(value: 2)
                let inside = Recorder<Int>()
                let failed = await thrown {
                    try await semaphore.withSlot {
                        inside.record(semaphore.freeSlots)
                        throw SyncTestError("body")
                    }
                }
                return ["\(inside.all)", failed, "\(semaphore.freeSlots)"]
            }
            try ctx.expectEqual(result, ["[1]", "SyncTestError(body)", "2"], "inside, thrown, after")
        },
        /// ```python
        /// b = BoundedSemaphore(1); await b.acquire(); b.release(); b.release()
        /// # ValueError('BoundedSemaphore released too many times')
        /// s = Semaphore(1); s.release()   # fine: s._value == 2
        /// ```
        ConformanceCase("SYNC-20", "LoopBoundedSemaphore refuses a release past its bound; LoopSemaphore allows it") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let bounded = try LoopBoundedSemaphore(value: 1)
                try await bounded.acquire()
                try bounded.release()
                let refused = thrownSync { try bounded.release() }
                let plain = try LoopSemaphore(value: 1)
                try plain.release()
                return [refused, "\(bounded.freeSlots)", "\(plain.freeSlots)"]
            }
            try ctx.expectEqual(
                result,
                ["LoopError.invalidArgument: BoundedSemaphore released too many times", "1", "2"],
                "second release, bounded slots, plain slots")
        },
    ]
}
