/// What the parser found in the bytes it was fed, in order.
public enum HTTPParserEvent: Sendable, Equatable {
    /// A request's line and headers.
    case head(HTTPRequestHead)
    /// Some of the current request's body (chunked framing removed).
    case body([UInt8])
    /// The current request is complete; the next bytes start another.
    case end
}
