import Loops

extension BenchWorkloads {
    /// How many producer and consumer tasks W9-queue runs, and its queue's maxsize.
    static let queueProducers = 4
    static let queueConsumers = 4
    static let queueMaxsize = 100

    /// W9-queue: N integers through a LoopQueue of maxsize 100; 4 producer tasks put
    /// their share with `put`, 4 consumer tasks `get` until a sentinel (-1) that the
    /// main task puts once the producers are done. Timed inside the main task, from
    /// before the tasks are made to after the last consumer ends. Figure: ns per item.
    /// scripts/bench_queue.py runs the same in asyncio and uvloop.
    static func queueItems(_ loop: BaseEventLoop, _ n: Int) throws -> BenchMeasurement {
        let consumed = TaskCounter()
        let (start, end) = try loop.runUntilComplete { () async throws -> (Int64, Int64) in
            let queue = LoopQueue<Int>(maxsize: queueMaxsize)
            let start = now()
            var producers: [LoopTask<Void>] = []
            for index in 0..<queueProducers {
                let share = n / queueProducers + (index < n % queueProducers ? 1 : 0)
                producers.append(try loop.createTask {
                    for item in 0..<share { try await queue.put(item) }
                })
            }
            var consumers: [LoopTask<Void>] = []
            for _ in 0..<queueConsumers {
                consumers.append(try loop.createTask {
                    while try await queue.get() >= 0 { consumed.value += 1 }
                })
            }
            for producer in producers { try await producer.value }
            for _ in 0..<queueConsumers { try await queue.put(-1) }
            for consumer in consumers { try await consumer.value }
            return (start, now())
        }
        return BenchMeasurement(workload: .w9Queue, n: n, wallNanoseconds: end - start, completed: consumed.value, expected: n)
    }
}
