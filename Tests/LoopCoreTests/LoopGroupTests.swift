import CLoopShims
import Glibc
import LoopCore
import Loops
import Synchronization
import XCTest

/// LoopGroup: round robin, one thread per loop, pinning, shutdown (joins, cleans up,
/// bounded) and bad input. Extra catalogue IDs GROUP-X10…GROUP-X19.
final class LoopGroupTests: XCTestCase {
    override func setUp() {
        BuiltinBackends.register()
    }

    /// GROUP-X10: next() hands the loops out in order, over and over; each loop runs
    /// on its own thread, none the caller's.
    func testNextIsRoundRobinAndEachLoopHasItsThread() throws {
        let group = try LoopGroup(loops: 3)
        defer { try? group.shutdown() }
        XCTAssertEqual(group.loops.count, 3)
        let handedOut = (0..<9).map { _ in group.next() }
        for (index, loop) in handedOut.enumerated() {
            XCTAssertTrue(loop === group.loops[index % 3], "next() #\(index)")
        }
        var threads: Set<UInt> = []
        for loop in group.loops {
            let thread = try runCoroutineThreadsafe(on: loop) { () async -> UInt in
                RunningLoop.current === loop ? cloop_thread_id() : 0
            }.result(timeout: .seconds(10))
            XCTAssertNotEqual(thread, 0, "the task must run on its loop")
            threads.insert(thread)
        }
        XCTAssertEqual(threads.count, 3, "one thread per loop")
        XCTAssertFalse(threads.contains(cloop_thread_id()), "no loop runs on the caller's thread")
        XCTAssertNil(group.currentLoop, "the test thread is no group loop")
    }

    /// GROUP-X11: a group of zero or fewer loops, an unknown backend and bad pinning are refused.
    func testBadInputIsRefused() {
        for count in [0, -1] {
            XCTAssertThrowsError(try LoopGroup(loops: count)) { error in
                XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument, "loops: \(count)")
                XCTAssertTrue("\(error)".contains("at least one loop"), "\(error)")
            }
        }
        XCTAssertThrowsError(try LoopGroup(loops: 1, backend: "no-such-backend")) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .backendUnavailable)
        }
        XCTAssertThrowsError(try LoopGroup(loops: 1, pinning: .cpus([]))) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument)
        }
        XCTAssertThrowsError(try LoopGroup(loops: 1, pinning: .cpus([-1]))) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument)
        }
        XCTAssertThrowsError(try LoopGroup(loops: 1, pinning: .cpus([Int(cloop_cpu_set_size()) + 5]))) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument)
        }
    }

    /// GROUP-X12: a named backend is used by every loop.
    func testNamedBackend() throws {
        let group = try LoopGroup(loops: 2, backend: "poll")
        defer { try? group.shutdown() }
        XCTAssertEqual(group.loops.map(\.backendName), ["poll", "poll"])
    }

    /// GROUP-X13: shutdown stops, cleans up and closes every loop and joins its thread;
    /// a second shutdown and work submitted afterwards are refused with typed errors.
    func testShutdownJoinsAndRefusesLaterWork() throws {
        let threadsBefore = Self.threadCount()
        let group = try LoopGroup(loops: 2)
        XCTAssertEqual(Self.threadCount(), threadsBefore + 2)
        try group.shutdown()
        XCTAssertTrue(group.isShutDown)
        for loop in group.loops {
            XCTAssertTrue(loop.isClosed)
            XCTAssertFalse(loop.isRunning)
        }
        XCTAssertEqual(Self.threadCount(), threadsBefore, "the loop threads are joined")
        XCTAssertThrowsError(try group.shutdown()) { XCTAssertEqual(($0 as? LoopError)?.kind, .invalidState) }
        XCTAssertThrowsError(try group.shutdownGracefully(timeout: .seconds(1))) { XCTAssertEqual(($0 as? LoopError)?.kind, .invalidState) }
        XCTAssertThrowsError(try group.callSoonThreadsafe {}) { XCTAssertEqual(($0 as? LoopError)?.kind, .closed) }
        XCTAssertThrowsError(try group.runCoroutineThreadsafe { 1 }) { XCTAssertEqual(($0 as? LoopError)?.kind, .closed) }
        XCTAssertThrowsError(try group.next().callSoonThreadsafe {}) { XCTAssertEqual(($0 as? LoopError)?.kind, .closed) }
        XCTAssertThrowsError(try runCoroutineThreadsafe(on: group.next()) { 1 }) { XCTAssertEqual(($0 as? LoopError)?.kind, .closed) }
    }

    /// GROUP-X14: tasks still running at shutdown are cancelled and awaited (their
    /// cleanup runs); the thread-safe futures of work submitted before complete.
    func testShutdownCancelsAndAwaitsPendingTasks() throws {
        let group = try LoopGroup(loops: 2)
        let cleanedUp = Atomic<Int>(0)
        var futures: [ConcurrentFuture<Void>] = []
        for _ in 0..<4 {
            futures.append(try group.runCoroutineThreadsafe {
                do {
                    try await sleep(.seconds(3600))
                } catch {
                    cleanedUp.add(1, ordering: .relaxed)
                    throw error
                }
            })
        }
        // Let every task start before the shutdown.
        for loop in group.loops { _ = try runCoroutineThreadsafe(on: loop) { 0 }.result(timeout: .seconds(10)) }
        try group.shutdownGracefully(timeout: .seconds(10))
        XCTAssertEqual(cleanedUp.load(ordering: .relaxed), 4, "every task's cancellation ran")
        for future in futures {
            XCTAssertTrue(future.isDone)
            XCTAssertTrue(future.isCancelled)
        }
    }

    /// GROUP-X15: a user's loop.stop() does not end a group loop: it runs again.
    func testStopFromUserCodeDoesNotEndTheLoop() throws {
        let group = try LoopGroup(loops: 1)
        defer { try? group.shutdown() }
        let loop = group.loops[0]
        try loop.callSoonThreadsafe { loop.stop() }
        XCTAssertEqual(try runCoroutineThreadsafe(on: loop) { 7 }.result(timeout: .seconds(10)), 7)
    }

    /// GROUP-X16: shutting the group down from one of its loops would wait for itself: refused.
    func testShutdownFromAGroupLoopIsRefused() throws {
        let group = try LoopGroup(loops: 2)
        defer { try? group.shutdown() }
        let kind = try group.runCoroutineThreadsafe { () async -> String in
            do {
                try group.shutdownGracefully(timeout: .seconds(1))
                return "no error"
            } catch let error as LoopError {
                return "\(error.kind)"
            } catch {
                return "\(error)"
            }
        }.result(timeout: .seconds(10))
        XCTAssertEqual(kind, "wrongThread")
        XCTAssertFalse(group.isShutDown)
    }

    /// GROUP-X17: a loop blocked in a callback past the deadline → TimeoutError within
    /// the timeout plus the one-second grace; the thread then ends alone, its loop closed.
    func testShutdownIsBoundedWhenACallbackBlocks() throws {
        let group = try LoopGroup(loops: 2)
        let loop = group.loops[1]
        let entered = ConcurrentFuture<Void>()
        try loop.callSoonThreadsafe {
            _ = try? entered.setRunningOrNotifyCancel()
            try? entered.setResult(())
            usleep(2_500_000)
        }
        try entered.result(timeout: .seconds(10))
        let start = ContinuousClock.now
        XCTAssertThrowsError(try group.shutdownGracefully(timeout: .milliseconds(100))) { error in
            XCTAssertTrue(error is TimeoutError, "\(error)")
            XCTAssertTrue("\(error)".contains("loop 1"), "\(error)")
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2), "bounded by timeout + grace")
        XCTAssertTrue(group.loops[0].isClosed)
        let deadline = ContinuousClock.now + .seconds(10)
        while !loop.isClosed && ContinuousClock.now < deadline { usleep(10_000) }
        XCTAssertTrue(loop.isClosed, "the blocked loop closes once its callback returns")
    }

    /// GROUP-X18: pinning puts every loop thread on the CPU asked for.
    func testPinning() throws {
        let group = try LoopGroup(loops: 2, pinning: .cpus([0]))
        defer { try? group.shutdown() }
        for loop in group.loops {
            let allowed = try runCoroutineThreadsafe(on: loop) { () async -> [Int] in
                (0..<Int(cloop_online_cpu_count())).filter { cloop_cpu_allowed(Int32($0)) == 1 }
            }.result(timeout: .seconds(10))
            XCTAssertEqual(allowed, [0])
        }
        let spread = try LoopGroup(loops: 2, pinning: .spread)
        defer { try? spread.shutdown() }
        let expected = cloop_online_cpu_count() >= 2 ? [[0], [1]] : [[0], [0]]
        var got: [[Int]] = []
        for loop in spread.loops {
            got.append(try runCoroutineThreadsafe(on: loop) { () async -> [Int] in
                (0..<Int(cloop_online_cpu_count())).filter { cloop_cpu_allowed(Int32($0)) == 1 }
            }.result(timeout: .seconds(10)))
        }
        XCTAssertEqual(got, expected)
    }

    /// GROUP-X19: the default size is one loop per online CPU.
    func testDefaultLoopCount() throws {
        XCTAssertEqual(LoopGroup.defaultLoopCount, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let group = try LoopGroup()
        defer { try? group.shutdown() }
        XCTAssertEqual(group.loops.count, LoopGroup.defaultLoopCount)
    }

    static func threadCount() -> Int {
        guard let dir = opendir("/proc/self/task") else { return -1 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { count += 1 }
        }
        return count
    }
}
