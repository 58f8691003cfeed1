@_spi(Backend) import LoopCore
import XCTest

@testable import LoopCore

final class RingBufferTests: XCTestCase {
    func testFIFOAcrossGrowthAndWraparound() {
        let buffer = RingBuffer<Int>(capacity: 4)
        var expected: [Int] = []
        var next = 0
        // Interleave appends and removals so the head wraps before the buffer grows.
        for round in 0..<50 {
            for _ in 0..<(round % 7 + 1) {
                buffer.append(next)
                expected.append(next)
                next += 1
            }
            for _ in 0..<(round % 5) {
                XCTAssertEqual(buffer.removeFirst(), expected.removeFirst())
            }
            XCTAssertEqual(buffer.count, expected.count)
        }
        while let value = buffer.removeFirst() { XCTAssertEqual(value, expected.removeFirst()) }
        XCTAssertTrue(expected.isEmpty)
        XCTAssertTrue(buffer.isEmpty)
    }

    func testRemoveAllReturnsEverythingInOrder() {
        let buffer = RingBuffer<String>(capacity: 2)
        for word in ["a", "b", "c", "d", "e"] { buffer.append(word) }
        _ = buffer.removeFirst()
        XCTAssertEqual(buffer.removeAll(), ["b", "c", "d", "e"])
        XCTAssertNil(buffer.removeFirst())
        buffer.append("f")
        XCTAssertEqual(buffer.removeFirst(), "f")
    }
}

final class PollTimeoutTests: XCTestCase {
    func testRoundsUpToWholeMilliseconds() {
        XCTAssertEqual(Duration.zero.pollMilliseconds, 0)
        XCTAssertEqual(Duration.nanoseconds(-5).pollMilliseconds, 0)
        XCTAssertEqual(Duration.nanoseconds(1).pollMilliseconds, 1)
        XCTAssertEqual(Duration.microseconds(999).pollMilliseconds, 1)
        XCTAssertEqual(Duration.milliseconds(1).pollMilliseconds, 1)
        XCTAssertEqual(Duration.microseconds(1_001).pollMilliseconds, 2)
        XCTAssertEqual(Duration.seconds(2).pollMilliseconds, 2_000)
        XCTAssertEqual(Duration.seconds(10_000_000).pollMilliseconds, Int32.max)
    }
}
