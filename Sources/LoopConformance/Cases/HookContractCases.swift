import Glibc
import LoopCore
import Synchronization

/// The selector hooks themselves, driven directly on a fresh backend without a loop.
///
/// HOOK-X01..X15 prove the contract of ``SelectorBackend`` every backend keeps:
/// level-triggered readiness, one event per fd and wait, `modify` and `unregister`
/// taking effect at once, EEXIST / ENOENT for a double register and a modify of an
/// unregistered fd, timeouts, wakeups (from another thread, before the wait, racing
/// with `close`) that are never reported as an fd, and a `close` that is idempotent
/// and leaves no descriptor behind for a late wakeup to write into.
///
/// HOOK-X18..X22 (HookRuleCases.swift) are the rules a backend author would otherwise
/// guess: unregister of an unregistered fd, the hooks after close, an fd closed by its
/// owner while watched, how late a wait may return, and hang-ups; HOOK-X23
/// (CapabilityCases.swift) a declared capability that must hold.
///
/// HOOK-X17 is the optional transport hook: a third-party backend (here one wrapping
/// the backend under test) supplies its own stream transport through
/// ``SelectorBackend/makeSocketTransport(_:)`` and the loop uses it for
/// `createConnection` and for a server's connections, with the request's contract
/// (fd ownership, server accounting, teardown) kept.
///
/// BAD-X02 is a backend breaking the contract in ways BAD-14 does not: `wait`
/// reporting a negative fd, and an fd the loop watched but has since unregistered (a
/// stale event). Each is reported to the exception handler naming the backend, the
/// hook and the fd; no callback of the stale fd runs; the loop keeps running. The
/// backend under test is wrapped so the case decides what `wait` reports.
enum HookContractCases {
    static let all: [ConformanceCase] = readiness + registration + timeouts + lifecycle + rules + transports + [
        ConformanceCase(
            "BAD-X02", "wait reporting a negative or an unregistered-since fd is reported, runs nothing, and the loop goes on"
        ) { ctx in
            let backend = InjectingBackend(inner: try ctx.backend.make())
            let loop = ctx.makeLoop(on: backend)
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

// MARK: - The transport hook

extension HookContractCases {
    static let transports: [ConformanceCase] = [
        ConformanceCase(
            "HOOK-X17",
            "a backend's own transport from makeSocketTransport is what createConnection returns and what a server's connections get; writes go through it, its fd is owned, waitClosed waits for it"
        ) { ctx in
            let backend = TransportWrappingBackend(inner: try ctx.backend.make())
            let loop = ctx.makeLoop(on: backend)
            let client = TCPCases.Peer(loop)
            let writes = try SocketCases.run(ctx, loop) { () async throws -> Int in
                let server = try await loop.createServer({ TCPCases.Echo() }, host: "127.0.0.1", port: 0)
                let port = try TCPCases.serverPort(ctx, server)
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port)
                guard let counting = transport as? CountingTransport else {
                    throw ctx.failure("createConnection returned \(type(of: transport)), not the backend's transport")
                }
                try transport.write(Array("abc".utf8))
                try transport.writelines([Array("de".utf8), Array("f".utf8)])
                try await TCPCases.until { client.received.count == 6 }
                try ctx.expectEqual(backend.made.all.sorted(), ["accepted", "connection"], "transports the hook made")
                guard let fd = transport.extraInfo("socket") as? Int32 else { throw ctx.failure("no \"socket\" extra info") }
                try ctx.expectLoopError(.fdInUseByTransport, "addReader on the hook transport's fd") { try loop.addReader(fd) {} }
                transport.close()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
                try ctx.expectEqual(backend.made.all.sorted(), ["accepted", "connection"], "transports the hook made")
                return counting.writes
            }
            try ctx.expectEqual(writes, 2, "writes counted by the backend's transport")
            try ctx.expectEqual(client.received, Array("abcdef".utf8), "echoed bytes")
            try ctx.expectEqual(client.events, ["made", "data", "lost(nil)"], "client events")
            try loop.close()
        },
    ]
}

// MARK: - The hooks driven directly

extension HookContractCases {
    static let readiness: [ConformanceCase] = [
        ConformanceCase("HOOK-X01", "an fd watched for reading is reported readable once its peer writes, not before") { ctx in
            let backend = try makeBackend(ctx)
            let (a, b) = try ctx.socketPair()
            try backend.register(fd: a, interest: .readable)
            try ctx.expectEqual(try backend.waitEvents(.zero), [], "events before anything was written")
            try ctx.write(b, "x")
            try ctx.expectEqual(try backend.waitEvents(.seconds(5)), [ReadinessEvent(fd: a, events: .readable)], "events")
            try backend.unregister(fd: a)
        },
        ConformanceCase("HOOK-X02", "an fd watched for writing is reported writable at once, by a zero-timeout wait") { ctx in
            let backend = try makeBackend(ctx)
            let (a, _) = try ctx.socketPair()
            try backend.register(fd: a, interest: .writable)
            try ctx.expectEqual(try backend.waitEvents(.zero), [ReadinessEvent(fd: a, events: .writable)], "events")
            try backend.unregister(fd: a)
        },
        ConformanceCase(
            "HOOK-X03", "modify takes effect at the next wait; read and write readiness of one fd is one event"
        ) { ctx in
            let backend = try makeBackend(ctx)
            let (a, b) = try ctx.socketPair()
            try backend.register(fd: a, interest: .readable)
            try ctx.write(b, "x")
            try ctx.expectEqual(try backend.waitEvents(.seconds(5)), [ReadinessEvent(fd: a, events: .readable)], "read interest")
            try backend.modify(fd: a, interest: .writable)
            try ctx.expectEqual(
                try backend.waitEvents(.seconds(5)), [ReadinessEvent(fd: a, events: .writable)],
                "write interest (unread data must no longer be reported)")
            try backend.modify(fd: a, interest: [.readable, .writable])
            try ctx.expectEqual(
                try backend.waitEvents(.seconds(5)), [ReadinessEvent(fd: a, events: [.readable, .writable])],
                "both interests: one event")
            try ctx.expectEqual(ctx.read(a), "x", "the data")
            try backend.modify(fd: a, interest: .readable)
            try ctx.expectEqual(try backend.waitEvents(.zero), [], "back to read interest, nothing left to read")
            try backend.unregister(fd: a)
        },
        ConformanceCase("HOOK-X04", "readiness is level-triggered: unread data is reported by every wait until drained") { ctx in
            let backend = try makeBackend(ctx)
            let (a, b) = try ctx.socketPair()
            try backend.register(fd: a, interest: .readable)
            try ctx.write(b, "hello")
            for (index, timeout) in [Duration.seconds(5), .seconds(5), .zero].enumerated() {
                try ctx.expectEqual(
                    try backend.waitEvents(timeout), [ReadinessEvent(fd: a, events: .readable)], "wait \(index + 1)")
            }
            try ctx.expectEqual(ctx.read(a), "hello", "the data")
            try ctx.expectEqual(try backend.waitEvents(.zero), [], "events once drained")
            try backend.unregister(fd: a)
        },
        ConformanceCase("HOOK-X05", "a peer's close makes the fd readable, and the read sees end of file") { ctx in
            let backend = try makeBackend(ctx)
            let (a, b) = try ctx.socketPair()
            try backend.register(fd: a, interest: .readable)
            try ctx.expectEqual(try backend.waitEvents(.zero), [], "events before the close")
            ctx.close(b)
            let ready = try backend.waitEvents(.seconds(5))
            try ctx.expectEqual(ready.map(\.fd), [a], "fds reported")
            try ctx.expect(ready.first?.events.contains(.readable) ?? false, "reported readable: \(ready)")
            var byte: UInt8 = 0
            try ctx.expectEqual(Glibc.read(a, &byte, 1), 0, "read after the peer closed (end of file)")
            try backend.unregister(fd: a)
        },
        ConformanceCase("HOOK-X06", "both ends of a pipe are watched: the write end writable, the read end once written") { ctx in
            let backend = try makeBackend(ctx)
            let (r, w) = try ctx.pipe()
            try backend.register(fd: r, interest: .readable)
            try backend.register(fd: w, interest: .writable)
            try ctx.expectEqual(try backend.waitEvents(.zero), [ReadinessEvent(fd: w, events: .writable)], "events")
            try ctx.write(w, "x")
            try ctx.expectEqual(
                Set(try backend.waitEvents(.seconds(5))),
                [ReadinessEvent(fd: r, events: .readable), ReadinessEvent(fd: w, events: .writable)], "events once written")
            try backend.unregister(fd: r)
            try backend.unregister(fd: w)
        },
        ConformanceCase(
            "HOOK-X07", "one wait reports the 500 ready fds of 1000 watched, each once", requires: [.highDescriptors],
            timeout: .seconds(30)
        ) { ctx in
            try raiseOpenFileLimit(ctx, to: 1_200, for: "open 1000 descriptors")
            let backend = try makeBackend(ctx)
            var watched: [Int32] = []
            var readable: Set<Int32> = []
            for index in 0..<500 {
                let (a, b) = try ctx.socketPair()
                try backend.register(fd: a, interest: .readable)
                try backend.register(fd: b, interest: .readable)
                watched += [a, b]
                if index.isMultiple(of: 2) {
                    try ctx.write(b, "x")
                    try ctx.write(a, "x")
                    readable.formUnion([a, b])
                }
            }
            // A small buffer, so the backend must let it grow.
            var buffer = ReadinessBuffer(capacity: 16)
            try backend.wait(timeout: .seconds(5), into: &buffer)
            let ready = (0..<buffer.count).map { buffer[$0] }
            try ctx.expectEqual(ready.count, 500, "events")
            try ctx.expectEqual(Set(ready.map(\.fd)), readable, "fds reported")
            try ctx.expect(ready.allSatisfy { $0.events == .readable }, "every event is .readable")
            for fd in watched { try backend.unregister(fd: fd) }
            try ctx.expectEqual(try backend.waitEvents(.zero), [], "events after unregistering all")
        },
    ]

    static let registration: [ConformanceCase] = [
        ConformanceCase("HOOK-X08", "modify of an unregistered fd throws ENOENT; registering an fd twice throws EEXIST") { ctx in
            let backend = try makeBackend(ctx)
            let (a, _) = try ctx.socketPair()
            try expectSystemError(ctx, ENOENT, "modify of an unregistered fd") { try backend.modify(fd: a, interest: .readable) }
            try backend.register(fd: a, interest: .readable)
            try expectSystemError(ctx, EEXIST, "a second register") { try backend.register(fd: a, interest: .writable) }
            try ctx.expectEqual(try backend.waitEvents(.zero), [], "the first registration (read interest) holds")
            try backend.unregister(fd: a)
        },
        ConformanceCase("HOOK-X09", "unregister stops reports at once; unregistering again is not an error") { ctx in
            let backend = try makeBackend(ctx)
            let (a, b) = try ctx.socketPair()
            try backend.register(fd: a, interest: [.readable, .writable])
            try ctx.write(b, "x")
            try ctx.expectEqual(try backend.waitEvents(.seconds(5)).count, 1, "events while registered")
            try backend.unregister(fd: a)
            try ctx.expectEqual(try backend.waitEvents(.zero), [], "events after unregister (the fd is still ready)")
            try backend.unregister(fd: a)
        },
        ConformanceCase(
            "HOOK-X10", "unregistering an fd its owner already closed is not an error, and its number can be watched again"
        ) { ctx in
            let backend = try makeBackend(ctx)
            let (a, b) = try ctx.socketPair()
            try backend.register(fd: a, interest: .readable)
            try backend.register(fd: b, interest: .writable)
            ctx.close(a)
            try backend.unregister(fd: a)
            try backend.unregister(fd: a)
            // The lowest free number is reused: c is usually a's old number.
            let (c, d) = try ctx.socketPair()
            try ctx.write(d, "x")
            try backend.register(fd: c, interest: .readable)
            let ready = try backend.waitEvents(.seconds(5))
            try ctx.expectEqual(ready.map(\.fd).sorted(), [b, c].sorted(), "fds reported")
            try ctx.expect(ready.contains(ReadinessEvent(fd: c, events: .readable)), "c reported readable: \(ready)")
            // b's peer is closed: a hang-up may add .readable to the interest it is watched for.
            try ctx.expect(
                ready.contains { $0.fd == b && $0.events.contains(.writable) }, "b reported writable: \(ready)")
            try backend.unregister(fd: c)
            ctx.close(b)
            try backend.unregister(fd: b)
        },
    ]

    static let timeouts: [ConformanceCase] = [
        ConformanceCase("HOOK-X11", "a zero or negative timeout returns at once with nothing") { ctx in
            let backend = try makeBackend(ctx)
            let (a, _) = try ctx.socketPair()
            try backend.register(fd: a, interest: .readable)
            let start = ctx.stopwatch()
            try ctx.expectEqual(try backend.waitEvents(.zero), [], "events of a zero timeout")
            try ctx.expectEqual(try backend.waitEvents(.milliseconds(-5)), [], "events of a negative timeout")
            try ctx.expect(ContinuousClock.now - start < .seconds(1), "the waits took \(ContinuousClock.now - start)")
            try backend.unregister(fd: a)
        },
        ConformanceCase(
            "HOOK-X12", "a timeout elapses when nothing is ready (fds watched or none), every time; I/O ends it early",
            requires: [.realTime]
        ) { ctx in
            let backend = try makeBackend(ctx)
            try expectTimesOut(ctx, backend, "with no fd registered")
            let (a, b) = try ctx.socketPair()
            try backend.register(fd: a, interest: .readable)
            try expectTimesOut(ctx, backend, "with an fd registered")
            try expectTimesOut(ctx, backend, "a second time")
            try ctx.write(b, "x")
            let start = ctx.stopwatch()
            try ctx.expectEqual(try backend.waitEvents(.seconds(30)), [ReadinessEvent(fd: a, events: .readable)], "events")
            try ctx.expect(ContinuousClock.now - start < .seconds(5), "ready I/O ended the wait after \(ContinuousClock.now - start)")
            try ctx.expectEqual(ctx.read(a), "x", "the data")
            try ctx.expectEqual(try backend.waitEvents(.zero), [], "events once drained (no timer left over)")
            try backend.unregister(fd: a)
        },
        ConformanceCase(
            "HOOK-X13", "wakeup from another thread ends a wait without timeout and is never reported as an fd",
            requires: [.realTime, .crossThreadWakeup], timeout: .seconds(30)
        ) { ctx in
            let backend = try makeBackend(ctx)
            let (watched, rescue) = try ctx.socketPair()
            try backend.register(fd: watched, interest: .readable)
            let thread = ctx.spawn {
                usleep(50_000)
                backend.wakeup()
                // Safety net: if the wakeup is lost, end the wait after 10 s through the
                // watched socket, so the case fails instead of hanging.
                if !isReadable(rescue, withinMilliseconds: 10_000) {
                    var byte: UInt8 = 1
                    _ = Glibc.write(rescue, &byte, 1)
                }
            }
            let start = ctx.stopwatch()
            let ready = try backend.waitEvents(nil)
            let elapsed = ContinuousClock.now - start
            try ctx.write(watched, "x")  // releases the safety net
            try ctx.expect(thread.join(timeout: .seconds(15)), "the waking thread ended")
            try ctx.expectEqual(ready, [], "events (the wakeup is never reported as an fd)")
            try ctx.expect(elapsed >= .milliseconds(40), "the wait ended after \(elapsed), before the wakeup")
            try backend.unregister(fd: watched)
        },
        ConformanceCase(
            "HOOK-X14", "wakeups before a wait end the next wait, without or with a timeout, and are consumed by it",
            requires: [.realTime]
        ) { ctx in
            let backend = try makeBackend(ctx)
            for timeout in [nil, Duration.seconds(10)] {
                backend.wakeup()
                backend.wakeup()
                let start = ctx.stopwatch()
                try ctx.expectEqual(try backend.waitEvents(timeout), [], "events of the woken wait")
                try ctx.expect(
                    ContinuousClock.now - start < .seconds(5),
                    "the wait with timeout \(String(describing: timeout)) took \(ContinuousClock.now - start)")
                // Both wakeups were consumed: the following wait sleeps out its timeout.
                try expectTimesOut(ctx, backend, "after the woken wait")
            }
        },
    ]

    static let lifecycle: [ConformanceCase] = [
        ConformanceCase(
            "HOOK-X15", "close is idempotent and frees every descriptor; a later wakeup writes to none, wait throws, unregister does not"
        ) { ctx in
            let backend = try ctx.backend.make()
            let (a, _) = try ctx.socketPair()
            try backend.register(fd: a, interest: .readable)
            backend.close()
            backend.close()
            // The descriptors close() freed are the lowest free numbers, so these reuse
            // them: a wakeup now must not write into them.
            let fresh = [try ctx.socketPair(), try ctx.socketPair()].flatMap { [$0.0, $0.1] }
            backend.wakeup()
            for fd in fresh {
                try ctx.expect(!isReadable(fd, withinMilliseconds: 0), "wakeup after close wrote to recycled fd \(fd)")
            }
            try backend.unregister(fd: a)
            var ready = ReadinessBuffer()
            let threw: Bool
            do {
                try backend.wait(timeout: .zero, into: &ready)
                threw = false
            } catch {
                threw = true
            }
            try ctx.expect(threw, "wait after close must throw")
        },
        ConformanceCase(
            "HOOK-X16", "wakeups racing with close from other threads are harmless and never touch a recycled fd",
            requires: [.crossThreadWakeup], timeout: .seconds(30)
        ) { ctx in
            let backend = try ctx.backend.make()
            let stop = StopFlag()
            let threads = (0..<2).map { _ in
                ctx.spawn { while !stop.isSet { backend.wakeup() } }
            }
            var ready = ReadinessBuffer()
            for _ in 0..<100 {
                try backend.wait(timeout: .seconds(5), into: &ready)
                try ctx.expect(ready.isEmpty, "a wakeup was reported as an fd")
            }
            backend.close()
            let (a, b) = try ctx.socketPair()
            usleep(20_000)  // the threads keep calling wakeup() on the closed backend
            stop.set()
            for thread in threads { try ctx.expect(thread.join(timeout: .seconds(10)), "a waking thread ended") }
            for fd in [a, b] {
                try ctx.expect(!isReadable(fd, withinMilliseconds: 0), "wakeup after close wrote to recycled fd \(fd)")
            }
            // And closes racing with wakeups already under way.
            for _ in 0..<20 {
                let racing = try ctx.backend.make()
                let wakers = (0..<2).map { _ in ctx.spawn { for _ in 0..<200 { racing.wakeup() } } }
                racing.close()
                for waker in wakers { try ctx.expect(waker.join(timeout: .seconds(10)), "a waking thread ended") }
            }
        },
    ]

    /// A fresh backend of the kind under test, closed after the case.
    static func makeBackend(_ ctx: CaseContext) throws -> any SelectorBackend {
        let backend = try ctx.backend.make()
        ctx.onCleanup { backend.close() }
        return backend
    }

    /// Fails the case unless `body` throws a `SystemError` with `expected` errno.
    static func expectSystemError(
        _ ctx: CaseContext, _ expected: Int32, _ what: String, _ body: () throws -> Void
    ) throws {
        do {
            try body()
        } catch let error as SystemError {
            try ctx.expectEqual(error.errno, expected, "errno of \(what) (\(error))")
            return
        }
        throw ctx.failure("\(what) did not throw")
    }

    /// Fails the case unless a 50 ms wait reports nothing and lasts 40 ms to 5 s.
    private static func expectTimesOut(_ ctx: CaseContext, _ backend: any SelectorBackend, _ what: String) throws {
        let start = ctx.stopwatch()
        try ctx.expectEqual(try backend.waitEvents(.milliseconds(50)), [], "events of a 50 ms wait \(what)")
        let elapsed = ContinuousClock.now - start
        try ctx.expect(
            elapsed >= .milliseconds(40) && elapsed < .seconds(5), "a 50 ms wait \(what) took \(elapsed)")
    }
}

extension SelectorBackend {
    /// One wait, its events in the order reported.
    func waitEvents(_ timeout: Duration?) throws -> [ReadinessEvent] {
        var buffer = ReadinessBuffer()
        try wait(timeout: timeout, into: &buffer)
        return (0..<buffer.count).map { buffer[$0] }
    }
}

private final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

/// Whether `fd` becomes readable within `milliseconds`.
func isReadable(_ fd: Int32, withinMilliseconds milliseconds: Int32) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(truncatingIfNeeded: POLLIN), revents: 0)
    return poll(&entry, 1, milliseconds) > 0
}

/// Delegates every hook to the backend under test; the next `wait` also reports the
/// injected descriptors.
private final class InjectingBackend: DelegatingBackend, @unchecked Sendable {
    private let pending = Mutex<[Int32]>([])

    func inject(_ fds: [Int32]) { pending.withLock { $0 = fds } }

    override func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        try inner.wait(timeout: timeout, into: &ready)
        let fds = pending.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        for fd in fds { ready.append(fd: fd, events: [.readable, .writable]) }
    }
}

/// Delegates every hook to the backend under test; its transport hook wraps the
/// transport the backend (or, when it declines, the loop) would make in a
/// ``CountingTransport``. Loop-thread only apart from the delegated `wakeup`.
private final class TransportWrappingBackend: DelegatingBackend, @unchecked Sendable {
    /// "connection" or "accepted" per transport made, in order.
    let made = Recorder<String>()

    override func makeSocketTransport(_ request: SocketTransportRequest) throws -> (any Transport)? {
        let wrapped = try inner.makeSocketTransport(request) ?? SocketTransport(request)
        made.record(request.server == nil ? "connection" : "accepted")
        return CountingTransport(wrapped)
    }
}

/// A transport that forwards everything to another one and counts the writes
/// (`write` and `writelines` calls) made through it.
private final class CountingTransport: Transport {
    let inner: any Transport
    private(set) var writes = 0

    init(_ inner: any Transport) { self.inner = inner }

    var isClosing: Bool { inner.isClosing }
    var `protocol`: any BaseProtocol { inner.protocol }
    func setProtocol(_ protocol: any BaseProtocol) { inner.setProtocol(`protocol`) }
    func extraInfo(_ key: String) -> Any? { inner.extraInfo(key) }
    func close() { inner.close() }
    var isReading: Bool { inner.isReading }
    func pauseReading() { inner.pauseReading() }
    func resumeReading() { inner.resumeReading() }
    func write(_ bytes: [UInt8]) throws {
        writes += 1
        try inner.write(bytes)
    }
    func writelines(_ pieces: [[UInt8]]) throws {
        writes += 1
        try inner.writelines(pieces)
    }
    func writeEof() throws { try inner.writeEof() }
    var canWriteEof: Bool { inner.canWriteEof }
    func abort() { inner.abort() }
    var writeBufferSize: Int { inner.writeBufferSize }
    var writeBufferLimits: (low: Int, high: Int) { inner.writeBufferLimits }
    func setWriteBufferLimits(high: Int?, low: Int?) throws { try inner.setWriteBufferLimits(high: high, low: low) }
}
