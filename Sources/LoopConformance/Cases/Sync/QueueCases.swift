import LoopCore

/// SYNC — LoopQueue, LoopLifoQueue and LoopPriorityQueue (asyncio's Queue, LifoQueue,
/// PriorityQueue), checked against CPython 3.11; shutdown against CPython 3.13.
enum QueueCases {
    static let all: [ConformanceCase] = [
        /// ```python
        /// q = Queue(maxsize=2); r = [q.empty(), q.full(), q.qsize()]
        /// q.put_nowait(1); q.put_nowait(2); r += [q.empty(), q.full(), q.qsize()]
        /// r += [q.get_nowait(), q.get_nowait()]   # [True, False, 0, False, True, 2, 1, 2]
        /// ```
        ConformanceCase("SYNC-25", "LoopQueue: FIFO order; qsize, empty and full follow maxsize") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let queue = LoopQueue<Int>(maxsize: 2)
                var seen = ["\(queue.empty)", "\(queue.full)", "\(queue.qsize)"]
                try queue.putNowait(1)
                try queue.putNowait(2)
                seen += ["\(queue.empty)", "\(queue.full)", "\(queue.qsize)"]
                seen += ["\(try queue.getNowait())", "\(try queue.getNowait())"]
                return seen
            }
            try ctx.expectEqual(result, ["true", "false", "0", "false", "true", "2", "1", "2"], "states and items")
        },
        /// ```python
        /// q = Queue(1); q.put_nowait(0)
        /// async def p(n): await q.put(n); order.append(n)
        /// ts = [create_task(p(n)) for n in (1, 2)]; await sleep(0); f = q.full()
        /// got = [await q.get()]; await sleep(0); got.append(await q.get()); await sleep(0); got.append(await q.get())
        /// # (True, [1, 2], [0, 1, 2]): putters wait while full and go in order
        /// ```
        ConformanceCase("SYNC-26", "LoopQueue.put waits while the queue is full; putters are served in order") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let queue = LoopQueue<Int>(maxsize: 1)
                let order = Recorder<Int>()
                try queue.putNowait(0)
                var putters: [LoopTask<Void>] = []
                for n in [1, 2] {
                    putters.append(try loop.createTask {
                        try await queue.put(n)
                        order.record(n)
                    })
                }
                try await sleep(.zero)
                let full = queue.full
                var got = [try await queue.get()]
                try await sleep(.zero)
                got.append(try await queue.get())
                try await sleep(.zero)
                got.append(try await queue.get())
                for putter in putters { try await putter.value }
                return ["\(full)", "\(order.all)", "\(got)"]
            }
            try ctx.expectEqual(result, ["true", "[1, 2]", "[0, 1, 2]"], "full, putter order, items")
        },
        /// ```python
        /// async def g(n): order.append((n, await q.get()))
        /// ts = [create_task(g(n)) for n in "ab"]; await sleep(0); q.put_nowait(1); q.put_nowait(2)
        /// # [('a', 1), ('b', 2)]
        /// ```
        ConformanceCase("SYNC-27", "LoopQueue.get waits while empty; getters get items in the order they came") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let queue = LoopQueue<Int>()
                let order = Recorder<String>()
                var getters: [LoopTask<Void>] = []
                for name in ["a", "b"] {
                    getters.append(try loop.createTask { order.record("\(name) \(try await queue.get())") })
                }
                try await sleep(.zero)
                try queue.putNowait(1)
                try queue.putNowait(2)
                for getter in getters { try await getter.value }
                return order.all
            }
            try ctx.expectEqual(result, ["a 1", "b 2"], "getter, item")
        },
        /// ```python
        /// q = Queue(); a = create_task(q.get()); b = create_task(q.get()); await sleep(0)
        /// q.put_nowait("x"); a.cancel(); await sleep(0); await sleep(0)      # b gets "x"
        /// c = create_task(q.get()); await sleep(0); c.cancel(); await sleep(0); q.put_nowait("y")
        /// # (True, 'x', 0, True, 1, 'y'): a cancelled get takes no item
        /// ```
        ConformanceCase("SYNC-28", "LoopQueue: a cancelled get leaves the item in the queue, for the next getter") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let queue = LoopQueue<String>()
                let a = try loop.createTask { try await queue.get() }
                let b = try loop.createTask { try await queue.get() }
                try await sleep(.zero)
                try queue.putNowait("x")
                a.cancel()
                try await sleep(.zero)
                try await sleep(.zero)
                var seen = [await outcome(a), b.isDone ? await outcome(b) : "b pending", "\(queue.qsize)"]
                let c = try loop.createTask { try await queue.get() }
                try await sleep(.zero)
                c.cancel()
                try await sleep(.zero)
                try queue.putNowait("y")
                seen += [await outcome(c), "\(queue.qsize)", try queue.getNowait()]
                return seen
            }
            try ctx.expectEqual(result, ["cancelled", "x", "0", "cancelled", "1", "y"], "a, b, size, c, size, item")
        },
        /// ```python
        /// q = Queue(1); q.put_nowait(0); a = create_task(q.put(1)); b = create_task(q.put(2)); await sleep(0)
        /// q.get_nowait(); a.cancel(); await sleep(0); await sleep(0)
        /// # (True, True, [2]): a put nothing, its room went to b
        /// ```
        ConformanceCase("SYNC-29", "LoopQueue: a cancelled put adds nothing and passes the room on to the next putter") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let queue = LoopQueue<Int>(maxsize: 1)
                try queue.putNowait(0)
                let a = try loop.createTask { try await queue.put(1) }
                let b = try loop.createTask { try await queue.put(2) }
                try await sleep(.zero)
                _ = try queue.getNowait()
                a.cancel()
                try await sleep(.zero)
                try await sleep(.zero)
                return [await outcome(a), "\(b.isDone)", "\(try queue.getNowait())", "\(queue.qsize)"]
            }
            try ctx.expectEqual(result, ["cancelled", "true", "2", "0"], "a, b done, item, size")
        },
        /// ```python
        /// q = Queue(1); q.get_nowait()    # QueueEmpty
        /// q.put_nowait(1); q.put_nowait(2)   # QueueFull
        /// ```
        ConformanceCase("SYNC-30", "LoopQueue: getNowait on empty throws QueueEmpty, putNowait on full throws QueueFull") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let queue = LoopQueue<Int>(maxsize: 1)
                let empty = thrownSync { _ = try queue.getNowait() }
                try queue.putNowait(1)
                let full = thrownSync { try queue.putNowait(2) }
                return [empty, full, "\(queue.qsize)"]
            }
            try ctx.expectEqual(result, ["QueueEmpty", "QueueFull", "1"], "errors, size")
        },
        /// ```python
        /// q.put_nowait(1); q.put_nowait(2); t = create_task(j())   # await q.join(); done.append("joined")
        /// q.get_nowait(); q.task_done(); await sleep(0.01); d1 = done[:]
        /// q.get_nowait(); q.task_done(); await t; q.task_done()
        /// # ([], ['joined'], 'task_done() called too many times')
        /// ```
        ConformanceCase("SYNC-31", "LoopQueue.join waits until every item is marked done; an extra taskDone throws") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let queue = LoopQueue<Int>()
                try queue.putNowait(1)
                try queue.putNowait(2)
                let joined = Recorder<String>()
                let joiner = try loop.createTask {
                    try await queue.join()
                    joined.record("joined")
                }
                _ = try queue.getNowait()
                try queue.taskDone()
                try await sleep(.milliseconds(10))
                let early = joined.all
                _ = try queue.getNowait()
                try queue.taskDone()
                try await joiner.value
                let extra = thrownSync { try queue.taskDone() }
                try await queue.join()
                return ["\(early)", "\(joined.all)", extra, "\(queue.unfinishedTasks)"]
            }
            try ctx.expectEqual(result, [
                "[]", "[\"joined\"]", "LoopError.invalidArgument: task_done() called too many times", "0",
            ], "join before and after, extra taskDone, unfinished")
        },
        /// ```python
        /// q = LifoQueue(); [q.put_nowait(i) for i in range(3)]; [q.get_nowait() for _ in range(3)]   # [2, 1, 0]
        /// ```
        ConformanceCase("SYNC-32", "LoopLifoQueue hands out the newest item first") { ctx in
            let result = try syncScenario(ctx) { _ -> [Int] in
                let queue = LoopLifoQueue<Int>()
                for i in 0..<3 { try queue.putNowait(i) }
                return try (0..<3).map { _ in try queue.getNowait() }
            }
            try ctx.expectEqual(result, [2, 1, 0], "items")
        },
        /// ```python
        /// q = PriorityQueue(); [q.put_nowait(i) for i in (5, 1, 4, 2, 3)]; [q.get_nowait() for _ in range(5)]
        /// # [1, 2, 3, 4, 5]
        /// jobs = PriorityQueue(); t = create_task(jobs.get()); await sleep(0)
        /// jobs.put_nowait((3, "low")); jobs.put_nowait((1, "high")); await t   # (1, 'high'): the woken
        /// # getter takes the lowest item there is when it resumes, not the one that woke it
        /// ```
        ConformanceCase("SYNC-33", "LoopPriorityQueue hands out the lowest item first (Comparable or a closure); get waits like LoopQueue") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let numbers = LoopPriorityQueue<Int>()
                for i in [5, 1, 4, 2, 3] { try numbers.putNowait(i) }
                let sorted = try (0..<5).map { _ in try numbers.getNowait() }
                let jobs = LoopPriorityQueue<(priority: Int, name: String)>(by: { $0.priority < $1.priority })
                let getter = try loop.createTask { try await jobs.get().name }
                try await sleep(.zero)
                try jobs.putNowait((priority: 3, name: "low"))
                try jobs.putNowait((priority: 1, name: "high"))
                let first = try await getter.value
                let rest = try jobs.getNowait().name
                return ["\(sorted)", first, rest]
            }
            try ctx.expectEqual(result, ["[1, 2, 3, 4, 5]", "high", "low"], "sorted, waiting getter's item, rest")
        },
        /// Python 3.13:
        /// ```python
        /// q = Queue(1); q.put_nowait(1); pt = create_task(p()); await sleep(0); q.shutdown(); await pt   # put: QueueShutDown
        /// q.put_nowait(3)              # QueueShutDown
        /// await g()                    # [1, 'shutdown']: gets drain what is left, then QueueShutDown
        /// g2 = Queue(); t = create_task(g2.get()); await sleep(0); g2.shutdown(); await t   # QueueShutDown
        /// # q.qsize() 0, q._unfinished_tasks 1
        /// ```
        ConformanceCase("SYNC-34", "LoopQueue.shutdown: waiting putters and getters wake to QueueShutDown; gets drain what is left") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let queue = LoopQueue<Int>(maxsize: 1)
                try queue.putNowait(1)
                let putter = try loop.createTask { try await queue.put(2) }
                try await sleep(.zero)
                queue.shutdown()
                var seen = [await outcome(putter), thrownSync { try queue.putNowait(3) }]
                var drained: [String] = []
                while true {
                    do {
                        drained.append("\(try await queue.get())")
                    } catch {
                        drained.append(describeError(error))
                        break
                    }
                }
                seen.append("\(drained)")
                let other = LoopQueue<Int>()
                let getter = try loop.createTask { try await other.get() }
                try await sleep(.zero)
                other.shutdown()
                seen += [await outcome(getter), "\(queue.qsize)", "\(queue.unfinishedTasks)", "\(queue.isShutDown)"]
                return seen
            }
            try ctx.expectEqual(result, [
                "QueueShutDown", "QueueShutDown", "[\"1\", \"QueueShutDown\"]", "QueueShutDown", "0", "1", "true",
            ], "putter, putNowait, drain, waiting getter, size, unfinished, isShutDown")
        },
        /// Python 3.13:
        /// ```python
        /// q = Queue(); [q.put_nowait(i) for i in range(3)]; q.get_nowait()
        /// jt = create_task(j()); await sleep(0); q.shutdown(immediate=True); await sleep(0)
        /// # (0, 1, False): items dropped and counted done, the taken one still unfinished
        /// q.get_nowait()   # QueueShutDown;  q.task_done(); await jt -> 'joined'
        /// ```
        ConformanceCase("SYNC-35", "LoopQueue.shutdown(immediate:) drops the items, counts them done; join waits only for taken ones") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let queue = LoopQueue<Int>()
                for i in 0..<3 { try queue.putNowait(i) }
                _ = try queue.getNowait()
                let joiner = try loop.createTask { () async throws -> String in
                    try await queue.join()
                    return "joined"
                }
                try await sleep(.zero)
                queue.shutdown(immediate: true)
                try await sleep(.zero)
                var seen = ["\(queue.qsize)", "\(queue.unfinishedTasks)", "\(joiner.isDone)"]
                seen.append(thrownSync { _ = try queue.getNowait() })
                try queue.taskDone()
                seen.append(await outcome(joiner))
                return seen
            }
            try ctx.expectEqual(result, ["0", "1", "false", "QueueShutDown", "joined"], "size, unfinished, joined early, get, join")
        },
        /// ```python
        /// q = Queue(0); [q.put_nowait(i) for i in range(1000)]   # (False, 1000, 0): no limit
        /// ```
        ConformanceCase("SYNC-36", "LoopQueue with maxsize 0 (or less) is never full") { ctx in
            let result = try syncScenario(ctx) { _ -> [String] in
                let queue = LoopQueue<Int>(maxsize: 0)
                let negative = LoopQueue<Int>(maxsize: -1)
                for i in 0..<1000 {
                    try queue.putNowait(i)
                    try negative.putNowait(i)
                }
                return ["\(queue.full)", "\(queue.qsize)", "\(negative.full)", "\(queue.maxsize)"]
            }
            try ctx.expectEqual(result, ["false", "1000", "false", "0"], "full, size, negative full, maxsize")
        },
    ]
}
