#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import LoopCore
import LoopLibevent
import XCTest

/// The libevent backend's hooks, called directly, without a loop.
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

    // MARK: - Readiness

    func testReadableAfterPeerWrites() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, b) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        XCTAssertNil(events(for: a, in: try wait(selector)), "nothing written yet")
        send(b)
        XCTAssertEqual(events(for: a, in: try wait(selector, .seconds(5))), .readable)
        try selector.unregister(fd: a)
    }

    func testWritableAtOnce() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, _) = try socketPair()
        try selector.register(fd: a, interest: .writable)
        XCTAssertEqual(events(for: a, in: try wait(selector, .seconds(5))), .writable)
        try selector.unregister(fd: a)
    }

    func testReadAndWriteReadinessIsOneEvent() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, b) = try socketPair()
        send(b)
        try selector.register(fd: a, interest: [.readable, .writable])
        let ready = try wait(selector, .seconds(5))
        XCTAssertEqual(ready.count, 1)
        XCTAssertEqual(ready.first?.fd, a)
        XCTAssertEqual(ready.first?.events, [.readable, .writable])
        try selector.unregister(fd: a)
    }

    func testModifyReadToWrite() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, _) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        XCTAssertNil(events(for: a, in: try wait(selector)), "not readable, and not watched for writing")
        try selector.modify(fd: a, interest: .writable)
        XCTAssertEqual(events(for: a, in: try wait(selector)), .writable)
        try selector.modify(fd: a, interest: .readable)
        XCTAssertNil(events(for: a, in: try wait(selector)), "back to read interest only")
        try selector.unregister(fd: a)
    }

    func testModifyUnregisteredFDThrows() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, _) = try socketPair()
        XCTAssertThrowsError(try selector.modify(fd: a, interest: .readable)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, ENOENT)
        }
    }

    func testRegisterTwiceThrows() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, _) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        XCTAssertThrowsError(try selector.register(fd: a, interest: .writable)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, EEXIST)
        }
        try selector.unregister(fd: a)
    }

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
        guard selector.details.contains("method epoll") else {
            throw XCTSkip("only epoll refuses regular files; this base uses \(selector.details)")
        }
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

    func testUnregisterStopsReports() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, b) = try socketPair()
        send(b)
        try selector.register(fd: a, interest: [.readable, .writable])
        XCTAssertNotNil(events(for: a, in: try wait(selector)))
        try selector.unregister(fd: a)
        XCTAssertEqual(try wait(selector), [])
        // Unregistering again is not an error.
        XCTAssertNoThrow(try selector.unregister(fd: a))
    }

    func testLevelTriggeredReportsUnreadDataAgain() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, b) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        send(b, "hello")
        XCTAssertEqual(events(for: a, in: try wait(selector, .seconds(5))), .readable)
        XCTAssertEqual(events(for: a, in: try wait(selector, .seconds(5))), .readable)
        XCTAssertEqual(events(for: a, in: try wait(selector)), .readable)
        var buffer = [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(read(a, &buffer, buffer.count), 5)
        XCTAssertNil(events(for: a, in: try wait(selector)), "drained")
        try selector.unregister(fd: a)
    }

    func testPeerCloseMakesReadable() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, b) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        XCTAssertNil(events(for: a, in: try wait(selector)))
        close(b)
        let ready = events(for: a, in: try wait(selector, .seconds(5)))
        XCTAssertNotNil(ready)
        XCTAssertTrue(ready?.contains(.readable) ?? false)
        var byte: UInt8 = 0
        XCTAssertEqual(read(a, &byte, 1), 0, "end of file")
        try selector.unregister(fd: a)
    }

    func testUnregisterAfterFDClosedDoesNotThrow() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, b) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        try selector.register(fd: b, interest: .writable)
        close(a)
        XCTAssertNoThrow(try selector.unregister(fd: a))
        // The closed number is reused by a fresh pair and can be registered again.
        let (c, d) = try socketPair()
        send(d)
        try selector.register(fd: c, interest: .readable)
        let ready = try wait(selector, .seconds(5))
        XCTAssertEqual(events(for: c, in: ready), .readable)
        XCTAssertEqual(events(for: b, in: ready), .writable)
        try selector.unregister(fd: c)
        close(b)
        XCTAssertNoThrow(try selector.unregister(fd: b))
    }

    func testPipeEnds() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&fds), 0)
        openFDs.insert(fds[0])
        openFDs.insert(fds[1])
        try selector.register(fd: fds[0], interest: .readable)
        try selector.register(fd: fds[1], interest: .writable)
        XCTAssertEqual(try wait(selector), [ReadinessEvent(fd: fds[1], events: .writable)])
        send(fds[1])
        let ready = try wait(selector)
        XCTAssertEqual(events(for: fds[0], in: ready), .readable)
        XCTAssertEqual(events(for: fds[1], in: ready), .writable)
        try selector.unregister(fd: fds[0])
        try selector.unregister(fd: fds[1])
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

    // MARK: - Timeouts and wakeups

    func testZeroTimeoutReturnsAtOnce() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, _) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        let start = MonotonicClock.nanoseconds()
        XCTAssertEqual(try wait(selector, .zero), [])
        XCTAssertEqual(try wait(selector, .milliseconds(-5)), [], "a negative timeout does not block either")
        XCTAssertLessThan(milliseconds(since: start), 1000)
        try selector.unregister(fd: a)
    }

    func testTimeoutWithNothingReady() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, _) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        let start = MonotonicClock.nanoseconds()
        XCTAssertEqual(try wait(selector, .milliseconds(50)), [])
        let elapsed = milliseconds(since: start)
        XCTAssertGreaterThanOrEqual(elapsed, 40)
        XCTAssertLessThan(elapsed, 5000)
        // The timer is reusable: a second timed wait behaves the same.
        let again = MonotonicClock.nanoseconds()
        XCTAssertEqual(try wait(selector, .milliseconds(50)), [])
        XCTAssertGreaterThanOrEqual(milliseconds(since: again), 40)
        try selector.unregister(fd: a)
    }

    func testTimeoutWithNoRegisteredFD() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let start = MonotonicClock.nanoseconds()
        XCTAssertEqual(try wait(selector, .milliseconds(50)), [])
        XCTAssertGreaterThanOrEqual(milliseconds(since: start), 40)
    }

    func testIOBeforeTimeoutEndsWaitEarly() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, b) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        send(b)
        let start = MonotonicClock.nanoseconds()
        XCTAssertEqual(events(for: a, in: try wait(selector, .seconds(30))), .readable)
        XCTAssertLessThan(milliseconds(since: start), 5000)
        // The timer armed by that wait was disarmed: a later non-blocking wait sees only I/O.
        var byte: UInt8 = 0
        XCTAssertEqual(read(a, &byte, 1), 1)
        XCTAssertEqual(try wait(selector, .zero), [])
        try selector.unregister(fd: a)
    }

    func testWakeupFromAnotherThreadEndsInfiniteWait() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        let (a, _) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        let thread = Thread {
            usleep(50_000)
            selector.wakeup()
        }
        thread.start()
        let start = MonotonicClock.nanoseconds()
        XCTAssertEqual(try wait(selector, nil), [], "a wakeup is never reported as an fd")
        XCTAssertLessThan(milliseconds(since: start), 5000)
        thread.join()
        try selector.unregister(fd: a)
    }

    func testWakeupBeforeWaitEndsNextWait() throws {
        let selector = try LibeventSelector()
        defer { selector.close() }
        selector.wakeup()
        selector.wakeup()
        let start = MonotonicClock.nanoseconds()
        XCTAssertEqual(try wait(selector, nil), [])
        XCTAssertLessThan(milliseconds(since: start), 5000)
        // Both wakeups were consumed by that one wait: the next one times out.
        let again = MonotonicClock.nanoseconds()
        XCTAssertEqual(try wait(selector, .milliseconds(50)), [])
        XCTAssertGreaterThanOrEqual(milliseconds(since: again), 40)
    }

    // MARK: - Many descriptors

    func testThousandFDsWithHalfReadableInOneWait() throws {
        try raiseDescriptorLimit(atLeast: 1200)
        let selector = try LibeventSelector()
        defer { selector.close() }
        var watched: [Int32] = []
        var readable: Set<Int32> = []
        for index in 0..<500 {
            let (a, b) = try socketPair()
            try selector.register(fd: a, interest: .readable)
            try selector.register(fd: b, interest: .readable)
            watched += [a, b]
            if index.isMultiple(of: 2) {
                send(b)
                send(a)
                readable.insert(a)
                readable.insert(b)
            }
        }
        XCTAssertEqual(watched.count, 1000)
        XCTAssertEqual(readable.count, 500)
        var buffer = ReadinessBuffer(capacity: 16)
        try selector.wait(timeout: .seconds(5), into: &buffer)
        XCTAssertEqual(buffer.count, 500)
        var seen: Set<Int32> = []
        for index in 0..<buffer.count {
            XCTAssertEqual(buffer[index].events, .readable)
            seen.insert(buffer[index].fd)
        }
        XCTAssertEqual(seen, readable)
        for fd in watched { try selector.unregister(fd: fd) }
        XCTAssertEqual(try wait(selector), [])
    }

    /// Raises the soft descriptor limit to at least `needed` (up to 4096), or skips.
    private func raiseDescriptorLimit(atLeast needed: rlim_t) throws {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw SystemError(errno: errno, call: "getrlimit")
        }
        if limit.rlim_cur >= needed { return }
        limit.rlim_cur = min(max(needed, 4096), limit.rlim_max)
        guard limit.rlim_cur >= needed else {
            throw XCTSkip("RLIMIT_NOFILE hard limit \(limit.rlim_max) is below \(needed)")
        }
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw SystemError(errno: errno, call: "setrlimit")
        }
    }

    // MARK: - Lifecycle and facts

    func testCloseIsIdempotentAndWakeupAfterCloseIsHarmless() throws {
        let selector = try LibeventSelector()
        let (a, _) = try socketPair()
        try selector.register(fd: a, interest: .readable)
        selector.close()
        selector.close()
        selector.wakeup()
        XCTAssertNoThrow(try selector.unregister(fd: a))
        XCTAssertThrowsError(try selector.register(fd: a, interest: .readable)) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .closed)
        }
        var buffer = ReadinessBuffer()
        XCTAssertThrowsError(try selector.wait(timeout: .zero, into: &buffer)) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .closed)
        }
    }

    func testWakeupsRacingCloseAreHarmless() throws {
        for _ in 0..<20 {
            let selector = try LibeventSelector()
            let threads = (0..<2).map { _ in
                Thread {
                    for _ in 0..<200 { selector.wakeup() }
                }
            }
            threads.forEach { $0.start() }
            selector.close()
            threads.forEach { $0.join() }
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

// MARK: - A minimal thread (no Foundation)

/// Runs a closure on a new pthread; `join()` waits for it.
private final class Thread: @unchecked Sendable {
    // Written once in `start`, read in `join` on the same thread.
    private var handle: pthread_t?
    private let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { arg in
            guard let arg else { return nil }
            let this = Unmanaged<Thread>.fromOpaque(arg).takeRetainedValue()
            this.body()
            return nil
        }, box)
        precondition(result == 0, "pthread_create failed: \(result)")
        handle = thread
    }

    func join() {
        if let handle { pthread_join(handle, nil) }
        handle = nil
    }
}

private func closeFD(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(fd)
    #elseif canImport(Musl)
    Musl.close(fd)
    #else
    Darwin.close(fd)
    #endif
}
