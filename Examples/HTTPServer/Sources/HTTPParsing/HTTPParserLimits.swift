/// The sizes a ``HTTPRequestParser`` accepts; larger requests get a typed error.
public struct HTTPParserLimits: Sendable, Equatable {
    /// The longest request line, in bytes (longer: 414).
    public var maxRequestLineLength: Int
    /// The largest header section (request line included), in bytes (larger: 431).
    public var maxHeaderBytes: Int
    /// The most header fields (more: 431).
    public var maxHeaderCount: Int
    /// The largest body, in bytes (larger: 413).
    public var maxBodyBytes: Int
    /// The longest chunk size line, extensions included (longer: 400).
    public var maxChunkLineLength: Int

    public init(
        maxRequestLineLength: Int = 8192, maxHeaderBytes: Int = 16_384, maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 64 << 20, maxChunkLineLength: Int = 1024
    ) {
        self.maxRequestLineLength = maxRequestLineLength
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineLength = maxChunkLineLength
    }
}
