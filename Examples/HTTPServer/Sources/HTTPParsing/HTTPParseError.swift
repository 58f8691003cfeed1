import HTTPTypes

/// Why a request could not be parsed, and the status to answer it with. After an
/// error the parser takes no more bytes: answer, then close the connection.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule the request broke.
    public enum Kind: Sendable, Hashable {
        /// The request line is not `method SP target SP HTTP/x.y` (400).
        case badRequestLine
        /// The request line is longer than the limit (414).
        case requestLineTooLong
        /// An HTTP version other than 1.0 and 1.1 (505).
        case unsupportedVersion
        /// A header line is malformed: no colon, space before it, a bad name, a control
        /// character in the value, an obsolete line folding, a bare CR (400).
        case badHeader
        /// An HTTP/1.1 request without exactly one Host header (400).
        case badHost
        /// The header section is larger than the limit, or has too many fields (431).
        case headersTooLarge
        /// A Content-Length that is not a decimal number, or several that differ, or one
        /// beside Transfer-Encoding (400).
        case badContentLength
        /// A Transfer-Encoding whose last coding is not chunked, or on HTTP/1.0 (400).
        case badTransferEncoding
        /// A transfer coding other than chunked (501).
        case unsupportedTransferEncoding
        /// A malformed chunk size line or chunk end (400).
        case badChunk
        /// A body larger than the limit (413).
        case bodyTooLarge
    }

    public let kind: Kind
    /// What was wrong, for the answer's body and logs.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The status to answer with.
    public var status: HTTPResponse.Status {
        switch kind {
        case .badRequestLine, .badHeader, .badHost, .badContentLength, .badTransferEncoding, .badChunk: .badRequest
        case .requestLineTooLong: .uriTooLong
        case .unsupportedVersion: .httpVersionNotSupported
        case .headersTooLarge: .requestHeaderFieldsTooLarge
        case .unsupportedTransferEncoding: .notImplemented
        case .bodyTooLarge: .contentTooLarge
        }
    }

    public var description: String { "\(status.code) \(status.reasonPhrase): \(message)" }
}
