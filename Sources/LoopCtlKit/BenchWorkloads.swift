import ArgumentParser
import Glibc
import Loops

/// The micro workloads of shared/bench/WORKLOADS.md that a bare loop can run.
public enum BenchWorkload: String, CaseIterable, Sendable {
    /// One callSoon callback; each schedules the next from inside itself; N in all.
    case w1a = "W1a"
    /// N callSoon callbacks scheduled before the loop runs; the last stops it.
    case w1b = "W1b"
    /// N callLater timers, delay (i % 1000) × 10 µs, every odd one cancelled;
    /// run until the N/2 left have fired.
    case w2 = "W2"
    /// N tasks; each awaits its own future, which a callSoon callback resolves;
    /// run until all are done. Figure: ns per task.
    case w5 = "W5"
    /// One task, N times in sequence: create a future, callSoon a callback that sets
    /// its result, await it. Timed inside the task. Figure: ns per round trip.
    case w6 = "W6"
    /// W5 with eager start: the N tasks are made from a loop callback with
    /// `createTask(eagerStart: true)`, so each runs to its await inside createTask.
    case w5Eager = "W5-eager"
    /// N items through a LoopQueue of maxsize 100, 4 producer and 4 consumer tasks.
    /// Figure: ns per item.
    case w9Queue = "W9-queue"

    /// How many runs `loopctl bench` takes the median of, unless told otherwise.
    public var defaultRuns: Int { self == .w2 ? 3 : 5 }

    /// The N that WORKLOADS.md prescribes for this workload.
    public var standardCount: Int { self == .w5 || self == .w5Eager ? 100_000 : BenchWorkloads.standardCount }
}

/// `--workload W1a` and so on: a workload named by its raw value.
extension BenchWorkload: ExpressibleByArgument {}

/// What one run of one workload measured (wall time includes the scheduling).
public struct BenchMeasurement: Sendable, Equatable {
    public var workload: BenchWorkload
    /// Callbacks or timers scheduled.
    public var n: Int
    public var wallNanoseconds: Int64
    /// Callbacks or timers that ran before the loop stopped.
    public var completed: Int
    /// How many had to run.
    public var expected: Int
    /// W2: cancelled timers that fired anyway (must be 0).
    public var cancelledFired: Int = 0
    /// W2: time spent scheduling, then cancelling (0 for W1).
    public var scheduleNanoseconds: Int64 = 0
    public var cancelNanoseconds: Int64 = 0
    /// Peak resident set size of the process (getrusage ru_maxrss), KiB.
    public var peakRSSKiB: Int = 0

    public init(workload: BenchWorkload, n: Int, wallNanoseconds: Int64, completed: Int, expected: Int) {
        self.workload = workload
        self.n = n
        self.wallNanoseconds = wallNanoseconds
        self.completed = completed
        self.expected = expected
    }

    /// Wall time per scheduled callback or timer, ns.
    public var nanosecondsPerOperation: Double { n > 0 ? Double(wallNanoseconds) / Double(n) : 0 }

    /// Whether the run did what the workload says: exactly the expected callbacks ran.
    public var isCorrect: Bool { completed == expected && cancelledFired == 0 }

    /// The measurement as one line of `key=value` words (how a bench child reports to its parent).
    public var line: String {
        "\(workload.rawValue) n=\(n) wall_ns=\(wallNanoseconds) completed=\(completed) expected=\(expected)"
            + " cancelled_fired=\(cancelledFired) schedule_ns=\(scheduleNanoseconds) cancel_ns=\(cancelNanoseconds)"
            + " rss_kib=\(peakRSSKiB)"
    }

    /// Parses ``line``; nil when it is not one.
    public init?(line: String) {
        let words = line.split(separator: " ")
        guard let first = words.first, let workload = BenchWorkload(rawValue: String(first)) else { return nil }
        var fields: [String: Int64] = [:]
        for word in words.dropFirst() {
            let parts = word.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int64(parts[1]) else { return nil }
            fields[String(parts[0])] = value
        }
        guard let n = fields["n"], let wall = fields["wall_ns"], let completed = fields["completed"],
            let expected = fields["expected"]
        else { return nil }
        self.init(workload: workload, n: Int(n), wallNanoseconds: wall, completed: Int(completed), expected: Int(expected))
        cancelledFired = Int(fields["cancelled_fired"] ?? 0)
        scheduleNanoseconds = fields["schedule_ns"] ?? 0
        cancelNanoseconds = fields["cancel_ns"] ?? 0
        peakRSSKiB = Int(fields["rss_kib"] ?? 0)
    }
}

/// Runs the workloads on a loop, exactly as shared/bench/WORKLOADS.md defines them,
/// written as a user of the loop API would write them (asyncio's micro.py is the model:
/// one callback object passed to every callSoon / callLater).
public enum BenchWorkloads {
    /// The number of callbacks or timers WORKLOADS.md prescribes.
    public static let standardCount = 1_000_000

    /// Runs `workload` with `n` callbacks or timers on `loop` (which it leaves open).
    public static func run(_ workload: BenchWorkload, on loop: BaseEventLoop, n: Int = standardCount) throws -> BenchMeasurement {
        guard n >= 2 else { throw BenchError("a workload needs at least 2 callbacks or timers, got \(n)") }
        loop.setDebug(false)
        var measurement: BenchMeasurement
        switch workload {
        case .w1a: measurement = try chained(loop, n)
        case .w1b: measurement = try batch(loop, n)
        case .w2: measurement = try timers(loop, n)
        case .w5: measurement = try tasks(loop, n, eager: false)
        case .w6: measurement = try roundTrips(loop, n)
        case .w5Eager: measurement = try tasks(loop, n, eager: true)
        case .w9Queue: measurement = try queueItems(loop, n)
        }
        if measurement.peakRSSKiB == 0 { measurement.peakRSSKiB = peakRSSKiB() }
        return measurement
    }

    /// Peak resident set size of this process so far (getrusage ru_maxrss), KiB.
    public static func peakRSSKiB() -> Int {
        guard let usage = Posix.selfResourceUsage() else { return 0 }
        return Int(usage.ru_maxrss)
    }

    /// CLOCK_MONOTONIC, ns.
    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    static func chained(_ loop: BaseEventLoop, _ n: Int) throws -> BenchMeasurement {
        var count = 0
        var step: () throws -> Void = {}
        step = {
            count += 1
            if count < n { try loop.callSoon(step) } else { loop.stop() }
        }
        defer { step = {} }  // breaks the closure's reference to itself
        let start = now()
        try loop.callSoon(step)
        try loop.runForever()
        let end = now()
        return BenchMeasurement(workload: .w1a, n: n, wallNanoseconds: end - start, completed: count, expected: n)
    }

    static func batch(_ loop: BaseEventLoop, _ n: Int) throws -> BenchMeasurement {
        var count = 0
        let callback: () throws -> Void = { count += 1 }
        let last: () throws -> Void = {
            count += 1
            loop.stop()
        }
        let start = now()
        for _ in 0..<(n - 1) { try loop.callSoon(callback) }
        try loop.callSoon(last)
        try loop.runForever()
        let end = now()
        return BenchMeasurement(workload: .w1b, n: n, wallNanoseconds: end - start, completed: count, expected: n)
    }

    /// A counter shared between a workload and the task bodies it starts (all on the loop thread).
    final class TaskCounter: @unchecked Sendable {
        var value = 0
    }

    /// W5 and W5-eager: N tasks, each awaiting its own future, which a callSoon callback
    /// resolves. W5 makes them before the loop runs; W5-eager from a loop callback with
    /// eager start, so each runs up to its await inside createTask instead of in a first
    /// step from the ready queue.
    static func tasks(_ loop: BaseEventLoop, _ n: Int, eager: Bool) throws -> BenchMeasurement {
        let done = TaskCounter()
        let start = now()
        let makeTasks = { @Sendable () throws -> Void in
            for _ in 0..<n {
                let future = loop.createFuture(of: Void.self)
                let body = { () async throws -> Void in
                    try await future.value
                    done.value += 1
                    if done.value == n { loop.stop() }
                }
                _ = try eager ? loop.createTask(eagerStart: true, body) : loop.createTask(body)
                try loop.callSoon { try future.setResult(()) }
            }
        }
        if eager { try loop.callSoon(makeTasks) } else { try makeTasks() }
        try loop.runForever()
        let end = now()
        return BenchMeasurement(
            workload: eager ? .w5Eager : .w5, n: n, wallNanoseconds: end - start, completed: done.value, expected: n)
    }

    static func roundTrips(_ loop: BaseEventLoop, _ n: Int) throws -> BenchMeasurement {
        let completed = TaskCounter()
        let (start, end) = try loop.runUntilComplete { () async throws -> (Int64, Int64) in
            let start = now()
            for _ in 0..<n {
                let future = loop.createFuture(of: Void.self)
                try loop.callSoon { try future.setResult(()) }
                try await future.value
                completed.value += 1
            }
            return (start, now())
        }
        return BenchMeasurement(workload: .w6, n: n, wallNanoseconds: end - start, completed: completed.value, expected: n)
    }

    static func timers(_ loop: BaseEventLoop, _ n: Int) throws -> BenchMeasurement {
        let live = n - n / 2
        var fired = 0
        var cancelledFired = 0
        let survivor: () throws -> Void = {
            fired += 1
            if fired == live { loop.stop() }
        }
        let doomed: () throws -> Void = { cancelledFired += 1 }

        let start = now()
        var odd: [TimerHandle] = []
        odd.reserveCapacity(n / 2)
        for i in 0..<n {
            let delay = Duration.microseconds((i % 1000) * 10)
            if i & 1 == 1 {
                odd.append(try loop.callLater(delay, doomed))
            } else {
                try loop.callLater(delay, survivor)
            }
        }
        let scheduled = now()
        for handle in odd { handle.cancel() }
        let cancelled = now()
        try loop.runForever()
        let end = now()
        let rss = peakRSSKiB()
        odd = []

        // Untimed check, as micro.py does: no cancelled timer fires later (all were due within 10 ms).
        try loop.callLater(.milliseconds(30)) { loop.stop() }
        try loop.runForever()

        var measurement = BenchMeasurement(
            workload: .w2, n: n, wallNanoseconds: end - start, completed: fired, expected: live)
        measurement.cancelledFired = cancelledFired
        measurement.scheduleNanoseconds = scheduled - start
        measurement.cancelNanoseconds = cancelled - scheduled
        measurement.peakRSSKiB = rss
        return measurement
    }
}

/// A benchmark that could not run or report, with the reason.
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}
