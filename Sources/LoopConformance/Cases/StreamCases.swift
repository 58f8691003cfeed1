import Glibc
import LoopCore

/// STREAM — asyncio's streams: StreamReader fed directly (feedData/feedEof) and
/// reader/writer pairs from openConnection and startServer over loopback TCP and
/// Unix sockets (read, readline, readexactly, readuntil, limits, flow control,
/// drain, writeEof, errors).
///
/// Every scenario runs in a loop task under ``SocketCases/run(_:_:within:_:)``'s
/// watchdog; each waits for its server callbacks to return before it ends.
enum StreamCases {
    static let all: [ConformanceCase] = catalogue + extra

    static let catalogue: [ConformanceCase] = [
        ConformanceCase("STREAM-01", "startServer + openConnection: readline, write, drain; read() returns everything until EOF, then atEOF; close → isClosing, waitClosed completes; peername on the writer") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let (server, port) = try await serve(loop, callbacks) { reader, writer in
                    let line = try await reader.readline()
                    try writer.write(bytes("echo: ") + line)
                    try await writer.drain()
                    let rest = try await reader.read()
                    try writer.write(bytes("rest: ") + rest)
                    try await writer.drain()
                    writer.close()
                    try await writer.waitClosed()
                }
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                var seen: [String] = []
                seen.append("peername matches: \(writer.getExtraInfo("peername") as? SocketAddress == (try SocketAddress(host: "127.0.0.1", port: port)))")
                try writer.write(bytes("hello\n"))
                try await writer.drain()
                seen.append("line: \(text(try await reader.readline()))")
                try writer.write(bytes("tail one, "))
                try writer.write(bytes("tail two"))
                try await writer.drain()
                try writer.writeEof()
                seen.append("atEOF before: \(reader.atEOF)")
                seen.append("read: \(text(try await reader.read()))")
                seen.append("atEOF after: \(reader.atEOF)")
                writer.close()
                seen.append("isClosing: \(writer.isClosing)")
                try await writer.waitClosed()
                try await finish(server, callbacks)
                return seen
            }
            try ctx.expectEqual(seen, [
                "peername matches: true", "line: echo: hello\n", "atEOF before: false",
                "read: rest: tail one, tail two", "atEOF after: true", "isClosing: true",
            ], "observations")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-02", "reader holding \"abcdefgh\" + EOF: read(0) → empty at once; read(3) → abc; read(100) → defgh; then empty at EOF") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop)
            let empty = try StreamReader(loop: loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                var seen = ["read(0) with nothing buffered: \(try await empty.read(0))"]
                try reader.feedData(bytes("abcdefgh"))
                reader.feedEof()
                seen.append("read(0): \(try await reader.read(0))")
                seen.append("read(3): \(text(try await reader.read(3)))")
                seen.append("read(100): \(text(try await reader.read(100)))")
                seen.append("read(100) at EOF: \(try await reader.read(100))")
                seen.append("read() at EOF: \(try await reader.read())")
                return seen
            }
            try ctx.expectEqual(seen, [
                "read(0) with nothing buffered: []", "read(0): []", "read(3): abc", "read(100): defgh",
                "read(100) at EOF: []", "read() at EOF: []",
            ], "reads")
            try loop.close()
        },
        ConformanceCase("STREAM-03", "readexactly(4) → 4 bytes (waiting for them); readexactly(0) → empty; EOF with 6 left, readexactly(10) → IncompleteReadError(partial 6 bytes, expected 10), consumed; negative → argument error") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                try reader.feedData(bytes("ab"))
                let four = try loop.createTask { try await reader.readexactly(4) }
                try await yieldIterations()
                var seen = ["done with 2 bytes: \(four.isDone)"]
                try reader.feedData(bytes("cdefghij"))
                seen.append("readexactly(4): \(text(try await four.value))")
                seen.append("readexactly(0): \(try await reader.readexactly(0))")
                reader.feedEof()
                let error = await thrown { _ = try await reader.readexactly(10) }
                if let incomplete = error as? IncompleteReadError {
                    seen.append("partial: \(text(incomplete.partial)), expected: \(incomplete.expected.map { String($0) } ?? "nil")")
                    seen.append("message: \(incomplete)")
                } else {
                    seen.append("readexactly(10) threw \(String(describing: error))")
                }
                seen.append("atEOF: \(reader.atEOF)")
                seen.append("negative: \(kind(await thrown { _ = try await reader.readexactly(-1) }))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "done with 2 bytes: false", "readexactly(4): abcd", "readexactly(0): []",
                "partial: efghij, expected: 10", "message: 6 bytes read on a total of 10 expected bytes",
                "atEOF: true", "negative: invalidArgument",
            ], "observations")
            try loop.close()
        },
        ConformanceCase("STREAM-04", "readline → a line with its \"\\n\"; at EOF the partial last line without one; then empty") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop)
            let lines = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                try reader.feedData(bytes("first\nsec"))
                try reader.feedData(bytes("ond\nlast"))
                reader.feedEof()
                var lines: [String] = []
                for _ in 0..<4 { lines.append(text(try await reader.readline())) }
                return lines
            }
            try ctx.expectEqual(lines, ["first\n", "second\n", "last", ""], "lines")
            try loop.close()
        },
        ConformanceCase("STREAM-05", "readuntil(sep) → data with the separator; EOF first → IncompleteReadError(partial the rest, expected nil), buffer emptied; empty separator → argument error") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                try reader.feedData(bytes("key=value;rest"))
                var seen = ["readuntil: \(text(try await reader.readuntil(bytes(";"))))"]
                reader.feedEof()
                let error = await thrown { _ = try await reader.readuntil(bytes(";")) }
                if let incomplete = error as? IncompleteReadError {
                    seen.append("partial: \(text(incomplete.partial)), expected: \(incomplete.expected.map { String($0) } ?? "nil")")
                } else {
                    seen.append("readuntil at EOF threw \(String(describing: error))")
                }
                seen.append("buffered: \(reader.bufferedCount), atEOF: \(reader.atEOF)")
                seen.append("empty separator: \(kind(await thrown { _ = try await reader.readuntil([]) }))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "readuntil: key=value;", "partial: rest, expected: nil", "buffered: 0, atEOF: true",
                "empty separator: invalidArgument",
            ], "observations")
            try loop.close()
        },
        ConformanceCase("STREAM-06", "limit 10, 20 bytes without separator → readuntil throws LimitOverrunError 'Separator is not found, and chunk exceed the limit', consumed 20; the data stays buffered") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop, limit: 10)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                try reader.feedData(bytes("0123456789abcdefghij"))
                let error = await thrown { _ = try await reader.readuntil() }
                var seen: [String] = []
                if let overrun = error as? LimitOverrunError {
                    seen.append("\(overrun.message), consumed \(overrun.consumed)")
                } else {
                    seen.append("readuntil threw \(String(describing: error))")
                }
                seen.append("buffered: \(reader.bufferedCount)")
                seen.append("read: \(text(try await reader.read(100)))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "Separator is not found, and chunk exceed the limit, consumed 20", "buffered: 20",
                "read: 0123456789abcdefghij",
            ], "observations")
            try loop.close()
        },
        ConformanceCase("STREAM-07", "limit 10, 20 bytes without newline → readline throws an argument error with that message and discards them; the next line reads normally") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop, limit: 10)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                try reader.feedData(bytes("0123456789abcdefghij"))
                let error = await thrown { _ = try await reader.readline() }
                var seen = ["\(kind(error)): \((error as? LoopError)?.message ?? "-")"]
                seen.append("buffered: \(reader.bufferedCount)")
                try reader.feedData(bytes("next\n"))
                seen.append("line: \(text(try await reader.readline()))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "invalidArgument: Separator is not found, and chunk exceed the limit", "buffered: 0", "line: next\n",
            ], "observations")
            try loop.close()
        },
        ConformanceCase("STREAM-08", "server reader with limit 1000 gets 5000 unread bytes → its transport stops reading; reading it down to the limit resumes reading; no byte lost") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let data = SocketCases.pattern(count: 5000)
            let accepted = Accepted()
            let (received, problems) = try SocketCases.run(ctx, loop) { () async throws -> ([UInt8], [String]) in
                let release = loop.createFuture(of: Void.self)
                let (server, port) = try await serve(loop, callbacks, limit: 1000) { reader, writer in
                    accepted.pairs.append((reader, writer))
                    try await release.value
                    writer.close()
                }
                let (clientReader, clientWriter) = try await loop.openConnection(host: "127.0.0.1", port: port)
                try clientWriter.write(data)
                try await clientWriter.drain()
                try await TCPCases.until { !accepted.pairs.isEmpty }
                let (reader, writer) = accepted.pairs[0]
                try await TCPCases.until { !writer.transport.isReading }
                var problems: [String] = []
                if reader.bufferedCount <= 2000 { problems.append("paused with only \(reader.bufferedCount) bytes buffered") }
                var received: [UInt8] = []
                var reading = false
                while received.count < data.count {
                    let piece = try await reader.read(500)
                    if piece.isEmpty { break }
                    received += piece
                    let nowReading = writer.transport.isReading
                    if nowReading && !reading && reader.bufferedCount > 1000 {
                        problems.append("reading resumed with \(reader.bufferedCount) bytes buffered")
                    }
                    reading = nowReading
                }
                if !writer.transport.isReading { problems.append("not reading after everything was read") }
                try release.setResult(())
                let tail = try await clientReader.read()
                if !tail.isEmpty { problems.append("the client read \(tail.count) bytes") }
                try await finish(server, callbacks, closing: clientWriter)
                return (received, problems)
            }
            try ctx.expectEqual(problems, [], "flow control")
            try ctx.expect(received == data, "the server must read all 5000 bytes in order, got \(received.count)")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-09", "two tasks read one reader at once → the second throws 'read() called while another coroutine is already waiting for incoming data'; the first gets the data") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let first = try loop.createTask { try await reader.read(10) }
                try await yieldIterations()
                let error = await thrown { _ = try await reader.read(10) }
                var seen = ["\(kind(error)): \((error as? LoopError)?.message ?? "-")"]
                try reader.feedData(bytes("data"))
                seen.append("first: \(text(try await first.value))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "invalidState: read() called while another coroutine is already waiting for incoming data", "first: data",
            ], "observations")
            try loop.close()
        },
        ConformanceCase("STREAM-10", "setException(E) with a read waiting → that read throws E; exception is E; later reads throw E") { ctx in
            struct Broken: Error, Equatable {}
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let waiting = try loop.createTask { try await reader.readline() }
                try await yieldIterations()
                reader.setException(Broken())
                var seen = ["waiting read: \(await thrown { _ = try await waiting.value } is Broken)"]
                seen.append("exception: \(reader.exception is Broken)")
                try reader.feedData(bytes("ignored\n"))
                seen.append("read: \(await thrown { _ = try await reader.read(1) } is Broken)")
                seen.append("readline: \(await thrown { _ = try await reader.readline() } is Broken)")
                seen.append("readexactly: \(await thrown { _ = try await reader.readexactly(1) } is Broken)")
                seen.append("readuntil: \(await thrown { _ = try await reader.readuntil() } is Broken)")
                return seen
            }
            try ctx.expectEqual(seen, [
                "waiting read: true", "exception: true", "read: true", "readline: true", "readexactly: true", "readuntil: true",
            ], "each read throws E")
            try loop.close()
        },
        ConformanceCase("STREAM-11", "writeEof (canWriteEof true) → the peer's read() returns at EOF while this side still reads the peer's reply") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let (server, port) = try await serve(loop, callbacks) { reader, writer in
                    let question = try await reader.read()
                    try writer.write(bytes("reply to ") + question + bytes(reader.atEOF ? " (at EOF)" : " (not at EOF)"))
                    try await writer.drain()
                    writer.close()
                }
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                var seen = ["canWriteEof: \(writer.canWriteEof)"]
                try writer.write(bytes("question"))
                try writer.writeEof()
                seen.append("reply: \(text(try await reader.read()))")
                try await finish(server, callbacks, closing: writer)
                return seen
            }
            try ctx.expectEqual(seen, ["canWriteEof: true", "reply: reply to question (at EOF)"], "observations")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-12", "after the peer reset the connection, write + drain() → ConnectionResetError (SystemError ECONNRESET)") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let error = try SocketCases.run(ctx, loop) { () async throws -> (any Error)? in
                let (server, port) = try await serve(loop, callbacks) { _, writer in
                    guard let fd = writer.getExtraInfo("socket") as? Int32 else { throw ctx.failure("no socket") }
                    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                    guard setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size)) == 0 else {
                        throw SystemError(errno: errno, call: "setsockopt(SO_LINGER)")
                    }
                    writer.transport.abort()
                }
                let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                try await TCPCases.until { writer.isClosing }
                let error = await thrown {
                    try writer.write(bytes("anyone there?"))
                    try await writer.drain()
                }
                writer.close()
                _ = await thrown { try await writer.waitClosed() }
                try await finish(server, callbacks)
                return error
            }
            try ctx.expectEqual((error as? SystemError)?.errno, ECONNRESET, "drain's error \(String(describing: error))")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
    ]

    // MARK: Helpers

    /// Counts the server callbacks that returned and keeps what they threw; loop-thread only.
    final class Callbacks: @unchecked Sendable {
        var finished = 0
        var errors: [String] = []

        func wrap(_ body: @escaping StreamReaderProtocol.ClientConnected) -> StreamReaderProtocol.ClientConnected {
            { [self] reader, writer in
                defer { finished += 1 }
                do {
                    try await body(reader, writer)
                } catch {
                    errors.append("\(error)")
                }
            }
        }

        func expectClean(_ ctx: CaseContext) throws {
            try ctx.expectEqual(errors, [], "errors thrown by the server callbacks")
        }
    }

    /// The reader/writer pairs a server callback handed out; loop-thread only.
    final class Accepted: @unchecked Sendable {
        var pairs: [(StreamReader, StreamWriter)] = []
    }

    /// A stream server on 127.0.0.1 with a free port, whose callbacks `callbacks` tracks.
    static func serve(
        _ loop: BaseEventLoop, _ callbacks: Callbacks, limit: Int = StreamReader.defaultLimit,
        _ body: @escaping StreamReaderProtocol.ClientConnected
    ) async throws -> (Server, Int) {
        let server = try await loop.startServer(callbacks.wrap(body), host: "127.0.0.1", port: 0, limit: limit)
        return (server, try port(of: server))
    }

    /// The port of the server's first listening socket.
    static func port(of server: Server) throws -> Int {
        guard let fd = server.sockets.first, let port = try Socket.localAddress(fd).port else {
            throw LoopError(.invalidState, "the server has no listening socket with a port")
        }
        return Int(port)
    }

    /// Closes `writer` (a client's) and waits until it is closed, then closes `server`,
    /// waits for its connections to close and for `count` callbacks to return.
    static func finish(_ server: Server, _ callbacks: Callbacks, count: Int = 1, closing writer: StreamWriter? = nil) async throws {
        if let writer {
            writer.close()
            try await writer.waitClosed()
        }
        server.close()
        try await server.waitClosed()
        try await TCPCases.until { callbacks.finished >= count }
    }

    /// Lets the loop run a few iterations (started tasks reach their first suspension).
    static func yieldIterations() async throws {
        for _ in 0..<5 { try await sleep(.zero) }
    }

    /// The error `body` throws, or `nil`.
    static func thrown(_ body: () async throws -> Void) async -> (any Error)? {
        do {
            try await body()
            return nil
        } catch {
            return error
        }
    }

    /// The kind of a ``LoopError``, else a description of what was (not) thrown.
    static func kind(_ error: (any Error)?) -> String {
        guard let error else { return "nothing thrown" }
        guard let loopError = error as? LoopError else { return "\(type(of: error)): \(error)" }
        return "\(loopError.kind)"
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}

extension StreamCases {
    static let extra: [ConformanceCase] = [
        ConformanceCase("STREAM-X01", "16 MiB echoed through startServer/openConnection streams (read(65536), write, drain): every byte comes back (checksum)", timeout: .seconds(90)) { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let data = SocketCases.pattern(count: 16 << 20)
            let echoed = try SocketCases.run(ctx, loop, within: .seconds(60)) { () async throws -> [UInt8] in
                let (server, port) = try await serve(loop, callbacks) { reader, writer in
                    while true {
                        let chunk = try await reader.read(65_536)
                        if chunk.isEmpty { break }
                        try writer.write(chunk)
                        try await writer.drain()
                    }
                    writer.close()
                }
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                let sender = try loop.createTask { () async throws -> Void in
                    var offset = 0
                    while offset < data.count {
                        let end = min(offset + 256 << 10, data.count)
                        try writer.write(Array(data[offset..<end]))
                        try await writer.drain()
                        offset = end
                    }
                    try writer.writeEof()
                }
                let echoed = try await reader.read()
                try await sender.value
                try await finish(server, callbacks, closing: writer)
                return echoed
            }
            try ctx.expectEqual(echoed.count, data.count, "bytes echoed")
            try ctx.expect(TCPCases.checksum(echoed) == TCPCases.checksum(data), "the echoed bytes must equal the sent ones")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-X02", "IPv6: startServer on ::1 (family inet6) and openConnection to ::1 exchange a line; the writer's peername is IPv6") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let server = try await loop.startServer(callbacks.wrap { reader, writer in
                    try writer.write(bytes("six: ") + (try await reader.readline()))
                    try await writer.drain()
                    writer.close()
                }, host: "::1", port: 0, family: .inet6)
                let port = try port(of: server)
                let (reader, writer) = try await loop.openConnection(host: "::1", port: port)
                var seen = ["family: \((writer.getExtraInfo("peername") as? SocketAddress)?.family == .inet6)"]
                try writer.write(bytes("hello\n"))
                seen.append("reply: \(text(try await reader.read()))")
                try await finish(server, callbacks, closing: writer)
                return seen
            }
            try ctx.expectEqual(seen, ["family: true", "reply: six: hello\n"], "observations")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-X03", "Unix sockets: startUnixServer(path) and openUnixConnection(path) (the module-level functions) exchange lines both ways") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let path = try UnixCases.directory(ctx) + "/streams.sock"
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let server = try await startUnixServer(callbacks.wrap { reader, writer in
                    while case let line = try await reader.readline(), !line.isEmpty {
                        try writer.write(bytes("unix: ") + line)
                        try await writer.drain()
                    }
                    writer.close()
                }, path: path)
                let (reader, writer) = try await openUnixConnection(path: path)
                var seen = ["peername: \(writer.getExtraInfo("peername").map { "\($0)" } ?? "none")"]
                for word in ["one", "two"] {
                    try writer.write(bytes(word + "\n"))
                    try await writer.drain()
                    seen.append(text(try await reader.readline()))
                }
                try writer.writeEof()
                seen.append("at end: \(try await reader.read()), atEOF \(reader.atEOF)")
                try await finish(server, callbacks, closing: writer)
                return seen
            }
            try ctx.expectEqual(seen, ["peername: \(path)", "unix: one\n", "unix: two\n", "at end: [], atEOF true"], "observations")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-X04", "readuntil(\"\\r\\n\\r\\n\") with the separator split across fed chunks (and a false start) → the head up to the separator; the rest stays") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let head = try loop.createTask { try await reader.readuntil(bytes("\r\n\r\n")) }
                var seen: [String] = []
                for chunk in ["GET / HTTP/1.1\r\n", "Host: x\r", "\n\r", "\nbody"] {
                    try await yieldIterations()
                    seen.append("done before \(chunk.debugDescription): \(head.isDone)")
                    try reader.feedData(bytes(chunk))
                }
                seen.append("head: \(text(try await head.value).debugDescription)")
                reader.feedEof()
                seen.append("rest: \(text(try await reader.read()))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "done before \"GET / HTTP/1.1\\r\\n\": false", "done before \"Host: x\\r\": false",
                "done before \"\\n\\r\": false", "done before \"\\nbody\": false",
                "head: \"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n\"", "rest: body",
            ], "observations")
            try loop.close()
        },
        ConformanceCase("STREAM-X05", "readexactly(1000) while 1000 one-byte chunks are fed from another task → those bytes in order; then IncompleteReadError(partial empty, expected 1) at EOF") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop)
            let data = SocketCases.pattern(count: 1000)
            let (got, error) = try SocketCases.run(ctx, loop) { () async throws -> ([UInt8], (any Error)?) in
                let feeder = try loop.createTask { () async throws -> Void in
                    for byte in data {
                        try reader.feedData([byte])
                        try await sleep(.zero)
                    }
                    reader.feedEof()
                }
                let got = try await reader.readexactly(1000)
                try await feeder.value
                let error = await thrown { _ = try await reader.readexactly(1) }
                return (got, error)
            }
            try ctx.expect(got == data, "readexactly must return the 1000 fed bytes in order, got \(got.count)")
            try ctx.expectEqual(error as? IncompleteReadError, IncompleteReadError(partial: [], expected: 1), "readexactly(1) at EOF")
            try loop.close()
        },
        ConformanceCase("STREAM-X06", "cancelling a task waiting in read → CancelledError; the reader stays usable: a later read gets the data, no 'already waiting' error") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let waiting = try loop.createTask { try await reader.read(10) }
                try await yieldIterations()
                waiting.cancel()
                var seen = ["cancelled: \(await thrown { _ = try await waiting.value } is CancelledError)"]
                let next = try loop.createTask { try await reader.readexactly(2) }
                try await yieldIterations()
                try reader.feedData(bytes("ok"))
                seen.append("next: \(text(try await next.value))")
                return seen
            }
            try ctx.expectEqual(seen, ["cancelled: true", "next: ok"], "observations")
            try loop.close()
        },
        ConformanceCase("STREAM-X07", "a client-connected callback that throws → one handler call 'Unhandled exception in client_connected_cb' with its error; that connection is closed; the server keeps serving") { ctx in
            struct Boom: Error {}
            let loop = try ctx.makeLoop()
            let calls = Callbacks()
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let server = try await loop.startServer({ reader, writer in
                    calls.finished += 1
                    if calls.finished == 1 { throw Boom() }
                    try writer.write(bytes("served: ") + (try await reader.readline()))
                    try await writer.drain()
                    writer.close()
                }, host: "127.0.0.1", port: 0)
                let port = try port(of: server)
                let (firstReader, firstWriter) = try await loop.openConnection(host: "127.0.0.1", port: port)
                var seen = ["first read: \(try await firstReader.read())"]
                let contexts = ctx.takeExceptionContexts()
                seen.append("handler calls: \(contexts.map(\.message))")
                seen.append("error is Boom: \(contexts.first?.error is Boom), transport given: \(contexts.first?.transport != nil)")
                firstWriter.close()
                try await firstWriter.waitClosed()
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                try writer.write(bytes("second\n"))
                seen.append("second: \(text(try await reader.read()))")
                writer.close()
                try await writer.waitClosed()
                server.close()
                try await server.waitClosed()
                return seen
            }
            try ctx.expectEqual(seen, [
                "first read: []", "handler calls: [\"Unhandled exception in client_connected_cb\"]",
                "error is Boom: true, transport given: true", "second: served: second\n",
            ], "observations")
            try loop.close()
        },
        ConformanceCase("STREAM-X08", "drain after close() → SystemError ECONNRESET ('Connection lost'), also after waitClosed; write after close is ignored") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let (server, port) = try await serve(loop, callbacks) { reader, writer in
                    _ = try await reader.read()
                    writer.close()
                }
                let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                writer.close()
                var seen = ["closing: \(writer.isClosing)"]
                seen.append("drain: \((await thrown { try await writer.drain() } as? SystemError)?.errno == ECONNRESET)")
                try await writer.waitClosed()
                seen.append("drain after waitClosed: \((await thrown { try await writer.drain() } as? SystemError)?.errno == ECONNRESET)")
                seen.append("write after close: \(kind(await thrown { try writer.write(bytes("late")) }))")
                try await finish(server, callbacks)
                return seen
            }
            try ctx.expectEqual(seen, [
                "closing: true", "drain: true", "drain after waitClosed: true", "write after close: nothing thrown",
            ], "observations")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-X09", "writelines([\"one \", \"two \", \"three\"]) then write(\"!\") → the peer reads \"one two three!\"") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let got = try SocketCases.run(ctx, loop) { () async throws -> String in
                var got = ""
                let (server, port) = try await serve(loop, callbacks) { reader, writer in
                    got = text(try await reader.read())
                    writer.close()
                }
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                try writer.writelines([bytes("one "), bytes("two "), bytes("three")])
                try writer.write(bytes("!"))
                try writer.writeEof()
                _ = try await reader.read()
                try await finish(server, callbacks, closing: writer)
                return got
            }
            try ctx.expectEqual(got, "one two three!", "the peer read")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-X10", "a reader fed directly: atEOF only after feedEof with an empty buffer; empty feedData is ignored; feedData after feedEof → invalid-state error") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop, limit: 4)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                var seen = ["new: atEOF \(reader.atEOF), limit \(reader.limit), exception \(reader.exception == nil ? "nil" : "set")"]
                try reader.feedData([])
                try reader.feedData(bytes("abc\nde"))
                seen.append("buffered \(reader.bufferedCount), atEOF \(reader.atEOF)")
                reader.feedEof()
                seen.append("after feedEof: atEOF \(reader.atEOF)")
                seen.append("feedData after feedEof: \(kind(await thrown { try reader.feedData(bytes("x")) }))")
                seen.append("line: \(text(try await reader.readline()).debugDescription)")
                seen.append("read(): \(text(try await reader.read()))")
                seen.append("atEOF: \(reader.atEOF), readline: \(try await reader.readline())")
                return seen
            }
            try ctx.expectEqual(seen, [
                "new: atEOF false, limit 4, exception nil", "buffered 6, atEOF false", "after feedEof: atEOF false",
                "feedData after feedEof: invalidState", "line: \"abc\\n\"", "read(): de", "atEOF: true, readline: []",
            ], "observations")
            try loop.close()
        },
        ConformanceCase("STREAM-X11", "bad input → argument errors: readexactly(-1), readuntil([]), StreamReader limit 0 and -1, openConnection and startServer with limit 0") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                [
                    "readexactly(-1): \(kind(await thrown { _ = try await reader.readexactly(-1) }))",
                    "readuntil([]): \(kind(await thrown { _ = try await reader.readuntil([]) }))",
                    "limit 0: \(kind(await thrown { _ = try StreamReader(loop: loop, limit: 0) }))",
                    "limit -1: \(kind(await thrown { _ = try StreamReader(loop: loop, limit: -1) }))",
                    "openConnection limit 0: \(kind(await thrown { _ = try await loop.openConnection(host: "127.0.0.1", port: 9, limit: 0) }))",
                    "startServer limit 0: \(kind(await thrown { _ = try await loop.startServer({ _, _ in }, host: "127.0.0.1", port: 0, limit: 0) }))",
                ]
            }
            try ctx.expectEqual(seen, [
                "readexactly(-1): invalidArgument", "readuntil([]): invalidArgument", "limit 0: invalidArgument",
                "limit -1: invalidArgument", "openConnection limit 0: invalidArgument", "startServer limit 0: invalidArgument",
            ], "errors")
            try loop.close()
        },
        ConformanceCase("STREAM-X12", "for try await line in reader → each line with its \"\\n\", the partial last one, then the loop ends at EOF") { ctx in
            let loop = try ctx.makeLoop()
            let reader = try StreamReader(loop: loop)
            let lines = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let feeder = try loop.createTask { () async throws -> Void in
                    for chunk in ["al", "pha\nbeta\n", "gam", "ma"] {
                        try reader.feedData(bytes(chunk))
                        try await sleep(.zero)
                    }
                    reader.feedEof()
                }
                var lines: [String] = []
                for try await line in reader { lines.append(text(line)) }
                try await feeder.value
                return lines
            }
            try ctx.expectEqual(lines, ["alpha\n", "beta\n", "gamma"], "lines")
            try loop.close()
        },
    ] + sockets
}

// MARK: The sock: and hosts: forms

extension StreamCases {
    static let sockets: [ConformanceCase] = [
        ConformanceCase("STREAM-X13", "openConnection(sock:) on a TCP socket the case connected with sockConnect to a startServer echo: lines both ways, the limit and the socket are the ones given; closing the writer closes the socket") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let (server, port) = try await serve(loop, callbacks) { reader, writer in
                    while case let line = try await reader.readline(), !line.isEmpty {
                        try writer.write(bytes("echo: ") + line)
                        try await writer.drain()
                    }
                    writer.close()
                }
                // From openConnection on, the transport owns the socket and closes it.
                let fd = try Socket.make(.inet, .stream)
                do {
                    try await loop.sockConnect(fd, to: SocketAddress(host: "127.0.0.1", port: port))
                } catch {
                    _ = try? Socket.close(fd)
                    throw error
                }
                let (reader, writer) = try await loop.openConnection(sock: fd, limit: 1000)
                var seen = [
                    "socket: \(writer.getExtraInfo("socket") as? Int32 == fd), limit: \(reader.limit)",
                    "peername: \(writer.getExtraInfo("peername") as? SocketAddress == (try SocketAddress(host: "127.0.0.1", port: port)))",
                ]
                for word in ["ping", "pong"] {
                    try writer.write(bytes(word + "\n"))
                    try await writer.drain()
                    seen.append(text(try await reader.readline()))
                }
                try writer.writeEof()
                seen.append("at end: \(try await reader.read()), atEOF \(reader.atEOF)")
                try await finish(server, callbacks, closing: writer)
                seen.append("socket closed: \(fcntl(fd, F_GETFD) == -1 && errno == EBADF)")
                return seen
            }
            try ctx.expectEqual(seen, [
                "socket: true, limit: 1000", "peername: true", "echo: ping\n", "echo: pong\n", "at end: [], atEOF true",
                "socket closed: true",
            ], "observations")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-X14", "startServer(sock:) on a TCP socket the case bound to 127.0.0.1 port 0 and listened on: the server's only socket is that one, two clients in turn get replies with the given limit; close() closes the socket") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                // From startServer on, the server owns the socket and closes it.
                let listener = try Socket.make(.inet, .stream)
                let address: SocketAddress
                do {
                    try Socket.bind(listener, to: SocketAddress(host: "127.0.0.1", port: 0))
                    try Socket.listen(listener)
                    address = try Socket.localAddress(listener)
                } catch {
                    _ = try? Socket.close(listener)
                    throw error
                }
                let server = try await loop.startServer(callbacks.wrap { reader, writer in
                    let line = try await reader.readline()
                    try writer.write(bytes("served (limit \(reader.limit)): ") + line)
                    try await writer.drain()
                    writer.close()
                }, sock: listener, limit: 500)
                var seen = ["sockets: \(server.sockets == [listener]), serving: \(server.isServing)"]
                for client in ["first", "second"] {
                    guard let port = address.port else { throw ctx.failure("no port in \(address)") }
                    let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                    try writer.write(bytes(client + "\n"))
                    seen.append(text(try await reader.read()))
                    writer.close()
                    try await writer.waitClosed()
                }
                try await TCPCases.until { callbacks.finished >= 2 }
                server.close()
                seen.append("socket closed: \(fcntl(listener, F_GETFD) == -1 && errno == EBADF)")
                try await server.waitClosed()
                return seen
            }
            try ctx.expectEqual(seen, [
                "sockets: true, serving: true", "served (limit 500): first\n", "served (limit 500): second\n",
                "socket closed: true",
            ], "observations")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-X15", "startServer(hosts: [\"127.0.0.1\", \"::1\"], port: 0) (the module-level function) → one IPv4 and one IPv6 listening socket, and a client of each address gets a reply") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let server = try await startServer(callbacks.wrap { reader, writer in
                    let host = (writer.getExtraInfo("sockname") as? SocketAddress)?.host ?? "unknown"
                    try writer.write(bytes("served on \(host): ") + (try await reader.readline()))
                    try await writer.drain()
                    writer.close()
                }, hosts: ["127.0.0.1", "::1"], port: 0)
                let addresses = try server.sockets.map { try Socket.localAddress($0) }
                var seen = ["families: \(addresses.map { "\($0.family)" }.sorted())"]
                var replies: [String] = []
                for address in addresses {
                    guard let host = address.host, let port = address.port else { throw ctx.failure("no host or port in \(address)") }
                    let (reader, writer) = try await loop.openConnection(host: host, port: port)
                    try writer.write(bytes("hello\n"))
                    replies.append(text(try await reader.read()))
                    writer.close()
                    try await writer.waitClosed()
                }
                seen += replies.sorted()
                try await TCPCases.until { callbacks.finished >= 2 }
                server.close()
                try await server.waitClosed()
                return seen
            }
            try ctx.expectEqual(seen, [
                "families: \([AddressFamily.inet, .inet6].map { "\($0)" }.sorted())",
                "served on 127.0.0.1: hello\n", "served on ::1: hello\n",
            ], "observations")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-X16", "Unix sockets the case made: startUnixServer(sock:) on a bound one and openUnixConnection(sock:) on one connected to it (the module-level functions) exchange lines both ways with the given limits; both sockets are closed with their owners") { ctx in
            let loop = try ctx.makeLoop()
            let callbacks = Callbacks()
            let path = try UnixCases.directory(ctx) + "/streams-sock.sock"
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                // From startUnixServer and openUnixConnection on, the server and the
                // transport own these sockets and close them.
                let listener = try Socket.make(.unix, .stream)
                do {
                    try Socket.bind(listener, to: SocketAddress(unixPath: path))
                } catch {
                    _ = try? Socket.close(listener)
                    throw error
                }
                let server = try await startUnixServer(callbacks.wrap { reader, writer in
                    while case let line = try await reader.readline(), !line.isEmpty {
                        try writer.write(bytes("unix (limit \(reader.limit)): ") + line)
                        try await writer.drain()
                    }
                    writer.close()
                }, sock: listener, limit: 300)
                let fd = try Socket.make(.unix, .stream)
                do {
                    try await loop.sockConnect(fd, to: SocketAddress(unixPath: path))
                } catch {
                    _ = try? Socket.close(fd)
                    throw error
                }
                let (reader, writer) = try await openUnixConnection(sock: fd, limit: 200)
                var seen = [
                    "server sockets: \(server.sockets == [listener]), client socket: \(writer.getExtraInfo("socket") as? Int32 == fd)",
                    "peername: \(writer.getExtraInfo("peername").map { "\($0)" } ?? "none"), client limit: \(reader.limit)",
                ]
                for word in ["one", "two"] {
                    try writer.write(bytes(word + "\n"))
                    try await writer.drain()
                    seen.append(text(try await reader.readline()))
                }
                try writer.writeEof()
                seen.append("at end: \(try await reader.read()), atEOF \(reader.atEOF)")
                writer.close()
                try await writer.waitClosed()
                seen.append("client socket closed: \(fcntl(fd, F_GETFD) == -1 && errno == EBADF)")
                try await TCPCases.until { callbacks.finished >= 1 }
                server.close()
                seen.append("server socket closed: \(fcntl(listener, F_GETFD) == -1 && errno == EBADF)")
                try await server.waitClosed()
                return seen
            }
            try ctx.expectEqual(seen, [
                "server sockets: true, client socket: true", "peername: \(path), client limit: 200",
                "unix (limit 300): one\n", "unix (limit 300): two\n", "at end: [], atEOF true",
                "client socket closed: true", "server socket closed: true",
            ], "observations")
            try callbacks.expectClean(ctx)
            try loop.close()
        },
        ConformanceCase("STREAM-X17", "bad input to the sock: and hosts: forms → LoopError invalidArgument: a UDP socket to openConnection/startServer(sock:) ('A Stream Socket was expected'), UDP and TCP sockets to the Unix forms ('A UNIX Domain Stream Socket was expected'), a limit of 0 or -1 ('Limit cannot be <= 0'); every socket stays open and usable for the caller") { ctx in
            let loop = try ctx.makeLoop()
            let udp = try SocketCases.socket(ctx, .inet, .datagram)
            let tcp = try SocketCases.socket(ctx, .inet, .stream)
            let unix = try SocketCases.socket(ctx, .unix, .stream)
            let (connected, peer) = try ctx.socketPair()
            let ignore: StreamReaderProtocol.ClientConnected = { _, _ in }
            let outcomes = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                var outcomes: [String] = []
                func attempt(_ call: String, _ body: () async throws -> Void) async {
                    do {
                        try await body()
                        outcomes.append("\(call): succeeded")
                    } catch let error as LoopError where error.kind == .invalidArgument {
                        let phrases = ["A UNIX Domain Stream Socket was expected", "A Stream Socket was expected", "Limit cannot be <= 0"]
                        outcomes.append("\(call): " + (phrases.first { error.message.contains($0) } ?? "invalidArgument: \(error.message)"))
                    } catch {
                        outcomes.append("\(call): other: \(error)")
                    }
                }
                await attempt("openConnection(sock: udp)") { _ = try await loop.openConnection(sock: udp) }
                await attempt("startServer(sock: udp)") { _ = try await loop.startServer(ignore, sock: udp) }
                await attempt("openUnixConnection(sock: udp)") { _ = try await loop.openUnixConnection(sock: udp) }
                await attempt("openUnixConnection(sock: tcp)") { _ = try await openUnixConnection(sock: tcp) }
                await attempt("startUnixServer(sock: tcp)") { _ = try await loop.startUnixServer(ignore, sock: tcp) }
                await attempt("openConnection(sock:, limit: 0)") { _ = try await openConnection(sock: connected, limit: 0) }
                await attempt("openUnixConnection(sock:, limit: 0)") { _ = try await loop.openUnixConnection(sock: connected, limit: 0) }
                await attempt("startServer(sock:, limit: 0)") { _ = try await startServer(ignore, sock: tcp, limit: 0) }
                await attempt("startUnixServer(sock:, limit: -1)") { _ = try await loop.startUnixServer(ignore, sock: unix, limit: -1) }
                await attempt("startServer(hosts:, limit: 0)") { _ = try await loop.startServer(ignore, hosts: ["127.0.0.1"], port: 0, limit: 0) }
                return outcomes
            }
            try ctx.expectEqual(outcomes, [
                "openConnection(sock: udp): A Stream Socket was expected",
                "startServer(sock: udp): A Stream Socket was expected",
                "openUnixConnection(sock: udp): A UNIX Domain Stream Socket was expected",
                "openUnixConnection(sock: tcp): A UNIX Domain Stream Socket was expected",
                "startUnixServer(sock: tcp): A UNIX Domain Stream Socket was expected",
                "openConnection(sock:, limit: 0): Limit cannot be <= 0",
                "openUnixConnection(sock:, limit: 0): Limit cannot be <= 0",
                "startServer(sock:, limit: 0): Limit cannot be <= 0",
                "startUnixServer(sock:, limit: -1): Limit cannot be <= 0",
                "startServer(hosts:, limit: 0): Limit cannot be <= 0",
            ], "outcomes")
            let open = [udp, tcp, unix, connected].map { fcntl($0, F_GETFD) >= 0 }
            try ctx.expectEqual(open, [true, true, true, true], "the sockets stay open for the caller")
            try ctx.write(connected, "still mine")
            try ctx.expectEqual(ctx.read(peer), "still mine", "the connected socket still carries data")
            try loop.close()
        },
    ]
}
