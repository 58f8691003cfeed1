import Glibc
import LoopCore
import LoopTLS

/// TLS failures: each is a typed error carrying OpenSSL's reason for the caller, a
/// quiet close for a server (which keeps serving), and nothing leaks.
enum TLSErrorCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("TLS-X25", "a server certificate from an unknown CA → certificate verify failed: unable to get local issuer certificate", requires: [.realTime]) { ctx in
            try failingClient(ctx, server: { try TLSSupport.serverContext(try TLSFixtures.get().untrusted) }, client: { try TLSSupport.clientContext() },
                              kind: .certificateVerifyFailed, fragment: "certificate verify failed: unable to get local issuer certificate")
        },
        ConformanceCase("TLS-X26", "an expired server certificate → certificate verify failed: certificate has expired", requires: [.realTime]) { ctx in
            try failingClient(ctx, server: { try TLSSupport.serverContext(try TLSFixtures.get().expired) }, client: { try TLSSupport.clientContext() },
                              kind: .certificateVerifyFailed, fragment: "certificate verify failed: certificate has expired")
        },
        ConformanceCase("TLS-X27", "a certificate without the address connected to (no serverHostname, host 127.0.0.1) → IP address mismatch, certificate is not valid for '127.0.0.1'.", requires: [.realTime]) { ctx in
            try failingClient(ctx, server: { try TLSSupport.serverContext(try TLSFixtures.get().otherHost) }, client: { try TLSSupport.clientContext() },
                              hostname: nil, kind: .certificateVerifyFailed, fragment: "IP address mismatch, certificate is not valid for '127.0.0.1'.")
        },
        ConformanceCase("TLS-X28", "protocol version mismatch: server TLS 1.3 only, client TLS 1.2 only → handshakeFailed with OpenSSL's reason; the server keeps serving", requires: [.realTime]) { ctx in
            try failingClient(ctx, server: {
                let context = try TLSSupport.serverContext()
                context.minimumVersion = .tls1_3
                return context
            }, client: {
                let context = try TLSSupport.clientContext()
                context.maximumVersion = .tls1_2
                return context
            }, kind: .handshakeFailed, fragment: "protocol version")
        },
        ConformanceCase("TLS-X29", "no shared cipher (TLS 1.2, disjoint cipher lists) → handshakeFailed (sslv3 alert handshake failure); the server keeps serving", requires: [.realTime]) { ctx in
            try failingClient(ctx, server: {
                let context = try TLSSupport.serverContext()
                context.maximumVersion = .tls1_2
                try context.setCiphers("ECDHE-ECDSA-AES128-GCM-SHA256")
                return context
            }, client: {
                let context = try TLSSupport.clientContext()
                context.maximumVersion = .tls1_2
                try context.setCiphers("ECDHE-ECDSA-AES256-GCM-SHA384")
                return context
            }, kind: .handshakeFailed, fragment: "handshake failure")
        },
        ConformanceCase("TLS-X30", "garbage bytes sent to a TLS server → that connection is closed, the server's protocol never hears of it, no handler call; the server keeps serving", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let client = TCPCases.Peer(loop)
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port)
                try transport.write(SocketCases.pattern(count: 4096))
                try await client.lost.value
                try ctx.expect(peers.all.allSatisfy { $0.events.isEmpty }, "the server protocol got \(peers.all.map(\.events))")
                let (good, goodTransport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                goodTransport.close()
                try await good.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X31", "a TLS client talking to a plaintext server that answers with HTTP → handshakeFailed carrying OpenSSL's reason (wrong version number)", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.createServer({ HTTPAnswer() }, host: "127.0.0.1", port: 0)
                let port = try TCPCases.serverPort(ctx, server)
                let error = try await TLSSupport.expectTLSError(ctx, .handshakeFailed, "plaintext server") {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext(), serverHostname: "localhost")
                }
                try ctx.expect(error.reason == "wrong version number", "reason: \(String(describing: error.reason))")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X32", "the peer closes in the middle of the handshake (reads the ClientHello, closes) → connectionReset; the protocol never got connectionMade", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.createServer({ CloseOnData() }, host: "127.0.0.1", port: 0)
                let port = try TCPCases.serverPort(ctx, server)
                let client = TCPCases.Peer(loop)
                _ = try await TLSSupport.expectTLSError(ctx, .connectionReset, "closed mid-handshake") {
                    _ = try await loop.createConnection({ client }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext(), serverHostname: "localhost")
                }
                try ctx.expectEqual(client.events, [], "client events")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X33", "server-side handshake timeout (0.2 s) against a client that sends nothing → the server closes that connection within 2 s, no handler call, and keeps serving", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext(), handshakeTimeout: .milliseconds(200))
                let silent = TCPCases.Peer(loop)
                let started = ContinuousClock.now
                _ = try await loop.createConnection({ silent }, host: "127.0.0.1", port: port)
                try await silent.lost.value
                let elapsed = ContinuousClock.now - started
                try ctx.expect(elapsed >= .milliseconds(150) && elapsed < .seconds(2), "closed after \(elapsed)")
                try ctx.expect(peers.all.allSatisfy { $0.events.isEmpty }, "the server protocol heard nothing")
                let (good, goodTransport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                goodTransport.close()
                try await good.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X34", "a server's routine handshake failure goes to no exception handler; in debug mode it is logged at debug level (\"SSL handshake failed\")", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let client = TCPCases.Peer(loop)
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port)
                try transport.write(Array("HELO\r\n".utf8))
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            let logged = ctx.takeLogRecords().contains { $0.level == .debug && $0.message.contains("SSL handshake failed") }
            try ctx.expectEqual(logged, ctx.debug, "debug log of the failure")
            try loop.close()
        },
        ConformanceCase("TLS-X35", "cancelling createConnection during the handshake (silent server) → CancelledError; the connection is closed, nothing leaks", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (listener, port) = try TLSSupport.silentListener(ctx)
                let clientContext = LoopBound(try TLSSupport.clientContext())
                let attempt = try loop.createTask { () async throws -> Void in
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: port, ssl: clientContext.value, serverHostname: "localhost")
                }
                try await sleep(.milliseconds(50))
                attempt.cancel()
                do {
                    try await attempt.value
                    throw ctx.failure("the cancelled attempt returned")
                } catch is CancelledError {
                }
                try await sleep(.milliseconds(10))
                ctx.close(listener)
            }
            try loop.close()
        },
        ConformanceCase("TLS-X36", "the app's dataReceived throws over TLS → exception handler \"Fatal error: protocol.data_received() call failed.\", the connection closes, lost(error) once", requires: [.realTime]) { ctx in
            struct Boom: Error {}
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let client = TCPCases.Peer(loop)
                client.failOnData = Boom()
                let (_, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext())
                try await TCPCases.until { peers.all.first?.transport != nil }
                try (peers.all.first?.transport as? any WriteTransport)?.write(Array("x".utf8))
                try await client.lost.value
                try await peers.all.first?.lost.value
                server.close()
                try await server.waitClosed()
                try ctx.expectEqual(client.events.filter { $0.hasPrefix("lost") }, ["lost(error)"], "client lost once with the error")
                try ctx.expect(client.lostError is Boom, "lost error \(String(describing: client.lostError))")
            }
            let calls = ctx.takeExceptionContexts()
            try ctx.expectEqual(calls.map(\.message), ["Fatal error: protocol.data_received() call failed."], "handler calls")
            try loop.close()
        },
        ConformanceCase("TLS-X37", "shutdown timeout: the peer never answers close_notify (its app paused reading), sslShutdownTimeout 0.2 s → the client's transport is aborted: lost(TLSError.shutdownTimeout) within 2 s", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let client = TCPCases.Peer(loop)
                let (transport, _) = try await loop.createConnection(
                    { client }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext(), sslShutdownTimeout: .milliseconds(200))
                try await TCPCases.until { peers.all.first?.transport != nil }
                (peers.all.first?.transport as? any ReadTransport)?.pauseReading()
                let started = ContinuousClock.now
                transport.close()
                try await client.lost.value
                let elapsed = ContinuousClock.now - started
                try ctx.expectEqual((client.lostError as? TLSError)?.kind, .shutdownTimeout, "lost error \(String(describing: client.lostError))")
                try ctx.expect(elapsed >= .milliseconds(150) && elapsed < .seconds(2), "aborted after \(elapsed)")
                (peers.all.first?.transport as? any ReadTransport)?.resumeReading()
                try await peers.all.first?.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X38", "the wrong side's context: createServer with a client context and createConnection with a server context → TLSError.invalidConfiguration", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let error = try await TLSSupport.expectTLSError(ctx, .invalidConfiguration, "client context on a server") {
                    _ = try await loop.createServer({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: 0, ssl: try TLSSupport.clientContext())
                }
                try ctx.expect(error.message.contains("server context"), "message: \(error.message)")
                let peers = TCPCases.Peers()
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                _ = try await TLSSupport.expectTLSError(ctx, .invalidConfiguration, "server context on a client") {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: port, ssl: try TLSSupport.serverContext())
                }
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X39", "ssl on a datagram endpoint → invalidArgument (TLS needs a stream)", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let error = try await TLSSupport.expectLoopError(ctx, .invalidArgument, "datagram ssl") {
                    _ = try await loop.createDatagramEndpoint({ UDPSink() }, localAddr: (host: "127.0.0.1", port: 0), ssl: try TLSSupport.clientContext())
                }
                try ctx.expect(error.message.contains("ssl is not supported on datagram endpoints"), "message: \(error.message)")
            }
            try loop.close()
        },
        ConformanceCase("TLS-X40", "non-positive TLS timeouts are refused: ssl_handshake_timeout / ssl_shutdown_timeout should be a positive number", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                var error = try await TLSSupport.expectLoopError(ctx, .invalidArgument, "zero handshake timeout") {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: 1, ssl: try TLSSupport.clientContext(), sslHandshakeTimeout: .zero)
                }
                try ctx.expect(error.message.contains("ssl_handshake_timeout should be a positive number"), "message: \(error.message)")
                error = try await TLSSupport.expectLoopError(ctx, .invalidArgument, "negative shutdown timeout") {
                    _ = try await loop.createServer({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: 0, ssl: try TLSSupport.serverContext(), sslShutdownTimeout: .seconds(-1))
                }
                try ctx.expect(error.message.contains("ssl_shutdown_timeout should be a positive number"), "message: \(error.message)")
            }
            try loop.close()
        },
    ]

    /// Connects a client with `client()` to a server with `server()`; the call must throw
    /// a ``TLSError`` of `kind` whose message contains `fragment`; then a good client
    /// still gets through (the server keeps serving).
    static func failingClient(
        _ ctx: CaseContext, server: @escaping @Sendable () throws -> TLSContext, client: @escaping @Sendable () throws -> TLSContext,
        hostname: String? = "localhost", kind: TLSError.Kind, fragment: String
    ) throws {
        let loop = try ctx.makeLoop()
        let peers = TCPCases.Peers()
        try SocketCases.run(ctx, loop) { () async throws -> Void in
            let (tlsServer, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try server())
            let refused = TCPCases.Peer(loop)
            let error = try await TLSSupport.expectTLSError(ctx, kind, "handshake") {
                _ = try await loop.createConnection({ refused }, host: "127.0.0.1", port: port, ssl: try client(), serverHostname: hostname)
            }
            try ctx.expect(error.message.contains(fragment), "message '\(error.message)' lacks '\(fragment)'")
            try ctx.expect(error.reason != nil, "OpenSSL's reason is carried")
            try ctx.expectEqual(refused.events, [], "the refused protocol's events")
            tlsServer.close()
            try await tlsServer.waitClosed()
            try ctx.expect(peers.all.allSatisfy { $0.events.isEmpty }, "the server protocol heard nothing")
        }
        try loop.close()
    }

    /// Answers any bytes with an HTTP error and closes.
    final class HTTPAnswer: StreamProtocol, @unchecked Sendable {
        var transport: (any WriteTransport)?
        func connectionMade(_ transport: any BaseTransport) throws { self.transport = transport as? any WriteTransport }
        func dataReceived(_ bytes: [UInt8]) throws {
            try transport?.write(Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8))
            transport?.close()
        }
    }

    /// Closes the connection as soon as bytes arrive.
    final class CloseOnData: StreamProtocol, @unchecked Sendable {
        var transport: (any BaseTransport)?
        func connectionMade(_ transport: any BaseTransport) throws { self.transport = transport }
        func dataReceived(_ bytes: [UInt8]) throws { transport?.close() }
    }

    final class UDPSink: DatagramProtocol, @unchecked Sendable {}
}
