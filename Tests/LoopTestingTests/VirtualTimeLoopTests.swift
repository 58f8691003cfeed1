import Glibc
import LoopCore
import LoopPoll
import LoopTesting
import Synchronization
import XCTest

/// The virtual-time loop: the clock moves only when the test says, timers fire at
/// their own deadlines, fds and cross-thread calls still work, and a loop left running
/// with a far timer does not spin.
final class VirtualTimeLoopTests: XCTestCase {
    private func makeLoop(
        start: Double = 0, idlePolicy: VirtualClockBackend.IdlePolicy = .manual
    ) throws -> VirtualTimeLoop {
        VirtualTimeLoop(wrapping: try PollSelector(), start: start, idlePolicy: idlePolicy)
    }

    func testTheClockStandsStillUntilAdvanced() throws {
        let test = try makeLoop(start: 100)
        XCTAssertEqual(test.now, 100)
        XCTAssertEqual(test.loop.time(), 100)
        XCTAssertEqual(test.loop.backendName, "virtual")
        XCTAssertFalse(test.loop.capabilities.contains(.realTime))
        XCTAssertTrue(test.loop.capabilities.contains(.crossThreadWakeup))
        var fired = false
        try test.loop.callLater(.milliseconds(1)) { fired = true }
        try test.runUntilIdle()
        XCTAssertFalse(fired, "a timer 1 ms ahead must not fire while the clock stands still")
        XCTAssertEqual(test.now, 100)
        try test.advance(by: .milliseconds(1))
        XCTAssertTrue(fired)
        XCTAssertEqual(test.now, 100.001, accuracy: 1e-12)
        try test.close()
    }

    func testAdvanceRunsEveryTimerAtItsOwnDeadlineInOrder() throws {
        let test = try makeLoop()
        var fired: [String] = []
        try test.loop.callLater(.seconds(3)) { fired.append("c@\(test.loop.time())") }
        try test.loop.callLater(.seconds(1)) {
            fired.append("a@\(test.loop.time())")
            // Scheduled on the way, still inside the advanced span: it fires too.
            try test.loop.callLater(.seconds(1)) { fired.append("b@\(test.loop.time())") }
        }
        try test.loop.callLater(.seconds(10)) { fired.append("late") }
        try test.advance(by: .seconds(5))
        XCTAssertEqual(fired, ["a@1.0", "b@2.0", "c@3.0"])
        XCTAssertEqual(test.now, 5)
        XCTAssertEqual(test.loop.snapshot.scheduledTimers, 1)
        try test.advance(to: 10)
        XCTAssertEqual(fired.last, "late")
        try test.close()
    }

    func testAnHourOfTimersTakesNoRealTime() throws {
        let test = try makeLoop()
        var count = 0
        for minute in 1...60 {
            try test.loop.callLater(.seconds(60 * minute)) { count += 1 }
        }
        let started = ContinuousClock.now
        try test.advance(by: .seconds(3600))
        XCTAssertEqual(count, 60)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        try test.close()
    }

    /// What a user tests with it: their own timeout logic.
    func testATimeoutHelperFiresOnlyWhenItsTimeComes() throws {
        let test = try makeLoop()
        let future = test.loop.createFuture(of: String.self)
        let timeout = try test.loop.callLater(.seconds(30)) {
            if !future.isDone { try future.setException(TimedOut()) }
        }
        try test.advance(by: .seconds(29.999))
        XCTAssertFalse(future.isDone)
        try future.setResult("answer")
        timeout.cancel()
        try test.advance(by: .seconds(1))
        XCTAssertEqual(try future.result(), "answer")

        let slow = test.loop.createFuture(of: String.self)
        try test.loop.callLater(.seconds(30)) {
            if !slow.isDone { try slow.setException(TimedOut()) }
        }
        try test.advance(by: .seconds(30))
        XCTAssertTrue(try slow.exception() is TimedOut)
        try test.close()
    }

    func testRunUntilIdleRunsChainsAndDueTimersButNotFutureOnes() throws {
        let test = try makeLoop()
        var order: [String] = []
        try test.loop.callSoon {
            order.append("a")
            try test.loop.callSoon {
                order.append("b")
                try test.loop.callLater(.zero) { order.append("due") }
            }
        }
        try test.loop.callLater(.seconds(1)) { order.append("future") }
        try test.runUntilIdle()
        XCTAssertEqual(order, ["a", "b", "due"])
        XCTAssertEqual(test.now, 0)
        XCTAssertEqual(test.loop.snapshot.scheduledTimers, 1)
        try test.advance(by: .seconds(1))
        try test.close()
    }

    func testFileDescriptorsAreWatchedByTheWrappedBackend() throws {
        let test = try makeLoop()
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        defer { for fd in fds { _ = Glibc.close(fd) } }
        var seen: [String] = []
        try test.loop.addReader(fds[0]) {
            var byte: UInt8 = 0
            _ = read(fds[0], &byte, 1)
            seen.append("read \(Character(UnicodeScalar(byte)))")
        }
        try test.runUntilIdle()
        XCTAssertEqual(seen, [])
        var byte = UInt8(ascii: "x")
        XCTAssertEqual(write(fds[1], &byte, 1), 1)
        try test.runUntilIdle()
        XCTAssertEqual(seen, ["read x"])
        XCTAssertTrue(try test.loop.removeReader(fds[0]))
        try test.close()
    }

    func testBadCallsAreTypedErrors() throws {
        let test = try makeLoop()
        XCTAssertEqual(kind { try test.advance(by: .seconds(-1)) }, .invalidArgument)
        XCTAssertEqual(kind { try test.advance(to: .nan) }, .invalidArgument)
        XCTAssertEqual(kind { try test.clock.advanceClock(by: .seconds(-1)) }, .invalidArgument)
        var inside: LoopError.Kind?
        try test.loop.callSoon { inside = self.kind { try test.advance(by: .seconds(1)) } }
        try test.runUntilIdle()
        XCTAssertEqual(inside, .alreadyRunning)
        // A callback that always reschedules itself never lets the loop go idle.
        func again() throws { try test.loop.callSoon { try again() } }
        try again()
        XCTAssertEqual(kind { try test.runUntilIdle(maxIterations: 50) }, .invalidState)
        test.loop.stop()
        try test.close()
        XCTAssertEqual(kind { try test.runUntilIdle() }, .closed)
    }

    func testTheClockNeverGoesBack() throws {
        let test = try makeLoop(start: 10)
        try test.advance(to: 5)
        XCTAssertEqual(test.now, 10)
        try test.clock.advanceClock(to: 3)
        XCTAssertEqual(test.now, 10)
        try test.clock.advanceClock(by: .milliseconds(500))
        XCTAssertEqual(test.now, 10.5)
        try test.close()
    }

    /// Manual policy: `runForever` with only a far timer blocks in the wrapped backend
    /// (few waits, no spinning) until another thread moves the clock.
    func testManualRunForeverWithAFarTimerBlocksUntilAnotherThreadMovesTheClock() throws {
        let counting = CountingBackend(inner: try PollSelector())
        let test = VirtualTimeLoop(clock: VirtualClockBackend(wrapping: counting))
        var fired: Double?
        try test.loop.callLater(.seconds(3600)) {
            fired = test.loop.time()
            test.loop.stop()
        }
        let clock = test.clock
        let mover = Thread {
            usleep(200_000)
            try? clock.advanceClock(by: .seconds(3600))
        }
        try test.loop.runForever()
        mover.join()
        XCTAssertEqual(fired, 3600)
        XCTAssertLessThan(counting.waits, 20, "a blocked virtual loop must not spin")
        try test.close()
    }

    func testManualRunForeverStopsFromAnotherThread() throws {
        let test = try makeLoop()
        let timer = try test.loop.callLater(.seconds(60)) { XCTFail("the clock moved by itself") }
        let loop = test.loop
        let stopper = Thread {
            usleep(50_000)
            _ = try? loop.callSoonThreadsafe { loop.stop() }
        }
        try test.loop.runForever()
        stopper.join()
        XCTAssertEqual(test.now, 0)
        timer.cancel()
        try test.close()
    }

    /// Jump policy: a running loop goes from timer to timer without waiting.
    func testJumpPolicyRunsFarTimersAtOnce() throws {
        let test = try makeLoop(idlePolicy: .jumpToNextTimer)
        var fired: [Double] = []
        try test.loop.callLater(.seconds(7200)) {
            fired.append(test.loop.time())
            test.loop.stop()
        }
        try test.loop.callLater(.seconds(60)) { fired.append(test.loop.time()) }
        let started = ContinuousClock.now
        try test.loop.runForever()
        XCTAssertEqual(fired, [60, 7200])
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        try test.close()
    }

    func testTheDescriptorMakesVirtualBackends() throws {
        let descriptor = VirtualClockBackend.descriptor(wrapping: PollSelector.descriptor, name: "virtual-poll")
        XCTAssertEqual(descriptor.name, "virtual-poll")
        XCTAssertTrue(descriptor.availability().isAvailable)
        let backend = try descriptor.make()
        defer { backend.close() }
        XCTAssertEqual(backend.name, "virtual-poll")
        XCTAssertEqual(backend.now(), 0)
        XCTAssertFalse(backend.capabilities.contains(.realTime))
        XCTAssertFalse(backend.details.isEmpty)
        XCTAssertEqual((backend as? VirtualClockBackend)?.idlePolicy, .jumpToNextTimer)
    }

    private func kind(_ body: () throws -> Void) -> LoopError.Kind? {
        do {
            try body()
            return nil
        } catch let error as LoopError {
            return error.kind
        } catch {
            return nil
        }
    }
}

private struct TimedOut: Error {}

/// Counts the waits of the backend it wraps.
private final class CountingBackend: ForwardingBackend, @unchecked Sendable {
    private let count = Atomic<Int>(0)

    init(inner: any SelectorBackend) { super.init(wrapping: inner) }

    var waits: Int { count.load(ordering: .relaxed) }
    override func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        count.add(1, ordering: .relaxed)
        try inner.wait(timeout: timeout, into: &ready)
    }
}

/// A plain pthread, joined by the test.
private final class Thread: @unchecked Sendable {
    // @unchecked: `thread` is written once in init, before anyone can join.
    private var thread = pthread_t()
    private let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        let unmanaged = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let me = Unmanaged<Thread>.fromOpaque(raw).takeRetainedValue()
            me.body()
            return nil
        }, unmanaged.toOpaque())
    }

    func join() { pthread_join(thread, nil) }
}
