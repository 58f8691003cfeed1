import Glibc
import CLoopShims

/// A bounded pool of worker threads (Python's `concurrent.futures.ThreadPoolExecutor`),
/// the loop's default executor.
///
/// Threads are started on demand, one per submission that finds no idle worker, up to
/// ``maxWorkers``; they live until ``shutdown(wait:cancelFutures:)`` (or until the
/// executor is released), then exit once the queue is empty.
///
/// ```swift
/// let pool = try ThreadPoolExecutor(maxWorkers: 4, threadNamePrefix: "io")
/// let future = try loop.runInExecutor(pool) { try readConfiguration() }
/// let config = try loop.runUntilComplete(future)
/// pool.shutdown()
/// ```
public final class ThreadPoolExecutor: LoopExecutor {
    /// The default size of a pool: `min(32, online CPUs + 4)`, as CPython.
    public static var defaultMaxWorkers: Int { min(32, Int(cloop_online_cpu_count()) + 4) }

    /// The most threads the pool runs at once.
    public let maxWorkers: Int
    /// The prefix of the worker threads' names (`prefix_0`, `prefix_1`, …).
    public let threadNamePrefix: String
    let pool: WorkerPool

    /// A pool of at most `maxWorkers` threads (``defaultMaxWorkers`` when `nil`).
    /// Throws ``LoopError/Kind-swift.enum/invalidArgument`` unless `maxWorkers > 0`.
    public init(maxWorkers: Int? = nil, threadNamePrefix: String = "") throws {
        let workers = maxWorkers ?? Self.defaultMaxWorkers
        guard workers > 0 else {
            throw LoopError(.invalidArgument, "ThreadPoolExecutor(maxWorkers: \(workers)): max_workers must be greater than 0")
        }
        self.maxWorkers = workers
        let prefix = threadNamePrefix.isEmpty ? "ThreadPoolExecutor" : threadNamePrefix
        self.threadNamePrefix = prefix
        self.pool = WorkerPool(maxWorkers: workers, namePrefix: prefix)
    }

    deinit {
        // As CPython's workers notice a collected executor: finish the queue, then exit.
        pool.shutdown(wait: false, cancelFutures: false)
    }

    /// Schedules `body` on a worker thread and returns the future of its result.
    /// Throws ``LoopError/Kind-swift.enum/executorShutdown`` after shutdown, and a
    /// ``SystemError`` if no thread could be started to run it.
    public func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> ConcurrentFuture<T> {
        let future = ConcurrentFuture<T>()
        let item = WorkItem(
            run: {
                guard (try? future.setRunningOrNotifyCancel()) == true else { return }
                do {
                    try future.setResult(try body())
                } catch {
                    try? future.setException(error)
                }
            },
            cancel: { future.cancel() },
            fail: { try? future.setException($0) }
        )
        try pool.enqueue(item)
        return future
    }

    /// Stops accepting work. With `wait` (the default), returns once every submitted
    /// call has finished and the workers have exited; without it, returns at once.
    /// With `cancelFutures`, calls that have not started are cancelled. Idempotent.
    public func shutdown(wait: Bool = true, cancelFutures: Bool = false) {
        pool.shutdown(wait: wait, cancelFutures: cancelFutures)
    }

    /// How many worker threads are alive now.
    public var workerCount: Int { pool.workerCount }

    /// Whether the calling thread is one of this pool's workers.
    public var ownsCurrentThread: Bool { pool.ownsCurrentThread }

    /// Whether ``shutdown(wait:cancelFutures:)`` was called.
    public var isShutdown: Bool { pool.isShutdown }
}

/// One submitted call: runs it, or cancels or fails its future.
struct WorkItem: Sendable {
    let run: @Sendable () -> Void
    let cancel: @Sendable () -> Void
    let fail: @Sendable (any Error) -> Void
}

/// The threads and queue of a ``ThreadPoolExecutor``. Workers hold the pool, not the
/// executor, so releasing the executor shuts the pool down.
final class WorkerPool: @unchecked Sendable {
    // @unchecked: every field below `lock` is read and written only while it is held.
    private let lock = ConditionLock()
    private let maxWorkers: Int
    private let namePrefix: String
    private let queue = RingBuffer<WorkItem>(capacity: 16)
    private var idle = 0
    private var live = 0
    private var started = 0
    private var workers: Set<UInt> = []
    private var shutdownCalled = false

    init(maxWorkers: Int, namePrefix: String) {
        self.maxWorkers = maxWorkers
        self.namePrefix = namePrefix
    }

    deinit {
        while queue.removeFirst() != nil {}
    }

    var workerCount: Int { lock.withLock { live } }

    var ownsCurrentThread: Bool { lock.withLock { workers.contains(cloop_thread_id()) } }

    var isShutdown: Bool { lock.withLock { shutdownCalled } }

    func enqueue(_ item: WorkItem) throws {
        let spawnIndex: Int? = try lock.withLock {
            if shutdownCalled {
                throw LoopError(.executorShutdown, "ThreadPoolExecutor.submit: cannot schedule new futures after shutdown")
            }
            queue.append(item)
            // Shutdown waiters share the condition, but none exists before shutdown,
            // and after it nothing is enqueued: a single wakeup reaches a worker.
            lock.signal()
            guard queue.count > idle, live < maxWorkers else { return nil }
            live += 1
            started += 1
            return started - 1
        }
        guard let spawnIndex else { return }
        let failure = startWorker(named: "\(namePrefix)_\(spawnIndex)")
        guard failure != 0 else { return }
        let stranded = lock.withLock { () -> Bool in
            live -= 1
            lock.broadcast()
            return live == 0
        }
        if stranded {
            // No thread will ever run the call: fail it now (a worker started later skips it).
            let error = SystemError(errno: failure, call: "pthread_create")
            item.fail(error)
            throw error
        }
    }

    private func startWorker(named name: String) -> Int32 {
        startDetachedThread(named: name) { [self] in work() }
    }

    /// A worker's life: run queued calls until shutdown leaves the queue empty.
    private func work() {
        let me = cloop_thread_id()
        lock.withLock { _ = workers.insert(me) }
        while true {
            let next: WorkItem? = lock.withLock {
                while queue.isEmpty && !shutdownCalled {
                    idle += 1
                    lock.wait()
                    idle -= 1
                }
                if let item = queue.removeFirst() { return item }
                live -= 1
                workers.remove(me)
                lock.broadcast()
                return nil
            }
            guard let next else { return }
            next.run()
        }
    }

    func shutdown(wait: Bool, cancelFutures: Bool) {
        var cancelled: [WorkItem] = []
        let isWorker: Bool = lock.withLock {
            shutdownCalled = true
            if cancelFutures {
                while let item = queue.removeFirst() { cancelled.append(item) }
            }
            lock.broadcast()
            return workers.contains(cloop_thread_id())
        }
        for item in cancelled { item.cancel() }
        guard wait else { return }
        // A worker shutting down its own pool waits for the others only.
        let remaining = isWorker ? 1 : 0
        lock.withLock {
            while live > remaining { lock.wait() }
        }
    }
}

/// Starts `body` on a new detached thread named `name`; returns 0 or the pthread_create error.
func startDetachedThread(named name: String, _ body: @escaping @Sendable () -> Void) -> Int32 {
    let box = Unmanaged.passRetained(ThreadStart(name: name, body: body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    var thread = pthread_t()
    let result = pthread_create(&thread, &attributes, { raw in
        guard let raw else { return nil }
        let start = Unmanaged<ThreadStart>.fromOpaque(raw).takeRetainedValue()
        start.name.withCString { cloop_set_thread_name($0) }
        start.body()
        return nil
    }, box)
    if result != 0 { Unmanaged<ThreadStart>.fromOpaque(box).release() }
    return result
}

private final class ThreadStart: Sendable {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}
