import Foundation
import Glibc
import HTTPServerKit
import Loops
import XCTest

/// The server against real peers: curl (keep-alive, chunked upload, /bytes/N), wrk
/// (keep-alive load, no errors), and raw sockets for pipelining and every error
/// answer, over both GroupServer distributions.
final class HTTPServerTests: XCTestCase {
    var group: LoopGroup!
    var server: HTTPServer!
    var port = 0

    override func setUpWithError() throws {
        BuiltinBackends.register()
        group = try LoopGroup(loops: 2)
        server = try HTTPServer.start(on: group, distribution: .handoff, host: "127.0.0.1", port: 0)
        port = try XCTUnwrap(server.addresses.first?.port)
    }

    override func tearDownWithError() throws {
        try server?.shutdown(timeout: .seconds(5))
        try group?.shutdown()
    }

    // MARK: curl

    func testCurlGetsHelloAndBytesOnOneConnection() throws {
        let (status, output) = try run("/usr/bin/curl", ["-s", "-S", "--max-time", "10",
            "-w", "|%{http_code}|%{num_connects}\n", url("/"), url("/bytes/5"), url("/nowhere")])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(output, "Hello, World!|200|1\nxxxxx|200|0\n404: no such path\n|404|0\n", "the later requests reuse the connection")
    }

    func testCurlChunkedUpload() throws {
        let body = String(repeating: "0123456789", count: 10_000)
        let file = NSTemporaryDirectory() + "http-upload-\(getpid())"
        try body.write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        let (status, output) = try run("/usr/bin/curl", ["-s", "-S", "--max-time", "10", "-H", "Transfer-Encoding: chunked",
            "--data-binary", "@\(file)", url("/")])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(output, "received 100000 bytes\n")
    }

    func testCurlBigResponse() throws {
        let (status, output) = try run("/usr/bin/curl", ["-s", "-S", "--max-time", "10", "-o", "/dev/null",
            "-w", "%{http_code} %{size_download}", url("/bytes/3000000")])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(output, "200 3000000")
    }

    // MARK: wrk

    func testWrkKeepAliveLoadHasNoErrors() throws {
        let (status, output) = try run("/usr/bin/wrk", ["-t1", "-c8", "-d1s", url("/")])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("Requests/sec"), output)
        XCTAssertFalse(output.contains("Non-2xx"), output)
        XCTAssertFalse(output.contains("Socket errors"), output)
    }

    // MARK: Raw sockets

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let answer = try exchange("GET /bytes/3 HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\nGET /bytes/1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(answer.components(separatedBy: "HTTP/1.1 200 OK").count - 1, 3, answer)
        XCTAssertTrue(answer.contains("Content-Length: 3\r\n\r\nxxxHTTP/1.1 200 OK"), answer)
        XCTAssertTrue(answer.contains("Content-Length: 13\r\n\r\nHello, World!HTTP/1.1 200 OK"), answer)
        XCTAssertTrue(answer.hasSuffix("Connection: close\r\n\r\nx"), answer)
    }

    func testMalformedRequestGets400AndClose() throws {
        for request in ["GET  / HTTP/1.1\r\nHost: h\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n",
                        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5x\r\n\r\nhello", "GET / HTTP/1.1\r\n\r\n"] {
            let answer = try exchange(request)
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(request.debugDescription): \(answer)")
            XCTAssertTrue(answer.contains("Connection: close\r\n"), answer)
        }
    }

    func testOneMiBHeaderLineGets431() throws {
        let fd = try connect()
        defer { close(fd) }
        send(fd, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ")
        // The answer comes before the line ends: the server does not buffer it all.
        let piece = String(repeating: "a", count: 64 * 1024)
        for _ in 0..<16 {
            if !send(fd, piece) { break }
        }
        let answer = receiveAll(fd)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer)
    }

    func testOtherStatuses() throws {
        XCTAssertTrue(try exchange("GET / HTTP/2.0\r\nHost: h\r\n\r\n").hasPrefix("HTTP/1.1 505 "))
        XCTAssertTrue(try exchange("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").hasPrefix("HTTP/1.1 501 "))
        XCTAssertTrue(try exchange("DELETE / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").hasPrefix("HTTP/1.1 405 "))
        XCTAssertTrue(try exchange("GET /bytes/abc HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        XCTAssertTrue(try exchange("GET /\(String(repeating: "p", count: 9000)) HTTP/1.1\r\nHost: h\r\n\r\n").hasPrefix("HTTP/1.1 414 "))
    }

    func testHTTP10ClosesAfterTheResponse() throws {
        let answer = try exchange("GET / HTTP/1.0\r\n\r\n")
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        XCTAssertTrue(answer.hasSuffix("Connection: close\r\n\r\nHello, World!"), answer)
    }

    func testReusePortServerToo() throws {
        let reuse = try HTTPServer.start(on: group, distribution: .reusePort, host: "127.0.0.1", port: 0)
        let reusePort = try XCTUnwrap(reuse.addresses.first?.port)
        let (status, output) = try run("/usr/bin/curl", ["-s", "--max-time", "10", "http://127.0.0.1:\(reusePort)/"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(output, "Hello, World!")
        try reuse.shutdown(timeout: .seconds(5))
    }

    // MARK: Helpers

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
        guard FileManager.default.isExecutableFile(atPath: tool) else { throw XCTSkip("\(tool) is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func connect() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    @discardableResult
    func send(_ fd: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Everything the server sends until it closes the connection.
    func receiveAll(_ fd: Int32) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Sends `request` and returns everything until the server closes.
    func exchange(_ request: String) throws -> String {
        let fd = try connect()
        defer { close(fd) }
        send(fd, request)
        return receiveAll(fd)
    }
}
