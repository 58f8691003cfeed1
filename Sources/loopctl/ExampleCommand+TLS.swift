import Glibc
import ArgumentParser
import Loops

/// The options of `loopctl example tls-client`.
struct TLSClientOptions: ParsableArguments {
    @Option(name: .customLong("ca-file"), help: "tls-client: trust the CA certificates in this PEM file (default: the system's store).")
    var caFile: String?

    @Option(name: .customLong("server-name"), help: "tls-client: the name to send (SNI) and check (default: HOST).")
    var serverName: String?

    @Flag(name: .customLong("insecure"), help: "tls-client: do not verify the server's certificate.")
    var insecure = false
}

extension ExampleCommand {
    /// Connects to HOST PORT over TLS, prints what was negotiated and closes with
    /// close_notify.
    static func tlsClientExample(_ loop: BaseEventLoop, arguments: [String], options: TLSClientOptions) throws {
        defer { try? loop.close() }
        guard arguments.count == 2, let port = Int(arguments[1]), (1...65535).contains(port) else {
            Output.err("loopctl example tls-client: expected HOST PORT (a port in 1...65535), got \(arguments)\n")
            throw ExitCode.validationFailure
        }
        let host = arguments[0]
        let context: TLSContext
        do {
            context = options.caFile == nil ? try TLSContext.client() : try TLSContext(side: .client)
            if let caFile = options.caFile { try context.loadVerifyLocations(caFile: caFile) }
            if options.insecure {
                context.checkHostname = false
                try context.setVerifyMode(.none)
            }
        } catch {
            Output.err("loopctl example tls-client: \(error)\n")
            throw ExitCode.failure
        }
        let serverName = options.serverName
        do {
            let lines = try loop.runUntilComplete { () async throws -> [String] in
                let (transport, closed) = try await loop.createConnection(
                    { ClosedSignal(loop) }, host: host, port: port, ssl: context, serverHostname: serverName,
                    sslHandshakeTimeout: .seconds(10))
                let info = transport.extraInfo("ssl_object") as? TLSConnectionInfo
                var lines = [
                    "connected to \(host):\(port)",
                    "version: \(info?.versionName ?? "?")",
                    "cipher: \(info?.cipher.map { "\($0.name) (\($0.bits) bits)" } ?? "?")",
                ]
                if let alpn = info?.alpnProtocol { lines.append("alpn: \(alpn)") }
                if let peer = info?.peerCertificate {
                    lines.append("peer: \(peer.subject) (issuer \(peer.issuer), until \(peer.notAfter))")
                }
                lines.append("session reused: \(info?.sessionReused == true ? "yes" : "no")")
                transport.close()
                try await waitFor(closed.lost, timeout: .seconds(5))
                return lines
            }
            for line in lines { Output.out(line + "\n") }
        } catch {
            Output.err("loopctl example tls-client: \(error)\n")
            throw ExitCode.failure
        }
    }
}

/// Completes `lost` when the connection is lost.
private final class ClosedSignal: StreamProtocol, @unchecked Sendable {
    let lost: Future<Void>
    init(_ loop: BaseEventLoop) { lost = loop.createFuture(of: Void.self) }
    func connectionLost(_ error: (any Error)?) throws {
        if !lost.isDone { try lost.setResult(()) }
    }
}
