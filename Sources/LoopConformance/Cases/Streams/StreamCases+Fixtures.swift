import LoopCore

/// The fixtures every STREAM case builds on: scenario runners, a tracked server, and
/// small conversions.
extension StreamCases {
    // MARK: Scenarios

    /// Runs `body` in a task on a fresh loop with a fresh reader of `limit` (fed by the
    /// body itself), under ``SocketCases/run(_:_:within:file:line:_:)``'s watchdog; then
    /// closes the loop and returns what the body returned.
    static func withReader<T>(
        _ ctx: CaseContext, limit: Int = StreamReader.defaultLimit,
        file: StaticString = #fileID, line: UInt = #line,
        _ body: sending @escaping (BaseEventLoop, StreamReader) async throws -> T
    ) throws -> T {
        let loop = try ctx.makeLoop()
        let reader = try StreamReader(loop: loop, limit: limit)
        let result = try SocketCases.run(ctx, loop, file: file, line: line) { try await body(loop, reader) }
        try loop.close()
        return result
    }

    /// Runs `body` in a task on a fresh loop, handing it the ``Callbacks`` its servers
    /// report to, under the watchdog (`within`); then fails the case if a server
    /// callback threw, closes the loop and returns what the body returned.
    static func withServers<T>(
        _ ctx: CaseContext, within limit: Duration = .seconds(10),
        file: StaticString = #fileID, line: UInt = #line,
        _ body: sending @escaping (BaseEventLoop, Callbacks) async throws -> T
    ) throws -> T {
        let loop = try ctx.makeLoop()
        let callbacks = Callbacks()
        let result = try SocketCases.run(ctx, loop, within: limit, file: file, line: line) {
            try await body(loop, callbacks)
        }
        try callbacks.expectClean(ctx)
        try loop.close()
        return result
    }

    /// One client connected with openConnection to a ``serve(_:_:limit:_:)`` server.
    struct Connection {
        let loop: BaseEventLoop
        let reader: StreamReader
        let writer: StreamWriter
        /// The server's port on 127.0.0.1.
        let port: Int
    }

    /// ``withServers(_:within:file:line:_:)`` with one server on 127.0.0.1 running
    /// `server` for its client and one client connected to it, handed to `client`.
    /// After `client` returns: closes the client's writer and waits for it (unless
    /// `client` closed it already), closes the server and waits for the callback.
    static func withConnection<T>(
        _ ctx: CaseContext, within limit: Duration = .seconds(10),
        file: StaticString = #fileID, line: UInt = #line,
        server: sending @escaping StreamReaderProtocol.ClientConnected,
        client: sending @escaping (Connection) async throws -> T
    ) throws -> T {
        try withServers(ctx, within: limit, file: file, line: line) { loop, callbacks in
            let (listener, port) = try await serve(loop, callbacks, server)
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
            let result = try await client(Connection(loop: loop, reader: reader, writer: writer, port: port))
            try await finish(listener, callbacks, closing: writer.isClosing ? nil : writer)
            return result
        }
    }
}

extension StreamCases {
    // MARK: Servers and conversions

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

    /// "kind: message" of a ``LoopError``, else ``kind(_:)``'s description with "-".
    static func kindAndMessage(_ error: (any Error)?) -> String {
        "\(kind(error)): \((error as? LoopError)?.message ?? "-")"
    }

    /// "partial: <text>, expected: <n or nil>" of an ``IncompleteReadError``, else what
    /// `call` threw instead.
    static func incompleteRead(_ error: (any Error)?, _ call: String) -> String {
        guard let incomplete = error as? IncompleteReadError else { return "\(call) threw \(String(describing: error))" }
        return "partial: \(text(incomplete.partial)), expected: \(incomplete.expected.map { String($0) } ?? "nil")"
    }

    /// A server callback that answers each line with `prefix(reader)` and the line, until
    /// the client's end of file; then closes its writer.
    static func echoLines(_ prefix: @escaping (StreamReader) -> String) -> StreamReaderProtocol.ClientConnected {
        { reader, writer in
            while case let line = try await reader.readline(), !line.isEmpty {
                try writer.write(bytes(prefix(reader)) + line)
                try await writer.drain()
            }
            writer.close()
        }
    }

    /// Sends each of `words` as a line and reads the reply line; then sends end of file
    /// and reads the rest. Returns the replies and "at end: <rest>, atEOF <atEOF>".
    static func exchangeLines(_ words: [String], _ reader: StreamReader, _ writer: StreamWriter) async throws -> [String] {
        var seen: [String] = []
        for word in words {
            try writer.write(bytes(word + "\n"))
            try await writer.drain()
            seen.append(text(try await reader.readline()))
        }
        try writer.writeEof()
        seen.append("at end: \(try await reader.read()), atEOF \(reader.atEOF)")
        return seen
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
