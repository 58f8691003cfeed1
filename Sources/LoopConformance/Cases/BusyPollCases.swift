import Glibc
@_spi(Backend) import LoopCore
import Synchronization

/// RUN-X — busy polling (`setBusyPoll(limit:)`): the loop polls before it sleeps while
/// work keeps arriving, stops polling once idle, and handles everything it handles
/// when it sleeps.
enum BusyPollCases {
    static let all: [ConformanceCase] = [
        ConformanceCase(
            "RUN-X01",
            "busy polling: work arriving within the limit opens the window and the loop polls before sleeping; readers, timers and threadsafe callbacks all run",
            requires: [.realTime]
        ) { ctx in
            let backend = WaitCountingBackend(inner: try ctx.backend.make())
            let loop = ctx.makeLoop(on: backend)
            let seen = Recorder<String>()
            let started = ctx.stopwatch()
            try loop.callLater(.milliseconds(2)) {
                seen.record(ContinuousClock.now - started >= .milliseconds(2) ? "timer" : "timer ran early")
            }
            let run = try pingPong(ctx, loop, rounds: 300) { round in
                if round == 150 { _ = try? loop.callSoonThreadsafe { seen.record("threadsafe") } }
            }
            try ctx.expectEqual(run.echoed, 300, "bytes echoed by the loop's reader")
            try ctx.expect(run.widestWindow > .zero, "the busy-poll window never opened during 300 quick round trips")
            try ctx.expect(
                backend.zeroTimeoutWaits.load(ordering: .relaxed) >= 10,
                "the loop polled with a zero timeout only \(backend.zeroTimeoutWaits.load(ordering: .relaxed)) times")
            try iterate(loop, until: { seen.all.count >= 2 })
            try ctx.expectEqual(seen.all.sorted(), ["threadsafe", "timer"], "work other than I/O handled while polling")
            try ctx.expectEqual(loop.busyPollLimit, .milliseconds(1), "the limit set from the peer thread")
            try loop.close()
        },
        ConformanceCase(
            "RUN-X02", "busy polling: a loop that goes idle closes the window and then sleeps without polling",
            requires: [.realTime]
        ) { ctx in
            let backend = WaitCountingBackend(inner: try ctx.backend.make())
            let loop = ctx.makeLoop(on: backend)
            let run = try pingPong(ctx, loop, rounds: 200) { _ in }
            try ctx.expect(run.widestWindow > .zero, "precondition: the window opened during the round trips")
            // Twelve idle periods of 3 ms, each longer than the 1 ms limit.
            let remaining = Protected(12)
            func sleepAgain() throws {
                try loop.callLater(.milliseconds(3)) {
                    let left = remaining.withLock { count -> Int in
                        count -= 1
                        return count
                    }
                    if left == 0 { loop.stop() } else { try sleepAgain() }
                }
            }
            try sleepAgain()
            try loop.runForever()
            try ctx.expectEqual(loop.busyPollWindow, .zero, "the window after twelve idle periods longer than the limit")
            let before = backend.zeroTimeoutWaits.load(ordering: .relaxed)
            try loop.callLater(.milliseconds(30)) { loop.stop() }
            try loop.runForever()
            let polls = backend.zeroTimeoutWaits.load(ordering: .relaxed) - before
            try ctx.expect(polls <= 3, "an idle loop with a closed window polled \(polls) times in 30 ms")
            try loop.close()
        },
        ConformanceCase("RUN-X03", "setBusyPoll: nil or zero turns it off, 1 ms is the most; a negative or longer limit is refused") { ctx in
            let loop = try ctx.makeLoop()
            try ctx.expectEqual(loop.busyPollLimit, nil, "busy polling is off by default")
            try ctx.expectEqual(loop.busyPollWindow, .zero, "the window of a new loop")
            try loop.setBusyPoll(limit: .microseconds(50))
            try ctx.expectEqual(loop.busyPollLimit, .microseconds(50), "after setBusyPoll(limit: 50 µs)")
            try loop.setBusyPoll(limit: BaseEventLoop.maximumBusyPollLimit)
            try ctx.expectEqual(loop.busyPollLimit, .milliseconds(1), "the maximum is accepted")
            try loop.setBusyPoll(limit: .zero)
            try ctx.expectEqual(loop.busyPollLimit, nil, "a zero limit turns busy polling off")
            try loop.setBusyPoll(limit: .microseconds(20))
            try loop.setBusyPoll(limit: nil)
            try ctx.expectEqual(loop.busyPollLimit, nil, "a nil limit turns busy polling off")
            for bad: Duration in [.microseconds(-1), .microseconds(1_001), .seconds(1)] {
                let error = try ctx.expectLoopError(.invalidArgument, "setBusyPoll(limit: \(bad))") {
                    try loop.setBusyPoll(limit: bad)
                }
                try ctx.expect(
                    error.message.contains("setBusyPoll") && error.message.contains("1000 µs"),
                    "the message names the call and the bounds: \(error.message)")
            }
            try ctx.expectEqual(loop.busyPollLimit, nil, "a refused limit leaves the setting as it was")
            try loop.close()
        },
        ConformanceCase(
            "RUN-X04",
            "busy polling with the backend's own transports: 300 request/reply rounds over TCP complete and every byte is echoed",
            requires: [.realTime]
        ) { ctx in
            let loop = try ctx.makeLoop()
            try loop.setBusyPoll(limit: .milliseconds(1))
            let client = Rounds(loop, rounds: 300, size: 100)
            let server = try SocketCases.run(ctx, loop) { () async throws -> Server in
                let server = try await loop.createServer({ TCPCases.Echo() }, host: "127.0.0.1", port: 0)
                let port = try TCPCases.serverPort(ctx, server)
                _ = try await loop.createConnection({ client }, host: "127.0.0.1", port: port)
                return server
            }
            // No timer but the watchdog's: a loop that sleeps with work queued would hang here.
            try SocketCases.runGuarded(ctx, loop, client.done, within: .seconds(10))
            try ctx.expectEqual(client.received.count, 300 * 100, "bytes echoed")
            try ctx.expect(client.received == client.sent, "the echoed bytes must equal the sent ones")
            client.transport?.close()
            server.close()
            try SocketCases.run(ctx, loop) { () async throws -> Void in try await server.waitClosed() }
            try loop.close()
        },
    ]

    /// Sends `rounds` messages of `size` bytes, each once the previous one came back
    /// whole, then completes `done`; loop-thread only.
    final class Rounds: StreamProtocol, @unchecked Sendable {
        let rounds: Int, size: Int
        let done: Future<Void>
        var transport: (any Transport)?
        var sent: [UInt8] = []
        var received: [UInt8] = []

        init(_ loop: BaseEventLoop, rounds: Int, size: Int) {
            (self.rounds, self.size) = (rounds, size)
            done = loop.createFuture(of: Void.self)
        }

        func connectionMade(_ transport: any BaseTransport) throws {
            self.transport = transport as? any Transport
            try sendNext()
        }
        func dataReceived(_ bytes: [UInt8]) throws {
            received += bytes
            guard received.count == sent.count else { return }
            if sent.count == rounds * size {
                if !done.isDone { try done.setResult(()) }
            } else {
                try sendNext()
            }
        }
        func connectionLost(_ error: (any Error)?) throws {
            if !done.isDone { try done.setException(error ?? LoopError(.invalidState, "the connection closed early")) }
        }
        private func sendNext() throws {
            let round = sent.count / size
            let message = (0..<size).map { UInt8(truncatingIfNeeded: round &* 31 &+ $0) }
            sent += message
            try transport?.write(message)
        }
    }

    /// What a ping-pong run saw.
    struct PingPong {
        var echoed: Int
        var widestWindow: Duration
    }

    /// Turns busy polling on (1 ms) from a peer thread, which then sends `rounds` one-byte
    /// messages over a socket pair, each after the loop's reader echoed the previous one;
    /// runs the loop until the last echo. `onRound` runs on the peer thread.
    static func pingPong(
        _ ctx: CaseContext, _ loop: BaseEventLoop, rounds: Int, onRound: @escaping @Sendable (Int) -> Void
    ) throws -> PingPong {
        let (local, peer) = try ctx.socketPair()
        let state = Protected(PingPong(echoed: 0, widestWindow: .zero))
        try loop.addReader(local) {
            var byte: UInt8 = 0
            while Glibc.read(local, &byte, 1) == 1 {
                guard Glibc.write(local, &byte, 1) == 1 else { break }
                let done = state.withLock { state -> Bool in
                    state.echoed += 1
                    state.widestWindow = max(state.widestWindow, loop.busyPollWindow)
                    return state.echoed == rounds
                }
                if done { loop.stop() }
            }
        }
        let watchdog = try loop.callLater(.seconds(20)) { loop.stop() }
        let thread = ctx.spawn {
            _ = try? loop.setBusyPoll(limit: .milliseconds(1))
            for round in 1...rounds {
                var byte = UInt8(truncatingIfNeeded: round)
                guard Glibc.write(peer, &byte, 1) == 1 else { return }
                var poller = pollfd(fd: peer, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 5_000) == 1, Glibc.read(peer, &byte, 1) == 1 else { return }
                onRound(round)
            }
        }
        try loop.runForever()
        watchdog.cancel()
        try loop.removeReader(local)
        try ctx.expect(thread.join(), "the peer thread did not finish")
        return state.withLock { $0 }
    }

    /// Runs `loop` a few milliseconds at a time until `done` holds (at most 2 s).
    static func iterate(_ loop: BaseEventLoop, until done: () -> Bool) throws {
        let deadline = ContinuousClock.now + .seconds(2)
        while !done(), ContinuousClock.now < deadline {
            try loop.callLater(.milliseconds(1)) { loop.stop() }
            try loop.runForever()
        }
    }
}

/// Counts the loop's waits with a zero timeout (polls) and with any other timeout.
private final class WaitCountingBackend: DelegatingBackend, @unchecked Sendable {
    let zeroTimeoutWaits = Atomic<Int>(0)

    override func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        if timeout == .zero { zeroTimeoutWaits.add(1, ordering: .relaxed) }
        try super.wait(timeout: timeout, into: &ready)
    }
}
