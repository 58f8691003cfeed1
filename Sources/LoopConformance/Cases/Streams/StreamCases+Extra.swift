import Glibc
import LoopCore

/// STREAM cases beyond the catalogue (each checked against CPython 3.11).
extension StreamCases {
    static let extra: [ConformanceCase] = [
        ConformanceCase("STREAM-X01", "16 MiB echoed through startServer/openConnection streams (read(65536), write, drain): every byte comes back (checksum)", timeout: .seconds(90)) { ctx in
            let data = SocketCases.pattern(count: 16 << 20)
            let echoed = try withConnection(ctx, within: .seconds(60)) { reader, writer in
                while true {
                    let chunk = try await reader.read(65_536)
                    if chunk.isEmpty { break }
                    try writer.write(chunk)
                    try await writer.drain()
                }
                writer.close()
            } client: { client async throws -> [UInt8] in
                let writer = client.writer
                let sender = try client.loop.createTask { () async throws -> Void in
                    var offset = 0
                    while offset < data.count {
                        let end = min(offset + 256 << 10, data.count)
                        try writer.write(Array(data[offset..<end]))
                        try await writer.drain()
                        offset = end
                    }
                    try writer.writeEof()
                }
                let echoed = try await client.reader.read()
                try await sender.value
                return echoed
            }
            try ctx.expectEqual(echoed.count, data.count, "bytes echoed")
            try ctx.expect(TCPCases.checksum(echoed) == TCPCases.checksum(data), "the echoed bytes must equal the sent ones")
        },
        ConformanceCase("STREAM-X02", "IPv6: startServer on ::1 (family inet6) and openConnection to ::1 exchange a line; the writer's peername is IPv6") { ctx in
            let seen = try withServers(ctx) { (loop, callbacks) async throws -> [String] in
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
        },
        ConformanceCase("STREAM-X03", "Unix sockets: startUnixServer(path) and openUnixConnection(path) (the module-level functions) exchange lines both ways") { ctx in
            let path = try UnixCases.directory(ctx) + "/streams.sock"
            let seen = try withServers(ctx) { (loop, callbacks) async throws -> [String] in
                let server = try await startUnixServer(callbacks.wrap(echoLines { _ in "unix: " }), path: path)
                let (reader, writer) = try await openUnixConnection(path: path)
                var seen = ["peername: \(writer.getExtraInfo("peername").map { "\($0)" } ?? "none")"]
                seen += try await exchangeLines(["one", "two"], reader, writer)
                try await finish(server, callbacks, closing: writer)
                return seen
            }
            try ctx.expectEqual(seen, ["peername: \(path)", "unix: one\n", "unix: two\n", "at end: [], atEOF true"], "observations")
        },
        ConformanceCase("STREAM-X04", "readuntil(\"\\r\\n\\r\\n\") with the separator split across fed chunks (and a false start) → the head up to the separator; the rest stays") { ctx in
            let seen = try withReader(ctx) { (loop, reader) async throws -> [String] in
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
        },
        ConformanceCase("STREAM-X05", "readexactly(1000) while 1000 one-byte chunks are fed from another task → those bytes in order; then IncompleteReadError(partial empty, expected 1) at EOF") { ctx in
            let data = SocketCases.pattern(count: 1000)
            let (got, error) = try withReader(ctx) { (loop, reader) async throws -> ([UInt8], (any Error)?) in
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
        },
        ConformanceCase("STREAM-X06", "cancelling a task waiting in read → CancelledError; the reader stays usable: a later read gets the data, no 'already waiting' error") { ctx in
            let seen = try withReader(ctx) { (loop, reader) async throws -> [String] in
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
            let seen = try withConnection(ctx) { reader, writer in
                _ = try await reader.read()
                writer.close()
            } client: { client async throws -> [String] in
                let writer = client.writer
                writer.close()
                var seen = ["closing: \(writer.isClosing)"]
                seen.append("drain: \((await thrown { try await writer.drain() } as? SystemError)?.errno == ECONNRESET)")
                try await writer.waitClosed()
                seen.append("drain after waitClosed: \((await thrown { try await writer.drain() } as? SystemError)?.errno == ECONNRESET)")
                seen.append("write after close: \(kind(await thrown { try writer.write(bytes("late")) }))")
                return seen
            }
            try ctx.expectEqual(seen, [
                "closing: true", "drain: true", "drain after waitClosed: true", "write after close: nothing thrown",
            ], "observations")
        },
        ConformanceCase("STREAM-X09", "writelines([\"one \", \"two \", \"three\"]) then write(\"!\") → the peer reads \"one two three!\"") { ctx in
            let got = Recorder<String>()
            try withConnection(ctx) { reader, writer in
                got.record(text(try await reader.read()))
                writer.close()
            } client: { client in
                try client.writer.writelines([bytes("one "), bytes("two "), bytes("three")])
                try client.writer.write(bytes("!"))
                try client.writer.writeEof()
                _ = try await client.reader.read()
            }
            try ctx.expectEqual(got.all, ["one two three!"], "what the peer read")
        },
        ConformanceCase("STREAM-X10", "a reader fed directly: atEOF only after feedEof with an empty buffer; empty feedData is ignored; feedData after feedEof → invalid-state error") { ctx in
            let seen = try withReader(ctx, limit: 4) { (loop, reader) async throws -> [String] in
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
        },
        ConformanceCase("STREAM-X11", "bad input → argument errors: readexactly(-1), readuntil([]), StreamReader limit 0 and -1, openConnection and startServer with limit 0") { ctx in
            let seen = try withReader(ctx) { (loop, reader) async throws -> [String] in
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
        },
        ConformanceCase("STREAM-X12", "for try await line in reader → each line with its \"\\n\", the partial last one, then the loop ends at EOF") { ctx in
            let lines = try withReader(ctx) { (loop, reader) async throws -> [String] in
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
        },
    ]
}
