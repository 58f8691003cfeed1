import Glibc
@_spi(Backend) import LoopCore
import Logging
import Synchronization

/// What a case gets to work with: loops on the backend under test, expectations,
/// the exception-handler calls and log records its loops produced, and OS
/// resources that the harness releases after the case.
public final class CaseContext: @unchecked Sendable {
    // @unchecked: mutable state is behind `state`; the descriptor and flags are constants.
    /// The backend under test.
    public let backend: BackendDescriptor
    /// Whether loops start in debug mode.
    public let debug: Bool

    struct State {
        var loops: [BaseEventLoop] = []
        var handlerCalls: [ExceptionContext] = []
        var cleanups: [() -> Void] = []
        var allowPendingAtClose = false
    }

    let state = Protected(State())
    let logs = LogRecorder()

    init(backend: BackendDescriptor, debug: Bool) {
        self.backend = backend
        self.debug = debug
    }

    // MARK: Loops

    /// A new loop on the backend under test, in the suite's debug mode, whose
    /// exception handler records every call for the harness to check.
    public func makeLoop() throws -> BaseEventLoop {
        let loop = BaseEventLoop(backend: try backend.make(), logger: logs.logger(label: "conformance.\(backend.name)"))
        loop.setDebug(debug)
        loop.setExceptionHandler(recordingHandler)
        state.withLock { $0.loops.append(loop) }
        return loop
    }

    /// A loop on `backend` (a wrapper around the backend under test), in the suite's
    /// debug mode, whose exception handler records every call. The loop is the case's
    /// own (the harness does not track it): the case closes it, or the cleanup does.
    @_spi(Backend) public func makeLoop(on backend: any SelectorBackend) -> BaseEventLoop {
        let loop = BaseEventLoop(backend: backend, logger: capturingLogger())
        loop.setDebug(debug)
        loop.setExceptionHandler(recordingHandler)
        onCleanup { try? loop.close() }
        return loop
    }

    /// The handler the harness installs: records the call for ``takeExceptionContexts()``.
    public var recordingHandler: ExceptionHandler {
        { [weak self] _, context in self?.state.withLock { $0.handlerCalls.append(context) } }
    }

    /// The exception-handler calls recorded so far, which the case thereby expects;
    /// calls nobody takes fail the case.
    public func takeExceptionContexts() -> [ExceptionContext] {
        state.withLock { state in
            defer { state.handlerCalls.removeAll() }
            return state.handlerCalls
        }
    }

    /// The log records the case's loops emitted so far (taken: a second call returns newer ones).
    public func takeLogRecords() -> [CapturedLogRecord] { logs.take() }

    /// A logger that records into ``takeLogRecords()``.
    public func capturingLogger(label: String = "conformance") -> Logger { logs.logger(label: label) }

    /// Lets the case close a loop that still holds callbacks or timers (cases about close semantics).
    public func allowPendingCallbacksAtClose() { state.withLock { $0.allowPendingAtClose = true } }

    /// Runs `body` after the case, before the harness counts file descriptors.
    public func onCleanup(_ body: @escaping () -> Void) { state.withLock { $0.cleanups.append(body) } }

    // MARK: Expectations

    /// Fails the case with `message` unless `condition` holds.
    public func expect(
        _ condition: Bool, _ message: @autoclosure () -> String,
        file: StaticString = #fileID, line: UInt = #line
    ) throws {
        if !condition { throw CaseFailure(message(), location: SourceLocation(file, line)) }
    }

    /// Fails the case unless `actual == expected`.
    public func expectEqual<T: Equatable>(
        _ actual: T, _ expected: T, _ what: @autoclosure () -> String = "",
        file: StaticString = #fileID, line: UInt = #line
    ) throws {
        if actual != expected {
            let label = what()
            throw CaseFailure(
                "\(label.isEmpty ? "" : label + ": ")expected \(expected), got \(actual)", location: SourceLocation(file, line))
        }
    }

    /// A failure to throw from the case.
    public func failure(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> CaseFailure {
        CaseFailure(message, location: SourceLocation(file, line))
    }

    /// Runs `body` and returns the ``LoopError`` it throws, failing the case if it
    /// throws nothing, another error, or a ``LoopError`` of another kind.
    @discardableResult
    public func expectLoopError(
        _ kind: LoopError.Kind, _ what: String,
        file: StaticString = #fileID, line: UInt = #line, _ body: () throws -> Void
    ) throws -> LoopError {
        do {
            try body()
        } catch let error as LoopError {
            guard error.kind == kind else {
                throw CaseFailure("\(what): expected LoopError.\(kind), got .\(error.kind): \(error.message)", location: SourceLocation(file, line))
            }
            return error
        } catch {
            throw CaseFailure("\(what): expected LoopError.\(kind), got \(error)", location: SourceLocation(file, line))
        }
        throw CaseFailure("\(what): expected LoopError.\(kind), nothing was thrown", location: SourceLocation(file, line))
    }

    // MARK: Resources

    /// A connected AF_UNIX stream socket pair, both ends non-blocking, closed after the case
    /// unless the case closes them itself (then call ``forget(_:)`` or close via ``close(_:)``).
    public func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw SystemError(errno: errno, call: "socketpair")
        }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        own(fds[0])
        own(fds[1])
        return (fds[0], fds[1])
    }

    /// A pipe (read end, write end), both non-blocking, closed after the case.
    public func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw SystemError(errno: errno, call: "pipe") }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        own(fds[0])
        own(fds[1])
        return (fds[0], fds[1])
    }

    private let ownedFDs = Mutex<Set<Int32>>([])

    /// Closes `fd` after the case (if the case has not closed it through ``close(_:)``).
    public func own(_ fd: Int32) { _ = ownedFDs.withLock { $0.insert(fd) } }

    /// Closes an fd the harness owns, now.
    public func close(_ fd: Int32) {
        let owned = ownedFDs.withLock { $0.remove(fd) != nil }
        if owned { _ = Glibc.close(fd) }
    }

    /// Writes `text` to `fd`, failing the case on a short or failed write.
    public func write(_ fd: Int32, _ text: String) throws {
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count { throw failure("write(\(fd)) wrote \(written) of \(bytes.count) bytes, errno \(errno)") }
    }

    /// Reads what is available on `fd` (up to 64 KiB) as text; "" at end of file or when nothing is there.
    public func read(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return "" }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Starts `body` on another thread; the case should ``CaseThread/join(timeout:)`` it.
    public func spawn(_ body: @escaping @Sendable () -> Void) -> CaseThread { CaseThread(body) }

    /// Blocks the calling thread for `duration` (to simulate a slow callback).
    public func block(for duration: Duration) {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            let left = deadline - ContinuousClock.now
            let micros = left.components.seconds * 1_000_000 + left.components.attoseconds / 1_000_000_000_000
            if micros > 0 { usleep(UInt32(clamping: micros)) }
        }
    }

    /// A wall-clock stopwatch for generous hang bounds.
    public func stopwatch() -> ContinuousClock.Instant { ContinuousClock.now }

    // MARK: Harness side

    /// Checks what the case left behind; returns the first problem, if any.
    func finish() -> String? {
        var problem: String?
        let (loops, allowPending) = state.withLock { ($0.loops, $0.allowPendingAtClose) }
        for loop in loops {
            if loop.isRunning {
                problem = problem ?? "the case left a loop running"
                continue
            }
            if !loop.isClosed {
                problem = problem ?? "the case left its loop open (close every loop it makes)"
                try? loop.close()
            }
            if let atClose = loop.stateAtClose {
                if atClose.watchedDescriptors > 0 {
                    problem = problem ?? "the loop still watched \(atClose.watchedDescriptors) fd(s) when it was closed"
                } else if !allowPending && (atClose.readyCallbacks > 0 || atClose.scheduledTimers > 0) {
                    problem = problem ?? "the loop still held \(atClose) when it was closed"
                }
            }
        }
        let calls = takeExceptionContexts()
        if let first = calls.first {
            problem = problem ?? "unexpected exception-handler call (\(calls.count) in all): \(first.message)"
        }
        let cleanups = state.withLock { state in
            defer { state.cleanups.removeAll() }
            return state.cleanups
        }
        for cleanup in cleanups { cleanup() }
        for fd in ownedFDs.withLock({ $0 }) { _ = Glibc.close(fd) }
        ownedFDs.withLock { $0.removeAll() }
        state.withLock { $0.loops.removeAll() }
        return problem
    }
}
