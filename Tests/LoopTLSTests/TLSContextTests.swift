import Glibc
import LoopTLS
import XCTest

/// TLSContext's bad input: every refusal is a typed ``TLSError`` with a clear message.
final class TLSContextTests: XCTestCase {
    static let identity = Result { try TLSIdentity.generate(commonName: "localhost", dnsNames: ["localhost"]) }
    static let other = Result { try TLSIdentity.generate(commonName: "other") }

    private func expectTLSError(_ kind: TLSError.Kind, _ fragment: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected TLSError.\(kind), nothing was thrown", file: file, line: line)
        } catch let error as TLSError {
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertTrue(error.message.contains(fragment), "message '\(error.message)' lacks '\(fragment)'", file: file, line: line)
        } catch {
            XCTFail("expected TLSError.\(kind), got \(error)", file: file, line: line)
        }
    }

    private func temporaryFile(_ bytes: [UInt8]) throws -> String {
        var template = Array("/tmp/loop-tls-test-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        addTeardownBlock { unlink(path) }
        return path
    }

    /// TLS-X50: a certificate file that does not exist.
    func testMissingCertificateFile() throws {
        let context = try TLSContext(side: .server)
        expectTLSError(.fileNotFound, "certificate file '/nonexistent/cert.pem': No such file or directory") {
            try context.loadCertificateChain(file: "/nonexistent/cert.pem")
        }
        expectTLSError(.fileNotFound, "CA file '/nonexistent/ca.pem'") {
            try context.loadVerifyLocations(caFile: "/nonexistent/ca.pem")
        }
        expectTLSError(.fileNotFound, "CA directory '/nonexistent/dir'") {
            try context.loadVerifyLocations(caDirectory: "/nonexistent/dir")
        }
    }

    /// TLS-X51: a certificate file that is not PEM.
    func testNotPEM() throws {
        let context = try TLSContext(side: .server)
        let path = try temporaryFile(Array("this is not a certificate\n".utf8))
        expectTLSError(.invalidPEM, "no PEM certificate found") { try context.loadCertificateChain(file: path) }
        expectTLSError(.invalidPEM, "no PEM certificate found") { try context.loadVerifyLocations(caFile: path) }
        let identity = try Self.identity.get()
        let certOnly = try temporaryFile(identity.certificatePEM)
        expectTLSError(.invalidPEM, "no PEM private key found") { try context.loadCertificateChain(file: certOnly) }
    }

    /// TLS-X52: a key that does not belong to the certificate.
    func testKeyMismatch() throws {
        let context = try TLSContext(side: .server)
        let identity = try Self.identity.get(), other = try Self.other.get()
        expectTLSError(.keyMismatch, "does not match the certificate") {
            try context.loadCertificateChain(pem: identity.certificatePEM, keyPEM: other.privateKeyPEM)
        }
        let cert = try temporaryFile(identity.certificatePEM), key = try temporaryFile(other.privateKeyPEM)
        expectTLSError(.keyMismatch, "key values mismatch") { try context.loadCertificateChain(file: cert, keyFile: key) }
    }

    /// TLS-X53: an encrypted key with a wrong password, with none, and with the right one.
    func testKeyPassword() throws {
        let encrypted = try TLSIdentity.generate(commonName: "localhost", keyPassword: "secret")
        XCTAssertTrue(String(decoding: encrypted.privateKeyPEM, as: UTF8.self).contains("ENCRYPTED"))
        let context = try TLSContext(side: .server)
        expectTLSError(.badPassword, "could not be decrypted with the password given") {
            try context.loadCertificateChain(pem: encrypted.certificatePEM, keyPEM: encrypted.privateKeyPEM, password: "wrong")
        }
        expectTLSError(.badPassword, "the private key is encrypted and no password was given") {
            try context.loadCertificateChain(pem: encrypted.certificatePEM, keyPEM: encrypted.privateKeyPEM)
        }
        XCTAssertNoThrow(try context.loadCertificateChain(pem: encrypted.certificatePEM, keyPEM: encrypted.privateKeyPEM, password: "secret"))
    }

    /// TLS-X54: bad settings: cipher lists, ALPN names, verify mode none with hostname checks.
    func testBadSettings() throws {
        let context = try TLSContext(side: .client)
        expectTLSError(.invalidConfiguration, "No cipher can be selected.") { try context.setCiphers("NOT-A-CIPHER") }
        expectTLSError(.invalidConfiguration, "No cipher suite can be selected.") { try context.setCipherSuites("NOPE") }
        expectTLSError(.invalidConfiguration, "ALPN protocol name must be 1 to 255 bytes long") { try context.setALPNProtocols([""]) }
        expectTLSError(.invalidConfiguration, "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.") {
            try context.setVerifyMode(.none)
        }
        context.checkHostname = false
        XCTAssertNoThrow(try context.setVerifyMode(.none))
        context.checkHostname = true
        XCTAssertEqual(context.verifyMode, .required, "checking hostnames turns verification on")
        expectTLSError(.invalidConfiguration, "check_hostname requires server_hostname") {
            _ = try TLSEngine(context: context, serverSide: false, serverHostname: "")
        }
        expectTLSError(.invalidConfiguration, "Server side TLS needs a server context") {
            _ = try TLSEngine(context: context, serverSide: true)
        }
    }

    /// TLS-X55: the defaults are secure: a client verifies and checks the hostname, TLS 1.2 minimum.
    func testSecureDefaults() throws {
        let client = try TLSContext.client()
        XCTAssertEqual(client.verifyMode, .required)
        XCTAssertTrue(client.checkHostname)
        XCTAssertEqual(client.minimumVersion, .tls1_2)
        let server = try TLSContext(side: .server)
        XCTAssertEqual(server.verifyMode, .none)
        XCTAssertFalse(server.checkHostname)
    }
}
