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
    static let all: [ConformanceCase] = catalogue + extra + sockets

    static let catalogue: [ConformanceCase] = [
        ConformanceCase("STREAM-01", "startServer + openConnection: readline, write, drain; read() returns everything until EOF, then atEOF; close → isClosing, waitClosed completes; peername on the writer") { ctx in
            let seen = try withConnection(ctx) { reader, writer in
                let line = try await reader.readline()
                try writer.write(bytes("echo: ") + line)
                try await writer.drain()
                let rest = try await reader.read()
                try writer.write(bytes("rest: ") + rest)
                try await writer.drain()
                writer.close()
                try await writer.waitClosed()
            } client: { client async throws -> [String] in
                let (reader, writer) = (client.reader, client.writer)
                var seen: [String] = []
                seen.append("peername matches: \(writer.getExtraInfo("peername") as? SocketAddress == (try SocketAddress(host: "127.0.0.1", port: client.port)))")
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
                return seen
            }
            try ctx.expectEqual(seen, [
                "peername matches: true", "line: echo: hello\n", "atEOF before: false",
                "read: rest: tail one, tail two", "atEOF after: true", "isClosing: true",
            ], "observations")
        },
        ConformanceCase("STREAM-02", "reader holding \"abcdefgh\" + EOF: read(0) → empty at once; read(3) → abc; read(100) → defgh; then empty at EOF") { ctx in
            let seen = try withReader(ctx) { (loop, reader) async throws -> [String] in
                let empty = try StreamReader(loop: loop)
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
        },
        ConformanceCase("STREAM-03", "readexactly(4) → 4 bytes (waiting for them); readexactly(0) → empty; EOF with 6 left, readexactly(10) → IncompleteReadError(partial 6 bytes, expected 10), consumed; negative → argument error") { ctx in
            let seen = try withReader(ctx) { (loop, reader) async throws -> [String] in
                try reader.feedData(bytes("ab"))
                let four = try loop.createTask { try await reader.readexactly(4) }
                try await yieldIterations()
                var seen = ["done with 2 bytes: \(four.isDone)"]
                try reader.feedData(bytes("cdefghij"))
                seen.append("readexactly(4): \(text(try await four.value))")
                seen.append("readexactly(0): \(try await reader.readexactly(0))")
                reader.feedEof()
                let error = await thrown { _ = try await reader.readexactly(10) }
                seen.append(incompleteRead(error, "readexactly(10)"))
                seen.append("message: \(error.map { "\($0)" } ?? "nothing thrown")")
                seen.append("atEOF: \(reader.atEOF)")
                seen.append("negative: \(kind(await thrown { _ = try await reader.readexactly(-1) }))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "done with 2 bytes: false", "readexactly(4): abcd", "readexactly(0): []",
                "partial: efghij, expected: 10", "message: 6 bytes read on a total of 10 expected bytes",
                "atEOF: true", "negative: invalidArgument",
            ], "observations")
        },
        ConformanceCase("STREAM-04", "readline → a line with its \"\\n\"; at EOF the partial last line without one; then empty") { ctx in
            let lines = try withReader(ctx) { (loop, reader) async throws -> [String] in
                try reader.feedData(bytes("first\nsec"))
                try reader.feedData(bytes("ond\nlast"))
                reader.feedEof()
                var lines: [String] = []
                for _ in 0..<4 { lines.append(text(try await reader.readline())) }
                return lines
            }
            try ctx.expectEqual(lines, ["first\n", "second\n", "last", ""], "lines")
        },
        ConformanceCase("STREAM-05", "readuntil(sep) → data with the separator; EOF first → IncompleteReadError(partial the rest, expected nil), buffer emptied; empty separator → argument error") { ctx in
            let seen = try withReader(ctx) { (loop, reader) async throws -> [String] in
                try reader.feedData(bytes("key=value;rest"))
                var seen = ["readuntil: \(text(try await reader.readuntil(bytes(";"))))"]
                reader.feedEof()
                let error = await thrown { _ = try await reader.readuntil(bytes(";")) }
                seen.append(incompleteRead(error, "readuntil at EOF"))
                seen.append("buffered: \(reader.bufferedCount), atEOF: \(reader.atEOF)")
                seen.append("empty separator: \(kind(await thrown { _ = try await reader.readuntil([]) }))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "readuntil: key=value;", "partial: rest, expected: nil", "buffered: 0, atEOF: true",
                "empty separator: invalidArgument",
            ], "observations")
        },
        ConformanceCase("STREAM-06", "limit 10, 20 bytes without separator → readuntil throws LimitOverrunError 'Separator is not found, and chunk exceed the limit', consumed 20; the data stays buffered") { ctx in
            let seen = try withReader(ctx, limit: 10) { (loop, reader) async throws -> [String] in
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
        },
        ConformanceCase("STREAM-07", "limit 10, 20 bytes without newline → readline throws an argument error with that message and discards them; the next line reads normally") { ctx in
            let seen = try withReader(ctx, limit: 10) { (loop, reader) async throws -> [String] in
                try reader.feedData(bytes("0123456789abcdefghij"))
                let error = await thrown { _ = try await reader.readline() }
                var seen = [kindAndMessage(error)]
                seen.append("buffered: \(reader.bufferedCount)")
                try reader.feedData(bytes("next\n"))
                seen.append("line: \(text(try await reader.readline()))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "invalidArgument: Separator is not found, and chunk exceed the limit", "buffered: 0", "line: next\n",
            ], "observations")
        },
        ConformanceCase("STREAM-08", "server reader with limit 1000 gets 5000 unread bytes → its transport stops reading; reading it down to the limit resumes reading; no byte lost") { ctx in
            let data = SocketCases.pattern(count: 5000)
            let accepted = Accepted()
            let (received, problems) = try withServers(ctx) { (loop, callbacks) async throws -> ([UInt8], [String]) in
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
        },
        ConformanceCase("STREAM-09", "two tasks read one reader at once → the second throws 'read() called while another coroutine is already waiting for incoming data'; the first gets the data") { ctx in
            let seen = try withReader(ctx) { (loop, reader) async throws -> [String] in
                let first = try loop.createTask { try await reader.read(10) }
                try await yieldIterations()
                let error = await thrown { _ = try await reader.read(10) }
                var seen = [kindAndMessage(error)]
                try reader.feedData(bytes("data"))
                seen.append("first: \(text(try await first.value))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "invalidState: read() called while another coroutine is already waiting for incoming data", "first: data",
            ], "observations")
        },
        ConformanceCase("STREAM-10", "setException(E) with a read waiting → that read throws E; exception is E; later reads throw E") { ctx in
            struct Broken: Error, Equatable {}
            let seen = try withReader(ctx) { (loop, reader) async throws -> [String] in
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
        },
        ConformanceCase("STREAM-11", "writeEof (canWriteEof true) → the peer's read() returns at EOF while this side still reads the peer's reply") { ctx in
            let seen = try withConnection(ctx) { reader, writer in
                let question = try await reader.read()
                try writer.write(bytes("reply to ") + question + bytes(reader.atEOF ? " (at EOF)" : " (not at EOF)"))
                try await writer.drain()
                writer.close()
            } client: { client async throws -> [String] in
                var seen = ["canWriteEof: \(client.writer.canWriteEof)"]
                try client.writer.write(bytes("question"))
                try client.writer.writeEof()
                seen.append("reply: \(text(try await client.reader.read()))")
                return seen
            }
            try ctx.expectEqual(seen, ["canWriteEof: true", "reply: reply to question (at EOF)"], "observations")
        },
        ConformanceCase("STREAM-12", "after the peer reset the connection, write + drain() → ConnectionResetError (SystemError ECONNRESET)") { ctx in
            let error = try withConnection(ctx) { _, writer in
                guard let fd = writer.getExtraInfo("socket") as? Int32 else { throw ctx.failure("no socket") }
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                guard setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size)) == 0 else {
                    throw SystemError(errno: errno, call: "setsockopt(SO_LINGER)")
                }
                writer.transport.abort()
            } client: { client async throws -> (any Error)? in
                let writer = client.writer
                try await TCPCases.until { writer.isClosing }
                let error = await thrown {
                    try writer.write(bytes("anyone there?"))
                    try await writer.drain()
                }
                writer.close()
                _ = await thrown { try await writer.waitClosed() }
                return error
            }
            try ctx.expectEqual((error as? SystemError)?.errno, ECONNRESET, "drain's error \(String(describing: error))")
        },
    ]

}
