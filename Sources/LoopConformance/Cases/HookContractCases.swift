import LoopCore
import Synchronization

/// A backend breaking the hook contract in ways BAD-14 does not: `wait` reporting a
/// negative fd, and an fd the loop watched but has since unregistered (a stale
/// event). Each is reported to the exception handler naming the backend, the hook
/// and the fd; no callback of the stale fd runs; the loop keeps running.
///
/// The backend under test is wrapped so the case decides what `wait` reports.
enum HookContractCases {
    static let all: [ConformanceCase] = [
        ConformanceCase(
            "BAD-X02", "wait reporting a negative or an unregistered-since fd is reported, runs nothing, and the loop goes on"
        ) { ctx in
            let backend = InjectingBackend(inner: try ctx.backend.make())
            let loop = BaseEventLoop(backend: backend, logger: ctx.capturingLogger())
            loop.setDebug(ctx.debug)
            loop.setExceptionHandler(ctx.recordingHandler)
            ctx.onCleanup { try? loop.close() }
            let (fd, _) = try ctx.socketPair()
            let ran = Recorder<String>()
            try loop.addReader(fd) { ran.record("stale reader") }
            try ctx.expect(try loop.removeReader(fd), "removeReader")
            backend.inject([-7, fd])
            try loop.callSoon { ran.record("soon") }
            try loop.callLater(.milliseconds(10)) {
                ran.record("timer")
                loop.stop()
            }
            try loop.runForever()
            try ctx.expectEqual(ran.all, ["soon", "timer"], "callbacks that ran")
            let calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.count, 2, "handler calls (one per bogus event)")
            for (call, reported) in zip(calls, [Int32(-7), fd]) {
                for name in [backend.name, "wait", "fd \(reported)"] {
                    try ctx.expect(call.message.contains(name), "the message must name \(name): \(call.message)")
                }
                try ctx.expect(
                    (call.error as? LoopError)?.kind == .backendFailure,
                    "the error must be LoopError.backendFailure, got \(String(describing: call.error))")
            }
            try loop.close()
        },
    ]
}

/// Delegates every hook to the backend under test; the next `wait` also reports the
/// injected descriptors.
private final class InjectingBackend: SelectorBackend {
    let inner: any SelectorBackend
    private let pending = Mutex<[Int32]>([])

    init(inner: any SelectorBackend) { self.inner = inner }

    func inject(_ fds: [Int32]) { pending.withLock { $0 = fds } }

    var name: String { inner.name }
    var capabilities: BackendCapabilities { inner.capabilities }
    var details: String { inner.details }
    func now() -> Double { inner.now() }
    func register(fd: Int32, interest: IOEvents) throws { try inner.register(fd: fd, interest: interest) }
    func modify(fd: Int32, interest: IOEvents) throws { try inner.modify(fd: fd, interest: interest) }
    func unregister(fd: Int32) throws { try inner.unregister(fd: fd) }
    func wakeup() { inner.wakeup() }
    func close() { inner.close() }

    func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        try inner.wait(timeout: timeout, into: &ready)
        let fds = pending.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        for fd in fds { ready.append(fd: fd, events: [.readable, .writable]) }
    }
}
