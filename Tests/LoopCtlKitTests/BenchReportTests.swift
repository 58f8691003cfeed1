import LoopCtlKit
import Loops
import XCTest

/// What `loopctl bench` prints, and that the workloads do what WORKLOADS.md says
/// (counts only: no timing is asserted anywhere).
final class BenchReportTests: XCTestCase {
    func measurement(_ workload: BenchWorkload, wall: Int64, n: Int = 1000, rss: Int = 2048) -> BenchMeasurement {
        var m = BenchMeasurement(workload: workload, n: n, wallNanoseconds: wall, completed: n, expected: n)
        m.peakRSSKiB = rss
        return m
    }

    func testMedianOfOddAndEvenCounts() {
        XCTAssertEqual(BenchResult.median([3, 1, 2]), 2)
        XCTAssertEqual(BenchResult.median([4, 1, 3, 2]), 2.5)
        XCTAssertEqual(BenchResult.median([]), 0)
    }

    func testW1JSONLineHasTheAnchorShape() {
        let runs = [measurement(.w1a, wall: 50_000), measurement(.w1a, wall: 40_000), measurement(.w1a, wall: 45_500)]
        let result = BenchResult(backend: "epoll", workload: .w1a, runs: runs)
        XCTAssertEqual(
            result.jsonLine, #"{"system":"loop-epoll","workload":"W1a","ns_per_op":45.5,"n":1000,"runs":[50,40,45.5]}"#)
    }

    func testW2JSONLineAddsTotalAndPeakRSS() {
        var run = measurement(.w2, wall: 300_000_000, n: 1_000_000, rss: 102_400)
        run.scheduleNanoseconds = 100_000_000
        run.cancelNanoseconds = 50_000_000
        let result = BenchResult(backend: "poll", workload: .w2, runs: [run])
        XCTAssertEqual(
            result.jsonLine,
            #"{"system":"loop-poll","workload":"W2","ns_per_op":300,"total_ms":300,"peak_rss_mb":100,"#
                + #""schedule_ms":100,"cancel_ms":50,"run_ms":150,"n":1000000,"runs":[300]}"#)
    }

    func testMeasurementLineRoundTrips() {
        var m = measurement(.w2, wall: 123_456_789, n: 1_000_000, rss: 99_000)
        m.completed = 499_999
        m.expected = 500_000
        m.cancelledFired = 1
        m.scheduleNanoseconds = 7
        m.cancelNanoseconds = 8
        XCTAssertEqual(BenchMeasurement(line: m.line), m)
        XCTAssertFalse(m.isCorrect)
        XCTAssertNil(BenchMeasurement(line: "W9 n=1"))
        XCTAssertNil(BenchMeasurement(line: "W1a n=x"))
        XCTAssertNil(BenchMeasurement(line: "W1a n=1"))
    }

    func testTableHasAHeaderAndOneRowPerResult() {
        let results = [
            BenchResult(backend: "epoll", workload: .w1a, runs: [measurement(.w1a, wall: 40_000)]),
            BenchResult(backend: "epoll", workload: .w2, runs: [measurement(.w2, wall: 80_000)]),
        ]
        let lines = BenchResult.table(results).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[0].hasPrefix("system"))
        XCTAssertTrue(lines[1].hasPrefix("loop-epoll  W1a"))
        XCTAssertTrue(lines[2].hasPrefix("loop-epoll  W2"))
    }

    /// Every workload runs exactly its callbacks (and no cancelled timer) on every built-in backend.
    func testWorkloadsRunExactlyTheirCallbacksOnEveryBackend() throws {
        BuiltinBackends.register()
        for descriptor in BuiltinBackends.descriptors {
            for workload in BenchWorkload.allCases {
                let loop = try BackendRegistry.shared.makeLoop(name: descriptor.name)
                let m = try BenchWorkloads.run(workload, on: loop, n: 2000)
                try loop.close()
                let what = "\(descriptor.name) \(workload.rawValue)"
                XCTAssertEqual(m.n, 2000, what)
                XCTAssertEqual(m.expected, workload == .w2 ? 1000 : 2000, what)
                XCTAssertEqual(m.completed, m.expected, what)
                XCTAssertEqual(m.cancelledFired, 0, what)
                XCTAssertGreaterThan(m.peakRSSKiB, 0, what)
            }
        }
    }

    func testTooFewCallbacksIsAnError() throws {
        let loop = try newEventLoop()
        XCTAssertThrowsError(try BenchWorkloads.run(.w1a, on: loop, n: 1)) { XCTAssertTrue($0 is BenchError) }
        try loop.close()
    }
}
