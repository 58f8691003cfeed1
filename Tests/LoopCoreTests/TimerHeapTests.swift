import XCTest

@testable import LoopCore

final class TimerHeapTests: XCTestCase {
    private func timer(_ when: Double) -> TimerHandle {
        TimerHandle(when: when, callback: {}, sourceLocation: nil)
    }

    func testPopsInDeadlineOrderAndInsertionOrderForTies() {
        let heap = TimerHeap()
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
        let heap = TimerHeap()
        for when in [1.0, 2.0, 3.0] { heap.push(timer(when)) }
        XCTAssertEqual(heap.popDue(before: 1.5)?.when, 1)
        XCTAssertNil(heap.popDue(before: 1.5))
        XCTAssertEqual(heap.earliestDeadline(), 2)
    }

    func testCancelledTimersAreSkippedAndCompacted() {
        let heap = TimerHeap()
        let handles = (0..<1000).map { timer(Double($0)) }
        for handle in handles { heap.push(handle) }
        for (index, handle) in handles.enumerated() where index % 4 != 0 {
            handle.cancel()

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
        let heap = TimerHeap()
        let first = timer(1)
        heap.push(first)
        heap.push(timer(2))
        first.cancel()

        XCTAssertEqual(heap.earliestDeadline(), 2)
        XCTAssertEqual(heap.cancelledCount, 0)
        XCTAssertFalse(first.isScheduled)
    }
}

final class TimerHeapStressTests: XCTestCase {
    /// Random pushes, cancellations and pops against a sorted reference list.
    func testMatchesASortedReferenceUnderRandomOperations() {
        let heap = TimerHeap()
        var generator = SystemRandomNumberGenerator()
        var live: [(when: Double, order: Int, handle: TimerHandle)] = []
        var order = 0
        for _ in 0..<6_000 {
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<6:
                let handle = TimerHandle(when: Double(Int.random(in: 0..<500, using: &generator)), callback: {}, sourceLocation: nil)
                heap.push(handle)
                live.append((handle.when, order, handle))
                order += 1
            case 6..<8:
                guard !live.isEmpty else { continue }
                let index = Int.random(in: 0..<live.count, using: &generator)
                live[index].handle.cancel()
                live.remove(at: index)
            default:
                heap.compactIfNeeded()
                live.sort { ($0.when, $0.order) < ($1.when, $1.order) }
                guard let expected = live.first else {
                    XCTAssertNil(heap.popDue(before: .infinity))
                    continue
                }
                let popped = heap.popDue(before: .infinity)
                XCTAssertTrue(popped === expected.handle, "popped \(String(describing: popped?.when)), expected \(expected.when)")
                live.removeFirst()
            }
        }
        XCTAssertEqual(heap.count - heap.cancelledCount, live.count)
    }
}
