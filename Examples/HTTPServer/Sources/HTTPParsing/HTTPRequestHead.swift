import HTTPTypes

/// A parsed request line and header section.
public struct HTTPRequestHead: Sendable, Equatable {
    /// How the request's body is delimited.
    public enum Body: Sendable, Equatable {
        /// No body.
        case none
        /// Exactly this many bytes (Content-Length).
        case length(Int)
        /// Chunked transfer coding.
        case chunked
    }

    /// The request: method, path (the request target), authority (Host) and fields.
    public var request: HTTPRequest
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// Whether the connection stays open after the response (HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    public var keepAlive: Bool
    /// How the body is delimited.
    public var body: Body
    /// Whether the client waits for `100 Continue` before sending the body.
    public var expectsContinue: Bool

    public init(request: HTTPRequest, minorVersion: Int, keepAlive: Bool, body: Body, expectsContinue: Bool) {
        self.request = request
        self.minorVersion = minorVersion
        self.keepAlive = keepAlive
        self.body = body
        self.expectsContinue = expectsContinue
    }
}
