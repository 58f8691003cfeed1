import HTTPParsing
import HTTPTypes

/// What the example serves:
///
/// - `GET /` (or `HEAD /`): `Hello, World!`
/// - `GET /bytes/N`: N bytes of `x`, N at most ``maxBytes``
/// - `POST /` or `PUT /` with any body: `received N bytes`
///
/// Anything else: 404 (unknown path) or 405 (known path, other method).
public enum HTTPRoutes {
    /// The largest body `GET /bytes/N` serves.
    public static let maxBytes = 16 << 20

    static let hello = Array("Hello, World!".utf8)

    /// The response to `head`, whose body had `bodyCount` bytes.
    public static func respond(to head: HTTPRequestHead, bodyCount: Int) -> (HTTPResponse, [UInt8]) {
        let request = head.request
        let path = request.path ?? "/"
        let query = path.firstIndex(of: "?") ?? path.endIndex
        let route = path[..<query]
        if route == "/" {
            switch request.method {
            case .get, .head:
                return (text(.ok), request.method == .head ? [] : hello)
            case .post, .put:
                return (text(.ok), Array("received \(bodyCount) bytes\n".utf8))
            default:
                return (text(.methodNotAllowed, allow: "GET, HEAD, POST, PUT"), Array("405: \(request.method) is not allowed on /\n".utf8))
            }
        }
        if route.hasPrefix("/bytes/") {
            guard request.method == .get else {
                return (text(.methodNotAllowed, allow: "GET"), Array("405: /bytes/N takes GET only\n".utf8))
            }
            let number = route.dropFirst("/bytes/".count)
            guard !number.isEmpty, number.utf8.count <= 9, number.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let count = Int(number), count <= maxBytes else {
                return (text(.badRequest), Array("400: N in /bytes/N must be a number from 0 to \(maxBytes)\n".utf8))
            }
            var response = HTTPResponse(status: .ok)
            response.headerFields[.contentType] = "application/octet-stream"
            return (response, [UInt8](repeating: 0x78, count: count))
        }
        return (text(.notFound), Array("404: no such path\n".utf8))
    }

    /// The answer to a request the parser refused.
    public static func respond(to error: HTTPParseError) -> (HTTPResponse, [UInt8]) {
        (text(error.status), Array("\(error.status.code) \(error.status.reasonPhrase): \(error.message)\n".utf8))
    }

    private static func text(_ status: HTTPResponse.Status, allow: String? = nil) -> HTTPResponse {
        var response = HTTPResponse(status: status)
        response.headerFields[.contentType] = "text/plain; charset=utf-8"
        if let allow { response.headerFields[.allow] = allow }
        return response
    }
}
