import Glibc
import CLoopShims
import LoopCore

/// SIG — addSignalHandler / removeSignalHandler.
///
/// Handlers may only be installed from the process's main thread, so the cases that
/// install one are marked `needsMainThread` and do that step through
/// ``CaseContext/onMainThread(file:line:_:)``; the loop itself runs on the case thread.
/// The cases signal the process with SIGUSR1/SIGUSR2 only while a loop handler is
/// installed (their default action would end the process).
enum SignalCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("SIG-01", "the process signals itself: the callback runs on the loop thread, inside the loop; remove → true", needsMainThread: true) { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            try ctx.onMainThread {
                try loop.addSignalHandler(SIGUSR1) {
                    let (text, number) = ("x", 2)
                    seen.record("h(\(text), \(number)) running=\(loop.isRunning) loopThread=\(loop.isOnLoopThread) current=\(RunningLoop.current === loop)")
                    loop.stop()
                }
            }
            try loop.callSoon { try sendSignal(SIGUSR1) }
            try loop.runForever()
            try ctx.expectEqual(seen.all, ["h(x, 2) running=true loopThread=true current=true"], "callback runs")
            try ctx.expectEqual(try loop.removeSignalHandler(SIGUSR1), true, "removeSignalHandler(SIGUSR1)")
            try loop.close()
        },
        ConformanceCase("SIG-02", "remove with nothing installed → false; add, remove → true and the disposition is restored; again → false", needsMainThread: true) { ctx in
            let loop = try ctx.makeLoop()
            let before = Signals.disposition(of: SIGUSR2)
            try ctx.expectEqual(try loop.removeSignalHandler(SIGUSR2), false, "remove with nothing installed")
            try ctx.onMainThread { try loop.addSignalHandler(SIGUSR2) {} }
            try ctx.expectEqual(Signals.disposition(of: SIGUSR2), .loopHandler, "disposition while installed")
            try ctx.expectEqual(try loop.removeSignalHandler(SIGUSR2), true, "remove after add")
            try ctx.expectEqual(Signals.disposition(of: SIGUSR2), before, "disposition after remove (SIG_DFL in a plain process)")
            try ctx.expectEqual(try loop.removeSignalHandler(SIGUSR2), false, "remove again")
            try loop.close()
        },
        ConformanceCase("SIG-03", "SIGKILL and SIGSTOP → argument error 'sig N cannot be caught'") { ctx in
            let loop = try ctx.makeLoop()
            for signal in [SIGKILL, SIGSTOP] {
                let error = try ctx.expectLoopError(.invalidArgument, "addSignalHandler(\(signal))") {
                    try loop.addSignalHandler(signal) {}
                }
                try ctx.expect(error.message.contains("sig \(signal) cannot be caught"), "message: \(error.message)")
                try ctx.expectEqual(Signals.disposition(of: signal), .default, "disposition of \(signal)")
            }
            try loop.close()
        },
        ConformanceCase("SIG-04", "signal numbers 0, -1 and NSIG → argument error 'invalid signal number N' for add and remove") { ctx in
            let loop = try ctx.makeLoop()
            for signal in [0, -1, Signals.count] {
                let added = try ctx.expectLoopError(.invalidArgument, "addSignalHandler(\(signal))") {
                    try loop.addSignalHandler(signal) {}
                }
                try ctx.expect(added.message.contains("invalid signal number \(signal)"), "message: \(added.message)")
                let removed = try ctx.expectLoopError(.invalidArgument, "removeSignalHandler(\(signal))") {
                    try loop.removeSignalHandler(signal)
                }
                try ctx.expect(removed.message.contains("invalid signal number \(signal)"), "message: \(removed.message)")
            }
            try loop.close()
        },
        ConformanceCase("SIG-05", "addSignalHandler off the main thread → runtime error naming the main thread; nothing installed") { ctx in
            try ctx.expect(!MainThread.isCurrent, "the harness runs cases off the main thread")
            let loop = try ctx.makeLoop()
            let before = Signals.disposition(of: SIGUSR1)
            let error = try ctx.expectLoopError(.signalInstallFailed, "addSignalHandler(SIGUSR1) off the main thread") {
                try loop.addSignalHandler(SIGUSR1) {}
            }
            try ctx.expect(error.message.contains("main thread"), "message: \(error.message)")
            try ctx.expectEqual(Signals.disposition(of: SIGUSR1), before, "disposition after the refused add")
            try ctx.expectEqual(loop.watchedDescriptorCount, 0, "descriptors the loop watches")
            try ctx.expectEqual(try loop.removeSignalHandler(SIGUSR1), false, "removeSignalHandler after the refused add")
            try loop.close()
        },
        ConformanceCase("SIG-06", "a second addSignalHandler for a signal replaces the first callback", needsMainThread: true) { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            try ctx.onMainThread {
                try loop.addSignalHandler(SIGUSR1) { seen.record("first") }
                try loop.addSignalHandler(SIGUSR1) {
                    seen.record("second")
                    loop.stop()
                }
            }
            try loop.callSoon { try sendSignal(SIGUSR1) }
            try loop.runForever()
            try ctx.expectEqual(seen.all, ["second"], "callbacks run")
            try ctx.expectEqual(try loop.removeSignalHandler(SIGUSR1), true, "remove")
            try loop.close()
        },
        ConformanceCase("SIG-07", "a signal sent by another thread wakes a loop with nothing scheduled; the run ends in < 2 s", needsMainThread: true) { ctx in
            let loop = try ctx.makeLoop()
            try ctx.onMainThread { try loop.addSignalHandler(SIGUSR1) { loop.stop() } }
            let sender = ctx.spawn {
                usleep(100_000)
                try? sendSignal(SIGUSR1)
            }
            let clock = ctx.stopwatch()
            try loop.runForever()
            let elapsed = ContinuousClock.now - clock
            sender.join()
            try ctx.expect(elapsed < .seconds(2), "the sleeping loop took \(elapsed) to handle the signal")
            try ctx.expectEqual(try loop.removeSignalHandler(SIGUSR1), true, "remove")
            try loop.close()
        },
        ConformanceCase("SIG-08", "close() uninstalls every handler it installed; add after close → 'Event loop is closed'", needsMainThread: true) { ctx in
            let loop = try ctx.makeLoop()
            let before = (Signals.disposition(of: SIGUSR1), Signals.disposition(of: SIGUSR2))
            try ctx.onMainThread {
                try loop.addSignalHandler(SIGUSR1) {}
                try loop.addSignalHandler(SIGUSR2) {}
            }
            try loop.close()
            try ctx.expectEqual(Signals.disposition(of: SIGUSR1), before.0, "SIGUSR1 disposition after close")
            try ctx.expectEqual(Signals.disposition(of: SIGUSR2), before.1, "SIGUSR2 disposition after close")
            try ctx.onMainThread {
                try ctx.expectLoopError(.closed, "addSignalHandler on a closed loop") {
                    try loop.addSignalHandler(SIGUSR1) {}
                }
            }
            try ctx.expectEqual(try loop.removeSignalHandler(SIGUSR1), false, "remove after close")
        },
        ConformanceCase("SIG-09", "a throwing signal callback → one handler call with error and handle; the loop continues", needsMainThread: true) { ctx in
            let loop = try ctx.makeLoop()
            let record = ctx.recordingHandler
            loop.setExceptionHandler { errorLoop, context in
                try record(errorLoop, context)
                loop.stop()
            }
            try ctx.onMainThread {
                try loop.addSignalHandler(SIGUSR1) { throw SignalCaseError() }
            }
            try loop.callSoon { try sendSignal(SIGUSR1) }
            try loop.runForever()
            let calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 1, "exception-handler calls")
            try ctx.expect(calls.first?.error is SignalCaseError, "the context's error: \(String(describing: calls.first?.error))")
            try ctx.expect(calls.first?.handle != nil, "the context must name the handle")
            let after = Recorder<String>()
            try loop.callSoon {
                after.record("later callback")
                loop.stop()
            }
            try loop.runForever()
            try ctx.expectEqual(after.all, ["later callback"], "the loop keeps running callbacks")
            try ctx.expectEqual(try loop.removeSignalHandler(SIGUSR1), true, "remove")
            try loop.close()
        },
        ConformanceCase("SIG-10", "a signal that arrives while the loop is not running is handled in the next run", needsMainThread: true) { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            try ctx.onMainThread {
                try loop.addSignalHandler(SIGUSR1) {
                    seen.record("handled")
                    loop.stop()
                }
            }
            try sendSignal(SIGUSR1)
            usleep(20_000)
            try ctx.expectEqual(seen.all, [], "the callback must not run while the loop is not running")
            try loop.runForever()
            try ctx.expectEqual(seen.all, ["handled"], "the callback in the next run")
            try ctx.expectEqual(try loop.removeSignalHandler(SIGUSR1), true, "remove")
            try loop.close()
        },
        ConformanceCase("SIG-X01", "a signal wakes a loop blocked in its selector with a 30 s timer pending", requires: [.realTime], needsMainThread: true) { ctx in
            let loop = try ctx.makeLoop()
            try ctx.onMainThread { try loop.addSignalHandler(SIGUSR2) { loop.stop() } }
            let far = try loop.callLater(.seconds(30)) {}
            let sender = ctx.spawn {
                usleep(100_000)
                try? sendSignal(SIGUSR2)
            }
            let clock = ctx.stopwatch()
            try loop.runForever()
            let elapsed = ContinuousClock.now - clock
            sender.join()
            try ctx.expect(elapsed < .seconds(2), "the blocked loop took \(elapsed) to handle the signal")
            far.cancel()
            try loop.close()
        },
        ConformanceCase("SIG-X02", "two signals and a repeated signal sent before a run: each callback runs, none is lost", needsMainThread: true) { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            try ctx.onMainThread {
                try loop.addSignalHandler(SIGUSR1) {
                    seen.record("usr1")
                    if Set(seen.all) == ["usr1", "usr2"] { loop.stop() }
                }
                try loop.addSignalHandler(SIGUSR2) {
                    seen.record("usr2")
                    if Set(seen.all) == ["usr1", "usr2"] { loop.stop() }
                }
            }
            for _ in 0..<3 { try sendSignal(SIGUSR1) }
            try sendSignal(SIGUSR2)
            try loop.runForever()
            try ctx.expectEqual(Set(seen.all), ["usr1", "usr2"], "callbacks run")
            try ctx.expect(seen.all.filter { $0 == "usr1" }.count >= 1, "SIGUSR1 sent three times must be handled at least once")
            try loop.close()
        },
        ConformanceCase("SIG-X03", "two loops, one signal each: each signal reaches only its own loop", needsMainThread: true) { ctx in
            let first = try ctx.makeLoop()
            let second = try ctx.makeLoop()
            let seen = Recorder<String>()
            try ctx.onMainThread {
                try first.addSignalHandler(SIGUSR1) {
                    seen.record("first loop: usr1")
                    first.stop()
                }
                try second.addSignalHandler(SIGUSR2) {
                    seen.record("second loop: usr2")
                    second.stop()
                }
            }
            try sendSignal(SIGUSR2)
            try sendSignal(SIGUSR1)
            try first.runForever()
            try second.runForever()
            try ctx.expectEqual(seen.all, ["first loop: usr1", "second loop: usr2"], "callbacks run")
            try first.close()
            try second.close()
        },
        ConformanceCase("SIG-X04", "a second loop taking over a signal keeps it when the first loop removes or closes", needsMainThread: true) { ctx in
            let first = try ctx.makeLoop()
            let second = try ctx.makeLoop()
            let seen = Recorder<String>()
            try ctx.onMainThread {
                try first.addSignalHandler(SIGUSR1) { seen.record("first") }
                try second.addSignalHandler(SIGUSR1) {
                    seen.record("second")
                    second.stop()
                }
            }
            try ctx.expectEqual(try first.removeSignalHandler(SIGUSR1), true, "the first loop's remove")
            try ctx.expectEqual(Signals.disposition(of: SIGUSR1), .loopHandler, "the second loop's handler must stay installed")
            try first.close()
            try sendSignal(SIGUSR1)
            try second.runForever()
            try ctx.expectEqual(seen.all, ["second"], "callbacks run")
            try second.close()
            try ctx.expectEqual(Signals.disposition(of: SIGUSR1), .default, "disposition after both loops closed")
        },
        ConformanceCase("SIG-X05", "the disposition in place before the first add (here SIG_IGN) is restored by remove", needsMainThread: true) { ctx in
            try ctx.expectEqual(Signals.disposition(of: SIGUSR2), .default, "SIGUSR2 at the start")
            try setDisposition(SIGUSR2, ignore: true)
            ctx.onCleanup { try? setDisposition(SIGUSR2, ignore: false) }
            let loop = try ctx.makeLoop()
            try ctx.onMainThread { try loop.addSignalHandler(SIGUSR2) {} }
            try ctx.expectEqual(try loop.removeSignalHandler(SIGUSR2), true, "remove")
            try ctx.expectEqual(Signals.disposition(of: SIGUSR2), .ignore, "the disposition before the add")
            try loop.close()
        },
        ConformanceCase("SIG-X06", "a callback removes its own handler; add again, and the signal is handled again", needsMainThread: true) { ctx in
            let loop = try ctx.makeLoop()
            let seen = Recorder<String>()
            try ctx.onMainThread {
                try loop.addSignalHandler(SIGUSR1) {
                    seen.record("removed=\(try loop.removeSignalHandler(SIGUSR1))")
                    loop.stop()
                }
            }
            try loop.callSoon { try sendSignal(SIGUSR1) }
            try loop.runForever()
            try ctx.expectEqual(seen.all, ["removed=true"], "the first callback")
            try ctx.expectEqual(loop.watchedDescriptorCount, 0, "descriptors watched without handlers")
            try ctx.onMainThread {
                try loop.addSignalHandler(SIGUSR1) {
                    seen.record("again")
                    loop.stop()
                }
            }
            try loop.callSoon { try sendSignal(SIGUSR1) }
            try loop.runForever()
            try ctx.expectEqual(seen.all, ["removed=true", "again"], "callbacks run")
            try loop.close()
        },
        ConformanceCase("SIG-X07", "a signal number the C library reserves → 'invalid signal number' for add and remove") { ctx in
            guard let reserved = (1..<Signals.count).first(where: { !Signals.isValid($0) }) else { return }
            let loop = try ctx.makeLoop()
            let added = try ctx.expectLoopError(.invalidArgument, "addSignalHandler(\(reserved))") {
                try loop.addSignalHandler(reserved) {}
            }
            try ctx.expect(added.message.contains("invalid signal number \(reserved)"), "message: \(added.message)")
            try ctx.expectLoopError(.invalidArgument, "removeSignalHandler(\(reserved))") { try loop.removeSignalHandler(reserved) }
            try loop.close()
        },
    ]
}

struct SignalCaseError: Error {}

/// Sends `signal` to the whole process, as `os.kill(os.getpid(), sig)`.
func sendSignal(_ signal: Int32) throws {
    guard kill(getpid(), signal) == 0 else { throw SystemError(errno: errno, call: "kill(\(signal))") }
}

/// Sets `signal` to SIG_IGN or SIG_DFL.
func setDisposition(_ signal: Int32, ignore: Bool) throws {
    guard cloop_signal_set_disposition(signal, ignore ? 1 : 0) == 0 else {
        throw SystemError(errno: errno, call: "sigaction(\(signal))")
    }
}
