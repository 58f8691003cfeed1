import XCTest

@testable import LoopCore

final class BusyPollWindowTests: XCTestCase {
    func testStartsClosedAndGrowsFromGrowStartWhileWorkArrivesWithinTheLimit() {
        var window = BusyPollWindow(limit: 50_000)
        XCTAssertEqual(window.current, 0)
        window.record(idle: 30_000)
        XCTAssertEqual(window.current, 10_000, "the first short idle period opens the window at growStart")
        window.record(idle: 30_000)
        XCTAssertEqual(window.current, 20_000, "an idle period longer than the window doubles it")
        window.record(idle: 30_000)
        XCTAssertEqual(window.current, 40_000)
        window.record(idle: 45_000)
        XCTAssertEqual(window.current, 50_000, "growth stops at the limit")
        window.record(idle: 49_000)
        XCTAssertEqual(window.current, 50_000)
    }

    func testAnIdlePeriodThePollingCoveredLeavesTheWindowAlone() {
        var window = BusyPollWindow(limit: 50_000)
        window.record(idle: 30_000)
        window.record(idle: 30_000)
        XCTAssertEqual(window.current, 20_000)
        window.record(idle: 5_000)
        window.record(idle: 20_000)
        XCTAssertEqual(window.current, 20_000)
    }

    func testLongIdlePeriodsHalveTheWindowDownToZero() {
        var window = BusyPollWindow(limit: 1_000_000)
        for _ in 0..<20 { window.record(idle: 900_000) }
        XCTAssertEqual(window.current, 1_000_000)
        var halvings = 0
        while window.current > 0 {
            window.record(idle: 5_000_000)
            halvings += 1
            XCTAssertLessThanOrEqual(halvings, 10, "a quiet loop must stop polling after a few idle periods")
        }
        XCTAssertEqual(halvings, 10, "1 ms halves to under 1 µs, then zero, in ten idle periods")
        window.record(idle: 5_000_000)
        XCTAssertEqual(window.current, 0, "a closed window stays closed while the loop stays idle")
    }

    func testASmallLimitCapsGrowStart() {
        var window = BusyPollWindow(limit: 4_000)
        window.record(idle: 3_000)
        XCTAssertEqual(window.current, 4_000)
    }

    func testAZeroLimitNeverOpensTheWindow() {
        var window = BusyPollWindow(limit: 0)
        window.record(idle: 1)
        XCTAssertEqual(window.current, 0)
        var negative = BusyPollWindow(limit: -5)
        XCTAssertEqual(negative.limit, 0)
        negative.record(idle: 0)
        XCTAssertEqual(negative.current, 0)
    }

    func testANewLimitStartsAgainFromZero() {
        var window = BusyPollWindow(limit: 50_000)
        window.record(idle: 30_000)
        XCTAssertEqual(window.current, 10_000)
        window.setLimit(200_000)
        XCTAssertEqual(window, BusyPollWindow(limit: 200_000))
    }
}
