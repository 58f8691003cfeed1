import LoopCore

/// SYNC — bad input to the primitives: typed errors with asyncio's messages,
/// checked against CPython 3.11.
enum SyncBadInputCases {
    static let all: [ConformanceCase] = [
        /// ```python
        /// Lock().release()   # RuntimeError: Lock is not acquired.
        /// ```
        ConformanceCase("SYNC-52", "bad input: releasing an unlocked LoopLock throws \"Lock is not acquired.\"") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let lock = LoopLock()
                let never = thrownSync { try lock.release() }
                try await lock.acquire()
                try lock.release()
                let twice = thrownSync { try lock.release() }
                return [never, twice]
            }
            try ctx.expectEqual(result, [
                "LoopError.invalidState: Lock is not acquired.", "LoopError.invalidState: Lock is not acquired.",
            ], "release without acquire, release twice")
        },
        /// ```python
        /// Semaphore(-1); BoundedSemaphore(-1)   # ValueError: Semaphore initial value must be >= 0
        /// ```
        ConformanceCase("SYNC-53", "bad input: a semaphore with a negative value throws \"Semaphore initial value must be >= 0\"") { ctx in
            let plain = thrownSync { _ = try LoopSemaphore(value: -1) }
            let bounded = thrownSync { _ = try LoopBoundedSemaphore(value: -1) }
            let zero = thrownSync { _ = try LoopSemaphore(value: 0) }
            let message = "LoopError.invalidArgument: Semaphore initial value must be >= 0"
            try ctx.expectEqual([plain, bounded, zero], [message, message, "ok"], "value -1, bounded -1, value 0")
        },
        /// ```python
        /// Barrier(0); Barrier(-3)   # ValueError: parties must be > 0
        /// ```
        ConformanceCase("SYNC-54", "bad input: a barrier of 0 parties throws \"parties must be > 0\"") { ctx in
            let zero = thrownSync { _ = try LoopBarrier(parties: 0) }
            let negative = thrownSync { _ = try LoopBarrier(parties: -3) }
            let one = thrownSync { _ = try LoopBarrier(parties: 1) }
            let message = "LoopError.invalidArgument: parties must be > 0"
            try ctx.expectEqual([zero, negative, one], [message, message, "ok"], "parties 0, -3, 1")
        },
        /// ```python
        /// c = Condition(); await c.wait()   # RuntimeError: cannot wait on un-acquired lock
        /// c.notify(); c.notify_all()        # RuntimeError: cannot notify on un-acquired lock
        /// ```
        ConformanceCase("SYNC-55", "bad input: waiting on or notifying a condition without holding its lock throws") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let condition = LoopCondition()
                let wait = await thrown { try await condition.wait() }
                let waitFor = await thrown { try await condition.waitFor { false } }
                let notify = thrownSync { try condition.notify() }
                let notifyAll = thrownSync { try condition.notifyAll() }
                return [wait, waitFor, notify, notifyAll, "\(condition.locked)"]
            }
            try ctx.expectEqual(result, [
                "LoopError.invalidState: cannot wait on un-acquired lock",
                "LoopError.invalidState: cannot wait on un-acquired lock",
                "LoopError.invalidState: cannot notify on un-acquired lock",
                "LoopError.invalidState: cannot notify on un-acquired lock",
                "false",
            ], "wait, waitFor, notify, notifyAll, lock left")
        },
        /// ```python
        /// ev = Event(); q = Queue()
        /// asyncio.run(one())   # waits on ev and q in a first loop: they bind to it
        /// asyncio.run(two())   # await ev.wait() / await q.get() in a second loop:
        /// # RuntimeError: <... Event ...> is bound to a different event loop (and the Queue's)
        /// ```
        ConformanceCase("SYNC-56", "bad input: a primitive used from a task of another loop throws differentLoop") { ctx in
            let event = LoopEvent()
            let queue = LoopQueue<Int>()
            let lock = LoopLock()
            _ = try syncScenario(ctx) { loop -> Bool in
                let waiter = try loop.createTask { try await event.wait() }
                let getter = try loop.createTask { try await queue.get() }
                try await lock.acquire()
                let locker = try loop.createTask { try await lock.acquire() }
                try await sleep(.zero)
                event.set()
                try queue.putNowait(1)
                try lock.release()
                _ = try await waiter.value
                _ = try await getter.value
                _ = try await locker.value
                try lock.release()
                return true
            }
            let result = try syncScenario(ctx) { _ -> [String] in
                event.clear()
                try await lock.acquire()
                return [
                    await thrown { try await event.wait() },
                    await thrown { _ = try await queue.get() },
                    await thrown { try await lock.acquire() },
                ]
            }
            let bound = result.map { $0.hasPrefix("LoopError.differentLoop: ") && $0.contains("is bound to a different event loop") }
            try ctx.expectEqual(bound, [true, true, true], "event, queue, lock on a second loop: \(result)")
        },
    ]
}
