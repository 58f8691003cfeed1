import Glibc
import LoopCore

/// FD — addReader / removeReader / addWriter / removeWriter.
///
/// Iterations are driven one at a time with stop-before-run (`loop.stop(); try loop.runForever()`),
/// which always polls I/O once without blocking. Every case removes its watchers before it
/// closes the loop. FD-10 (descriptors owned by transports) arrives with the transports.
enum FileDescriptorCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("FD-01", "a reader runs with its captured value when the peer sends; removeReader returns true, then false") { ctx in
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            let calls = Recorder<String>()
            func callback(_ tag: String) {
                calls.record("\(tag): \(ctx.read(fd))")
                loop.stop()
            }
            let tag = "tag"
            try loop.addReader(fd) { callback(tag) }
            try loop.callLater(.milliseconds(20)) { try ctx.write(peer, "hello") }
            let watchdog = try loop.callLater(.seconds(5)) { loop.stop() }
            try loop.runForever()
            watchdog.cancel()
            try ctx.expectEqual(calls.all, ["tag: hello"], "reader calls (and what each read)")
            try ctx.expectEqual(try loop.removeReader(fd), true, "first removeReader")
            try ctx.expectEqual(try loop.removeReader(fd), false, "second removeReader")
            try loop.close()
        },
        ConformanceCase("FD-02", "level-triggered: an unread readable fd runs its reader in every iteration") { ctx in
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            try ctx.write(peer, "x")
            let calls = Recorder<Int>()
            try loop.addReader(fd) { calls.record(1) }
            for _ in 0..<5 { try iterate(loop) }
            try ctx.expectEqual(calls.count, 5, "reader calls in 5 iterations")
            try loop.removeReader(fd)
            try loop.close()
        },
        ConformanceCase("FD-03", "a watched fd that never becomes readable never runs its reader") { ctx in
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            let calls = Recorder<Int>()
            try loop.addReader(fd) { calls.record(1) }
            // Traffic in the other direction makes the peer readable, not fd.
            try ctx.write(fd, "to the peer")
            for _ in 0..<3 { try iterate(loop) }
            try loop.callLater(.milliseconds(50)) { loop.stop() }
            try loop.runForever()
            try ctx.expectEqual(calls.count, 0, "reader calls")
            try ctx.expectEqual(ctx.read(peer), "to the peer", "what the peer received")
            try loop.removeReader(fd)
            try loop.close()
        },
        ConformanceCase("FD-04", "a second addReader replaces the first reader; one removeReader removes it") { ctx in
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            try ctx.write(peer, "x")
            let calls = Recorder<String>()
            try loop.addReader(fd) { calls.record("old") }
            try loop.addReader(fd) { calls.record("new") }
            try iterate(loop)
            try iterate(loop)
            try ctx.expectEqual(calls.all, ["new", "new"], "reader calls")
            try ctx.expectEqual(try loop.removeReader(fd), true, "removeReader")
            try ctx.expectEqual(try loop.removeReader(fd), false, "removeReader after the reader was removed")
            try iterate(loop)
            try ctx.expectEqual(calls.count, 2, "reader calls after removeReader")
            try loop.close()
        },
        ConformanceCase("FD-05", "a writer on a writable socket runs with its captured value; removeWriter returns true, then false") { ctx in
            let loop = try ctx.makeLoop()
            let (fd, _) = try ctx.socketPair()
            let calls = Recorder<Int>()
            func callback(_ argument: Int) { calls.record(argument) }
            let argument = 42
            try loop.addWriter(fd) { callback(argument) }
            try iterate(loop)
            try ctx.expectEqual(calls.all, [42], "writer calls in one iteration")
            try ctx.expectEqual(try loop.removeWriter(fd), true, "first removeWriter")
            try ctx.expectEqual(try loop.removeWriter(fd), false, "second removeWriter")
            try iterate(loop)
            try ctx.expectEqual(calls.count, 1, "writer calls after removeWriter")
            try loop.close()
        },
        ConformanceCase("FD-06", "reader and writer on one fd run in the same iteration; removing either keeps the other") { ctx in
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            try ctx.write(peer, "x")
            let calls = Recorder<String>()
            try loop.addReader(fd) { calls.record("R") }
            try loop.addWriter(fd) { calls.record("W") }
            try iterate(loop)
            try ctx.expectEqual(calls.all.sorted(), ["R", "W"], "calls in the first iteration")
            calls.removeAll()
            try ctx.expectEqual(try loop.removeWriter(fd), true, "removeWriter")
            try iterate(loop)
            try ctx.expectEqual(calls.all, ["R"], "calls with the writer removed")
            calls.removeAll()
            try loop.addWriter(fd) { calls.record("W") }
            try ctx.expectEqual(try loop.removeReader(fd), true, "removeReader")
            try iterate(loop)
            try ctx.expectEqual(calls.all, ["W"], "calls with the reader removed")
            try loop.removeWriter(fd)
            try loop.close()
        },
        ConformanceCase("FD-07", "pipe ends can be watched; closing the write end makes the read end readable at end-of-file") { ctx in
            let loop = try ctx.makeLoop()
            let pipe = try ctx.pipe()
            let reads = Recorder<Int>()
            let writes = Recorder<Int>()
            try loop.addReader(pipe.read) { reads.record(readCount(pipe.read)) }
            try loop.addWriter(pipe.write) { writes.record(1) }
            try iterate(loop)
            try ctx.expectEqual(reads.count, 0, "reader calls on an empty pipe")
            try ctx.expectEqual(writes.count, 1, "writer calls on an empty pipe")
            try ctx.expectEqual(try loop.removeWriter(pipe.write), true, "removeWriter")
            try ctx.write(pipe.write, "data")
            try iterate(loop)
            try ctx.expectEqual(reads.all, [4], "bytes read by the reader after a write")
            ctx.close(pipe.write)
            try iterate(loop)
            try ctx.expectEqual(reads.all, [4, 0], "bytes read by the reader after the write end closed (0: end-of-file)")
            try loop.removeReader(pipe.read)
            try loop.close()
        },
        ConformanceCase("FD-08", "addReader(-1) and addWriter(-1) are argument errors naming the invalid descriptor") { ctx in
            let loop = try ctx.makeLoop()
            for fd: Int32 in [-1, Int32.min] {
                let readerError = try ctx.expectLoopError(.invalidArgument, "addReader(\(fd))") { try loop.addReader(fd) {} }
                let writerError = try ctx.expectLoopError(.invalidArgument, "addWriter(\(fd))") { try loop.addWriter(fd) {} }
                for error in [readerError, writerError] {
                    let message = error.message.lowercased()
                    try ctx.expect(
                        message.contains("invalid file descriptor") && message.contains("\(fd)"),
                        "the message must say the descriptor \(fd) is invalid: \(error.message)")
                }
            }
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "descriptors watched after the refused calls")
            try loop.close()
        },
        ConformanceCase("FD-09", "on a closed loop addReader/addWriter throw .closed; removeReader/removeWriter return false") { ctx in
            let loop = try ctx.makeLoop()
            let (fd, _) = try ctx.socketPair()
            try loop.close()
            try ctx.expectLoopError(.closed, "addReader on a closed loop") { try loop.addReader(fd) {} }
            try ctx.expectLoopError(.closed, "addWriter on a closed loop") { try loop.addWriter(fd) {} }
            try ctx.expectEqual(try loop.removeReader(fd), false, "removeReader on a closed loop")
            try ctx.expectEqual(try loop.removeWriter(fd), false, "removeWriter on a closed loop")
            // CPython 3.11 also returns False for -1 once the loop is closed.
            try ctx.expectEqual(try loop.removeReader(-1), false, "removeReader(-1) on a closed loop")
            try ctx.expectEqual(try loop.removeWriter(-1), false, "removeWriter(-1) on a closed loop")
        },
        ConformanceCase("FD-10", "an fd owned by a transport: addReader/addWriter/removeReader/removeWriter each throw 'is used by transport'") { ctx in
            let loop = try ctx.makeLoop()
            // The transport owns and closes `fd`; the case owns only the peer.
            let (fd, peer) = try Socket.makePair()
            ctx.own(peer)
            final class Quiet: StreamProtocol, @unchecked Sendable {
                let lost: Future<Void>
                init(_ loop: BaseEventLoop) { lost = loop.createFuture(of: Void.self) }
                func connectionLost(_ error: (any Error)?) throws { if !lost.isDone { try lost.setResult(()) } }
            }
            let quiet = Quiet(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (transport, _) = try await loop.connectAcceptedSocket({ quiet }, fd)
                let calls: [(String, () throws -> Void)] = [
                    ("addReader", { try loop.addReader(fd) {} }), ("addWriter", { try loop.addWriter(fd) {} }),
                    ("removeReader", { _ = try loop.removeReader(fd) }), ("removeWriter", { _ = try loop.removeWriter(fd) }),
                ]
                for (name, call) in calls {
                    let error = try ctx.expectLoopError(.fdInUseByTransport, name) { try call() }
                    try ctx.expect(error.message.contains("is used by transport") && error.message.contains("\(fd)"), "\(name) message: \(error.message)")
                }
                transport.close()
                try await quiet.lost.value
            }
            ctx.close(peer)
            try loop.close()
        },
        ConformanceCase("FD-11", "a throwing reader: one handler call per failure, and it stays registered") { ctx in
            struct Boom: Error {}
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            try ctx.write(peer, "x")
            let calls = Recorder<Int>()
            try loop.addReader(fd) {
                calls.record(1)
                throw Boom()
            }
            for iteration in 1...2 {
                try iterate(loop)
                try ctx.expectEqual(calls.count, iteration, "reader calls after \(iteration) iteration(s)")
                let contexts = ctx.takeExceptionContexts()
                try ctx.expectEqual(contexts.count, 1, "handler calls in iteration \(iteration)")
                let context = contexts[0]
                try ctx.expect(
                    context.message.hasPrefix("Exception in callback"),
                    "the message must start with \"Exception in callback\": \(context.message)")
                try ctx.expect(context.error is Boom, "the context's error must be the thrown one, got \(String(describing: context.error))")
                try ctx.expect(context.handle != nil, "the context must carry the reader's handle")
            }
            try ctx.expectEqual(try loop.removeReader(fd), true, "removeReader: the reader stayed registered")
            try loop.close()
        },
        ConformanceCase("FD-12", "the peer closing a socket pair makes the watched end readable at end-of-file") { ctx in
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            let reads = Recorder<Int>()
            try loop.addReader(fd) { reads.record(readCount(fd)) }
            try iterate(loop)
            try ctx.expectEqual(reads.count, 0, "reader calls while the peer is open and silent")
            ctx.close(peer)
            try iterate(loop)
            try ctx.expectEqual(reads.all, [0], "bytes read after the peer closed (0: end-of-file)")
            try loop.removeReader(fd)
            try loop.close()
        },

        // MARK: Beyond the catalogue

        ConformanceCase("FD-X01", "removeReader inside the reader's own callback returns true and stops further calls") { ctx in
            // CPython 3.11 gives [True] over three iterations.
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            try ctx.write(peer, "x")
            let results = Recorder<Bool>()
            try loop.addReader(fd) { results.record(try loop.removeReader(fd)) }
            for _ in 0..<3 { try iterate(loop) }
            try ctx.expectEqual(results.all, [true], "removeReader results, one per call")
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "descriptors watched")
            try loop.close()
        },
        ConformanceCase("FD-X02", "a writer that removes itself runs once") { ctx in
            // CPython 3.11 gives [True] over three iterations.
            let loop = try ctx.makeLoop()
            let (fd, _) = try ctx.socketPair()
            let results = Recorder<Bool>()
            try loop.addWriter(fd) { results.record(try loop.removeWriter(fd)) }
            for _ in 0..<3 { try iterate(loop) }
            try ctx.expectEqual(results.all, [true], "removeWriter results, one per call")
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "descriptors watched")
            try loop.close()
        },
        ConformanceCase("FD-X03", "addReader/addWriter on a descriptor that is not open (closed by close()) are argument errors") { ctx in
            // CPython 3.11 differs by selector: epoll raises OSError(EBADF), poll accepts the fd.
            // The Swift port refuses it the same way on every backend.
            let loop = try ctx.makeLoop()
            let pipe = try ctx.pipe()
            ctx.close(pipe.read)
            let readerError = try ctx.expectLoopError(.invalidArgument, "addReader(closed fd)") { try loop.addReader(pipe.read) {} }
            let writerError = try ctx.expectLoopError(.invalidArgument, "addWriter(closed fd)") { try loop.addWriter(pipe.read) {} }
            for error in [readerError, writerError] {
                try ctx.expect(error.message.contains("not open"), "the message must say the descriptor is not open: \(error.message)")
            }
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "descriptors watched after the refused calls")
            try loop.close()
        },
        ConformanceCase("FD-X04", "removeReader(-1) and removeWriter(-1) on an open loop are argument errors") { ctx in
            // CPython 3.11: ValueError "Invalid file descriptor: -1" (False only once the loop is closed, FD-09).
            let loop = try ctx.makeLoop()
            try ctx.expectLoopError(.invalidArgument, "removeReader(-1)") { try loop.removeReader(-1) }
            try ctx.expectLoopError(.invalidArgument, "removeWriter(-1)") { try loop.removeWriter(-1) }
            try loop.close()
        },
        ConformanceCase("FD-X05", "removing a watcher that was never added returns false and leaves the other direction alone") { ctx in
            // CPython 3.11: remove_reader(9999) on an open loop returns False.
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            try ctx.expectEqual(try loop.removeReader(fd), false, "removeReader of an unwatched open fd")
            try ctx.expectEqual(try loop.removeWriter(fd), false, "removeWriter of an unwatched open fd")
            try ctx.expectEqual(try loop.removeReader(9_999), false, "removeReader(9999)")
            try ctx.expectEqual(try loop.removeWriter(9_999), false, "removeWriter(9999)")
            try ctx.write(peer, "x")
            let calls = Recorder<Int>()
            try loop.addReader(fd) { calls.record(1) }
            try ctx.expectEqual(try loop.removeWriter(fd), false, "removeWriter of an fd watched only for reading")
            try iterate(loop)
            try ctx.expectEqual(calls.count, 1, "reader calls after the removeWriter")
            try ctx.expectEqual(try loop.removeReader(fd), true, "removeReader")
            try loop.close()
        },
        ConformanceCase("FD-X06", "a reader that replaces itself from its callback: the new one runs from the next iteration") { ctx in
            // CPython 3.11 gives ['old', 'new', 'new'] over three iterations.
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            try ctx.write(peer, "x")
            let calls = Recorder<String>()
            try loop.addReader(fd) {
                calls.record("old")
                try loop.addReader(fd) { calls.record("new") }
            }
            for _ in 0..<3 { try iterate(loop) }
            try ctx.expectEqual(calls.all, ["old", "new", "new"], "reader calls")
            try ctx.expectEqual(try loop.removeReader(fd), true, "removeReader")
            try loop.close()
        },
        ConformanceCase("FD-X07", "two ready readers that remove each other: exactly one runs in that iteration") { ctx in
            // CPython 3.11: the removed reader's handle is cancelled even though it was already queued.
            let loop = try ctx.makeLoop()
            let (first, firstPeer) = try ctx.socketPair()
            let (second, secondPeer) = try ctx.socketPair()
            try ctx.write(firstPeer, "x")
            try ctx.write(secondPeer, "x")
            let calls = Recorder<Int>()
            try loop.addReader(first) {
                calls.record(1)
                try loop.removeReader(second)
            }
            try loop.addReader(second) {
                calls.record(2)
                try loop.removeReader(first)
            }
            try iterate(loop)
            try ctx.expectEqual(calls.count, 1, "readers run in the iteration (\(calls.all))")
            let removed = [try loop.removeReader(first), try loop.removeReader(second)]
            try ctx.expectEqual(removed.filter { $0 }.count, 1, "readers still registered afterwards (\(removed))")
            try loop.close()
        },
        ConformanceCase("FD-X08", "a callback that keeps rescheduling itself does not starve a ready reader") { ctx in
            // The loop may poll I/O less often than every iteration while callbacks are ready
            // (at least every 500 µs), but a readable fd must still be served.
            let loop = try ctx.makeLoop()
            let (fd, peer) = try ctx.socketPair()
            try ctx.write(peer, "x")
            let served = Recorder<String>()
            let spins = Recorder<Int>()
            func spin() throws {
                spins.record(1)
                if served.count == 0 { try loop.callSoon { try spin() } }
            }
            try loop.callSoon { try spin() }
            try loop.addReader(fd) {
                served.record("reader")
                try loop.removeReader(fd)
                loop.stop()
            }
            let watchdog = try loop.callLater(.seconds(5)) { loop.stop() }
            let started = ctx.stopwatch()
            try loop.runForever()
            let elapsed = ContinuousClock.now - started
            watchdog.cancel()
            try iterate(loop)  // lets the last spin see the reader ran and stop rescheduling
            try ctx.expectEqual(served.all, ["reader"], "reader calls under a busy ready queue")
            try ctx.expect(elapsed < .seconds(2), "the run took \(elapsed)")
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "descriptors watched")
            try loop.close()
        },
        ConformanceCase(
            "FD-X09", "debug mode: watching or unwatching an fd from another thread throws .wrongThread",
            requires: [.realTime]  // the watchdog timer must not fire before the other thread has acted
        ) { ctx in
            // CPython 3.11 does not check the thread here; the Swift port does in debug mode,
            // as it does for callSoon (DBG-04). The case turns debug mode on itself.
            let loop = try ctx.makeLoop()
            loop.setDebug(true)
            let (fd, _) = try ctx.socketPair()
            let running = Recorder<Bool>()
            let outcomes = Recorder<String>()
            try loop.callSoon { running.record(true) }
            let thread = ctx.spawn {
                let deadline = ContinuousClock.now + .seconds(5)
                while running.count == 0 && ContinuousClock.now < deadline { usleep(100) }
                func attempt(_ call: String, _ body: () throws -> Void) {
                    do {
                        try body()
                        outcomes.record("\(call): no error")
                    } catch let error as LoopError {
                        outcomes.record("\(call): \(error.kind)")
                    } catch {
                        outcomes.record("\(call): \(error)")
                    }
                }
                attempt("addReader") { try loop.addReader(fd) {} }
                attempt("addWriter") { try loop.addWriter(fd) {} }
                attempt("removeReader") { try loop.removeReader(fd) }
                attempt("removeWriter") { try loop.removeWriter(fd) }
                _ = try? loop.callSoonThreadsafe { loop.stop() }
            }
            let watchdog = try loop.callLater(.seconds(8)) { loop.stop() }
            try loop.runForever()
            watchdog.cancel()
            try ctx.expect(thread.join(timeout: .seconds(5)), "the other thread did not finish")
            try ctx.expectEqual(
                outcomes.all,
                ["addReader: wrongThread", "addWriter: wrongThread", "removeReader: wrongThread", "removeWriter: wrongThread"],
                "outcomes of the calls from another thread")
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "descriptors watched")
            try loop.close()
        },
        ConformanceCase("FD-X10", "a second addWriter replaces the first writer") { ctx in
            let loop = try ctx.makeLoop()
            let (fd, _) = try ctx.socketPair()
            let calls = Recorder<String>()
            try loop.addWriter(fd) { calls.record("old") }
            try loop.addWriter(fd) { calls.record("new") }
            try iterate(loop)
            try iterate(loop)
            try ctx.expectEqual(calls.all, ["new", "new"], "writer calls")
            try ctx.expectEqual(try loop.removeWriter(fd), true, "removeWriter")
            try ctx.expectEqual(try loop.removeWriter(fd), false, "removeWriter after the writer was removed")
            try loop.close()
        },
    ]

    /// Runs exactly one iteration (stop before run).
    private static func iterate(_ loop: BaseEventLoop) throws {
        loop.stop()
        try loop.runForever()
    }

    /// Reads once from `fd`: the byte count, 0 at end-of-file, -1 on an error (e.g. nothing there).
    private static func readCount(_ fd: Int32) -> Int {
        var buffer = [UInt8](repeating: 0, count: 4096)
        return buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    }
}
