@_spi(Backend) import LoopCore
import Glibc
@_spi(Testing) @_spi(Backend) import LoopUring
@_spi(Backend) import LoopEpoll
import Loops
import SelectorTestSupport
import XCTest

/// What is specific to the io_uring backend, its hooks driven directly without a loop.
/// The hook contract every backend keeps is proved by the conformance cases HOOK-X01..X16
/// (run on io_uring by ConformanceTests); these are the URING-Xnn extras.
final class UringSelectorTests: XCTestCase {
    private var descriptorsAtStart = 0

    override func setUp() {
        super.setUp()
        descriptorsAtStart = openDescriptorCount()
    }

    override func tearDown() {
        XCTAssertEqual(openDescriptorCount(), descriptorsAtStart, "the test leaked file descriptors")
        super.tearDown()
    }

    private func wait(_ selector: UringSelector, _ timeout: Duration?) throws -> [ReadinessEvent] {
        var ready = ReadinessBuffer()
        try selector.wait(timeout: timeout, into: &ready)
        return events(ready)
    }

    /// URING-X01: name, descriptor, capabilities.
    func testReportsItselfThroughNameDetailsAndDescriptor() throws {
        let selector = try UringSelector()
        defer { selector.close() }
        XCTAssertEqual(selector.name, "io_uring")
        XCTAssertFalse(selector.details.isEmpty)
        XCTAssertEqual(UringSelector.descriptor.name, "io_uring")
        XCTAssertLessThan(UringSelector.descriptor.priority, EpollSelector.descriptor.priority)
        XCTAssertTrue(UringSelector.descriptor.availability().isAvailable)
        XCTAssertTrue(selector.capabilities.contains(.regularFiles))
    }

    /// URING-X02: the unavailable path. A failing probe makes the backend unavailable with
    /// the reason; asking for it by name fails with that reason; the default is epoll.
    func testAFailingProbeMakesItUnavailableWithTheReasonAndTheDefaultFallsToEpoll() throws {
        for (result, word) in [(-ENOSYS, "ENOSYS"), (-EPERM, "EPERM")] {
            let availability = UringProbe.availability(setupResult: result)
            guard case .unavailable(let reason) = availability else {
                return XCTFail("setup result \(result) must make io_uring unavailable")
            }
            XCTAssertTrue(reason.contains(word), reason)
            let registry = BackendRegistry()
            try registry.register(EpollSelector.descriptor)
            try registry.register(UringSelector.descriptor(probe: { availability }))
            XCTAssertEqual(try registry.choose(environment: [:]).descriptor.name, "epoll")
            XCTAssertThrowsError(try registry.choose(environment: ["LOOP_BACKEND": "io_uring"])) { error in
                XCTAssertEqual((error as? LoopError)?.kind, .backendUnavailable)
                XCTAssertTrue("\(error)".contains(reason), "\(error)")
            }
        }
        XCTAssertTrue(UringProbe.availability(setupResult: 0).isAvailable)
    }

    /// URING-X03: a regular file is watched and reported always ready (poll(2) semantics),
    /// at every wait, until unregistered.
    func testRegularFileIsReportedAlwaysReady() throws {
        let selector = try UringSelector()
        defer { selector.close() }
        let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { closeAll(fd) }
        try selector.register(fd: fd, interest: .readable)
        for _ in 0..<3 {
            XCTAssertEqual(try wait(selector, .seconds(5)), [ReadinessEvent(fd: fd, events: .readable)])
        }
        try selector.unregister(fd: fd)
        XCTAssertEqual(try wait(selector, .zero), [])
    }

    /// URING-X04: more fds than the SQ has entries: the SQ is submitted when full, no
    /// registration is lost.
    func testMoreFdsThanTheRingHoldsAreAllWatched() throws {
        let selector = try UringSelector(entries: 4)
        defer { selector.close() }
        var pairs: [(Int32, Int32)] = []
        defer { for (a, b) in pairs { closeAll(a, b) } }
        for _ in 0..<40 {
            let pair = try makeSocketPair()
            pairs.append(pair)
            try selector.register(fd: pair.0, interest: .writable)
        }
        let ready = try wait(selector, .seconds(5))
        XCTAssertEqual(Set(ready.map(\.fd)), Set(pairs.map(\.0)))
        XCTAssertEqual(ready.count, 40, "one event per fd")
        for (a, _) in pairs { try selector.unregister(fd: a) }
        XCTAssertEqual(try wait(selector, .zero), [])
    }

    /// URING-X05: EBUSY and EAGAIN from io_uring_enter (injected) leave the SQEs queued:
    /// the events come on a later wait, none is lost.
    func testEBUSYAndEAGAINFromTheKernelLoseNoSubmission() throws {
        let selector = try UringSelector(entries: 4)
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(a, b) }
        try selector.register(fd: a, interest: .writable)
        selector.injectedSubmitErrors = [-EBUSY, -EAGAIN]
        var seen: [ReadinessEvent] = []
        for _ in 0..<3 where seen.isEmpty { seen = try wait(selector, .milliseconds(50)) }
        XCTAssertEqual(seen, [ReadinessEvent(fd: a, events: .writable)])
        XCTAssertTrue(selector.injectedSubmitErrors.isEmpty)
        // A full SQ while the kernel refuses: register still queues everything.
        var pairs: [(Int32, Int32)] = []
        defer { for (x, y) in pairs { closeAll(x, y) } }
        selector.injectedSubmitErrors = [-EBUSY, -EAGAIN, -EBUSY]
        for _ in 0..<10 {
            let pair = try makeSocketPair()
            pairs.append(pair)
            try selector.register(fd: pair.0, interest: .writable)
        }
        let ready = try wait(selector, .seconds(5))
        XCTAssertEqual(Set(ready.map(\.fd)), Set(pairs.map(\.0) + [a]))
    }

    /// URING-X06: completions for an fd unregistered since (the fd ready, its CQE already
    /// in the CQ ring) are dropped by generation, never reported, also once the number is
    /// registered again.
    func testCompletionsOfAnUnregisteredFdAreNeverReported() throws {
        let selector = try UringSelector()
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(b) }
        try selector.register(fd: a, interest: .readable)
        XCTAssertEqual(try wait(selector, .zero), [])
        _ = Glibc.write(b, "x", 1)
        usleep(10_000)  // the poll's CQE is posted now, unread
        try selector.unregister(fd: a)
        closeAll(a)
        let (c, d) = try makeSocketPair()  // c usually reuses a's number
        defer { closeAll(c, d) }
        try selector.register(fd: c, interest: .readable)
        XCTAssertEqual(try wait(selector, .milliseconds(20)), [], "the stale readable of a must not be reported")
        XCTAssertGreaterThan(selector.staleCompletions, 0, "the stale completion was seen and dropped")
    }

    /// URING-X07: wakeup after close does nothing, wait after close throws LoopError.closed.
    func testClosedRingAtWakeupIsHarmless() throws {
        let selector = try UringSelector()
        selector.close()
        selector.wakeup()
        selector.close()
        XCTAssertThrowsError(try wait(selector, .zero)) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .closed)
        }
        XCTAssertThrowsError(try selector.register(fd: 0, interest: .readable))
    }

    /// URING-X08: the hang-up of a socket is reported (as readable and writable, within the
    /// interest), and a bad fd is refused with EBADF at once.
    func testHangUpAndBadDescriptor() throws {
        let selector = try UringSelector()
        defer { selector.close() }
        let (fd, events) = try hangUpEvents(of: selector)
        XCTAssertEqual(events, [ReadinessEvent(fd: fd, events: .writable)])
        try selector.unregister(fd: fd)
        XCTAssertThrowsError(try selector.register(fd: -1, interest: .readable)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, EBADF)
        }
    }
}
