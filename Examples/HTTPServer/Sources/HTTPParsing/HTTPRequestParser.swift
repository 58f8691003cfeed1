import HTTPTypes

/// An incremental HTTP/1.1 request parser (RFC 9112): feed it bytes as they arrive, in
/// pieces of any size, and it reports each request's head, its body pieces and its
/// end, request after request (pipelining).
///
/// It holds back only what it cannot decide on yet — an incomplete header section or
/// chunk line, never more than the limits plus one piece fed — and fails with a
/// ``HTTPParseError`` (whose ``HTTPParseError/status`` is the answer) as soon as the
/// bytes break a rule or a limit: a header section over the limit is refused before
/// its end arrives. After an error it refuses every further byte.
///
/// Lines end with CRLF; a bare LF is accepted as well (RFC 9112 §2.2), a bare CR is
/// not. Empty lines before a request line are skipped.
///
/// ```swift
/// var parser = HTTPRequestParser()
/// var events: [HTTPParserEvent] = []
/// try parser.feed(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8), into: &events)
/// // events == [.head(…), .end]
/// ```
public struct HTTPRequestParser: Sendable {
    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case failed(HTTPParseError)
    }

    /// The limits in force.
    public let limits: HTTPParserLimits
    private var state = State.head
    /// Bytes fed and not consumed yet; `start` is the first unconsumed one.
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the search for the end of the current line resumes.
    private var scanned = 0
    /// The current head's first byte (after skipped empty lines) and completed lines.
    private var headLines: [Range<Int>] = []
    private var bodyBytes = 0
    private var trailerBytes = 0

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// Whether the parser is between requests (nothing of a next one seen yet).
    public var isIdle: Bool {
        if case .head = state { return headLines.isEmpty && start == buffer.count }
        return false
    }

    /// Parses `bytes`, appending what it finds to `events`. Throws the first
    /// ``HTTPParseError``; the events of the requests before it stay in `events`.
    public mutating func feed(_ bytes: some Collection<UInt8>, into events: inout [HTTPParserEvent]) throws(HTTPParseError) {
        if case .failed(let error) = state { throw error }
        buffer.append(contentsOf: bytes)
        do {
            try run(&events)
        } catch {
            state = .failed(error)
            buffer = []
            start = 0
            scanned = 0
            headLines = []
            throw error
        }
        compact()
    }

    // MARK: The states

    private mutating func run(_ events: inout [HTTPParserEvent]) throws(HTTPParseError) {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .head:
                guard let head = try parseHead() else { return }
                events.append(.head(head))
                bodyBytes = 0
                switch head.body {
                case .none, .length(0):
                    events.append(.end)
                case .length(let count):
                    state = .fixedBody(remaining: count)
                case .chunked:
                    state = .chunkSize
                }
            case .fixedBody(let remaining):
                let available = buffer.count - start
                guard available > 0 else { return }
                let take = min(available, remaining)
                events.append(.body(Array(buffer[start..<(start + take)])))
                start += take
                scanned = start
                if take == remaining {
                    events.append(.end)
                    state = .head
                } else {
                    state = .fixedBody(remaining: remaining - take)
                }
            case .chunkSize:
                guard let line = try nextLine(limit: limits.maxChunkLineLength, tooLong: .badChunk, malformed: .badChunk, .chunkSize) else { return }
                let size = try Self.chunkSize(buffer[line])
                if size == 0 {
                    trailerBytes = 0
                    state = .trailers
                } else {
                    guard size <= limits.maxBodyBytes - bodyBytes else {
                        throw HTTPParseError(.bodyTooLarge, "the chunked body is larger than \(limits.maxBodyBytes) bytes")
                    }
                    bodyBytes += size
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let available = buffer.count - start
                guard available > 0 else { return }
                let take = min(available, remaining)
                events.append(.body(Array(buffer[start..<(start + take)])))
                start += take
                scanned = start
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .chunkDataEnd:
                guard let line = try nextLine(limit: 1, tooLong: .badChunk, malformed: .badChunk, .chunkEnd) else { return }
                guard line.isEmpty else { throw HTTPParseError(.badChunk, "chunk data is not followed by CRLF") }
                state = .chunkSize
            case .trailers:
                guard let line = try nextLine(limit: limits.maxHeaderBytes, tooLong: .headersTooLarge, malformed: .badHeader, .trailer) else { return }
                if line.isEmpty {
                    events.append(.end)
                    state = .head
                    continue
                }
                trailerBytes += line.count + 2
                guard trailerBytes <= limits.maxHeaderBytes else {
                    throw HTTPParseError(.headersTooLarge, "the trailer section is larger than \(limits.maxHeaderBytes) bytes")
                }
                // Trailer fields are checked as header lines, then dropped.
                _ = try Self.headerField(buffer[line])
            }
        }
    }

    /// The next complete line (without its CRLF or LF), consuming it; `nil` when the
    /// line is not complete yet. A line longer than `limit` fails with `error`.
    private mutating func nextLine(
        limit: Int, tooLong kind: HTTPParseError.Kind, malformed: HTTPParseError.Kind, _ what: Line
    ) throws(HTTPParseError) -> Range<Int>? {
        var index = scanned
        while index < buffer.count {
            if buffer[index] == 0x0A {
                var end = index
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                let line = start..<end
                if buffer[line].contains(0x0D) {
                    throw HTTPParseError(malformed, "a bare CR in a \(describe(what))")
                }
                start = index + 1
                scanned = start
                guard line.count <= limit else { throw HTTPParseError(kind, "the \(describe(what)) is too long") }
                return line
            }
            index += 1
        }
        scanned = index
        // Not complete: refuse it as soon as it is too long, whatever is still to come.
        if buffer.count - start > limit + 1 { throw HTTPParseError(kind, "the \(describe(what)) is too long") }
        return nil
    }

    /// The kinds of line, for messages.
    private enum Line { case requestLine, headerSection, chunkSize, chunkEnd, trailer }

    private func describe(_ line: Line) -> String {
        switch line {
        case .requestLine: "request line (at most \(limits.maxRequestLineLength) bytes)"
        case .headerSection: "header section (at most \(limits.maxHeaderBytes) bytes)"
        case .chunkSize: "chunk size line (at most \(limits.maxChunkLineLength) bytes)"
        case .chunkEnd: "chunk end"
        case .trailer: "trailer line (at most \(limits.maxHeaderBytes) bytes)"
        }
    }

    /// The head once its empty line arrived, else `nil` (keeping the lines seen so far).
    private mutating func parseHead() throws(HTTPParseError) -> HTTPRequestHead? {
        while true {
            let headStart = headLines.first?.lowerBound ?? start
            let used = start - headStart
            let limit = headLines.isEmpty
                ? limits.maxRequestLineLength
                : limits.maxHeaderBytes - used
            let tooLong: HTTPParseError.Kind = headLines.isEmpty ? .requestLineTooLong : .headersTooLarge
            let malformed: HTTPParseError.Kind = headLines.isEmpty ? .badRequestLine : .badHeader
            let isRequestLine = headLines.isEmpty
            // The line's limit is what is left of the header section's, so an incomplete
            // line is refused as soon as the section cannot fit any more.
            guard let line = try nextLine(
                limit: max(limit, 0), tooLong: tooLong, malformed: malformed,
                isRequestLine ? .requestLine : .headerSection)
            else { return nil }
            if line.isEmpty {
                // Empty lines before a request line are skipped (RFC 9112 §2.2).
                if headLines.isEmpty { continue }
                let lines = headLines
                headLines = []
                return try makeHead(lines)
            }
            if headLines.count > limits.maxHeaderCount {
                throw HTTPParseError(.headersTooLarge, "more than \(limits.maxHeaderCount) header fields")
            }
            headLines.append(line)
        }
    }

    // MARK: The head

    private func makeHead(_ lines: [Range<Int>]) throws(HTTPParseError) -> HTTPRequestHead {
        let (method, target, minor) = try Self.requestLine(buffer[lines[0]])
        var fields = HTTPFields()
        var hosts: [String] = []
        var lengths: [Substring] = []
        var codings: [Substring] = []
        var sawTransferEncoding = false
        var connectionTokens: [Substring] = []
        var expect: String?
        for line in lines.dropFirst() {
            let field = try Self.headerField(buffer[line])
            // HTTPTypes carries Host as the request's authority, not as a field.
            if field.name == Self.host {
                hosts.append(field.value)
                continue
            }
            switch field.name {
            case .contentLength: lengths += field.value.split(separator: ",", omittingEmptySubsequences: false)
            case .transferEncoding:
                sawTransferEncoding = true
                codings += field.value.split(separator: ",", omittingEmptySubsequences: false)
            case .connection: connectionTokens += field.value.split(separator: ",")
            case .expect: expect = field.value
            default: break
            }
            fields.append(field)
        }
        if minor == 1 && hosts.count != 1 {
            throw HTTPParseError(.badHost, hosts.isEmpty ? "an HTTP/1.1 request needs a Host header" : "more than one Host header")
        }
        if minor == 0 && hosts.count > 1 { throw HTTPParseError(.badHost, "more than one Host header") }
        let body: HTTPRequestHead.Body
        if sawTransferEncoding {
            if !lengths.isEmpty {
                throw HTTPParseError(.badContentLength, "Content-Length and Transfer-Encoding together")
            }
            if minor == 0 { throw HTTPParseError(.badTransferEncoding, "Transfer-Encoding on an HTTP/1.0 request") }
            let names = codings.map { $0.trimmingOWS().lowercased() }
            guard names.last == "chunked" else {
                throw HTTPParseError(.badTransferEncoding, "the last transfer coding must be chunked, got \(names.joined(separator: ", "))")
            }
            if names.count > 1 {
                throw HTTPParseError(.unsupportedTransferEncoding, "transfer codings other than chunked are not implemented: \(names.joined(separator: ", "))")
            }
            body = .chunked
        } else if let first = lengths.first {
            let value = try Self.contentLength(first)
            for other in lengths.dropFirst() {
                if try Self.contentLength(other) != value {
                    throw HTTPParseError(.badContentLength, "different Content-Length values")
                }
            }
            guard value <= limits.maxBodyBytes else {
                throw HTTPParseError(.bodyTooLarge, "Content-Length \(value) is larger than \(limits.maxBodyBytes) bytes")
            }
            body = .length(value)
        } else {
            body = .none
        }
        let tokens = connectionTokens.map { $0.trimmingOWS().lowercased() }
        let keepAlive = minor == 1 ? !tokens.contains("close") : tokens.contains("keep-alive") && !tokens.contains("close")
        let (authority, path) = try Self.splitTarget(target, host: hosts.first)
        let request = HTTPRequest(method: method, scheme: nil, authority: authority, path: path, headerFields: fields)
        return HTTPRequestHead(
            request: request, minorVersion: minor, keepAlive: keepAlive, body: body,
            expectsContinue: expect?.lowercased() == "100-continue" && body != .none)
    }

    /// `method SP request-target SP HTTP-version`.
    static func requestLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (HTTPRequest.Method, String, Int) {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw HTTPParseError(.badRequestLine, "the request line is not 'method SP target SP version'")
        }
        guard parts[0].allSatisfy(isTokenByte), let method = HTTPRequest.Method(String(decoding: parts[0], as: UTF8.self)) else {
            throw HTTPParseError(.badRequestLine, "the method is not a token")
        }
        guard parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw HTTPParseError(.badRequestLine, "the request target has a space, a control character or a non-ASCII byte")
        }
        let version = Array(parts[2])
        guard version.count == 8, version.starts(with: Array("HTTP/".utf8)), version[6] == 0x2E,
              isDigit(version[5]), isDigit(version[7]) else {
            throw HTTPParseError(.badRequestLine, "the version is not HTTP/x.y")
        }
        guard version[5] == 0x31, version[7] == 0x30 || version[7] == 0x31 else {
            throw HTTPParseError(.unsupportedVersion, "HTTP/\(version[5] - 0x30).\(version[7] - 0x30) is not supported; use HTTP/1.1")
        }
        return (method, String(decoding: parts[1], as: UTF8.self), Int(version[7] - 0x30))
    }

    /// `name ":" OWS value OWS`, checked.
    static func headerField(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPField {
        guard let first = line.first, first != 0x20, first != 0x09 else {
            throw HTTPParseError(.badHeader, "obsolete line folding (a header line starting with whitespace)")
        }
        guard let colon = line.firstIndex(of: 0x3A) else {
            throw HTTPParseError(.badHeader, "a header line without a colon")
        }
        let nameBytes = line[line.startIndex..<colon]
        guard !nameBytes.isEmpty, nameBytes.allSatisfy(isTokenByte),
              let name = HTTPField.Name(String(decoding: nameBytes, as: UTF8.self)) else {
            throw HTTPParseError(.badHeader, "a header name that is empty or not a token (or whitespace before the colon)")
        }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == 0x20 || byte == 0x09 { value = value.dropFirst() }
        while let byte = value.last, byte == 0x20 || byte == 0x09 { value = value.dropLast() }
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw HTTPParseError(.badHeader, "a control character in the value of \(name)")
        }
        return HTTPField(name: name, lenientValue: value)
    }

    /// A Content-Length value: 1 to 18 decimal digits, nothing else.
    static func contentLength(_ text: Substring) throws(HTTPParseError) -> Int {
        let digits = text.trimmingOWS()
        guard !digits.isEmpty, digits.utf8.count <= 18, digits.utf8.allSatisfy(isDigit), let value = Int(digits) else {
            throw HTTPParseError(.badContentLength, "Content-Length '\(text.prefix(40))' is not a decimal number of at most 18 digits")
        }
        return value
    }

    /// A chunk size line: hex digits, optional whitespace and extensions after ';'.
    static func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var size = 0
        var digits = 0
        var index = line.startIndex
        while index < line.endIndex, let value = hexValue(line[index]) {
            guard digits < 15 else { throw HTTPParseError(.badChunk, "a chunk size of more than 15 hex digits") }
            size = size << 4 | value
            digits += 1
            index += 1
        }
        guard digits > 0 else { throw HTTPParseError(.badChunk, "a chunk size line without a hex size") }
        while index < line.endIndex, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
        if index < line.endIndex {
            guard line[index] == 0x3B else { throw HTTPParseError(.badChunk, "junk after the chunk size") }
            guard line[index...].allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw HTTPParseError(.badChunk, "a control character in a chunk extension")
            }
        }
        return size
    }

    /// The authority and path of a request target: origin-form (`/path`), asterisk
    /// (`*`) or absolute-form (`http://host/path`).
    static func splitTarget(_ target: String, host: String?) throws(HTTPParseError) -> (String?, String) {
        if target.hasPrefix("/") || target == "*" { return (host, target) }
        for scheme in ["http://", "https://"] where target.lowercased().hasPrefix(scheme) {
            let rest = target.dropFirst(scheme.count)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let authority = String(rest[..<slash])
            guard !authority.isEmpty else { throw HTTPParseError(.badRequestLine, "an absolute target without a host") }
            return (authority, slash == rest.endIndex ? "/" : String(rest[slash...]))
        }
        throw HTTPParseError(.badRequestLine, "the request target is neither /path, * nor http://host/path")
    }

    // MARK: Bytes

    private mutating func compact() {
        let keepFrom = headLines.first?.lowerBound ?? start
        guard keepFrom > 0 else { return }
        if keepFrom == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else {
            buffer.removeSubrange(0..<keepFrom)
        }
        headLines = headLines.map { ($0.lowerBound - keepFrom)..<($0.upperBound - keepFrom) }
        start -= keepFrom
        scanned -= keepFrom
    }

    static let host = HTTPField.Name("Host")!

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }

    /// tchar (RFC 9110 §5.6.2).
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    func trimmingOWS() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
