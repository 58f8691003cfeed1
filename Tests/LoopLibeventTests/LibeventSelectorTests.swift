import Glibc
@_spi(Backend) import LoopCore
@_spi(Backend) import LoopLibevent
import XCTest

/// What is specific to the libevent backend, its hooks called directly, without a loop.
/// The hook contract every backend keeps (readiness, modify, unregister, timeouts,
/// wakeups, close) is proved by the conformance cases HOOK-X01..X16.
final class LibeventSelectorTests: XCTestCase {
    // MARK: - Helpers

    /// Descriptors opened by the current test; closed in `tearDown`.
    private var openFDs: Set<Int32> = []

    override func tearDown() {
        for fd in openFDs { _ = closeFD(fd) }
        openFDs = []
        super.tearDown()
    }

    private func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw SystemError(errno: errno, call: "socketpair")
        }
        openFDs.insert(fds[0])
        openFDs.insert(fds[1])
        return (fds[0], fds[1])
    }

    private func close(_ fd: Int32) {
        if openFDs.remove(fd) != nil { _ = closeFD(fd) }
    }

    private func send(_ fd: Int32, _ text: String = "x") {
        var bytes = Array(text.utf8)
        let written = write(fd, &bytes, bytes.count)
        XCTAssertEqual(written, bytes.count)
    }

    private func wait(_ selector: LibeventSelector, _ timeout: Duration? = .zero) throws -> [ReadinessEvent] {
        var buffer = ReadinessBuffer(capacity: 16)
        try selector.wait(timeout: timeout, into: &buffer)
        return (0..<buffer.count).map { buffer[$0] }
    }

    private func events(for fd: Int32, in events: [ReadinessEvent]) -> IOEvents? {
        let matches = events.filter { $0.fd == fd }
        XCTAssertLessThanOrEqual(matches.count, 1, "fd \(fd) reported more than once in one wait")
        return matches.first?.events
    }

    private func milliseconds(since start: Int64) -> Double {
        Double(MonotonicClock.nanoseconds() - start) / 1e6
    }

    /// Raises the soft descriptor limit to at least `needed` (up to 4096), or fails.
    private func raiseDescriptorLimit(atLeast needed: rlim_t) throws {
        var limit = try Posix.openFileLimit()
        if limit.soft >= UInt64(needed) { return }
        limit.soft = min(max(UInt64(needed), 4096), limit.hard)
        guard limit.soft >= UInt64(needed) else {
            throw SystemError(errno: EMFILE, call: "setrlimit(RLIMIT_NOFILE ≥ \(needed)): the hard limit is \(limit.hard)")
        }
        try Posix.setOpenFileLimit(limit)
    }

    // MARK: - Registration

    func testRegisterClosedFDThrowsNamingTheCall() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, _) = try socketPair()
        close(a)
        XCTAssertThrowsError(try selector.register(fd: a, interest: .readable)) { error in
            XCTAssertTrue("\(error)".contains("event_add"), "\(error)")
            XCTAssertEqual((error as? SystemError)?.errno, EBADF)
        }
        // The failed registration left nothing behind: the number can be registered later.
        let (c, _) = try socketPair()
        try selector.register(fd: c, interest: .writable)
        XCTAssertEqual(events(for: c, in: try wait(selector)), .writable)
        try selector.unregister(fd: c)
    }

    func testRegularFileIsRefusedOnEpoll() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        // libevent picks epoll on Linux, the only platform this package targets.
        XCTAssertTrue(selector.details.contains("method epoll"), selector.details)
        var template = Array("/tmp/libevent-selector-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        XCTAssertGreaterThanOrEqual(fd, 0)
        guard fd >= 0 else { return }
        openFDs.insert(fd)
        _ = unlink(template)
        XCTAssertThrowsError(try selector.register(fd: fd, interest: .readable)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, EPERM, "\(error)")
        }
        XCTAssertNoThrow(try selector.unregister(fd: fd), "nothing was registered")
    }

    func testBadArgumentsThrow() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, _) = try socketPair()
        XCTAssertThrowsError(try selector.register(fd: -1, interest: .readable)) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument)
        }
        XCTAssertThrowsError(try selector.register(fd: a, interest: [])) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument)
        }
    }

    func testHighDescriptorNumber() throws {
        try raiseDescriptorLimit(atLeast: 2100)
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, b) = try socketPair()
        let high = fcntl(a, F_DUPFD, Int32(2000))
        XCTAssertGreaterThanOrEqual(high, 2000)
        guard high >= 0 else { return }
        openFDs.insert(high)
        try selector.register(fd: high, interest: .readable)
        send(b)
        XCTAssertEqual(try wait(selector, .seconds(5)), [ReadinessEvent(fd: high, events: .readable)])
        try selector.unregister(fd: high)
    }

    // MARK: - Lifecycle and facts

    /// What close does on every backend is HOOK-X15 (conformance); libevent's hooks
    /// then throw `LoopError` `.closed`.
    func testHooksAfterCloseThrowClosed() throws {
        let selector = try LibeventSelector()
        let (a, _) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        selector.close()
        XCTAssertThrowsError(try selector.register(fd: a, interest: .readable)) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .closed)
        }
        var buffer = ReadinessBuffer()
        XCTAssertThrowsError(try selector.wait(timeout: .zero, into: &buffer)) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .closed)
        }
    }

    func testNameDetailsAndDescriptor() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        XCTAssertEqual(selector.name, "libevent")
        #if os(Linux)
        XCTAssertTrue(selector.details.contains("method epoll"), selector.details)
        #endif
        XCTAssertTrue(selector.details.hasPrefix("libevent 2."), selector.details)
        XCTAssertEqual(LibeventSelector.descriptor.name, "libevent")
        XCTAssertEqual(LibeventSelector.descriptor.priority, 20)
        XCTAssertTrue(LibeventSelector.descriptor.availability().isAvailable)
        let made = try LibeventSelector.descriptor.make()
        XCTAssertEqual(made.name, "libevent")
        made.close()
    }

    func testCoarseTimerOptionStillTimesOut() throws {
        let selector = try LibeventSelector(preciseTimer: false)
        defer { selector.close() }
        XCTAssertTrue(selector.details.contains("coarse timer"), selector.details)
        let start = MonotonicClock.nanoseconds()
        XCTAssertEqual(try wait(selector, .milliseconds(50)), [])
        XCTAssertGreaterThanOrEqual(milliseconds(since: start), 40)
    }
}

private func closeFD(_ fd: Int32) -> Int32 {
    Glibc.close(fd)
}
