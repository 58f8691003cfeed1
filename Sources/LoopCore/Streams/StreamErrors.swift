/// The stream ended before a read was satisfied (asyncio's `IncompleteReadError`, an
/// end-of-file error): ``StreamReader/readexactly(_:)`` reached end of file before
/// `expected` bytes, or ``StreamReader/readuntil(_:)`` before the separator.
public struct IncompleteReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes read before the end of the stream (they are consumed).
    public let partial: [UInt8]
    /// How many bytes were asked for; `nil` when unknown (a separator was looked for).
    public let expected: Int?

    public init(partial: [UInt8], expected: Int?) {
        self.partial = partial
        self.expected = expected
    }

    public var description: String {
        "\(partial.count) bytes read on a total of \(expected.map { String($0) } ?? "undefined") expected bytes"
    }
}

/// ``StreamReader/readuntil(_:)`` reached the reader's limit while looking for the
/// separator (asyncio's `LimitOverrunError`). The data stays buffered.
public struct LimitOverrunError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in asyncio's words.
    public let message: String
    /// How many bytes a read would have to consume to get past the overrun.
    public let consumed: Int

    public init(_ message: String, consumed: Int) {
        self.message = message
        self.consumed = consumed
    }

    public var description: String { message }
}
