import Glibc
import LoopCtlKit
import Loops
import XCTest

/// `loopctl echo-server`'s TLS options and a TLS echo through a real loop.
final class EchoTLSTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        BuiltinBackends.register()
    }

    /// TLS-X60: the option rules: both files or neither, self-signed alone.
    func testOptionRules() throws {
        XCTAssertEqual(try EchoTLS.from(certificate: nil, key: nil, selfSigned: false), .off)
        XCTAssertEqual(try EchoTLS.from(certificate: nil, key: nil, selfSigned: true), .selfSigned)
        XCTAssertEqual(try EchoTLS.from(certificate: "c", key: "k", selfSigned: false), .files(certificate: "c", key: "k"))
        for (certificate, key, selfSigned, fragment) in [
            ("c", nil, false, "--tls-cert needs --tls-key"), (nil, "k", false, "--tls-key needs --tls-cert"),
            ("c", "k", true, "cannot be combined"),
        ] as [(String?, String?, Bool, String)] {
            XCTAssertThrowsError(try EchoTLS.from(certificate: certificate, key: key, selfSigned: selfSigned)) { error in
                XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument)
                XCTAssertTrue("\(error)".contains(fragment), "\(error)")
            }
        }
        XCTAssertThrowsError(try EchoTLS.files(certificate: "/nonexistent.pem", key: "/nonexistent.key").makeContext()) { error in
            XCTAssertEqual((error as? TLSError)?.kind, .fileNotFound)
        }
    }

    /// TLS-X61: a self-signed echo server echoes 256 KiB over TLS to a client trusting
    /// the certificate file it wrote, on every backend.
    func testSelfSignedEcho() throws {
        let directory = "/tmp"
        for backend in ["epoll", "poll", "libevent"] {
            let loop = try BackendRegistry.shared.makeLoop(name: backend)
            defer { try? loop.close() }
            guard let (context, summary) = try EchoTLS.selfSigned.makeContext(directory: directory) else {
                return XCTFail("no context")
            }
            let caFile = try XCTUnwrap(summary.split(separator: " ").last.map { String($0.dropLast()) })
            defer { unlink(caFile) }
            let echoed = try loop.runUntilComplete { () async throws -> Bool in
                let echo = try await EchoServer.start(on: loop, host: "127.0.0.1", port: 0, tls: context)
                let port = try XCTUnwrap(echo.addresses().first?.port)
                let client = try TLSContext(side: .client)
                try client.loadVerifyLocations(caFile: caFile)
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: Int(port), ssl: client, serverHostname: "localhost")
                let data = (0..<262_144).map { UInt8(truncatingIfNeeded: $0 &* 13) }
                try writer.write(data)
                let back = try await reader.readexactly(data.count)
                writer.close()
                try await writer.waitClosed()
                try await echo.shutdown()
                return back == data
            }
            XCTAssertTrue(echoed, backend)
        }
    }

}
