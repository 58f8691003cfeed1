import Glibc
import LoopConformance
@_spi(Backend) import LoopCore
@_spi(Backend) import LoopPoll
@_spi(Backend) import LoopTesting
import XCTest

/// The whole conformance suite on the virtual-time backend (over poll), debug mode off
/// and on: every case passes except those that need the wall clock, which are skipped
/// because the backend does not declare `realTime`.
///
/// XCTest, not Swift Testing: XCTest methods run one at a time, so these cases never
/// overlap the built-in backends' conformance run (cases count the process's fds).
final class VirtualConformanceTests: XCTestCase {
    static let backend = VirtualClockBackend.descriptor(wrapping: PollSelector.descriptor)

    func testEveryCaseWithDebugOff() { check(debug: false) }

    func testEveryCaseWithDebugOn() { check(debug: true) }

    override class func setUp() {
        super.setUp()
        // libdispatch opens its timer fds lazily, on its own threads, while the test
        // process starts up; one throwaway case and a short pause let that settle so
        // the first real case's fd-leak check compares like with like.
        _ = ConformanceSuite.run(backend: backend, cases: Array(ConformanceSuite.cases.prefix(1)))
        usleep(100_000)
    }

    private func check(debug: Bool) {
        let results = ConformanceSuite.run(backend: Self.backend, debug: debug)
        XCTAssertEqual(results.count, ConformanceSuite.cases.count)
        for result in results where result.status == .fail {
            XCTFail("\(result) (debug \(debug ? "on" : "off"))")
        }
        for result in results where result.status == .skip {
            XCTAssertTrue(result.reason.contains("realTime"), "a skip for another reason: \(result)")
        }
        XCTAssertGreaterThan(results.count { $0.status == .pass }, 0)
    }
}
