import Glibc
import LoopCore
import LoopTLS

/// TLS — TLS over any transport (LoopTLS: OpenSSL 3 through memory BIOs): the `ssl:`
/// forms of the connection and server calls, startTLS, TLS streams, errors, flow
/// control and shutdown. Certificates come from ``TLSFixtures`` (made with OpenSSL's
/// API at first use). The cases need real time (handshake timers), so the
/// virtual-time loop skips them.
enum TLSCases {
    static let all: [ConformanceCase] = catalogue + TLSHandshakeCases.all + TLSDataCases.all + TLSErrorCases.all + TLSFeatureCases.all

    static let catalogue: [ConformanceCase] = [
        ConformanceCase("TLS-01", "TLS server for localhost/127.0.0.1, client trusting it with serverHostname localhost → connectionMade after the handshake, before the call returns; extra info; canWriteEof false; server peercert nil; data both ways; close → both lost", requires: [.realTime]) { ctx in
            // Python twin: create_server(ssl=server_ctx) + create_connection(ssl=client_ctx, server_hostname="localhost").
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let client = TCPCases.Peer(loop)
                let (transport, _) = try await loop.createConnection(
                    { client }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext(), serverHostname: "localhost")
                try ctx.expectEqual(client.events, ["made"], "client events when createConnection returns")
                try ctx.expect(transport is TLSTransport, "the transport is a TLSTransport, got \(transport)")
                let peercert = transport.extraInfo("peercert") as? TLSCertificateInfo
                try ctx.expectEqual(peercert?.commonName, "localhost", "peercert subject CN")
                try ctx.expect(transport.extraInfo("ssl_object") is TLSConnectionInfo, "ssl_object")
                try ctx.expect(transport.extraInfo("cipher") is TLSCipher, "cipher")
                try ctx.expect(transport.extraInfo("socket") is Int32, "socket from the transport below")
                try ctx.expect(transport.extraInfo("peername") != nil, "peername from the transport below")
                try ctx.expect(transport.extraInfo("sslcontext") is TLSContext, "sslcontext")
                try ctx.expect(!transport.canWriteEof, "canWriteEof must be false over TLS")
                try transport.write(Array("ping".utf8))
                try await TCPCases.until { peers.all.first?.received.count == 4 }
                guard let serverPeer = peers.all.first, let serverTransport = serverPeer.transport as? any Transport else {
                    throw ctx.failure("the server has no connection")
                }
                try ctx.expect(serverTransport.extraInfo("peercert") == nil, "the server's peercert must be nil without a client certificate")
                try serverTransport.write(Array("pong".utf8))
                try await TCPCases.until { client.received.count == 4 }
                transport.close()
                try await client.lost.value
                try await serverPeer.lost.value
                try ctx.expectEqual(client.lostError == nil, true, "client lost(nil), got \(String(describing: client.lostError))")
                try ctx.expectEqual(serverPeer.events.last, "lost(nil)", "server's last event")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-02", "default client context (system store) against a self-signed server → certificate verify failed: self-signed certificate; connectionMade never called; no handler call", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let fixtures = try TLSFixtures.get()
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext(fixtures.selfSigned))
                let client = TCPCases.Peer(loop)
                var created = false
                let error = try await TLSSupport.expectTLSError(ctx, .certificateVerifyFailed, "untrusted server") {
                    _ = try await loop.createConnection({ created = true; return client }, host: "127.0.0.1", port: port, ssl: try TLSContext.client(), serverHostname: "localhost")
                }
                try ctx.expect(error.message.contains("certificate verify failed"), "message: \(error.message)")
                try ctx.expect(error.message.contains("self-signed certificate"), "reason: \(error.message)")
                try ctx.expect(created, "the client protocol must have been created")
                try ctx.expectEqual(client.events, [], "the client protocol's events")
                try await TCPCases.until { peers.all.isEmpty || peers.all.allSatisfy { $0.events.isEmpty } }
                server.close()
                try await server.waitClosed()
                try ctx.expect(peers.all.allSatisfy { $0.events.isEmpty }, "the server protocol got no events")
            }
            try loop.close()
        },
        ConformanceCase("TLS-03", "trusted certificate, serverHostname wrong.example → Hostname mismatch, certificate is not valid for 'wrong.example'.", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let error = try await TLSSupport.expectTLSError(ctx, .certificateVerifyFailed, "wrong host") {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext(), serverHostname: "wrong.example")
                }
                try ctx.expect(error.message.contains("Hostname mismatch, certificate is not valid for 'wrong.example'."), "message: \(error.message)")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-04", "argument rules: serverHostname without ssl; ssl with sock and no serverHostname; sslHandshakeTimeout without ssl (createConnection and createServer)", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let none: TLSContext? = nil
                var error = try await TLSSupport.expectLoopError(ctx, .invalidArgument, "serverHostname without ssl") {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: 1, ssl: none, serverHostname: "localhost")
                }
                try ctx.expect(error.message.contains("server_hostname is only meaningful with ssl"), "message: \(error.message)")
                let (a, _) = try ctx.socketPair()
                error = try await TLSSupport.expectLoopError(ctx, .invalidArgument, "ssl with sock, no serverHostname") {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, sock: a, ssl: try TLSSupport.clientContext())
                }
                try ctx.expect(error.message.contains("You must set server_hostname when using ssl without a host"), "message: \(error.message)")
                error = try await TLSSupport.expectLoopError(ctx, .invalidArgument, "handshake timeout without ssl (client)") {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: 1, ssl: none, sslHandshakeTimeout: .seconds(1))
                }
                try ctx.expect(error.message.contains("ssl_handshake_timeout is only meaningful with ssl"), "message: \(error.message)")
                error = try await TLSSupport.expectLoopError(ctx, .invalidArgument, "handshake timeout without ssl (server)") {
                    _ = try await loop.createServer({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: 0, ssl: none, sslHandshakeTimeout: .seconds(1))
                }
                try ctx.expect(error.message.contains("ssl_handshake_timeout is only meaningful with ssl"), "message: \(error.message)")
                error = try await TLSSupport.expectLoopError(ctx, .invalidArgument, "shutdown timeout without ssl") {
                    _ = try await loop.createServer({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: 0, ssl: none, sslShutdownTimeout: .seconds(1))
                }
                try ctx.expect(error.message.contains("ssl_shutdown_timeout is only meaningful with ssl"), "message: \(error.message)")
            }
            try loop.close()
        },
        ConformanceCase("TLS-05", "without serverHostname the host is matched: 127.0.0.1 against the IP entry, localhost against the DNS entry", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                for host in ["127.0.0.1", "localhost"] {
                    let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), host: host, peers: peers)
                    try ctx.expectEqual(client.received, Array("pong".utf8), "data over \(host)")
                    transport.close()
                    try await client.lost.value
                }
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-06", "ssl: true → a default context verifying against the system store: a self-signed server fails verification", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext(try TLSFixtures.get().selfSigned))
                let error = try await TLSSupport.expectTLSError(ctx, .certificateVerifyFailed, "ssl: true") {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: port, ssl: true)
                }
                try ctx.expect(error.message.contains("certificate verify failed"), "message: \(error.message)")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-07", "sslHandshakeTimeout 0.2 s against a TCP server that never answers → handshakeTimeout \"SSL handshake is taking longer than 0.2 seconds: aborting the connection\" after ≈ 0.2 s", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (listener, port) = try TLSSupport.silentListener(ctx)
                let started = ContinuousClock.now
                let error = try await TLSSupport.expectTLSError(ctx, .handshakeTimeout, "silent server") {
                    _ = try await loop.createConnection(
                        { TCPCases.Peer(loop) }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext(),
                        serverHostname: "localhost", sslHandshakeTimeout: .milliseconds(200))
                }
                let elapsed = ContinuousClock.now - started
                try ctx.expectEqual(error.message, "SSL handshake is taking longer than 0.2 seconds: aborting the connection", "message")
                try ctx.expect(elapsed >= .milliseconds(150) && elapsed < .seconds(2), "timed out after \(elapsed)")
                ctx.close(listener)
            }
            try loop.close()
        },
        ConformanceCase("TLS-08", "startTLS upgrade: plain connection, both sides call startTLS (server side serverSide true) → the client's new transport has a peercert; data flows encrypted to the same server protocol", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let client = TCPCases.Peer(loop), server = TCPCases.Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientPlain, serverPlain, _) = try await TCPCases.connect(ctx, loop, client, server)
                try clientPlain.write(Array("STARTTLS".utf8))
                try await TCPCases.until { server.received.count == 8 }
                let plain = LoopBound(serverPlain)
                let serverSide = try loop.createTask { () async throws -> LoopBound<TLSTransport> in
                    LoopBound(try await loop.startTLS(plain.value, protocol: server, context: try TLSSupport.serverContext(), serverSide: true))
                }
                let clientTLS = try await loop.startTLS(clientPlain, protocol: client, context: try TLSSupport.clientContext(), serverHostname: "localhost")
                let serverTLS = try await serverSide.value.value
                try ctx.expectEqual((clientTLS.extraInfo("peercert") as? TLSCertificateInfo)?.commonName, "localhost", "peercert after startTLS")
                try clientTLS.write(Array("secret".utf8))
                try await TCPCases.until { server.received.count == 14 }
                try ctx.expectEqual(server.received, Array("STARTTLSsecret".utf8), "the same server protocol gets the decrypted data")
                try serverTLS.write(Array("ok".utf8))
                try await TCPCases.until { client.received.count == 2 }
                clientTLS.close()
                try await client.lost.value
                try await server.lost.value
                try ctx.expectEqual(client.events.filter { $0 == "made" }.count, 1, "connectionMade is not repeated by startTLS")
            }
            try loop.close()
        },
        ConformanceCase("TLS-09", "a plaintext client talking to a TLS server → the server protocol never gets connectionMade, the client's connection is closed, no handler call", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let client = TCPCases.Peer(loop)
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port)
                try transport.write(Array("GET / HTTP/1.0\r\n\r\n".utf8))
                try await client.lost.value
                try ctx.expect(peers.all.allSatisfy { $0.events.isEmpty }, "the server protocol got \(peers.all.map(\.events))")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
    ]
}
