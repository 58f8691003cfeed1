import Glibc
import LoopCore
import LoopTLS

/// The certificates the TLS cases use, made once per process with OpenSSL's API:
/// a CA and the certificates it signs, an unrelated CA, a self-signed certificate.
struct TLSFixtures: Sendable {
    let ca: TLSIdentity
    let otherCA: TLSIdentity
    /// CN localhost; DNS localhost, IP 127.0.0.1 and ::1; signed by `ca`.
    let server: TLSIdentity
    /// As `server`, its key encrypted with `keyPassword`.
    let encryptedServer: TLSIdentity
    /// As `server` but expired a day ago.
    let expired: TLSIdentity
    /// CN other.example, DNS other.example only; signed by `ca`.
    let otherHost: TLSIdentity
    /// CN localhost, self-signed.
    let selfSigned: TLSIdentity
    /// CN client, signed by `ca`.
    let client: TLSIdentity
    /// A server certificate for localhost signed by `otherCA`.
    let untrusted: TLSIdentity
    let keyPassword = "correct horse"

    static let shared = Result { try TLSFixtures() }

    static func get() throws -> TLSFixtures { try shared.get() }

    private init() throws {
        ca = try TLSIdentity.generate(commonName: "Loop Test CA", isCA: true)
        otherCA = try TLSIdentity.generate(commonName: "Other Test CA", isCA: true)
        server = try TLSIdentity.generate(commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"], issuer: ca)
        let serverKeyed = try TLSIdentity.generate(
            commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], issuer: ca, keyPassword: keyPassword)
        encryptedServer = serverKeyed
        expired = try TLSIdentity.generate(
            commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"],
            validFrom: -30 * 86400, validUntil: -86400, issuer: ca)
        otherHost = try TLSIdentity.generate(commonName: "other.example", dnsNames: ["other.example"], issuer: ca)
        selfSigned = try TLSIdentity.generate(commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        client = try TLSIdentity.generate(commonName: "client", issuer: ca)
        untrusted = try TLSIdentity.generate(commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], issuer: otherCA)
    }
}

enum TLSSupport {
    /// A server context presenting `identity` (default: the CA-signed localhost one).
    static func serverContext(_ identity: TLSIdentity? = nil, password: String? = nil) throws -> TLSContext {
        let fixtures = try TLSFixtures.get()
        let chosen = identity ?? fixtures.server
        let context = try TLSContext(side: .server)
        try context.loadCertificateChain(pem: chosen.certificatePEM, keyPEM: chosen.privateKeyPEM, password: password)
        return context
    }

    /// A client context trusting the test CA (verification and hostname check on).
    static func clientContext(trusting ca: TLSIdentity? = nil) throws -> TLSContext {
        let context = try TLSContext(side: .client)
        try context.loadVerifyLocations(caPEM: (ca ?? TLSFixtures.get().ca).certificatePEM)
        return context
    }

    /// A TLS server on 127.0.0.1 whose connections get protocols from `peers`, and its port.
    static func server(
        _ ctx: CaseContext, _ loop: BaseEventLoop, _ peers: TCPCases.Peers, ssl: TLSContext,
        handshakeTimeout: Duration? = nil
    ) async throws -> (Server, Int) {
        let server = try await loop.createServer({ peers.make(loop) }, host: "127.0.0.1", port: 0, ssl: ssl, sslHandshakeTimeout: handshakeTimeout)
        return (server, try TCPCases.serverPort(ctx, server))
    }

    /// A TLS echo server on 127.0.0.1 and its port.
    static func echoServer(_ ctx: CaseContext, _ loop: BaseEventLoop, ssl: TLSContext) async throws -> (Server, Int) {
        let server = try await loop.createServer({ TCPCases.Echo() }, host: "127.0.0.1", port: 0, ssl: ssl)
        return (server, try TCPCases.serverPort(ctx, server))
    }

    /// Runs `body`, returning the ``TLSError`` it throws; fails the case otherwise.
    static func expectTLSError(
        _ ctx: CaseContext, _ kind: TLSError.Kind, _ what: String, file: StaticString = #fileID, line: UInt = #line,
        _ body: () async throws -> Void
    ) async throws -> TLSError {
        do {
            try await body()
        } catch let error as TLSError {
            try ctx.expect(error.kind == kind, "\(what): expected TLSError.\(kind), got .\(error.kind): \(error)", file: file, line: line)
            return error
        } catch {
            throw ctx.failure("\(what): expected TLSError.\(kind), got \(error)", file: file, line: line)
        }
        throw ctx.failure("\(what): expected TLSError.\(kind), nothing was thrown", file: file, line: line)
    }

    /// Runs `body`, returning the ``LoopError`` it throws; fails the case otherwise.
    static func expectLoopError(
        _ ctx: CaseContext, _ kind: LoopError.Kind, _ what: String, file: StaticString = #fileID, line: UInt = #line,
        _ body: () async throws -> Void
    ) async throws -> LoopError {
        do {
            try await body()
        } catch let error as LoopError {
            try ctx.expect(error.kind == kind, "\(what): expected LoopError.\(kind), got .\(error.kind): \(error)", file: file, line: line)
            return error
        } catch {
            throw ctx.failure("\(what): expected LoopError.\(kind), got \(error)", file: file, line: line)
        }
        throw ctx.failure("\(what): expected LoopError.\(kind), nothing was thrown", file: file, line: line)
    }

    /// Connects a client `Peer` with `ssl` to `port` and exchanges one line both ways
    /// with the server protocol `peers` made, then closes; returns the client peer.
    static func roundTrip(
        _ ctx: CaseContext, _ loop: BaseEventLoop, port: Int, ssl: TLSContext, serverHostname: String? = nil,
        host: String = "127.0.0.1", peers: TCPCases.Peers
    ) async throws -> (TCPCases.Peer, any Transport) {
        let client = TCPCases.Peer(loop)
        let (transport, _) = try await loop.createConnection({ client }, host: host, port: port, ssl: ssl, serverHostname: serverHostname)
        try transport.write(Array("ping".utf8))
        try await TCPCases.until { peers.all.last?.received.count == 4 }
        guard let serverTransport = peers.all.last?.transport as? any WriteTransport else { throw ctx.failure("no server transport") }
        try serverTransport.write(Array("pong".utf8))
        try await TCPCases.until { client.received.count == 4 }
        return (client, transport)
    }

    /// A TCP listener on 127.0.0.1 that accepts and then stays silent; its port.
    static func silentListener(_ ctx: CaseContext) throws -> (Int32, Int) {
        let (listener, address) = try SocketCases.listen(ctx, on: SocketAddress(host: "127.0.0.1", port: 0))
        guard case .ipv4(_, let port) = address else { throw ctx.failure("listener address \(address)") }
        return (listener, Int(port))
    }

    /// A temporary file holding `bytes`, removed after the case; its path.
    static func temporaryFile(_ ctx: CaseContext, _ bytes: [UInt8]) throws -> String {
        var template = Array("/tmp/loop-tls-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw SystemError(errno: errno, call: "mkstemp") }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        _ = Glibc.close(fd)
        ctx.onCleanup { _ = unlink(path) }
        return path
    }
}

/// Carries a loop-thread object into a task on the same loop.
final class LoopBound<T>: @unchecked Sendable {
    // @unchecked: created and used on one loop's thread only.
    let value: T
    init(_ value: T) { self.value = value }
}
