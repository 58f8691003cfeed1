/// A buffered byte stream read from a task (asyncio's `StreamReader`): a transport
/// (through ``StreamReaderProtocol``) or the application feeds it bytes and end of
/// file; ``read(_:)``, ``readline()``, ``readexactly(_:)`` and ``readuntil(_:)``
/// return them, suspending until enough has arrived.
///
/// Only one task may wait for data at a time. When more than twice ``limit`` bytes
/// are buffered, the reader pauses its transport's reading, and resumes it once
/// reads bring the buffer down to ``limit`` or below. Use it on its loop's thread.
///
/// ```swift
/// let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: 8888)
/// let line = try await reader.readline()
/// ```
public final class StreamReader: CustomStringConvertible, @unchecked Sendable {
    // @unchecked: like every loop-bound object, used on its loop's thread only.
    /// The default ``limit`` (64 KiB), as in asyncio.
    public static let defaultLimit = 65_536

    /// The loop whose tasks read from this reader.
    public let loop: any EventLoop
    /// The buffer limit: the longest line or separated chunk returned, and the flow-control mark.
    public let limit: Int
    /// The error set by ``setException(_:)`` (or the connection's error); reads throw it.
    public private(set) var exception: (any Error)?

    private var buffer = StreamReadBuffer()
    private var eof = false
    private var waiter: Future<Void>?
    private var transport: (any ReadTransport)?
    private var paused = false

    /// A reader for tasks of `loop`. Throws ``LoopError/Kind-swift.enum/invalidArgument``
    /// ("Limit cannot be <= 0") unless `limit` is positive.
    public init(loop: any EventLoop, limit: Int = StreamReader.defaultLimit) throws {
        try Self.checkLimit(limit)
        self.loop = loop
        self.limit = limit
    }

    static func checkLimit(_ limit: Int) throws {
        guard limit > 0 else { throw LoopError(.invalidArgument, "Limit cannot be <= 0 (got \(limit))") }
    }

    public var description: String {
        var parts = ["StreamReader"]
        if !buffer.isEmpty { parts.append("\(buffer.count) bytes") }
        if eof { parts.append("eof") }
        if limit != Self.defaultLimit { parts.append("limit=\(limit)") }
        if waiter != nil { parts.append("waiter") }
        if let exception { parts.append("exception=\(exception)") }
        if let transport { parts.append("transport=\(transport)") }
        if paused { parts.append("paused") }
        return "<" + parts.joined(separator: " ") + ">"
    }

    /// How many received bytes wait to be read.
    public var bufferedCount: Int { buffer.count }

    /// Whether end of file was fed and every byte has been read.
    public var atEOF: Bool { eof && buffer.isEmpty }

    // MARK: Feeding

    /// Sets the transport whose reading the reader pauses and resumes. Throws
    /// ``LoopError/Kind-swift.enum/invalidState`` when one is already set.
    public func setTransport(_ transport: any ReadTransport) throws {
        guard self.transport == nil else {
            throw LoopError(.invalidState, "StreamReader.setTransport: a transport is already set")
        }
        self.transport = transport
    }

    /// Makes every read, the waiting one included, throw `error` from now on.
    public func setException(_ error: any Error) {
        exception = error
        guard let waiter else { return }
        self.waiter = nil
        guard !waiter.isDone else { return }
        if let cancelled = error as? CancelledError {
            waiter.cancel(message: cancelled.message)
        } else {
            try? waiter.setException(error)
        }
    }

    /// Adds `bytes` to the buffer and wakes the waiting read. Throws
    /// ``LoopError/Kind-swift.enum/invalidState`` after ``feedEof()``.
    public func feedData(_ bytes: [UInt8]) throws {
        guard !eof else { throw LoopError(.invalidState, "StreamReader.feedData: called after feedEof()") }
        if bytes.isEmpty { return }
        buffer.append(bytes)
        wakeUpWaiter()
        if let transport, !paused, buffer.count > 2 * limit {
            transport.pauseReading()
            paused = true
        }
    }

    /// Marks the end of the stream and wakes the waiting read.
    public func feedEof() {
        eof = true
        wakeUpWaiter()
    }

    // MARK: Reading

    /// Up to `n` bytes: with `n` positive, what is buffered (at most `n`) as soon as at
    /// least one byte is; with `n` negative (the default), everything until end of
    /// file; with `n` zero, nothing, at once. Empty at end of file. Throws the reader's
    /// ``exception``.
    public func read(_ n: Int = -1) async throws -> [UInt8] {
        if let exception { throw exception }
        if n == 0 { return [] }
        if n < 0 {
            var all: [UInt8] = []
            while true {
                let block = try await read(limit)
                if block.isEmpty { return all }
                all += block
            }
        }
        if buffer.isEmpty && !eof { try await waitForData("read") }
        let data = buffer.take(n)
        maybeResumeTransport()
        return data
    }

    /// The next line, with its `"\n"`; at end of file the last partial line without
    /// one, then empty. A line longer than ``limit`` throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` with the ``LimitOverrunError``'s
    /// message, discarding that line (or, with no newline buffered, the whole buffer).
    public func readline() async throws -> [UInt8] {
        let newline: [UInt8] = [0x0A]
        do {
            return try await readuntil(newline)
        } catch let error as IncompleteReadError {
            return error.partial
        } catch let error as LimitOverrunError {
            if buffer.contains(newline, at: error.consumed) {
                buffer.drop(error.consumed + newline.count)
            } else {
                buffer.removeAll()
            }
            maybeResumeTransport()
            throw LoopError(.invalidArgument, error.message)
        }
    }

    /// Exactly `n` bytes. End of file first throws ``IncompleteReadError`` carrying (and
    /// consuming) what was there; a negative `n` throws
    /// ``LoopError/Kind-swift.enum/invalidArgument``.
    public func readexactly(_ n: Int) async throws -> [UInt8] {
        guard n >= 0 else { throw LoopError(.invalidArgument, "readexactly size can not be less than zero (got \(n))") }
        if let exception { throw exception }
        if n == 0 { return [] }
        while buffer.count < n {
            if eof { throw IncompleteReadError(partial: buffer.takeAll(), expected: n) }
            try await waitForData("readexactly")
        }
        let data = buffer.take(n)
        maybeResumeTransport()
        return data
    }

    /// The bytes up to and including the first `separator`. End of file first throws
    /// ``IncompleteReadError`` (expected `nil`) carrying the rest, which is consumed.
    /// More than ``limit`` bytes before the separator throws ``LimitOverrunError`` and
    /// leaves the data buffered. An empty separator throws
    /// ``LoopError/Kind-swift.enum/invalidArgument``.
    public func readuntil(_ separator: [UInt8] = [0x0A]) async throws -> [UInt8] {
        guard !separator.isEmpty else {
            throw LoopError(.invalidArgument, "Separator should be at least one-byte string")
        }
        if let exception { throw exception }
        // Where the next search starts: the bytes before it were searched already.
        var offset = 0
        var found: Int
        while true {
            if buffer.count - offset >= separator.count {
                if let index = buffer.firstIndex(of: separator, from: offset) {
                    found = index
                    break
                }
                offset = buffer.count + 1 - separator.count
                if offset > limit {
                    throw LimitOverrunError("Separator is not found, and chunk exceed the limit", consumed: offset)
                }
            }
            if eof { throw IncompleteReadError(partial: buffer.takeAll(), expected: nil) }
            try await waitForData("readuntil")
        }
        if found > limit {
            throw LimitOverrunError("Separator is found, but chunk is longer than limit", consumed: found)
        }
        let chunk = buffer.take(found + separator.count)
        maybeResumeTransport()
        return chunk
    }

    // MARK: Implementation

    private func wakeUpWaiter() {
        guard let waiter else { return }
        self.waiter = nil
        if !waiter.isDone { try? waiter.setResult(()) }
    }

    private func maybeResumeTransport() {
        guard paused, buffer.count <= limit else { return }
        paused = false
        transport?.resumeReading()
    }

    /// Suspends until data or end of file is fed (or the exception is set); resumes a
    /// paused transport first, since the caller needs more bytes than are buffered.
    private func waitForData(_ call: String) async throws {
        if waiter != nil {
            throw LoopError(.invalidState, "\(call)() called while another coroutine is already waiting for incoming data")
        }
        if paused {
            paused = false
            transport?.resumeReading()
        }
        let waiting = loop.createFuture(of: Void.self, from: nil)
        waiter = waiting
        defer { if waiter === waiting { waiter = nil } }
        try await waiting.value
    }
}
