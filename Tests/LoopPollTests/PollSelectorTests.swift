import Glibc
@_spi(Backend) import LoopCore
@_spi(Backend) import LoopPoll
import SelectorTestSupport
import XCTest

/// What is specific to the poll backend, its hooks driven directly without a loop.
/// The hook contract every backend keeps (readiness, modify, unregister, timeouts,
/// wakeups, close) is proved by the conformance cases HOOK-X01..X16.
final class PollSelectorTests: XCTestCase {
    private func makeSelector() throws -> PollSelector { try PollSelector() }

    private var descriptorsAtStart = 0

    override func setUp() {
        super.setUp()
        descriptorsAtStart = openDescriptorCount()
    }

    override func tearDown() {
        XCTAssertEqual(openDescriptorCount(), descriptorsAtStart, "the test leaked file descriptors")
        super.tearDown()
    }

    func testReportsItselfThroughNameDetailsAndDescriptor() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        XCTAssertEqual(selector.name, "poll")
        XCTAssertFalse(selector.details.isEmpty)
        XCTAssertEqual(PollSelector.descriptor.name, "poll")
        XCTAssertEqual(PollSelector.descriptor.priority, 10)
        XCTAssertFalse(PollSelector.descriptor.summary.isEmpty)
        XCTAssertTrue(PollSelector.descriptor.availability().isAvailable)
        let made = try PollSelector.descriptor.make()
        defer { made.close() }
        XCTAssertEqual(made.name, "poll")
        XCTAssertTrue(made is PollSelector)
    }

    func testHangUpIsReportedAsReadableAndWritable() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (fd, events) = try hangUpEvents(of: selector)
        XCTAssertEqual(events, [ReadinessEvent(fd: fd, events: [.readable, .writable])])
    }

    /// poll leaves descriptor validation to the loop: a negative fd is refused (it cannot
    /// be indexed), a non-negative fd that is not open is accepted and then reported as
    /// readable and writable (POLLNVAL) until it is unregistered.
    func testRegisterOfANegativeFDThrowsAndAClosedFDIsReportedReadableAndWritable() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        XCTAssertThrowsError(try selector.register(fd: -1, interest: .readable)) { error in
            XCTAssertEqual(error as? SystemError, SystemError(errno: EBADF, call: "PollSelector.register"))
        }

        let (a, b) = try makeSocketPair()
        closeAll(a, b)
        try selector.register(fd: a, interest: .readable)
        var ready = ReadinessBuffer()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(events(ready), [ReadinessEvent(fd: a, events: [.readable, .writable])])
        try selector.unregister(fd: a)
    }

    func testAnFDClosedBehindTheLoopsBackIsReportedReadableAndWritable() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(b) }
        try selector.register(fd: a, interest: .writable)
        closeAll(a)

        var ready = ReadinessBuffer()
        XCTAssertNoThrow(try selector.wait(timeout: .seconds(5), into: &ready))
        XCTAssertEqual(events(ready), [ReadinessEvent(fd: a, events: [.readable, .writable])])
        try selector.unregister(fd: a)
        ready.removeAll()
        try selector.wait(timeout: .zero, into: &ready)
        XCTAssertEqual(events(ready), [])
    }

    /// The errno contract is HOOK-X08 (conformance); poll also names the hook.
    func testRegisterTwiceAndModifyOfAnUnregisteredFDThrow() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(a, b) }
        XCTAssertThrowsError(try selector.modify(fd: a, interest: .readable)) { error in
            XCTAssertEqual(error as? SystemError, SystemError(errno: ENOENT, call: "PollSelector.modify"))
        }
        try selector.register(fd: a, interest: .readable)
        XCTAssertThrowsError(try selector.register(fd: a, interest: .writable)) { error in
            XCTAssertEqual(error as? SystemError, SystemError(errno: EEXIST, call: "PollSelector.register"))
        }
    }

    /// Unregistering moves the last entry into the hole; the moved fd must keep working.
    func testUnregisterKeepsTheOtherRegistrationsIntact() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        var pairs: [(Int32, Int32)] = []
        defer { for (a, b) in pairs { closeAll(a, b) } }
        for _ in 0..<4 {
            let pair = try makeSocketPair()
            pairs.append(pair)
            try selector.register(fd: pair.0, interest: .readable)
            writeByte(pair.1)
        }
        try selector.unregister(fd: pairs[0].0)
        try selector.unregister(fd: pairs[2].0)
        try selector.modify(fd: pairs[3].0, interest: .writable)

        var ready = ReadinessBuffer()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(
            Set(events(ready)),
            [ReadinessEvent(fd: pairs[1].0, events: .readable), ReadinessEvent(fd: pairs[3].0, events: .writable)]
        )

        try selector.register(fd: pairs[0].0, interest: .readable)
        try selector.unregister(fd: pairs[3].0)
        ready.removeAll()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(
            Set(events(ready)),
            [ReadinessEvent(fd: pairs[0].0, events: .readable), ReadinessEvent(fd: pairs[1].0, events: .readable)]
        )
    }

    func testWatchesARegularFile() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0, "Linux always has /proc/self/status")
        guard fd >= 0 else { return }
        defer { closeAll(fd) }
        try selector.register(fd: fd, interest: .readable)
        var ready = ReadinessBuffer()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(events(ready), [ReadinessEvent(fd: fd, events: .readable)])
    }
}

private func writeByte(_ fd: Int32) {
    var byte: UInt8 = 1
    _ = write(fd, &byte, 1)
}
