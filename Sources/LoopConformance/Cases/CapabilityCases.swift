import Glibc
import LoopCore

/// Declared capabilities: what a backend says it can do holds, and what it says it
/// cannot do is refused cleanly.
///
/// HOOK-X23: a backend declaring ``BackendCapabilities/regularFiles`` must watch a
/// regular file (always ready, as poll(2) reports it); declaring it over epoll, which
/// refuses regular files with `EPERM`, fails the case rather than passing silently.
///
/// Descriptors numbered 1024 and above (`FD_SETSIZE` on Linux) are the example: a
/// backend declaring ``BackendCapabilities/highDescriptors`` watches them like any
/// other (FD-X11, skipped elsewhere with that reason); any backend either watches one
/// or refuses it with a typed error naming the backend and the hook, and goes on
/// working (BAD-X01). The high descriptor is a `F_DUPFD` copy, so no open fd is
/// replaced; the soft `RLIMIT_NOFILE` is raised for the case when it is too low.
enum CapabilityCases {
    static let all: [ConformanceCase] = [
        ConformanceCase(
            "HOOK-X23", "a backend declaring regularFiles watches a regular file, reported readable and writable at once",
            requires: [.regularFiles]
        ) { ctx in
            let backend = try ctx.backend.make()
            ctx.onCleanup { backend.close() }
            let file = try regularFile(ctx)
            do {
                try backend.register(fd: file, interest: [.readable, .writable])
            } catch {
                throw ctx.failure("the backend declares regularFiles, but register of a regular file threw \(error); declare only what holds")
            }
            var buffer = ReadinessBuffer()
            try backend.wait(timeout: .zero, into: &buffer)
            let ready = (0..<buffer.count).map { buffer[$0] }
            try ctx.expectEqual(ready, [ReadinessEvent(fd: file, events: [.readable, .writable])], "events of the regular file")
            try backend.modify(fd: file, interest: .readable)
            buffer.removeAll()
            try backend.wait(timeout: .zero, into: &buffer)
            try ctx.expectEqual(buffer.count, 1, "events once watched for reading only")
            try backend.unregister(fd: file)
        },
        ConformanceCase(
            "FD-X11", "a descriptor numbered 1024 or above is watched like any other", requires: [.highDescriptors]
        ) { ctx in
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            let high = try highDescriptor(ctx, copying: fd)
            let calls = Recorder<String>()
            try loop.addReader(high) {
                calls.record("reader: \(ctx.read(high))")
                loop.stop()
            }
            try ctx.write(peer, "up high")
            let watchdog = try loop.callLater(.seconds(5)) { loop.stop() }
            try loop.runForever()
            try ctx.expect(try loop.removeReader(high), "removeReader of the high descriptor")
            try loop.addWriter(high) {
                calls.record("writer")
                loop.stop()
            }
            try loop.runForever()
            watchdog.cancel()
            try ctx.expect(try loop.removeWriter(high), "removeWriter of the high descriptor")
            try ctx.expectEqual(calls.all, ["reader: up high", "writer"], "callbacks of the high descriptor")
            try loop.close()
        },
        ConformanceCase(
            "BAD-X01", "a descriptor the backend cannot watch is refused with .backendFailure naming backend and hook"
        ) { ctx in
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            let high = try highDescriptor(ctx, copying: fd)
            if loop.capabilities.contains(.highDescriptors) {
                try loop.addReader(high) {}
                try ctx.expectEqual(loop.snapshot.watchedDescriptors, 1, "watched descriptors")
                try ctx.expect(try loop.removeReader(high), "removeReader of the high descriptor")
            } else {
                let error = try ctx.expectLoopError(.backendFailure, "addReader(\(high)) without highDescriptors") {
                    try loop.addReader(high) {}
                }
                for name in ["addReader", loop.backendName, "register"] {
                    try ctx.expect(error.message.contains(name), "the message must name \(name): \"\(error.message)\"")
                }
                try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "watched descriptors after the refusal")
                try ctx.expectEqual(try loop.removeReader(high), false, "removeReader of the refused descriptor")
            }
            // Either way the loop goes on watching ordinary descriptors.
            let calls = Recorder<String>()
            try loop.addReader(fd) {
                calls.record(ctx.read(fd))
                loop.stop()
            }
            try ctx.write(peer, "low")
            let watchdog = try loop.callLater(.seconds(5)) { loop.stop() }
            try loop.runForever()
            watchdog.cancel()
            try ctx.expectEqual(calls.all, ["low"], "reader of an ordinary descriptor")
            try loop.removeReader(fd)
            try loop.close()
        },
    ]

    /// An open, already unlinked regular file, closed after the case.
    private static func regularFile(_ ctx: CaseContext) throws -> Int32 {
        var template = Array("/tmp/loop-conformance-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { $0.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else { throw SystemError(errno: errno, call: "mkstemp") }
        ctx.own(fd)
        _ = template.withUnsafeBufferPointer { $0.baseAddress.map { unlink($0) } }
        return fd
    }

    /// The lowest descriptor number a backend without ``BackendCapabilities/highDescriptors``
    /// may refuse (`FD_SETSIZE` on Linux).
    static let highBase: Int32 = 1024

    /// A copy of `fd` numbered `highBase` or above, closed after the case.
    private static func highDescriptor(_ ctx: CaseContext, copying fd: Int32) throws -> Int32 {
        try raiseOpenFileLimit(ctx, to: rlim_t(highBase + 64), for: "open descriptor \(highBase)")
        let high = fcntl(fd, F_DUPFD_CLOEXEC, highBase)
        guard high >= highBase else { throw SystemError(errno: errno, call: "fcntl(F_DUPFD_CLOEXEC, \(highBase))") }
        ctx.own(high)
        return high
    }
}

/// Raises the soft `RLIMIT_NOFILE` to at least `wanted` for the rest of the case (restored
/// after it); fails the case, naming `purpose`, when the hard limit is lower.
func raiseOpenFileLimit(_ ctx: CaseContext, to wanted: rlim_t, for purpose: String) throws {
    let saved = try Posix.openFileLimit()
    guard saved.soft < UInt64(wanted) else { return }
    guard saved.hard >= UInt64(wanted) else {
        throw ctx.failure("the hard RLIMIT_NOFILE (\(saved.hard)) is too low to \(purpose); raise it (ulimit -Hn)")
    }
    try Posix.setOpenFileLimit(Posix.ResourceLimit(soft: UInt64(wanted), hard: saved.hard))
    ctx.onCleanup { try? Posix.setOpenFileLimit(saved) }
}
