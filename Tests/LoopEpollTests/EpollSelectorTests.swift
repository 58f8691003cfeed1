import Glibc
@_spi(Backend) import LoopCore
@_spi(Backend) import LoopEpoll
import SelectorTestSupport
import XCTest

/// What is specific to the epoll backend, its hooks driven directly without a loop.
/// The hook contract every backend keeps (readiness, modify, unregister, timeouts,
/// wakeups, close) is proved by the conformance cases HOOK-X01..X16.
final class EpollSelectorTests: XCTestCase {
    private func makeSelector() throws -> EpollSelector { try EpollSelector() }

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
        XCTAssertEqual(selector.name, "epoll")
        XCTAssertFalse(selector.details.isEmpty)
        XCTAssertEqual(EpollSelector.descriptor.name, "epoll")
        XCTAssertEqual(EpollSelector.descriptor.priority, 30)
        XCTAssertFalse(EpollSelector.descriptor.summary.isEmpty)
        XCTAssertTrue(EpollSelector.descriptor.availability().isAvailable)
        let made = try EpollSelector.descriptor.make()
        defer { made.close() }
        XCTAssertEqual(made.name, "epoll")
        XCTAssertTrue(made is EpollSelector)
    }

    func testHangUpIsReportedAsReadableAndWritable() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (fd, events) = try hangUpEvents(of: selector)
        XCTAssertEqual(events, [ReadinessEvent(fd: fd, events: [.readable, .writable])])
    }

    /// The errno contract is HOOK-X08 (conformance); epoll also names the operation.
    func testErrorsNameTheEpollCtlOperation() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        XCTAssertThrowsError(try selector.register(fd: -1, interest: .readable)) { error in
            XCTAssertEqual(error as? SystemError, SystemError(errno: EBADF, call: "epoll_ctl(ADD)"))
        }
        let (a, b) = try makeSocketPair()
        defer { closeAll(a, b) }
        XCTAssertThrowsError(try selector.modify(fd: a, interest: .readable)) { error in
            XCTAssertEqual(error as? SystemError, SystemError(errno: ENOENT, call: "epoll_ctl(MOD)"))
        }
        try selector.register(fd: a, interest: .readable)
        XCTAssertThrowsError(try selector.register(fd: a, interest: .writable)) { error in
            XCTAssertEqual(error as? SystemError, SystemError(errno: EEXIST, call: "epoll_ctl(ADD)"))
        }
    }

    func testRegisterOfARegularFileThrowsEPERM() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0, "Linux always has /proc/self/status")
        guard fd >= 0 else { return }
        defer { closeAll(fd) }
        XCTAssertThrowsError(try selector.register(fd: fd, interest: .readable)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, EPERM)
        }
    }
}
