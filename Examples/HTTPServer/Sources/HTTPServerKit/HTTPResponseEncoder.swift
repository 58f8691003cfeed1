import HTTPTypes

/// Writes HTTP/1.1 responses as bytes: the status line, the fields, a Content-Length
/// for the body, the body.
public enum HTTPResponseEncoder {
    /// Appends `response` with `body` to `output`; adds `Connection: close` when
    /// `close` is set.
    public static func encode(_ response: HTTPResponse, body: [UInt8], close: Bool, into output: inout [UInt8]) {
        output.append(contentsOf: "HTTP/1.1 \(response.status.code) \(response.status.reasonPhrase)\r\n".utf8)
        for field in response.headerFields where field.name != .contentLength && field.name != .connection {
            output.append(contentsOf: field.name.rawName.utf8)
            output.append(contentsOf: ": ".utf8)
            output.append(contentsOf: field.value.utf8)
            output.append(contentsOf: "\r\n".utf8)
        }
        output.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8)
        if close { output.append(contentsOf: "Connection: close\r\n".utf8) }
        output.append(contentsOf: "\r\n".utf8)
        output.append(contentsOf: body)
    }

    /// The interim `100 Continue` answer.
    public static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
}
