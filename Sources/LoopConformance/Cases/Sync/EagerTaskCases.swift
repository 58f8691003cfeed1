import LoopCore

/// SYNC — eager task start (asyncio 3.12's `eager_task_factory` and
/// `Task(eager_start=)`), checked against CPython 3.13.
enum EagerTaskCases {
    static let all: [ConformanceCase] = [
        /// ```python
        /// async def body(): order.append("step 1"); await sleep(0); order.append("step 2"); return 7
        /// order.append("before"); t = Task(body(), loop=loop, eager_start=True); order.append("after create")
        /// # (['before', 'step 1', 'after create', 'step 2'], 7): the first step runs inside create
        /// ```
        ConformanceCase("SYNC-47", "createTask(eagerStart: true) runs the body inside createTask up to its first suspension") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let order = Recorder<String>()
                order.record("before")
                let task = try loop.createTask(eagerStart: true) { () async throws -> Int in
                    order.record("step 1")
                    try await sleep(.zero)
                    order.record("step 2")
                    return 7
                }
                order.record("after create")
                let value = try await task.value
                return order.all + ["\(value)"]
            }
            try ctx.expectEqual(result, ["before", "step 1", "after create", "step 2", "7"], "order, result")
        },
        /// ```python
        /// loop.set_task_factory(eager_task_factory)
        /// t = loop.create_task(body())        # body returns 3 without awaiting
        /// d = t.done(); t.add_done_callback(lambda _: seen.append("cb")); s = seen[:]; await sleep(0)
        /// # (True, 3, [], ['cb']): done on return, never queued; done callbacks still go through call_soon
        /// ```
        ConformanceCase("SYNC-48", "eagerTaskFactory: a body that never suspends is done when createTask returns; callbacks stay deferred") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                loop.setTaskFactory(eagerTaskFactory)
                defer { loop.setTaskFactory(nil) }
                let seen = Recorder<String>()
                let iterations = Recorder<String>()
                try loop.callSoon { iterations.record("next iteration") }
                let task = try loop.createTask { () async throws -> Int in 3 }
                let doneAtOnce = task.isDone
                let ranBeforeAnyCallback = iterations.all.isEmpty
                try task.addDoneCallback { _ in seen.record("cb") }
                let callbacksInline = seen.all
                try await sleep(.zero)
                return ["\(doneAtOnce)", "\(ranBeforeAnyCallback)", "\(try task.result())", "\(callbacksInline)", "\(seen.all)"]
            }
            try ctx.expectEqual(result, ["true", "true", "3", "[]", "[\"cb\"]"], "done, ran at once, result, callbacks")
        },
        /// ```python
        /// loop = new_event_loop(); loop.set_task_factory(eager_task_factory)
        /// t = loop.create_task(body()); d = t.done(); o = order[:]; loop.run_until_complete(t)
        /// # (False, [], ['ran']): with the loop not running, the task starts lazily
        /// ```
        ConformanceCase("SYNC-49", "eagerTaskFactory: a task created while the loop is not running starts in a later iteration") { ctx in
            let loop = try ctx.makeLoop()
            loop.setTaskFactory(eagerTaskFactory)
            let order = Recorder<String>()
            let task = try loop.createTask { order.record("ran") }
            let done = task.isDone
            let before = order.all
            try loop.runUntilComplete(task)
            try ctx.expectEqual(["\(done)", "\(before)", "\(order.all)"], ["false", "[]", "[\"ran\"]"], "done, before, after")
            try loop.close()
        },
        /// ```python
        /// me = current_task(); loop.set_task_factory(eager_task_factory)
        /// t = create_task(body())   # body: current_task() is not me
        /// # current_task() is me again after create_task returns
        /// ```
        ConformanceCase("SYNC-50", "an eager task's first step sees itself as the current task; the creator is current again after") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let me = try currentTask()
                let inner = Recorder<String>()
                let task = try loop.createTask(eagerStart: true) { () async throws -> Void in
                    let current = try currentTask()
                    inner.record("inner is creator: \(current === me)")
                    inner.record("inner name: \(current?.name ?? "nil")")
                }
                let after = try currentTask() === me
                return inner.all + ["task name: \(task.name)", "creator current after: \(after)"]
            }
            try ctx.expect(result.count == 4, "recorded \(result)")
            try ctx.expectEqual(result[0], "inner is creator: false", "current task inside")
            try ctx.expectEqual(result[1].dropFirst("inner name: ".count), result[2].dropFirst("task name: ".count), "inner is the new task")
            try ctx.expectEqual(result[3], "creator current after: true", "current task after")
        },
        /// ```python
        /// t = Task(body(), loop=loop, eager_start=True)   # body: await sleep(1)
        /// t.cancel(); await t    # CancelledError: cancelled at the suspension it reached eagerly
        /// loop.set_task_factory(eager_task_factory); Task(body2(), loop=loop, eager_start=False)  # not started yet
        /// ```
        ConformanceCase("SYNC-51", "an eager task suspended in createTask can be cancelled; eagerStart: false stays lazy under the eager factory") { ctx in
            let result = try syncScenario(ctx) { loop -> [String] in
                let sleeper = try loop.createTask(eagerStart: true) { try await sleep(.seconds(1)) }
                sleeper.cancel()
                let cancelled = await outcome(sleeper)
                loop.setTaskFactory(eagerTaskFactory)
                defer { loop.setTaskFactory(nil) }
                let order = Recorder<String>()
                let lazy = try loop.createTask(eagerStart: false) { order.record("lazy ran") }
                let before = order.all
                try await lazy.value
                return [cancelled, "\(before)", "\(order.all)"]
            }
            try ctx.expectEqual(result, ["cancelled", "[]", "[\"lazy ran\"]"], "cancelled eager task, lazy task")
        },
    ]
}
