@_spi(Backend) import LoopCore
import Synchronization

/// BAD — bad input and misbehaving backends: every misuse throws a typed
/// ``LoopError`` whose message names the call, and nothing traps; a backend hook
/// that fails or breaks its contract is reported naming the backend and the hook,
/// and the loop stays usable.
enum BadInputCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("BAD-01", "a negative fd in addReader/addWriter is an argument error naming the call") { ctx in
            let loop = try ctx.makeLoop()
            for fd: Int32 in [-1, -42] {
                let reader = try ctx.expectLoopError(.invalidArgument, "addReader(\(fd))") { try loop.addReader(fd) {} }
                try expectNames(ctx, reader, "addReader")
                let writer = try ctx.expectLoopError(.invalidArgument, "addWriter(\(fd))") { try loop.addWriter(fd) {} }
                try expectNames(ctx, writer, "addWriter")
            }
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "watched descriptors")
            try loop.close()
        },
        ConformanceCase("BAD-02", "a closed fd in addReader/addWriter is an argument error naming the call") { ctx in
            let loop = try ctx.makeLoop()
            let (readEnd, writeEnd) = try ctx.pipe()
            ctx.close(readEnd)
            ctx.close(writeEnd)
            let reader = try ctx.expectLoopError(.invalidArgument, "addReader(closed fd)") { try loop.addReader(readEnd) {} }
            try expectNames(ctx, reader, "addReader")
            let writer = try ctx.expectLoopError(.invalidArgument, "addWriter(closed fd)") { try loop.addWriter(writeEnd) {} }
            try expectNames(ctx, writer, "addWriter")
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "watched descriptors")
            try loop.close()
        },
        ConformanceCase("BAD-03", "every scheduling call on a closed loop throws .closed naming the call") { ctx in
            let loop = try ctx.makeLoop()
            let (a, _) = try ctx.socketPair()
            let future = loop.createFuture(of: Int.self)
            try loop.close()
            let calls: [(String, () throws -> Void)] = [
                ("callSoon", { try loop.callSoon {} }),
                ("callSoonThreadsafe", { try loop.callSoonThreadsafe {} }),
                ("callLater", { try loop.callLater(.milliseconds(1)) {} }),
                ("callAt", { try loop.callAt(loop.time()) {} }),
                ("addReader", { try loop.addReader(a) {} }),
                ("addWriter", { try loop.addWriter(a) {} }),
                ("runForever", { try loop.runForever() }),
                ("runUntilComplete", { _ = try loop.runUntilComplete(future) }),
            ]
            for (call, body) in calls {
                let error = try ctx.expectLoopError(.closed, call, body)
                try expectNames(ctx, error, call)
            }
            // Removing watchers of a closed loop is harmless (asyncio returns False).
            try ctx.expectEqual(try loop.removeReader(a), false, "removeReader on a closed loop")
            try ctx.expectEqual(try loop.removeWriter(a), false, "removeWriter on a closed loop")
            try ctx.expect(!future.isDone, "the future passed to the refused run stays pending")
        },
        ConformanceCase("BAD-04", "running a running loop throws .alreadyRunning, from its callbacks and other threads") { ctx in
            let loop = try ctx.makeLoop()
            let errors = Recorder<String>()
            @Sendable func note(_ call: String, _ body: () throws -> Void) {
                do {
                    try body()
                    errors.record("\(call): no error")
                } catch let error as LoopError {
                    errors.record("\(call): \(error.kind)" + (error.message.contains(call) ? "" : " (unnamed: \(error.message))"))
                } catch {
                    errors.record("\(call): \(error)")
                }
            }
            try loop.callSoon {
                note("runForever") { try loop.runForever() }
                let future = loop.createFuture(of: Int.self)
                note("runUntilComplete") { _ = try loop.runUntilComplete(future) }
            }
            let thread = Box<CaseThread?>(nil)
            try loop.callSoon {
                // Another thread tries to run the loop while this thread runs it.
                let other = ctx.spawn {
                    note("runForever") { try loop.runForever() }
                }
                thread.value = other
                try ctx.expect(other.join(timeout: .seconds(5)), "the other thread did not finish")
                loop.stop()
            }
            try loop.runForever()
            try ctx.expectEqual(
                errors.all,
                ["runForever: alreadyRunning", "runUntilComplete: alreadyRunning", "runForever: alreadyRunning"],
                "nested and cross-thread runs")
            try ctx.expect(thread.value?.isFinished ?? false, "the other thread finished")
            try ctx.expect(!loop.isRunning, "the outer run ended")
            // The loop still runs normally afterwards.
            let ran = Recorder<String>()
            try loop.callSoon {
                ran.record("after")
                loop.stop()
            }
            try loop.runForever()
            try ctx.expectEqual(ran.all, ["after"], "a run after the refused ones")
            try loop.close()
        },
        ConformanceCase("BAD-05", "runUntilComplete of a second loop inside a running one throws .anotherLoopRunning") { ctx in
            let first = try ctx.makeLoop()
            let second = try ctx.makeLoop()
            let foreign = second.createFuture(of: Int.self)
            let caught = Box<LoopError?>(nil)
            try first.callSoon {
                do { _ = try second.runUntilComplete(foreign) } catch let error as LoopError { caught.value = error }
                first.stop()
            }
            try first.runForever()
            guard let error = caught.value else { throw ctx.failure("second.runUntilComplete inside first's run did not throw") }
            try ctx.expectEqual(error.kind, .anotherLoopRunning, "error kind (\(error.message))")
            try expectNames(ctx, error, "runUntilComplete")
            try ctx.expect(!second.isRunning && !foreign.isDone, "the second loop did not run")
            // Once the first loop has stopped, the second runs on this thread.
            try second.callSoon { try foreign.setResult(2) }
            try ctx.expectEqual(try second.runUntilComplete(foreign), 2, "the second loop's run afterwards")
            try first.close()
            try second.close()
        },
        ConformanceCase("BAD-06", "a non-finite callAt is an argument error; a negative delay means due now") { ctx in
            let loop = try ctx.makeLoop()
            let ran = Recorder<String>()
            for when in [Double.nan, .infinity, -.infinity] {
                let error = try ctx.expectLoopError(.invalidArgument, "callAt(\(when))") {
                    try loop.callAt(when) { ran.record("callAt(\(when))") }
                }
                try expectNames(ctx, error, "callAt")
            }
            try ctx.expectEqual(loop.snapshot.scheduledTimers, 0, "timers scheduled by refused calls")
            try loop.callLater(.seconds(-1)) {
                ran.record("negative delay")
                loop.stop()
            }
            let started = ctx.stopwatch()
            try loop.runForever()
            try ctx.expect(ContinuousClock.now - started < .seconds(2), "a negative delay must be due at once")
            try ctx.expectEqual(ran.all, ["negative delay"], "callbacks that ran")
            try loop.close()
        },
        ConformanceCase("BAD-07", "completing a done future throws .invalidState naming the call; the outcome is kept") { ctx in
            let loop = try ctx.makeLoop()
            let finished = loop.createFuture(of: Int.self)
            try finished.setResult(1)
            try expectNames(ctx, try ctx.expectLoopError(.invalidState, "setResult twice") { try finished.setResult(2) }, "setResult")
            try expectNames(
                ctx, try ctx.expectLoopError(.invalidState, "setException after setResult") { try finished.setException(BadBoom()) },
                "setException")
            try ctx.expectEqual(try finished.result(), 1, "the first result stays")

            let failed = loop.createFuture(of: Int.self)
            try failed.setException(BadBoom())
            try expectNames(ctx, try ctx.expectLoopError(.invalidState, "setException twice") { try failed.setException(BadBoom()) }, "setException")
            try expectNames(ctx, try ctx.expectLoopError(.invalidState, "setResult after setException") { try failed.setResult(3) }, "setResult")
            try ctx.expect(try failed.exception() is BadBoom, "the first error stays")

            let cancelled = loop.createFuture(of: Int.self)
            try ctx.expect(cancelled.cancel(), "cancel() of a pending future")
            try expectNames(ctx, try ctx.expectLoopError(.invalidState, "setResult after cancel") { try cancelled.setResult(4) }, "setResult")
            try ctx.expect(!cancelled.cancel(), "cancel() of a done future returns false")
            try ctx.expect(!finished.cancel(), "cancel() of a finished future returns false")

            let pending = loop.createFuture(of: Int.self)
            let error = try ctx.expectLoopError(.invalidArgument, "setException(CancelledError)") {
                try pending.setException(CancelledError())
            }
            try expectNames(ctx, error, "setException")
            try ctx.expect(!pending.isDone, "a refused setException leaves the future pending")
            try loop.close()
        },
        ConformanceCase("BAD-08", "result() and exception() of a pending future throw .invalidState naming the call") { ctx in
            let loop = try ctx.makeLoop()
            let pending = loop.createFuture(of: Int.self)
            try expectNames(ctx, try ctx.expectLoopError(.invalidState, "result() of a pending future") { _ = try pending.result() }, "result")
            try expectNames(
                ctx, try ctx.expectLoopError(.invalidState, "exception() of a pending future") { _ = try pending.exception() }, "exception")
            try ctx.expect(!pending.isDone, "the future stays pending")
            try pending.setResult(8)
            try ctx.expectEqual(try pending.result(), 8, "result once done")
            try loop.close()
        },
        ConformanceCase("BAD-09", "runUntilComplete with another loop's future throws .differentLoop and runs nothing") { ctx in
            let loop = try ctx.makeLoop()
            let other = try ctx.makeLoop()
            let foreign = other.createFuture(of: Int.self)
            let ran = Recorder<String>()
            try loop.callSoon { ran.record("queued") }
            let error = try ctx.expectLoopError(.differentLoop, "runUntilComplete(foreign future)") {
                _ = try loop.runUntilComplete(foreign)
            }
            try expectNames(ctx, error, "runUntilComplete")
            try ctx.expectEqual(ran.count, 0, "callbacks run by the refused call")
            try ctx.expect(!loop.isRunning, "the loop is not running")
            // The foreign future still completes normally on its own loop.
            try other.callSoon { try foreign.setResult(9) }
            try ctx.expectEqual(try other.runUntilComplete(foreign), 9, "the foreign future on its own loop")
            loop.stop()
            try loop.runForever()
            try ctx.expectEqual(ran.all, ["queued"], "the queued callback runs in a later run")
            try loop.close()
            try other.close()
        },
        ConformanceCase("BAD-10", "a throwing register hook becomes .backendFailure naming backend and hook; the loop goes on") { ctx in
            let (loop, backend) = try makeFaultyLoop(ctx)
            let (a, b) = try ctx.socketPair()
            backend.arm(.register)
            let error = try ctx.expectLoopError(.backendFailure, "addReader with a failing register hook") { try loop.addReader(a) {} }
            try expectNames(ctx, error, "addReader")
            try expectNames(ctx, error, backend.name)
            try expectNames(ctx, error, "register")
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "the fd must not count as watched")
            try ctx.expectEqual(try loop.removeReader(a), false, "removeReader of the refused fd")
            // With the hook working again the same fd can be watched.
            backend.disarm()
            let seen = Recorder<String>()
            try loop.addReader(a) {
                seen.record("readable")
                loop.stop()
            }
            try ctx.write(b, "x")
            try loop.runForever()
            try ctx.expectEqual(seen.all, ["readable"], "reader after the hook recovered")
            try ctx.expect(try loop.removeReader(a), "removeReader")
            try loop.close()
        },
        ConformanceCase("BAD-11", "a throwing modify hook fails addWriter with .backendFailure; the reader keeps working") { ctx in
            let (loop, backend) = try makeFaultyLoop(ctx)
            let (a, b) = try ctx.socketPair()
            let seen = Recorder<String>()
            try loop.addReader(a) {
                seen.record("readable")
                loop.stop()
            }
            backend.arm(.modify)
            let error = try ctx.expectLoopError(.backendFailure, "addWriter with a failing modify hook") {
                try loop.addWriter(a) { seen.record("writable") }
            }
            backend.disarm()
            try expectNames(ctx, error, "addWriter")
            try expectNames(ctx, error, backend.name)
            try expectNames(ctx, error, "modify")
            try ctx.expectEqual(try loop.removeWriter(a), false, "removeWriter: the refused writer was not installed")
            try ctx.write(b, "x")
            try loop.runForever()
            try ctx.expectEqual(seen.all, ["readable"], "callbacks after the refused addWriter")
            try ctx.expect(try loop.removeReader(a), "removeReader")
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "watched descriptors")
            try loop.close()
        },
        ConformanceCase("BAD-12", "a throwing unregister hook fails removeReader with .backendFailure; the fd is not watched") { ctx in
            let (loop, backend) = try makeFaultyLoop(ctx)
            let (a, _) = try ctx.socketPair()
            try loop.addReader(a) {}
            backend.arm(.unregister)
            let error = try ctx.expectLoopError(.backendFailure, "removeReader with a failing unregister hook") {
                try loop.removeReader(a)
            }
            backend.disarm()
            try expectNames(ctx, error, "removeReader")
            try expectNames(ctx, error, backend.name)
            try expectNames(ctx, error, "unregister")
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "the loop no longer watches the fd")
            try ctx.expectEqual(try loop.removeReader(a), false, "a second removeReader")
            try loop.close()
        },
        ConformanceCase("BAD-13", "a throwing wait hook ends the run with .backendFailure; the loop can run again") { ctx in
            let (loop, backend) = try makeFaultyLoop(ctx)
            let ran = Recorder<String>()
            try loop.callSoon { ran.record("first") }
            backend.arm(.wait)
            let error = try ctx.expectLoopError(.backendFailure, "runForever with a failing wait hook") { try loop.runForever() }
            backend.disarm()
            try expectNames(ctx, error, backend.name)
            try expectNames(ctx, error, "wait")
            try ctx.expect(!loop.isRunning, "the loop is not running after the failed run")
            try ctx.expect(RunningLoop.current == nil, "no running loop on this thread after the failed run")
            try loop.callSoon {
                ran.record("second")
                loop.stop()
            }
            try loop.runForever()
            try ctx.expect(ran.all.last == "second", "a run after the failure works, ran \(ran.all)")
            try loop.close()
        },
        ConformanceCase("BAD-14", "a wait hook reporting an unregistered fd is reported once; the loop keeps running") { ctx in
            let (loop, backend) = try makeFaultyLoop(ctx)
            let order = Recorder<String>()
            try loop.callSoon { order.record("soon") }
            try loop.callLater(.milliseconds(20)) {
                order.record("timer")
                loop.stop()
            }
            backend.arm(.bogusReadiness)
            try loop.runForever()
            try ctx.expectEqual(order.all, ["soon", "timer"], "callbacks around the bogus report")
            try ctx.expectEqual(backend.bogusReports, 1, "bogus events the backend reported")
            let calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "handler calls")
            try ctx.expect(calls[0].message.contains(backend.name), "the message must name the backend: \(calls[0].message)")
            try ctx.expect(calls[0].message.contains("wait"), "the message must name the hook: \(calls[0].message)")
            try ctx.expect(
                calls[0].message.contains("\(FaultyBackend.bogusDescriptor)"),
                "the message must name the fd: \(calls[0].message)")
            try loop.close()
        },
    ]

    /// Fails the case unless `error`'s message mentions `name` (the call, backend or hook).
    private static func expectNames(
        _ ctx: CaseContext, _ error: LoopError, _ name: String, file: StaticString = #fileID, line: UInt = #line
    ) throws {
        try ctx.expect(
            error.message.contains(name), "the message must name \(name): \"\(error.message)\"", file: file, line: line)
    }

    /// A loop on the backend under test, wrapped so the case can make hooks fail.
    /// The loop is the case's own (the harness does not track it): the case closes it.
    private static func makeFaultyLoop(_ ctx: CaseContext) throws -> (BaseEventLoop, FaultyBackend) {
        let backend = FaultyBackend(inner: try ctx.backend.make())
        return (ctx.makeLoop(on: backend), backend)
    }
}

/// Delegates every hook to the backend under test, except the ones a case arms to fail.
private final class FaultyBackend: DelegatingBackend, @unchecked Sendable {
    struct Faults: OptionSet {
        let rawValue: UInt8
        static let register = Faults(rawValue: 1 << 0)
        static let modify = Faults(rawValue: 1 << 1)
        static let unregister = Faults(rawValue: 1 << 2)
        static let wait = Faults(rawValue: 1 << 3)
        /// The next wait also reports ``FaultyBackend/bogusDescriptor``, which nobody registered.
        static let bogusReadiness = Faults(rawValue: 1 << 4)
    }

    /// A descriptor number no case registers.
    static let bogusDescriptor: Int32 = 60_999

    private let armed = Atomic<UInt8>(0)
    private let bogusCount = Atomic<Int>(0)

    func arm(_ faults: Faults) { armed.store(faults.rawValue, ordering: .sequentiallyConsistent) }
    func disarm() { armed.store(0, ordering: .sequentiallyConsistent) }
    var bogusReports: Int { bogusCount.load(ordering: .sequentiallyConsistent) }

    private func check(_ fault: Faults, _ hook: String) throws {
        if Faults(rawValue: armed.load(ordering: .sequentiallyConsistent)).contains(fault) { throw InjectedFault(hook: hook) }
    }

    override func register(fd: Int32, interest: IOEvents) throws {
        try check(.register, "register")
        try inner.register(fd: fd, interest: interest)
    }

    override func modify(fd: Int32, interest: IOEvents) throws {
        try check(.modify, "modify")
        try inner.modify(fd: fd, interest: interest)
    }

    override func unregister(fd: Int32) throws {
        try check(.unregister, "unregister")
        try inner.unregister(fd: fd)
    }

    override func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        try check(.wait, "wait")
        try inner.wait(timeout: timeout, into: &ready)
        // Report the bogus fd once, then behave.
        let faults = armed.load(ordering: .sequentiallyConsistent)
        if Faults(rawValue: faults).contains(.bogusReadiness),
            armed.compareExchange(
                expected: faults, desired: faults & ~Faults.bogusReadiness.rawValue, ordering: .sequentiallyConsistent
            ).exchanged
        {
            bogusCount.add(1, ordering: .sequentiallyConsistent)
            ready.append(fd: Self.bogusDescriptor, events: .readable)
        }
    }
}

private struct InjectedFault: Error, CustomStringConvertible {
    let hook: String
    var description: String { "injected failure of the \(hook) hook" }
}

private struct BadBoom: Error {}

/// A mutable value shared by closures that run on the case's thread.
private final class Box<Value>: @unchecked Sendable {
    // @unchecked: written and read on the case's thread (from loop callbacks it runs).
    var value: Value
    init(_ value: Value) { self.value = value }
}
