import LoopCore

/// The order of work inside one iteration: callbacks already queued, then I/O
/// callbacks, then due timers (asyncio's `_run_once`).
enum IterationOrderCases {
    static let all: [ConformanceCase] = [
        /// A callback queues `callLater(.zero)`, a reader of an fd that is already
        /// readable and `callSoon`: the next iteration runs the `callSoon` callback, then
        /// the reader, then the timer. A due timer never overtakes I/O that was ready
        /// before it fired, even while the ready queue is busy. The Python twin
        /// (CPython 3.11 prints `['soon', 'reader', 'timer']`):
        ///
        /// ```python
        /// import asyncio, os
        /// order = []
        /// loop = asyncio.new_event_loop()
        /// r, w = os.pipe(); os.write(w, b'x')
        /// def start():
        ///     loop.call_later(0, lambda: order.append('timer'))
        ///     def reader():
        ///         order.append('reader'); loop.remove_reader(r)
        ///     loop.add_reader(r, reader)
        ///     loop.call_soon(lambda: order.append('soon'))
        ///     loop.call_later(0.05, loop.stop)
        /// loop.call_soon(start)
        /// loop.run_forever()
        /// print(order)
        /// ```
        ConformanceCase(
            "RUN-X05",
            "one iteration runs queued callbacks, then ready I/O callbacks, then due timers: a due timer does not overtake a ready reader"
        ) { ctx in
            let loop = try ctx.makeLoop()
            let pipe = try ctx.pipe()
            try ctx.write(pipe.write, "x")
            let order = Recorder<String>()
            try loop.callSoon {
                try loop.callLater(.zero) { order.record("timer") }
                try loop.addReader(pipe.read) {
                    order.record("reader")
                    try loop.removeReader(pipe.read)
                }
                try loop.callSoon { order.record("soon") }
                try loop.callLater(.milliseconds(50)) { loop.stop() }
            }
            let started = ctx.stopwatch()
            try loop.runForever()
            try ctx.expect(ContinuousClock.now - started < .seconds(5), "the run took \(ContinuousClock.now - started)")
            try ctx.expectEqual(order.all, ["soon", "reader", "timer"], "order of the callbacks")
            try loop.close()
        },
    ]
}
