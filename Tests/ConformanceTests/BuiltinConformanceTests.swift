import LoopConformance
import Loops
import Testing

/// One conformance case on one built-in backend, named `backend/case`.
struct BackendCase: CustomTestStringConvertible, Sendable {
    let backend: BackendDescriptor
    let testCase: ConformanceCase

    var testDescription: String { "\(backend.name)/\(testCase.id)" }

    static let all: [BackendCase] = BuiltinBackends.descriptors.flatMap { backend in
        // Cases that need the main thread run from XCTest (BuiltinConformanceTestsOnMainThread):
        // Swift Testing runs tests off the main thread.
        ConformanceSuite.cases.filter { !$0.needsMainThread }.map { BackendCase(backend: backend, testCase: $0) }
    }
}

/// Runs every conformance case on every built-in backend, with debug mode off and on.
/// Serialized: cases count the process's file descriptors and use real time.
@Suite(.serialized)
struct BuiltinConformanceTests {
    @Test("conformance, debug off", arguments: BackendCase.all)
    func debugOff(_ item: BackendCase) {
        let result = ConformanceSuite.run(item.testCase, backend: item.backend, debug: false)
        #expect(result.status != .fail, "\(result)")
    }

    @Test("conformance, debug on", arguments: BackendCase.all)
    func debugOn(_ item: BackendCase) {
        let result = ConformanceSuite.run(item.testCase, backend: item.backend, debug: true)
        #expect(result.status != .fail, "\(result)")
    }
}
