#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import LoopCore
import LoopEpoll
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
        let (a, b) = try makeSocketPair()
        defer { closeAll(a) }
        try selector.register(fd: a, interest: .writable)
        closeAll(b)

        var ready = ReadinessBuffer()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(events(ready), [ReadinessEvent(fd: a, events: [.readable, .writable])])
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
        try XCTSkipIf(fd < 0, "no /proc here")
        defer { closeAll(fd) }
        XCTAssertThrowsError(try selector.register(fd: fd, interest: .readable)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, EPERM)
        }
    }
}

// MARK: - Helpers

/// How many descriptors the process has open (-1 without /proc).
private func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count
}

private func events(_ buffer: ReadinessBuffer) -> [ReadinessEvent] {
    (0..<buffer.count).map { buffer[$0] }
}

private func makeSocketPair() throws -> (Int32, Int32) {
    var fds: [Int32] = [-1, -1]
    // Non-blocking, so a test that goes wrong fails instead of hanging in read or write.
    let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
    guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
        throw SystemError(errno: errno, call: "socketpair")
    }
    return (fds[0], fds[1])
}

private func closeAll(_ fds: Int32...) {
    for fd in fds { _ = close(fd) }
}
