import Glibc
import Synchronization
import XCTest

@testable import LoopCore

final class ConcurrentFutureTests: XCTestCase {
    private struct Failure: Error, Equatable { let code: Int }

    /// Runs `body` on a new thread after `delay`.
    private func later(_ delay: UInt32 = 20_000, _ body: @escaping @Sendable () -> Void) {
        XCTAssertEqual(startDetachedThread(named: "test") {
            usleep(delay)
            body()
        }, 0)
    }

    func testResultBlocksUntilAnotherThreadSetsIt() throws {
        let future = ConcurrentFuture<Int>()
        later { try? future.setResult(42) }
        XCTAssertEqual(try future.result(timeout: .seconds(5)), 42)
        XCTAssertTrue(future.isDone)
        XCTAssertFalse(future.isCancelled)
        XCTAssertFalse(future.isRunning)
        XCTAssertNil(try future.exception())
    }

    func testResultTimesOut() {
        let future = ConcurrentFuture<Int>()
        let start = ContinuousClock.now
        XCTAssertThrowsError(try future.result(timeout: .milliseconds(50))) { error in
            XCTAssertTrue(error is TimeoutError, "\(error)")
        }
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(45))
        XCTAssertThrowsError(try future.exception(timeout: .zero)) { XCTAssertTrue($0 is TimeoutError) }
    }

    func testErrorIsRethrownAndReturnedByException() throws {
        let future = ConcurrentFuture<Int>()
        try future.setException(Failure(code: 3))
        XCTAssertThrowsError(try future.result()) { XCTAssertEqual($0 as? Failure, Failure(code: 3)) }
        XCTAssertEqual(try future.exception() as? Failure, Failure(code: 3))
    }

    func testCancelRules() throws {
        let pending = ConcurrentFuture<Int>()
        XCTAssertTrue(pending.cancel())
        XCTAssertTrue(pending.cancel(), "cancelling a cancelled future still reports true")
        XCTAssertTrue(pending.isCancelled && pending.isDone)
        XCTAssertThrowsError(try pending.result()) { XCTAssertTrue($0 is CancelledError) }
        XCTAssertThrowsError(try pending.exception()) { XCTAssertTrue($0 is CancelledError) }
        XCTAssertFalse(try pending.setRunningOrNotifyCancel(), "a cancelled future's work must not start")

        let running = ConcurrentFuture<Int>()
        XCTAssertTrue(try running.setRunningOrNotifyCancel())
        XCTAssertTrue(running.isRunning)
        XCTAssertFalse(running.cancel(), "running work cannot be cancelled")
        XCTAssertThrowsError(try running.setRunningOrNotifyCancel()) {
            XCTAssertEqual(($0 as? LoopError)?.kind, .invalidState)
        }
        try running.setResult(1)
        XCTAssertFalse(running.cancel(), "a finished future cannot be cancelled")
    }

    func testCompletingTwiceOrAfterCancelIsAnInvalidState() throws {
        let future = ConcurrentFuture<Int>()
        try future.setResult(1)
        XCTAssertThrowsError(try future.setResult(2)) { XCTAssertEqual(($0 as? LoopError)?.kind, .invalidState) }
        XCTAssertThrowsError(try future.setException(Failure(code: 1))) {
            XCTAssertEqual(($0 as? LoopError)?.kind, .invalidState)
        }
        XCTAssertEqual(try future.result(), 1)

        let cancelled = ConcurrentFuture<Int>()
        cancelled.cancel()
        XCTAssertThrowsError(try cancelled.setResult(1)) { XCTAssertEqual(($0 as? LoopError)?.kind, .invalidState) }
    }

    func testDoneCallbacksRunOnceOnTheCompletingThreadOrAtOnce() throws {
        let future = ConcurrentFuture<Int>()
        let calls = Mutex<[String]>([])
        future.addDoneCallback { done in calls.withLock { $0.append("first \((try? done.result()) ?? -1)") } }
        future.addDoneCallback { _ in calls.withLock { $0.append("second") } }
        XCTAssertEqual(calls.withLock { $0 }, [])
        try future.setResult(5)
        XCTAssertEqual(calls.withLock { $0 }, ["first 5", "second"])
        future.addDoneCallback { _ in calls.withLock { $0.append("after done") } }
        XCTAssertEqual(calls.withLock { $0 }, ["first 5", "second", "after done"])

        let cancelled = ConcurrentFuture<Int>()
        let sawCancel = Atomic<Bool>(false)
        cancelled.addDoneCallback { sawCancel.store($0.isCancelled, ordering: .relaxed) }
        cancelled.cancel()
        XCTAssertTrue(sawCancel.load(ordering: .relaxed))
    }

    func testEveryWaiterWakes() throws {
        let future = ConcurrentFuture<Int>()
        let woken = Atomic<Int>(0)
        for _ in 0..<4 {
            XCTAssertEqual(startDetachedThread(named: "waiter") {
                if (try? future.result(timeout: .seconds(5))) == 7 { woken.add(1, ordering: .relaxed) }
            }, 0)
        }
        usleep(20_000)
        try future.setResult(7)
        let deadline = ContinuousClock.now + .seconds(5)
        while woken.load(ordering: .relaxed) < 4, ContinuousClock.now < deadline { usleep(1_000) }
        XCTAssertEqual(woken.load(ordering: .relaxed), 4)
    }
}
