import LoopCore

/// SYNC — LoopEvent (asyncio's Event), checked against CPython 3.11.
enum EventCases {
    static let all: [ConformanceCase] = [
        /// ```python
        /// ev = Event(); order = []
        /// async def w(n): await ev.wait(); order.append(n)
        /// ts = [create_task(w(n)) for n in "ab"]; await sleep(0); r1 = ev.is_set(); ev.set(); await gather(*ts)
        /// r = await ev.wait(); ev.clear(); t = create_task(ev.wait()); await sleep(0.01); d = t.done(); ev.set(); await t
        /// # (False, ['a', 'b'], True, False, True)
        /// ```
        ConformanceCase("SYNC-07", "LoopEvent: set wakes every waiter; wait on a set event returns at once; clear makes wait block") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let event = LoopEvent()
                let order = Recorder<String>()
                var tasks: [LoopTask<Void>] = []
                for name in ["a", "b"] {
                    tasks.append(try loop.createTask {
                        try await event.wait()
                        order.record(name)
                    })
                }
                try await sleep(.zero)
                let before = event.isSet
                event.set()
                for task in tasks { try await task.value }
                let immediate = try await event.wait()
                event.clear()
                let later = try loop.createTask { try await event.wait() }
                try await sleep(.milliseconds(10))
                let doneEarly = later.isDone
                event.set()
                _ = try await later.value
                return ["\(before)", "\(order.all)", "\(immediate)", "\(doneEarly)", "\(event.isSet)"]
            }
            try ctx.expectEqual(result, ["false", "[\"a\", \"b\"]", "true", "false", "true"], "event states")
        },
        /// ```python
        /// ev = Event(); a = create_task(ev.wait()); b = create_task(ev.wait()); await sleep(0)
        /// a.cancel(); await sleep(0); ev.set(); await b
        /// # a.cancelled() True, b.result() True, no waiter left (len(ev._waiters) == 0)
        /// ```
        ConformanceCase("SYNC-08", "LoopEvent: a cancelled waiter leaves; set still wakes the others; no waiter is left") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let event = LoopEvent()
                let a = try loop.createTask { try await event.wait() }
                let b = try loop.createTask { try await event.wait() }
                try await sleep(.zero)
                a.cancel()
                try await sleep(.zero)
                event.set()
                return [await outcome(a), await outcome(b), "\(event)"]
            }
            try ctx.expectEqual(result, ["cancelled", "true", "<LoopEvent [set]>"], "waiters")
        },
        /// ```python
        /// ev = Event(); t = create_task(ev.wait()); await sleep(0); ev.set(); ev.clear()
        /// # await t == True (it was woken by set), ev.is_set() False
        /// ```
        ConformanceCase("SYNC-09", "LoopEvent: a waiter woken by set returns even if the event is cleared before it resumes") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let event = LoopEvent()
                let waiter = try loop.createTask { try await event.wait() }
                try await sleep(.zero)
                event.set()
                event.clear()
                return [await outcome(waiter), "\(event.isSet)"]
            }
            try ctx.expectEqual(result, ["true", "false"], "waiter, isSet")
        },
    ]
}
