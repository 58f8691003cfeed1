/// A reader is the sequence of its lines (asyncio's `async for line in reader`): each
/// element is what ``StreamReader/readline()`` returns, and the sequence ends at end
/// of file. Iterate from a task on the reader's loop.
///
/// ```swift
/// for try await line in reader { print(String(decoding: line, as: UTF8.self)) }
/// ```
extension StreamReader: AsyncSequence {
    public typealias Element = [UInt8]

    /// Reads the reader's lines one by one.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let reader: StreamReader

        /// The next line, or `nil` at end of file; throws what ``StreamReader/readline()`` throws.
        public mutating func next() async throws -> [UInt8]? {
            let line = try await reader.readline()
            return line.isEmpty ? nil : line
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: self) }
}
