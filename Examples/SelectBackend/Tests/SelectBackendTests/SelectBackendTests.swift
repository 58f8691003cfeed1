import Glibc
import LoopConformance
import LoopCore
import SelectBackend
import XCTest

/// The whole conformance suite on the select backend, with debug mode off and on:
/// every case its declared capabilities allow passes; the others are skipped, naming
/// the capability it lacks (`highDescriptors`).
///
/// XCTest runs one test at a time on the main thread, which the suite needs: cases
/// count the process's file descriptors, and signal cases install handlers.
final class SelectConformanceTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        // libdispatch opens its timer fds lazily, on its own threads, while the test
        // process starts; one throwaway case and a short pause let that settle before
        // the first real case counts descriptors.
        _ = ConformanceSuite.run(backend: SelectSelector.descriptor, cases: Array(ConformanceSuite.cases.prefix(1)))
        usleep(100_000)
    }

    func testEveryCaseWithDebugOff() { check(debug: false) }

    func testEveryCaseWithDebugOn() { check(debug: true) }

    private func check(debug: Bool) {
        let results = ConformanceSuite.run(backend: SelectSelector.descriptor, debug: debug)
        XCTAssertEqual(results.count, ConformanceSuite.cases.count)
        for result in results where result.status == .fail {
            XCTFail("\(result) (debug \(debug ? "on" : "off"))")
        }
        for result in results where result.status == .skip {
            XCTAssertTrue(result.reason.contains("lacks capability"), "a skip without a capability: \(result)")
        }
    }
}

/// Registration under the name `select`, and the FD_SETSIZE limit.
final class SelectSelectorTests: XCTestCase {
    func testRegisteredAsSelectAndChosenByLoopBackend() throws {
        let registry = BackendRegistry()
        try SelectSelector.register(in: registry)
        let variable = BackendRegistry.environmentVariable
        XCTAssertEqual(try registry.choose(environment: [variable: "select"]).descriptor.name, "select")
        let loop = try registry.makeLoop(environment: [variable: "select"])
        XCTAssertEqual(loop.backendName, "select")
        try loop.close()
    }

    func testASecondRegistrationIsRefusedNamingTheBackend() throws {
        let registry = BackendRegistry()
        try SelectSelector.register(in: registry)
        XCTAssertThrowsError(try SelectSelector.register(in: registry)) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .duplicateBackend)
            XCTAssertTrue("\(error)".contains("'select'"), "\(error)")
        }
        XCTAssertEqual(registry.descriptors.count, 1)
    }

    func testADescriptorAtOrAboveFDSetSizeIsATypedErrorAndTheLoopGoesOn() throws {
        XCTAssertEqual(SelectSelector.setSize, 1024)
        XCTAssertFalse(SelectSelector.descriptor.capabilities.contains(.highDescriptors))

        var ends: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&ends), 0)
        defer { for fd in ends { close(fd) } }
        raiseOpenFileLimit(above: SelectSelector.setSize)
        let high = fcntl(ends[0], F_DUPFD, SelectSelector.setSize)
        XCTAssertGreaterThanOrEqual(high, SelectSelector.setSize, "could not open descriptor \(SelectSelector.setSize): errno \(errno)")
        guard high >= SelectSelector.setSize else { return }
        defer { close(high) }

        let backend = try SelectSelector()
        XCTAssertThrowsError(try backend.register(fd: high, interest: .readable)) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument)
            XCTAssertTrue("\(error)".contains("FD_SETSIZE"), "\(error)")
        }
        backend.close()

        let loop = BaseEventLoop(backend: try SelectSelector())
        XCTAssertThrowsError(try loop.addReader(high) {}) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .backendFailure)
            for name in ["addReader", "select", "register", "FD_SETSIZE"] {
                XCTAssertTrue("\(error)".contains(name), "the error must name \(name): \(error)")
            }
        }
        XCTAssertEqual(loop.snapshot.watchedDescriptors, 0)
        // A low descriptor still works on the same loop.
        var seen = false
        try loop.addReader(ends[0]) {
            seen = true
            loop.stop()
        }
        XCTAssertEqual(write(ends[1], "x", 1), 1)
        try loop.runForever()
        XCTAssertTrue(seen)
        XCTAssertTrue(try loop.removeReader(ends[0]))
        try loop.close()
    }
}

/// Raises the soft RLIMIT_NOFILE so that descriptor `number` can be opened (tests that
/// open high descriptors raise the limit themselves).
private func raiseOpenFileLimit(above number: Int32) {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    let wanted = rlim_t(number) + 64
    if limit.rlim_cur < wanted {
        limit.rlim_cur = min(wanted, limit.rlim_max)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
