import CLoopShims
import Glibc
import Synchronization
import XCTest

@testable import LoopCore

final class ThreadPoolExecutorTests: XCTestCase {
    func testDefaultSizeIsMin32AndCoresPlus4() throws {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        XCTAssertEqual(ThreadPoolExecutor.defaultMaxWorkers, min(32, cores + 4))
        let pool = try ThreadPoolExecutor()
        defer { pool.shutdown() }
        XCTAssertEqual(pool.maxWorkers, min(32, cores + 4))
        XCTAssertEqual(pool.workerCount, 0, "threads start on demand")
    }

    func testNonPositiveMaxWorkersIsRejected() {
        for workers in [0, -3] {
            XCTAssertThrowsError(try ThreadPoolExecutor(maxWorkers: workers)) { error in
                XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument)
            }
        }
    }

    func testSubmitRunsOnAWorkerAndReturnsTheResult() throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 2, threadNamePrefix: "unit")
        defer { pool.shutdown() }
        XCTAssertFalse(pool.ownsCurrentThread)
        let future = try pool.submit { pool.ownsCurrentThread ? 42 : -1 }
        XCTAssertEqual(try future.result(timeout: .seconds(5)), 42)
        let failing = try pool.submit { () throws -> Int in throw LoopError(.invalidState, "boom") }
        XCTAssertThrowsError(try failing.result(timeout: .seconds(5))) { XCTAssertEqual(($0 as? LoopError)?.kind, .invalidState) }
    }

    func testIdleWorkersAreReused() throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 4)
        defer { pool.shutdown() }
        for index in 0..<5 {
            XCTAssertEqual(try pool.submit { index }.result(timeout: .seconds(5)), index)
            usleep(2_000)  // the worker goes idle again
        }
        XCTAssertEqual(pool.workerCount, 1)
    }

    func testSaturationNeverExceedsMaxWorkers() throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 3)
        defer { pool.shutdown() }
        let active = Atomic<Int>(0)
        let peak = Atomic<Int>(0)
        let futures = try (0..<12).map { index in
            try pool.submit { () -> Int in
                peak.max(active.add(1, ordering: .sequentiallyConsistent).newValue, ordering: .sequentiallyConsistent)
                usleep(5_000)
                active.subtract(1, ordering: .sequentiallyConsistent)
                return index
            }
        }
        XCTAssertEqual(try futures.map { try $0.result(timeout: .seconds(10)) }, Array(0..<12))
        XCTAssertLessThanOrEqual(peak.load(ordering: .relaxed), 3)
        XCTAssertLessThanOrEqual(pool.workerCount, 3)
    }

    func testShutdownWaitsForRunningWorkAndRefusesNewWork() throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 1)
        let finished = Atomic<Bool>(false)
        _ = try pool.submit {
            usleep(50_000)
            finished.store(true, ordering: .sequentiallyConsistent)
        }
        pool.shutdown(wait: true)
        XCTAssertTrue(finished.load(ordering: .sequentiallyConsistent))
        XCTAssertEqual(pool.workerCount, 0)
        XCTAssertTrue(pool.isShutdown)
        XCTAssertThrowsError(try pool.submit { 1 }) { XCTAssertEqual(($0 as? LoopError)?.kind, .executorShutdown) }
        pool.shutdown()  // idempotent
    }

    func testShutdownWithoutWaitReturnsAtOnceAndQueuedWorkStillRuns() throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 1)
        let release = Atomic<Bool>(false)
        let blocked = try pool.submit {
            while !release.load(ordering: .acquiring) { usleep(500) }
        }
        let queued = try pool.submit { 2 }
        let start = ContinuousClock.now
        pool.shutdown(wait: false)
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(500))
        release.store(true, ordering: .releasing)
        try blocked.result(timeout: .seconds(5))
        XCTAssertEqual(try queued.result(timeout: .seconds(5)), 2)
    }

    func testShutdownCancelFuturesCancelsQueuedWork() throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 1)
        let release = Atomic<Bool>(false)
        let started = Atomic<Bool>(false)
        let running = try pool.submit {
            started.store(true, ordering: .releasing)
            while !release.load(ordering: .acquiring) { usleep(500) }
            return 1
        }
        let queued = try pool.submit { 2 }
        while !started.load(ordering: .acquiring) { usleep(500) }
        pool.shutdown(wait: false, cancelFutures: true)
        XCTAssertTrue(queued.isCancelled)
        release.store(true, ordering: .releasing)
        XCTAssertEqual(try running.result(timeout: .seconds(5)), 1)
        pool.shutdown(wait: true)
    }

    func testCancellingAQueuedFutureSkipsItsWork() throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 1)
        defer { pool.shutdown() }
        let release = Atomic<Bool>(false)
        let ran = Atomic<Bool>(false)
        _ = try pool.submit { while !release.load(ordering: .acquiring) { usleep(500) } }
        let queued = try pool.submit { ran.store(true, ordering: .relaxed) }
        XCTAssertTrue(queued.cancel())
        release.store(true, ordering: .releasing)
        pool.shutdown(wait: true)
        XCTAssertFalse(ran.load(ordering: .relaxed))
    }

    func testAWorkerMayShutItsOwnPoolDownWithoutDeadlock() throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 2)
        let future = try pool.submit { () -> Bool in
            pool.shutdown(wait: true)
            return pool.isShutdown
        }
        XCTAssertEqual(try future.result(timeout: .seconds(5)), true)
        pool.shutdown(wait: true)
    }
}
