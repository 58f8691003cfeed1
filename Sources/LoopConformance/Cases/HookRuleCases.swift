import Glibc
import LoopCore

/// The rules of ``SelectorBackend`` a backend author would otherwise have to guess,
/// driven directly on a fresh backend (see the protocol's documentation, which names
/// these cases):
///
/// - HOOK-X18: `unregister` of an fd that is not registered is a silent no-op.
/// - HOOK-X19: after `close()` — `close` again, `wakeup`, `unregister` are harmless;
///   `register`, `modify` and `wait` throw `LoopError.closed`.
/// - HOOK-X20: an fd its owner closes while it is watched fails, hangs or crashes
///   nothing; the next wait reports the other fds.
/// - HOOK-X21: a wait with a 1 ms (or shorter) timeout returns within milliseconds.
/// - HOOK-X22: a hang-up or an error is reported as at least the events watched.
extension HookContractCases {
    static let rules: [ConformanceCase] = [
        ConformanceCase(
            "HOOK-X18",
            "unregister of an fd that is not registered (never, twice, a number not open, after close) is a silent no-op"
        ) { ctx in
            let backend = try ctx.backend.make()
            ctx.onCleanup { backend.close() }
            let (a, b) = try ctx.socketPair()
            try expectNoThrow(ctx, "unregister of an open fd never registered") { try backend.unregister(fd: a) }
            try backend.register(fd: a, interest: .readable)
            try backend.unregister(fd: a)
            try expectNoThrow(ctx, "a second unregister") { try backend.unregister(fd: a) }
            let notOpen = try unusedDescriptorNumber(ctx)
            try expectNoThrow(ctx, "unregister of fd \(notOpen), which is not open") { try backend.unregister(fd: notOpen) }
            // The no-ops left the backend's bookkeeping intact.
            try backend.register(fd: b, interest: .writable)
            try ctx.expectEqual(try backend.waitEvents(.seconds(5)), [ReadinessEvent(fd: b, events: .writable)], "events")
            try backend.unregister(fd: b)
            backend.close()
            try expectNoThrow(ctx, "unregister after close") { try backend.unregister(fd: b) }
        },
        ConformanceCase(
            "HOOK-X19",
            "after close: close again and wakeup are harmless, unregister does not throw, register/modify/wait throw LoopError.closed"
        ) { ctx in
            let backend = try ctx.backend.make()
            let (a, b) = try ctx.socketPair()
            try backend.register(fd: a, interest: .readable)
            backend.close()
            backend.close()
            backend.wakeup()
            try expectNoThrow(ctx, "unregister of a registered fd after close") { try backend.unregister(fd: a) }
            for (what, hook) in [
                ("register(fd:interest:)", { try backend.register(fd: b, interest: .readable) }),
                ("modify(fd:interest:)", { try backend.modify(fd: a, interest: .writable) }),
                ("wait(timeout:into:)", { _ = try backend.waitEvents(.zero) }),
            ] as [(String, () throws -> Void)] {
                // The kind is the rule; a wrapper (a virtual clock) may name the backend it wraps.
                try ctx.expectLoopError(.closed, "\(what) after close", hook)
            }
        },
        ConformanceCase(
            "HOOK-X20",
            "an fd its owner closes while watched (after register or modify) fails nothing: the next wait returns and reports the other fds"
        ) { ctx in
            let backend = try makeBackend(ctx)
            let (a, _) = try ctx.socketPair()
            let (c, _) = try ctx.socketPair()
            let (_, w) = try ctx.pipe()
            try backend.register(fd: a, interest: .readable)
            try backend.register(fd: c, interest: .readable)
            try backend.register(fd: w, interest: .writable)
            try backend.modify(fd: c, interest: [.readable, .writable])
            // Closed after register (a) and after modify (c), before any wait.
            ctx.close(a)
            ctx.close(c)
            for round in 1...2 {
                let ready: [ReadinessEvent]
                do {
                    ready = try backend.waitEvents(.milliseconds(50))
                } catch {
                    throw ctx.failure("wait \(round) after the owner closed watched fds \(a) and \(c) threw \(error); it must return normally")
                }
                try ctx.expect(
                    ready.contains(ReadinessEvent(fd: w, events: .writable)),
                    "wait \(round) must still report the open fd \(w) writable: \(ready)")
                for event in ready where event.fd == a || event.fd == c {
                    try ctx.expectEqual(
                        event.events, [.readable, .writable], "a closed fd, if reported at all, is readable and writable")
                }
            }
            try backend.unregister(fd: a)
            try backend.unregister(fd: c)
            try backend.unregister(fd: w)
        },
        ConformanceCase(
            "HOOK-X21", "a wait with a 1 ms, 2 ms or 1 µs timeout and nothing ready returns within milliseconds, every time",
            requires: [.realTime]
        ) { ctx in
            let backend = try makeBackend(ctx)
            let (a, _) = try ctx.socketPair()
            try backend.register(fd: a, interest: .readable)
            // Generous for a loaded machine, far below a timeout rounded up to a second.
            let limit = Duration.milliseconds(250)
            var total = Duration.zero
            let timeouts = Array(repeating: Duration.milliseconds(1), count: 10)
                + Array(repeating: .microseconds(1), count: 5) + Array(repeating: .milliseconds(2), count: 5)
            for (index, timeout) in timeouts.enumerated() {
                let start = ctx.stopwatch()
                try ctx.expectEqual(try backend.waitEvents(timeout), [], "events of wait \(index + 1) (\(timeout))")
                let elapsed = ContinuousClock.now - start
                total += elapsed
                try ctx.expect(
                    elapsed < limit,
                    "wait \(index + 1) with timeout \(timeout) lasted \(elapsed): a wait may return early, never late (bound \(limit))")
            }
            try ctx.expect(total < .seconds(2), "\(timeouts.count) short waits took \(total) in all")
            try backend.unregister(fd: a)
        },
        ConformanceCase(
            "HOOK-X22",
            "hang-ups and errors are reported as at least the events watched: a read end whose writer closed, a full write end whose reader closed, a socket whose peer closed"
        ) { ctx in
            let backend = try makeBackend(ctx)
            let (r1, w1) = try ctx.pipe()
            let (r2, w2) = try ctx.pipe()
            let (s, peer) = try ctx.socketPair()
            try fill(ctx, w2)
            try backend.register(fd: r1, interest: .readable)
            try backend.register(fd: w2, interest: .writable)
            try backend.register(fd: s, interest: [.readable, .writable])
            try ctx.expect(
                !(try backend.waitEvents(.zero)).contains { $0.fd == w2 }, "a full pipe's write end is not writable yet")
            ctx.close(w1)  // r1: hang-up (POLLHUP)
            ctx.close(r2)  // w2: error (POLLERR), still full
            ctx.close(peer)  // s: hang-up
            let expected: [Int32: IOEvents] = [r1: .readable, w2: .writable, s: [.readable, .writable]]
            var seen: [Int32: IOEvents] = [:]
            for _ in 0..<3 where seen.count < expected.count {
                for event in try backend.waitEvents(.seconds(2)) { seen[event.fd, default: []].formUnion(event.events) }
            }
            for (fd, watched) in expected.sorted(by: { $0.key < $1.key }) {
                try ctx.expect(
                    seen[fd]?.isSuperset(of: watched) ?? false,
                    "fd \(fd) watched for \(watched.names) was reported as \(seen[fd]?.names ?? ["nothing"]); a hang-up or error must include every watched event")
            }
            for fd in [r1, w2, s] { try backend.unregister(fd: fd) }
        },
    ]

    /// Fails the case, naming `what`, if `body` throws.
    static func expectNoThrow(_ ctx: CaseContext, _ what: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            throw ctx.failure("\(what) must be a silent no-op, but threw \(error)")
        }
    }

    /// A descriptor number that is not open (the lowest free one above 500).
    private static func unusedDescriptorNumber(_ ctx: CaseContext) throws -> Int32 {
        for fd in Int32(500)..<Int32(1000) where fcntl(fd, F_GETFD) < 0 { return fd }
        throw ctx.failure("no descriptor number between 500 and 1000 is free")
    }

    /// Writes to the non-blocking `fd` until it would block.
    private static func fill(_ ctx: CaseContext, _ fd: Int32) throws {
        let chunk = [UInt8](repeating: 0x2A, count: 65_536)
        for _ in 0..<1_024 {
            let written = chunk.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                guard errno == EAGAIN else { throw SystemError(errno: errno, call: "write (filling fd \(fd))") }
                return
            }
        }
        throw ctx.failure("fd \(fd) did not fill up")
    }
}

extension IOEvents {
    /// `["readable", "writable"]` for the events in the set.
    var names: [String] {
        var names: [String] = []
        if contains(.readable) { names.append("readable") }
        if contains(.writable) { names.append("writable") }
        return names
    }
}
