#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import LoopCore
import LoopPoll
import Synchronization
import XCTest

/// The poll backend's hooks, driven directly without a loop.
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

    func testReadableAfterPeerWrites() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(a, b) }
        try selector.register(fd: a, interest: .readable)

        var ready = ReadinessBuffer()
        try selector.wait(timeout: .zero, into: &ready)
        XCTAssertEqual(events(ready), [], "nothing written yet")

        writeByte(b)
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(events(ready), [ReadinessEvent(fd: a, events: .readable)])
    }

    func testWritableImmediately() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(a, b) }
        try selector.register(fd: a, interest: .writable)

        var ready = ReadinessBuffer()
        try selector.wait(timeout: .zero, into: &ready)
        XCTAssertEqual(events(ready), [ReadinessEvent(fd: a, events: .writable)])
    }

    func testModifyFromReadableToWritable() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(a, b) }
        try selector.register(fd: a, interest: .readable)
        writeByte(b)

        var ready = ReadinessBuffer()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(events(ready), [ReadinessEvent(fd: a, events: .readable)])

        try selector.modify(fd: a, interest: .writable)
        ready.removeAll()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(events(ready), [ReadinessEvent(fd: a, events: .writable)], "unread data must no longer be reported")

        try selector.modify(fd: a, interest: [.readable, .writable])
        ready.removeAll()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(events(ready), [ReadinessEvent(fd: a, events: [.readable, .writable])])
    }

    func testUnregisterStopsReports() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(a, b) }
        try selector.register(fd: a, interest: .readable)
        writeByte(b)

        var ready = ReadinessBuffer()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(ready.count, 1)

        try selector.unregister(fd: a)
        ready.removeAll()
        try selector.wait(timeout: .zero, into: &ready)
        XCTAssertEqual(events(ready), [], "an unregistered fd must not be reported although it is still readable")
    }

    func testZeroTimeoutReturnsAtOnceWithNothing() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(a, b) }
        try selector.register(fd: a, interest: .readable)

        var ready = ReadinessBuffer()
        let start = ContinuousClock.now
        try selector.wait(timeout: .zero, into: &ready)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
        XCTAssertTrue(ready.isEmpty)
    }

    func testTimeoutElapsesWhenNothingIsReady() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(a, b) }
        try selector.register(fd: a, interest: .readable)

        var ready = ReadinessBuffer()
        let start = ContinuousClock.now
        try selector.wait(timeout: .milliseconds(50), into: &ready)
        let elapsed = ContinuousClock.now - start
        XCTAssertTrue(ready.isEmpty)
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(40))
        XCTAssertLessThan(elapsed, .seconds(5))
    }

    func testWakeupFromAnotherThreadEndsAnInfiniteWait() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (watched, rescue) = try makeSocketPair()
        defer { closeAll(watched, rescue) }
        try selector.register(fd: watched, interest: .readable)

        let thread = try startThread {
            usleep(50_000)
            selector.wakeup()
            // Safety net: if the wakeup is lost, end the wait after 10 s through the
            // watched socket, so the test fails instead of hanging.
            if !waitReadable(rescue, milliseconds: 10_000) { writeByte(rescue) }
        }
        var ready = ReadinessBuffer()
        let start = ContinuousClock.now
        try selector.wait(timeout: nil, into: &ready)
        let elapsed = ContinuousClock.now - start
        writeByte(watched)  // releases the safety net
        pthread_join(thread, nil)

        XCTAssertEqual(events(ready), [], "the wakeup ends the wait and is never reported as an fd")
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(40), "the wait must not end before the wakeup")
    }

    func testWakeupBeforeWaitEndsTheNextWait() throws {
        let selector = try makeSelector()
        defer { selector.close() }

        selector.wakeup()
        selector.wakeup()
        var ready = ReadinessBuffer()
        let start = ContinuousClock.now
        try selector.wait(timeout: .seconds(10), into: &ready)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
        XCTAssertTrue(ready.isEmpty)

        // Both wakeups were consumed: the following wait sleeps out its timeout.
        let again = ContinuousClock.now
        try selector.wait(timeout: .milliseconds(50), into: &ready)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - again, .milliseconds(40))
        XCTAssertTrue(ready.isEmpty)
    }

    func testReportsFiveHundredReadyOfAThousandInOneWait() throws {
        try ensureDescriptorLimit(2_200)
        let selector = try makeSelector()
        defer { selector.close() }
        var pairs: [(Int32, Int32)] = []
        defer { for (a, b) in pairs { closeAll(a, b) } }
        for _ in 0..<1_000 {
            let pair = try makeSocketPair()
            pairs.append(pair)
            try selector.register(fd: pair.0, interest: .readable)
        }
        var expected = Set<Int32>()
        for (index, (a, b)) in pairs.enumerated() where index % 2 == 0 {
            writeByte(b)
            expected.insert(a)
        }

        var ready = ReadinessBuffer()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(ready.count, 500)
        XCTAssertEqual(Set(events(ready).map(\.fd)), expected)
        XCTAssertTrue(events(ready).allSatisfy { $0.events == .readable })
    }

    func testPeerCloseMakesTheFDReadable() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(a) }
        try selector.register(fd: a, interest: .readable)
        closeAll(b)

        var ready = ReadinessBuffer()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(events(ready).map(\.fd), [a])
        XCTAssertTrue(events(ready).first?.events.contains(.readable) ?? false)
        var byte: UInt8 = 0
        XCTAssertEqual(read(a, &byte, 1), 0, "the reader sees end of file")
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

    func testUnregisterOfAnAlreadyClosedFDDoesNotThrow() throws {
        let selector = try makeSelector()
        defer { selector.close() }
        let (a, b) = try makeSocketPair()
        defer { closeAll(b) }
        try selector.register(fd: a, interest: .readable)
        closeAll(a)
        XCTAssertNoThrow(try selector.unregister(fd: a))
        XCTAssertNoThrow(try selector.unregister(fd: a), "unregistering twice is not an error either")
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
        try XCTSkipIf(fd < 0, "no /proc here")
        defer { closeAll(fd) }
        try selector.register(fd: fd, interest: .readable)
        var ready = ReadinessBuffer()
        try selector.wait(timeout: .seconds(5), into: &ready)
        XCTAssertEqual(events(ready), [ReadinessEvent(fd: fd, events: .readable)])
    }

    func testCloseIsIdempotentAndWakeupAfterCloseIsHarmless() throws {
        let selector = try makeSelector()
        selector.close()
        selector.close()

        // The descriptors close() freed are the lowest free numbers, so these reuse
        // them: a wakeup now must not write into them.
        let first = try makeSocketPair()
        let second = try makeSocketPair()
        defer { closeAll(first.0, first.1, second.0, second.1) }
        selector.wakeup()
        for fd in [first.0, first.1, second.0, second.1] {
            XCTAssertFalse(waitReadable(fd, milliseconds: 0), "wakeup after close wrote to recycled fd \(fd)")
        }

        var ready = ReadinessBuffer()
        XCTAssertThrowsError(try selector.wait(timeout: .zero, into: &ready))
        XCTAssertNoThrow(try selector.unregister(fd: first.0))
    }

    func testWakeupsRacingWithCloseNeverTouchARecycledFD() throws {
        let selector = try makeSelector()
        let stop = StopFlag()
        let threads = try (0..<2).map { _ in
            try startThread {
                while !stop.isSet { selector.wakeup() }
            }
        }
        var ready = ReadinessBuffer()
        for _ in 0..<100 {
            try selector.wait(timeout: .seconds(5), into: &ready)
            XCTAssertTrue(ready.isEmpty)
        }
        selector.close()
        let (a, b) = try makeSocketPair()
        usleep(20_000)  // the threads keep calling wakeup() on the closed selector
        stop.set()
        for thread in threads { pthread_join(thread, nil) }
        XCTAssertFalse(waitReadable(a, milliseconds: 0), "wakeup after close wrote to recycled fd \(a)")
        XCTAssertFalse(waitReadable(b, milliseconds: 0), "wakeup after close wrote to recycled fd \(b)")
        closeAll(a, b)
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

private func writeByte(_ fd: Int32) {
    var byte: UInt8 = 1
    _ = write(fd, &byte, 1)
}

/// Whether `fd` becomes readable within `milliseconds`.
private func waitReadable(_ fd: Int32, milliseconds: Int32) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(truncatingIfNeeded: POLLIN), revents: 0)
    return poll(&entry, 1, milliseconds) > 0
}

private func ensureDescriptorLimit(_ needed: rlim_t) throws {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
        throw SystemError(errno: errno, call: "getrlimit")
    }
    if limit.rlim_cur >= needed { return }
    try XCTSkipIf(limit.rlim_max < needed, "RLIMIT_NOFILE hard limit \(limit.rlim_max) is below \(needed)")
    limit.rlim_cur = needed
    guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
        throw SystemError(errno: errno, call: "setrlimit")
    }
}

private final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Runs `body` on a new POSIX thread; join it with `pthread_join`.
private func startThread(_ body: @escaping @Sendable () -> Void) throws -> pthread_t {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, nil, { raw in
        if let raw { Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue().body() }
        return nil
    }, context)
    guard result == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        throw SystemError(errno: result, call: "pthread_create")
    }
    return thread
}
