import Foundation
import HTTPParsing
import HTTPTypes
import XCTest

/// The parser: well-formed requests, keep-alive rules, pipelining, Content-Length and
/// chunked bodies, every error kind with its status, limits, and the same answer
/// whatever the pieces the bytes come in.
final class HTTPRequestParserTests: XCTestCase {
    /// Parses `text` fed in `pieceSize` pieces (all at once by default).
    func parse(_ text: String, pieceSize: Int? = nil, limits: HTTPParserLimits = HTTPParserLimits()) throws(HTTPParseError) -> [HTTPParserEvent] {
        try parse(Array(text.utf8), pieceSize: pieceSize, limits: limits)
    }

    func parse(_ bytes: [UInt8], pieceSize: Int? = nil, limits: HTTPParserLimits = HTTPParserLimits()) throws(HTTPParseError) -> [HTTPParserEvent] {
        var parser = HTTPRequestParser(limits: limits)
        var events: [HTTPParserEvent] = []
        let size = max(pieceSize ?? bytes.count, 1)
        var offset = 0
        repeat {
            let end = min(offset + size, bytes.count)
            try parser.feed(bytes[offset..<end], into: &events)
            offset = end
        } while offset < bytes.count
        return merged(events)
    }

    func merged(_ events: [HTTPParserEvent]) -> [HTTPParserEvent] {
        var out: [HTTPParserEvent] = []
        for event in events {
            if case .body(let bytes) = event, case .body(let previous)? = out.last {
                out[out.count - 1] = .body(previous + bytes)
            } else {
                out.append(event)
            }
        }
        return out
    }

    func heads(_ events: [HTTPParserEvent]) -> [HTTPRequestHead] {
        events.compactMap { if case .head(let head) = $0 { head } else { nil } }
    }

    func error(_ text: String, pieceSize: Int? = nil, limits: HTTPParserLimits = HTTPParserLimits()) -> HTTPParseError? {
        do {
            _ = try parse(text, pieceSize: pieceSize, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Well-formed

    func testSimpleGet() throws {
        for piece in [nil, 1, 3, 7] {
            let events = try parse("GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n", pieceSize: piece)
            XCTAssertEqual(events.count, 2, "piece \(String(describing: piece))")
            guard case .head(let head) = events[0] else { return XCTFail("no head") }
            XCTAssertEqual(events[1], .end)
            XCTAssertEqual(head.request.method, .get)
            XCTAssertEqual(head.request.path, "/index.html?x=1")
            XCTAssertEqual(head.request.authority, "example.com")
            XCTAssertEqual(head.request.headerFields[.userAgent], "t")
            XCTAssertEqual(head.request.headerFields[.accept], "*/*")
            XCTAssertEqual(head.minorVersion, 1)
            XCTAssertTrue(head.keepAlive)
            XCTAssertEqual(head.body, .none)
        }
    }

    func testOWSIsTrimmedAndLFAloneIsAccepted() throws {
        let events = try parse("GET / HTTP/1.1\nHost:   a \t\nX-Y:\tb c  \n\n")
        let head = try XCTUnwrap(heads(events).first)
        XCTAssertEqual(head.request.authority, "a")
        XCTAssertEqual(head.request.headerFields[HTTPField.Name("X-Y")!], "b c")
    }

    func testLeadingEmptyLinesAreSkipped() throws {
        let events = try parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(heads(events).count, 1)
    }

    func testKeepAliveRules() throws {
        XCTAssertFalse(try XCTUnwrap(heads(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).first).keepAlive)
        XCTAssertFalse(try XCTUnwrap(heads(parse("GET / HTTP/1.0\r\n\r\n")).first).keepAlive)
        XCTAssertTrue(try XCTUnwrap(heads(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")).first).keepAlive)
        XCTAssertFalse(try XCTUnwrap(heads(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n")).first).keepAlive)
    }

    func testAbsoluteFormAndAsterisk() throws {
        let absolute = try XCTUnwrap(heads(parse("GET http://other.example:81/p?q HTTP/1.1\r\nHost: x\r\n\r\n")).first)
        XCTAssertEqual(absolute.request.authority, "other.example:81")
        XCTAssertEqual(absolute.request.path, "/p?q")
        let star = try XCTUnwrap(heads(parse("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")).first)
        XCTAssertEqual(star.request.path, "*")
        XCTAssertEqual(star.request.method, .options)
    }

    // MARK: Pipelining and bodies

    func testPipelinedRequestsInOnePiece() throws {
        let text = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nHost: h\r\n\r\n"
        for piece in [nil, 1, 2, 5, 13] {
            let events = try parse(text, pieceSize: piece)
            XCTAssertEqual(heads(events).map(\.request.path), ["/a", "/b", "/c"], "piece \(String(describing: piece))")
            XCTAssertEqual(events.filter { $0 == .end }.count, 3)
            XCTAssertTrue(events.contains(.body(Array("hello".utf8))))
            XCTAssertEqual(events.last, .end)
        }
    }

    func testChunkedBodyWithExtensionsAndTrailers() throws {
        let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "5\r\nhello\r\n" + "6;name=value\r\n world\r\n" + "A  \r\n0123456789\r\n" + "0\r\nX-Trailer: t\r\n\r\n" +
            "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
        for piece in [nil, 1, 4, 9] {
            let events = try parse(text, pieceSize: piece)
            let all = heads(events)
            XCTAssertEqual(all.first?.body, .chunked)
            XCTAssertEqual(events[1], .body(Array("hello world0123456789".utf8)), "piece \(String(describing: piece))")
            XCTAssertEqual(events[2], .end)
            XCTAssertEqual(all.last?.request.path, "/next")
        }
    }

    func testContentLengthBodyAndRepeatedEqualLengths() throws {
        let events = try parse("PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc")
        XCTAssertEqual(heads(events).first?.body, .length(3))
        XCTAssertEqual(Array(events.dropFirst()), [.body(Array("abc".utf8)), .end])
    }

    func testIncompleteBodyWaits() throws {
        var parser = HTTPRequestParser()
        var events: [HTTPParserEvent] = []
        try parser.feed(Array("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345".utf8), into: &events)
        XCTAssertEqual(events.count, 2)
        XCTAssertFalse(parser.isIdle)
        try parser.feed(Array("67890".utf8), into: &events)
        XCTAssertEqual(events.last, .end)
        XCTAssertTrue(parser.isIdle)
    }

    func testExpectContinue() throws {
        let head = try XCTUnwrap(heads(parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")).first)
        XCTAssertTrue(head.expectsContinue)
    }

    // MARK: Errors

    func testMalformedRequestLines() {
        for line in ["GET /", "GET  / HTTP/1.1", "GET / HTTP/1.1 extra", "G(T / HTTP/1.1", " GET / HTTP/1.1",
                     "GET /a\u{7F} HTTP/1.1", "GET / HTTQ/1.1", "GET / HTTP/1.x", "GET / HTTP/11", "GET relative HTTP/1.1",
                     "GET http:// HTTP/1.1", "GET / HTTP/1.1\r"] {
            let failure = error("\(line)\r\nHost: h\r\n\r\n")
            XCTAssertEqual(failure?.kind, .badRequestLine, line.debugDescription)
            XCTAssertEqual(failure?.status, .badRequest, line.debugDescription)
        }
    }

    func testUnsupportedVersion() {
        for version in ["HTTP/2.0", "HTTP/1.2", "HTTP/0.9"] {
            let failure = error("GET / \(version)\r\nHost: h\r\n\r\n")
            XCTAssertEqual(failure?.kind, .unsupportedVersion, version)
            XCTAssertEqual(failure?.status.code, 505)
        }
    }

    func testMalformedHeaders() {
        for line in ["NoColon", "Bad Name: x", "Name : x", ": empty name", "X: a\u{01}b", "X: a\u{7F}", " folded: x",
                     "X: a\rb", "Ü: x"] {
            let failure = error("GET / HTTP/1.1\r\nHost: h\r\n\(line)\r\n\r\n")
            XCTAssertEqual(failure?.kind, .badHeader, line.debugDescription)
            XCTAssertEqual(failure?.status.code, 400, line.debugDescription)
        }
        XCTAssertEqual(error("GET / HTTP/1.1\r\nHost: h\r\nX: 1\r\n\tcontinued\r\n\r\n")?.kind, .badHeader, "obs-fold")
    }

    func testHostRules() {
        XCTAssertEqual(error("GET / HTTP/1.1\r\n\r\n")?.kind, .badHost)
        XCTAssertEqual(error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")?.kind, .badHost)
        XCTAssertNil(error("GET / HTTP/1.0\r\n\r\n"))
    }

    func testBogusContentLength() {
        for value in ["abc", "-1", "+5", "1.5", "", "12 34", "0x10", "1234567890123456789", "5, 6", "5,"] {
            let failure = error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(value)\r\n\r\n")
            XCTAssertEqual(failure?.kind, .badContentLength, value.debugDescription)
            XCTAssertEqual(failure?.status.code, 400, value.debugDescription)
        }
        XCTAssertEqual(error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")?.kind, .badContentLength)
        XCTAssertEqual(error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")?.kind, .badContentLength)
    }

    func testTransferEncodingRules() {
        XCTAssertEqual(error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n")?.kind, .badTransferEncoding)
        XCTAssertEqual(error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")?.kind, .badTransferEncoding)
        let gzip = error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
        XCTAssertEqual(gzip?.kind, .unsupportedTransferEncoding)
        XCTAssertEqual(gzip?.status.code, 501)
        XCTAssertEqual(error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")?.kind, .badTransferEncoding)
    }

    func testMalformedChunks() {
        let head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        for body in ["\r\n", "z\r\n", "5x\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n", "-1\r\n", "1234567890abcdef0\r\n",
                     "5\r\nhello\r\n0\r\nbad trailer\r\n\r\n", "3;\u{01}\r\nabc\r\n0\r\n\r\n"] {
            let failure = error(head + body)
            XCTAssertNotNil(failure, body.debugDescription)
            XCTAssertEqual(failure?.status.code, 400, body.debugDescription)
        }
    }

    func testHeaderLimits() {
        let limits = HTTPParserLimits(maxRequestLineLength: 64, maxHeaderBytes: 256, maxHeaderCount: 4)
        let longLine = error("GET /\(String(repeating: "a", count: 100)) HTTP/1.1\r\nHost: h\r\n\r\n", limits: limits)
        XCTAssertEqual(longLine?.kind, .requestLineTooLong)
        XCTAssertEqual(longLine?.status.code, 414)
        let big = error("GET / HTTP/1.1\r\nHost: h\r\nX: \(String(repeating: "b", count: 300))\r\n\r\n", limits: limits)
        XCTAssertEqual(big?.kind, .headersTooLarge)
        XCTAssertEqual(big?.status.code, 431)
        let many = error("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n", limits: limits)
        XCTAssertEqual(many?.kind, .headersTooLarge)
        XCTAssertNil(error("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 1\r\nC: 1\r\n\r\n", limits: limits), "exactly the limit")
    }

    /// A 1 MiB header line is refused from its first 64 KiB, long before its end.
    func testHugeHeaderLineIsRefusedEarly() throws {
        var parser = HTTPRequestParser()
        var events: [HTTPParserEvent] = []
        try parser.feed(Array("GET / HTTP/1.1\r\nHost: h\r\nX-Huge: ".utf8), into: &events)
        let piece = [UInt8](repeating: 0x61, count: 64 * 1024)
        XCTAssertThrowsError(try parser.feed(piece, into: &events)) { error in
            XCTAssertEqual((error as? HTTPParseError)?.kind, .headersTooLarge)
            XCTAssertEqual((error as? HTTPParseError)?.status, .requestHeaderFieldsTooLarge)
        }
        XCTAssertThrowsError(try parser.feed(piece, into: &events), "every later byte is refused too")
        XCTAssertEqual(events, [])
    }

    func testBodyLimits() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        let fixed = error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits: limits)
        XCTAssertEqual(fixed?.kind, .bodyTooLarge)
        XCTAssertEqual(fixed?.status.code, 413)
        XCTAssertEqual(error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n", limits: limits)?.kind, .bodyTooLarge)
    }

    func testEventsBeforeAnErrorAreKept() {
        var parser = HTTPRequestParser()
        var events: [HTTPParserEvent] = []
        XCTAssertThrowsError(try parser.feed(Array("GET / HTTP/1.1\r\nHost: h\r\n\r\nBROKEN\r\n\r\n".utf8), into: &events))
        XCTAssertEqual(events.count, 2, "the first request's head and end")
        XCTAssertEqual(events.last, .end)
    }

    // MARK: The fuzz corpus

    /// Every corpus input parses the same whole and byte by byte (the fuzzer's property).
    func testCorpusParsesTheSameInAnyPieces() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/corpus").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        XCTAssertGreaterThan(files.count, 10)
        for name in files {
            let bytes = try [UInt8](Data(contentsOf: corpus.appendingPathComponent(name)))
            let whole = Result { () throws(HTTPParseError) in try parse(bytes) }
            let bytewise = Result { () throws(HTTPParseError) in try parse(bytes, pieceSize: 1) }
            switch (whole, bytewise) {
            case (.success(let a), .success(let b)): XCTAssertEqual(a, b, name)
            case (.failure, .failure): break
            default: XCTFail("\(name): whole \(whole) vs byte by byte \(bytewise)")
            }
        }
    }
}
