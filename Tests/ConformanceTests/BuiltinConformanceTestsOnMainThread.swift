import LoopConformance
import Loops
import XCTest

/// Runs the conformance cases that need the process's main thread (installing signal
/// handlers) on every built-in backend, debug mode off and on. XCTest runs test methods
/// on the main thread, which serves the cases' main-thread steps while they run;
/// Swift Testing cannot (its tests run on pool threads and the main thread is parked).
final class BuiltinConformanceTestsOnMainThread: XCTestCase {
    func testMainThreadCases() {
        XCTAssertTrue(MainThread.isCurrent, "XCTest must run this test on the main thread")
        let cases = ConformanceSuite.cases.filter(\.needsMainThread)
        XCTAssertFalse(cases.isEmpty)
        for backend in BuiltinBackends.descriptors {
            for debug in [false, true] {
                for testCase in cases {
                    let result = ConformanceSuite.run(testCase, backend: backend, debug: debug)
                    XCTAssertNotEqual(result.status, .fail, "\(result) (debug \(debug ? "on" : "off"))")
                }
            }
        }
    }
}
