import Glibc
import Dispatch
import LoopCore
import Synchronization

/// The conformance suite: every case of the catalogue, and the runner that proves
/// a backend with them.
///
/// A third-party backend runs the whole suite from its own tests with one call:
///
/// ```swift
/// let results = ConformanceSuite.run(backend: MyBackend.descriptor)
/// XCTAssertEqual(results.filter { $0.status == .fail }.map(\.description), [])
/// ```
public enum ConformanceSuite {
    /// The catalogue's groups, in catalogue order (one group a line: adding a group
    /// is adding its line).
    public static let groups: [ConformanceGroup] = [
        ConformanceGroup("RUN", "runForever, runUntilComplete, stop, close", RunCases.all),
        ConformanceGroup("ERR", "the exception handler and errors that never stop the loop", ErrorCases.all),
        ConformanceGroup("DBG", "debug mode: slow callbacks, thread checks, creation sites", DebugCases.all),
        ConformanceGroup("SEL", "choosing a backend at run time through a registry", SelectionCases.all),
        ConformanceGroup("BAD", "bad input and misbehaving backends give typed errors, never a trap", BadInputCases.all),
        ConformanceGroup("CALL", "callSoon, callSoonThreadsafe, Handle", CallCases.all),
        ConformanceGroup("TIME", "callLater, callAt, time(), TimerHandle", TimeCases.all),
        ConformanceGroup("FD", "addReader, removeReader, addWriter, removeWriter", FileDescriptorCases.all),
        ConformanceGroup("FUT", "futures: states, cancellation, done callbacks, awaiting", FutureCases.all),
        ConformanceGroup("TASK", "tasks: results, errors, cancellation, names, task lifetime, Swift concurrency", TaskCases.all),
        ConformanceGroup("HELP", "sleep, gather, waitFor, wait, shield, asCompleted, run, runCoroutineThreadsafe", HelperCases.all),
        ConformanceGroup("EXEC", "runInExecutor, the default executor, wrapFuture", ExecutorCases.all),
        ConformanceGroup("SIG", "addSignalHandler, removeSignalHandler", SignalCases.all),
        ConformanceGroup("CAPABILITY", "declared backend capabilities hold; what is not declared is refused cleanly", CapabilityCases.all),
        ConformanceGroup("HOOK", "the selector hooks and the transport hooks, driven directly: the contract every backend keeps", HookContractCases.all),
        ConformanceGroup("SOCK", "the loop's socket operations and name resolution", SocketCases.all),
        ConformanceGroup("TCP", "stream transports and protocols over loopback TCP, servers", TCPCases.all),
        ConformanceGroup("TCP-RESILIENCE", "refusing addresses, accept out of descriptors, a thousand connections", TCPResilienceCases.all),
        ConformanceGroup("UNIX", "Unix-domain stream sockets: servers and connections", UnixCases.all),
        ConformanceGroup("UDP", "datagram endpoints and the datagram transport", UDPCases.all),
        ConformanceGroup("PIPE", "pipes as transports: connectReadPipe, connectWritePipe", PipeCases.all),
        ConformanceGroup("STREAM", "asyncio's streams: StreamReader, StreamWriter, openConnection, startServer", StreamCases.all),
        ConformanceGroup("BUSY-POLL", "busy polling: the loop polls before it sleeps while work keeps arriving", BusyPollCases.all),
        ConformanceGroup("ITERATION", "what runs first inside one iteration: ready callbacks, then I/O, then due timers", IterationOrderCases.all),
        ConformanceGroup("SYNC", "asyncio's synchronization primitives, queues, task groups, timeouts and eager tasks", SyncCases.all),
    ]

    /// Every case, in catalogue order: the cases of ``groups``, group after group.
    public static var cases: [ConformanceCase] {
        groups.flatMap(\.cases)
    }

    /// Runs `cases` against `backend`, one after another, each with its own timeout,
    /// calling `onResult` as each finishes, and returns every result.
    @discardableResult
    public static func run(
        backend: BackendDescriptor,
        debug: Bool = false,
        cases: [ConformanceCase] = ConformanceSuite.cases,
        onResult: (CaseResult) -> Void = { _ in }
    ) -> [CaseResult] {
        var results: [CaseResult] = []
        for testCase in cases {
            let result = run(testCase, backend: backend, debug: debug)
            onResult(result)
            results.append(result)
        }
        return results
    }

    /// Runs one case against `backend` under the strict harness: it fails on a thrown
    /// error, an unexpected exception-handler call, a loop left open or running or
    /// still watching fds, leaked file descriptors, or after its own timeout.
    public static func run(_ testCase: ConformanceCase, backend: BackendDescriptor, debug: Bool = false) -> CaseResult {
        let start = ContinuousClock.now
        func result(_ status: CaseResult.Status, _ reason: String) -> CaseResult {
            let elapsed = ContinuousClock.now - start
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) * 1e-15
            return CaseResult(
                backend: backend.name, caseID: testCase.id, title: testCase.title,
                status: status, reason: reason, milliseconds: ms, debug: debug)
        }
        if case .unavailable(let why) = backend.availability() {
            return result(.skip, "backend unavailable: \(why)")
        }
        let missing = testCase.requires.subtracting(backend.capabilities)
        if !missing.isEmpty {
            return result(.skip, "backend '\(backend.name)' lacks capability \(missing.names.joined(separator: ", "))")
        }

        if testCase.needsMainThread && !MainThread.isCurrent {
            return result(.fail, "the case installs signal handlers, which only the process's main thread may do, but the suite was run on another thread: run it from the main thread (loopctl, an XCTest test; Swift Testing runs tests off the main thread)")
        }
        OpenDescriptors.settleOnce()
        let fdsBefore = OpenDescriptors.count()
        let context = CaseContext(backend: backend, debug: debug)
        let outcome = CaseOutcome()
        let finished = MainThread.serving { () -> Bool in
            let thread = CaseThread {
                do {
                    try testCase.body(context)
                } catch {
                    outcome.set("\(error)")
                }
            }
            return MainThread.join(thread, timeout: testCase.timeout)
        }
        guard finished else {
            return result(.fail, "timed out after \(testCase.timeout) (the case is abandoned; later fd counts may be off)")
        }
        let thrown = outcome.get()
        let leftBehind = context.finish()
        if let thrown { return result(.fail, thrown) }
        if let leftBehind { return result(.fail, leftBehind) }
        let fdsAfter = OpenDescriptors.count()
        if fdsAfter > fdsBefore {
            return result(.fail, "the case leaked \(fdsAfter - fdsBefore) file descriptor(s)")
        }
        return result(.pass, "")
    }
}

private final class CaseOutcome: @unchecked Sendable {
    // @unchecked: written by the case thread before it finishes, read after join.
    private var message: String?
    func set(_ text: String) { message = text }
    func get() -> String? { message }
}

/// Counts the process's open file descriptors.
enum OpenDescriptors {
    private static let settled = Atomic<Bool>(false)

    /// Before the first case of a process: makes the runtime open the descriptors it
    /// opens lazily, on its own threads, and waits until the count stops changing.
    /// libdispatch creates one timerfd per clock the first time anything arms a
    /// timer of that clock (seen in test processes); without this, that descriptor is
    /// charged as a leak to whichever case happens to be running.
    static func settleOnce() {
        guard !settled.exchange(true, ordering: .relaxed) else { return }
        let fired = DispatchSemaphore(value: 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(1)) { fired.signal() }
        DispatchQueue.global().asyncAfter(wallDeadline: .now() + .milliseconds(1)) { fired.signal() }
        _ = fired.wait(timeout: .now() + .seconds(2))
        _ = fired.wait(timeout: .now() + .seconds(2))
        var previous = count()
        for _ in 0..<25 {
            usleep(20_000)
            let now = count()
            if now == previous { return }
            previous = now
        }
    }

    static func count() -> Int {
        #if os(Linux)
        if let dir = opendir("/proc/self/fd") {
            defer { closedir(dir) }
            var total = 0
            while let entry = readdir(dir) {
                let first = withUnsafeBytes(of: entry.pointee.d_name) { $0.first ?? 0 }
                if first != UInt8(ascii: ".") { total += 1 }
            }
            return total - 1  // the directory stream's own fd
        }
        #endif
        var total = 0
        for fd in 0..<4096 where fcntl(Int32(fd), F_GETFD) >= 0 { total += 1 }
        return total
    }
}
