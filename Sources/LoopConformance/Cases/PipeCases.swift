import Glibc
import LoopCore

/// PIPE — pipes as transports: connectReadPipe and connectWritePipe (connectionMade
/// before return, non-blocking switch, extra "pipe", end of file, the closed read end
/// noticed without writing, argument errors for regular files, pause/resume reading,
/// write flow control and writeEof).
///
/// The transports close the ends they take over, so these cases make their pipes
/// themselves and let the harness own only the end the case keeps. Every scenario runs
/// in a loop task under ``SocketCases/run(_:_:within:_:)``'s watchdog.
enum PipeCases {
    typealias Peer = TCPCases.Peer

    static let all: [ConformanceCase] = [
        ConformanceCase("PIPE-01", "connectReadPipe → connectionMade before return; the fd becomes non-blocking; extra \"pipe\" is the fd; data arrives; closing the write end → eofReceived then connectionLost(nil); the transport closes the pipe") { ctx in
            let loop = try ctx.makeLoop()
            let (read, write) = try pipe(ctx, keep: .write)
            _ = fcntl(read, F_SETFL, fcntl(read, F_GETFL) & ~O_NONBLOCK)
            let identity = inode(read)
            let peer = Peer(loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let (transport, _) = try await loop.connectReadPipe({ peer }, read)
                var seen = [
                    "events at return: \(peer.events)",
                    "non-blocking: \(try Socket.isNonBlocking(read))",
                    "pipe: \((transport.getExtraInfo("pipe") as? Int32).map { $0 == read } ?? false)",
                    "reading: \(transport.isReading)",
                ]
                try ctx.write(write, "hello")
                try await TCPCases.until { peer.received.count == 5 }
                ctx.close(write)
                try await peer.lost.value
                seen.append("closed: \(inode(read) != identity)")
                return seen
            }
            try ctx.expectEqual(seen, [
                "events at return: [\"made\"]", "non-blocking: true", "pipe: true", "reading: true", "closed: true",
            ], "observations")
            try ctx.expectEqual(peer.events, ["made", "data", "eof", "lost(nil)"], "events")
            try ctx.expectEqual(peer.received, Array("hello".utf8), "received")
            try loop.close()
        },
        ConformanceCase("PIPE-02", "connectWritePipe → canWriteEof; write and writelines arrive in order; close() → connectionLost(nil) and the reader sees end of file") { ctx in
            let loop = try ctx.makeLoop()
            let (read, write) = try pipe(ctx, keep: .read)
            let peer = Peer(loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let (transport, _) = try await loop.connectWritePipe({ peer }, write)
                var seen = [
                    "events at return: \(peer.events)",
                    "canWriteEof: \(transport.canWriteEof)",
                    "pipe: \((transport.getExtraInfo("pipe") as? Int32).map { $0 == write } ?? false)",
                ]
                try transport.write(Array("ab".utf8))
                try transport.writelines([Array("cd".utf8), Array("ef".utf8)])
                transport.close()
                seen.append("closing: \(transport.isClosing)")
                try await peer.lost.value
                seen.append("read: \(ctx.read(read))")
                seen.append("then: \(readCount(read))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "events at return: [\"made\"]", "canWriteEof: true", "pipe: true", "closing: true", "read: abcdef", "then: 0",
            ], "observations")
            try ctx.expectEqual(peer.events, ["made", "lost(nil)"], "events")
            try loop.close()
        },
        ConformanceCase("PIPE-03", "the read end is closed while nothing is buffered → the write pipe's protocol gets connectionLost(nil) without any write") { ctx in
            let loop = try ctx.makeLoop()
            let (read, write) = try pipe(ctx, keep: .read)
            let peer = Peer(loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let (transport, _) = try await loop.connectWritePipe({ peer }, write)
                ctx.close(read)
                try await peer.lost.value
                return ["closing: \(transport.isClosing)", "buffered: \(transport.writeBufferSize)"]
            }
            try ctx.expectEqual(seen, ["closing: true", "buffered: 0"], "observations")
            try ctx.expectEqual(peer.events, ["made", "lost(nil)"], "events")
            try loop.close()
        },
        ConformanceCase("PIPE-04", "a regular file → connectReadPipe and connectWritePipe throw invalidArgument with asyncio's messages; the factory is never called") { ctx in
            let loop = try ctx.makeLoop()
            let path = "/tmp/loop-pipe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let file = open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
            guard file >= 0 else { throw ctx.failure("open(\(path)) failed, errno \(errno)") }
            ctx.own(file)
            unlink(path)
            let peers = TCPCases.Peers()
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                var seen: [String] = []
                do {
                    _ = try await loop.connectReadPipe({ peers.make(loop) }, file)
                    seen.append("read: no error")
                } catch let error as LoopError {
                    seen.append("read: \(error.kind) \(error.message)")
                }
                do {
                    _ = try await loop.connectWritePipe({ peers.make(loop) }, file)
                    seen.append("write: no error")
                } catch let error as LoopError {
                    seen.append("write: \(error.kind) \(error.message)")
                }
                return seen
            }
            try ctx.expectEqual(seen, [
                "read: invalidArgument Pipe transport is for pipes/sockets only.",
                "write: invalidArgument Pipe transport is only for pipes, sockets and character devices",
            ], "errors")
            try ctx.expectEqual(peers.all.count, 0, "factory calls")
            try loop.close()
        },
        ConformanceCase("PIPE-05", "read pipe pauseReading → isReading false and no data; resumeReading → the data is delivered") { ctx in
            let loop = try ctx.makeLoop()
            let (read, write) = try pipe(ctx, keep: .write)
            let peer = Peer(loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let (transport, _) = try await loop.connectReadPipe({ peer }, read)
                transport.pauseReading()
                var seen = ["paused reading: \(transport.isReading)"]
                try ctx.write(write, "late")
                try await sleep(.milliseconds(50))
                seen.append("received while paused: \(peer.received.count)")
                transport.resumeReading()
                seen.append("resumed reading: \(transport.isReading)")
                try await TCPCases.until { peer.received.count == 4 }
                transport.close()
                seen.append("closing reading: \(transport.isReading)")
                try await peer.lost.value
                return seen
            }
            try ctx.expectEqual(seen, [
                "paused reading: false", "received while paused: 0", "resumed reading: true", "closing reading: false",
            ], "observations")
            try ctx.expectEqual(peer.events, ["made", "data", "lost(nil)"], "events")
            try ctx.expectEqual(peer.received, Array("late".utf8), "received")
            try loop.close()
        },
        ConformanceCase("PIPE-06", "write pipe with limits (high 1024, low 256) and a slow reader → pauseWriting, then resumeWriting as it drains; writeEof → the reader sees end of file and connectionLost(nil) follows") { ctx in
            let loop = try ctx.makeLoop()
            let (read, write) = try pipe(ctx, keep: .read)
            let peer = Peer(loop)
            let total = 256 * 1024
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let (transport, _) = try await loop.connectWritePipe({ peer }, write)
                try transport.setWriteBufferLimits(high: 1024, low: 256)
                var seen = ["limits: \(transport.writeBufferLimits)"]
                try transport.write([UInt8](repeating: 7, count: total))
                seen.append("events after write: \(peer.events)")
                try transport.writeEof()
                var got = 0
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = buffer.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress, $0.count) }
                    if count == 0 { break }
                    if count > 0 {
                        got += count
                    } else {
                        try await sleep(.milliseconds(1))
                    }
                }
                seen.append("read: \(got)")
                try await peer.lost.value
                return seen
            }
            try ctx.expectEqual(seen, [
                "limits: (low: 256, high: 1024)", "events after write: [\"made\", \"pause\"]", "read: \(total)",
            ], "observations")
            try ctx.expectEqual(peer.events, ["made", "pause", "resume", "lost(nil)"], "events")
            try loop.close()
        },
        ConformanceCase("PIPE-X01", "writes to a closed write pipe are ignored; as in asyncio the sixth such write is the first to log 'pipe closed by peer or os.write(pipe, data) raised exception.'") { ctx in
            let loop = try ctx.makeLoop()
            let (read, write) = try pipe(ctx, keep: .read)
            let peer = Peer(loop)
            let counts = try SocketCases.run(ctx, loop) { () async throws -> [Int] in
                let (transport, _) = try await loop.connectWritePipe({ peer }, write)
                transport.close()
                try await peer.lost.value
                _ = ctx.takeLogRecords()
                var counts: [Int] = []
                for _ in 0..<7 {
                    try transport.write(Array("x".utf8))
                    counts.append(ctx.takeLogRecords().filter { $0.message == "pipe closed by peer or os.write(pipe, data) raised exception." }.count)
                }
                return counts
            }
            try ctx.expectEqual(counts, [0, 0, 0, 0, 0, 1, 1], "warnings per ignored write")
            try ctx.expectEqual(readCount(read), 0, "the reader sees end of file, nothing written")
            try loop.close()
        },
        ConformanceCase("PIPE-X02", "a write after the reader closed the pipe → connectionLost with EPIPE (broken pipe) and the process lives on: SIGPIPE is ignored, as CPython does") { ctx in
            let loop = try ctx.makeLoop()
            let (read, write) = try pipe(ctx, keep: .read)
            let peer = Peer(loop)
            let closing = try SocketCases.run(ctx, loop) { () async throws -> Bool in
                let (transport, _) = try await loop.connectWritePipe({ peer }, write)
                ctx.close(read)
                try transport.write(Array("nobody reads this".utf8))
                try await peer.lost.value
                return transport.isClosing
            }
            try ctx.expect(closing, "the transport is closing after the broken pipe")
            try ctx.expectEqual(peer.events, ["made", "lost(error)"], "events")
            try ctx.expectEqual((peer.lostError as? SystemError)?.errno, EPIPE, "connectionLost's error (\(String(describing: peer.lostError)))")
            try loop.close()
        },
    ]

    enum End { case read, write }

    /// A non-blocking pipe (read end, write end); the harness owns only the `keep` end,
    /// the case hands the other to a transport, which closes it.
    static func pipe(_ ctx: CaseContext, keep: End) throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw SystemError(errno: errno, call: "pipe") }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        ctx.own(keep == .read ? fds[0] : fds[1])
        return (fds[0], fds[1])
    }

    /// The inode behind `fd`, or 0 when `fd` is closed: a changed value means the
    /// transport closed it (the number may be reused by a concurrently running case).
    static func inode(_ fd: Int32) -> UInt {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return 0 }
        return UInt(info.st_ino)
    }

    /// What one read(2) of `fd` returns (0 at end of file, -1 when nothing waits).
    static func readCount(_ fd: Int32) -> Int {
        var byte: UInt8 = 0
        return Glibc.read(fd, &byte, 1)
    }
}
