import XCTest

@testable import LoopCore

final class TimerHeapTests: XCTestCase {
    private func timer(_ when: Double) -> TimerHandle {
        TimerHandle(when: when, callback: {}, sourceLocation: nil)
    }

    func testPopsInDeadlineOrderAndInsertionOrderForTies() {
        var heap = TimerHeap()
        let deadlines: [Double] = [5, 1, 4, 1, 3, 2, 5, 0]
        let handles = deadlines.map(timer)
        for handle in handles { heap.push(handle) }
        var popped: [TimerHandle] = []
        while let next = heap.popDue(before: .infinity) { popped.append(next) }
        XCTAssertEqual(popped.map(\.when), deadlines.sorted())
        // The two timers due at 1 come out in the order they were pushed.
        let ones = popped.filter { $0.when == 1 }
        XCTAssertTrue(ones[0] === handles[1] && ones[1] === handles[3])
    }

    func testPopDueStopsAtDeadline() {
        var heap = TimerHeap()
        for when in [1.0, 2.0, 3.0] { heap.push(timer(when)) }
        XCTAssertEqual(heap.popDue(before: 1.5)?.when, 1)
        XCTAssertNil(heap.popDue(before: 1.5))
        XCTAssertEqual(heap.earliestDeadline(), 2)
    }

    func testCancelledTimersAreSkippedAndCompacted() {
        var heap = TimerHeap()
        let handles = (0..<1000).map { timer(Double($0)) }
        for handle in handles { heap.push(handle) }
        for (index, handle) in handles.enumerated() where index % 4 != 0 {
            handle.cancel()
            heap.noteCancelled()
        }
        heap.compactIfNeeded()
        XCTAssertEqual(heap.count, 250)
        XCTAssertEqual(heap.cancelledCount, 0)
        var expected = 0.0
        while let next = heap.popDue(before: .infinity) {
            XCTAssertEqual(next.when, expected)
            expected += 4
        }
        XCTAssertEqual(expected, 1000)
    }

    func testCancelledTopIsDroppedLazily() {
        var heap = TimerHeap()
        let first = timer(1)
        heap.push(first)
        heap.push(timer(2))
        first.cancel()
        heap.noteCancelled()
        XCTAssertEqual(heap.earliestDeadline(), 2)
        XCTAssertEqual(heap.cancelledCount, 0)
        XCTAssertFalse(first.isScheduled)
    }
}
