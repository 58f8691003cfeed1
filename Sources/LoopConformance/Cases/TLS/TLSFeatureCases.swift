import Glibc
import LoopCore
import LoopTLS

/// STARTTLS with streams, failed upgrades, protocol switching, abort, keys from files.
enum TLSFeatureCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("TLS-X41", "StreamWriter.startTLS: a plaintext stream session says STARTTLS, both sides upgrade (the server's side inferred), then lines flow over TLS", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let serverContext = LoopBound(try TLSSupport.serverContext())
                let server = try await loop.startServer({ reader, writer in
                    let command = try await reader.readline()
                    guard command == Array("STARTTLS\n".utf8) else { return writer.close() }
                    try writer.write(Array("220 go ahead\n".utf8))
                    try await writer.startTLS(serverContext.value)
                    let line = try await reader.readline()
                    try writer.write(Array("secure: ".utf8) + line)
                    try await writer.drain()
                    writer.close()
                }, host: "127.0.0.1", port: 0)
                let port = try TCPCases.serverPort(ctx, server)
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                try writer.write(Array("STARTTLS\n".utf8))
                let ready = try await reader.readline()
                try ctx.expectEqual(String(decoding: ready, as: UTF8.self), "220 go ahead\n", "plaintext answer")
                try await writer.startTLS(try TLSSupport.clientContext(), serverHostname: "localhost")
                try ctx.expect(writer.transport is TLSTransport, "the writer now writes over TLS")
                try ctx.expect(writer.extraInfo("peercert") is TLSCertificateInfo, "peercert through the writer")
                try writer.write(Array("hello\n".utf8))
                let answer = try await reader.readline()
                try ctx.expectEqual(String(decoding: answer, as: UTF8.self), "secure: hello\n", "answer over TLS")
                writer.close()
                try await writer.waitClosed()
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X42", "startTLS whose handshake fails (client does not trust the server) → the error is thrown and the old transport is closed on both sides", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let client = TCPCases.Peer(loop), server = TCPCases.Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientPlain, serverPlain, _) = try await TCPCases.connect(ctx, loop, client, server)
                let plain = LoopBound(serverPlain)
                let serverSide = try loop.createTask { () async throws -> Void in
                    _ = try await loop.startTLS(plain.value, protocol: server, context: try TLSSupport.serverContext(), serverSide: true)
                }
                _ = try await TLSSupport.expectTLSError(ctx, .certificateVerifyFailed, "untrusted upgrade") {
                    _ = try await loop.startTLS(clientPlain, protocol: client, context: try TLSSupport.clientContext(trusting: try TLSFixtures.get().otherCA), serverHostname: "localhost")
                }
                try ctx.expect(clientPlain.isClosing, "the old client transport is closed")
                do {
                    try await serverSide.value
                    throw ctx.failure("the server's upgrade must fail too")
                } catch is TLSError {
                } catch let error as CaseFailure {
                    throw error
                } catch {
                }
                try await TCPCases.until { serverPlain.isClosing }
                try await sleep(.milliseconds(20))
            }
            try loop.close()
        },
        ConformanceCase("TLS-X43", "startTLS on a closing transport → invalidState; ssl_object is nil before any handshake", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let client = TCPCases.Peer(loop), server = TCPCases.Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientPlain, _, _) = try await TCPCases.connect(ctx, loop, client, server)
                try ctx.expect(clientPlain.extraInfo("ssl_object") == nil, "no ssl_object on a plain transport")
                clientPlain.close()
                let error = try await TLSSupport.expectLoopError(ctx, .invalidState, "closing transport") {
                    _ = try await loop.startTLS(clientPlain, protocol: client, context: try TLSSupport.clientContext(), serverHostname: "localhost")
                }
                try ctx.expect(error.message.contains("is closing"), "message: \(error.message)")
                try await client.lost.value
                try await server.lost.value
            }
            try loop.close()
        },
        ConformanceCase("TLS-X44", "setProtocol on a TLS transport: later data goes to the new protocol, which also gets connectionLost", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                let second = TCPCases.Peer(loop)
                transport.setProtocol(second)
                try ctx.expect(transport.protocol === second, "protocol after setProtocol")
                try (peers.all.first?.transport as? any WriteTransport)?.write(Array("later".utf8))
                try await TCPCases.until { second.received.count == 5 }
                transport.close()
                try await second.lost.value
                try ctx.expectEqual(client.received, Array("pong".utf8), "the first protocol got nothing more")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X45", "eofReceived returning true has no effect over TLS: the connection still closes after the peer's close_notify (a warning is logged)", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let client = TCPCases.Peer(loop)
                client.keepOpen = true
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext())
                try await TCPCases.until { peers.all.first?.transport != nil }
                peers.all.first?.transport?.close()
                try await client.lost.value
                try ctx.expectEqual(client.events, ["made", "eof", "lost(nil)"], "client events")
                try ctx.expect(transport.isClosing, "closing")
                server.close()
                try await server.waitClosed()
            }
            try ctx.expect(ctx.takeLogRecords().contains { $0.level == .warning && $0.message.contains("has no effect when using ssl") }, "the warning")
            try loop.close()
        },
        ConformanceCase("TLS-X46", "abort() on the client sends no close_notify: the server sees a truncation (lost(TLSError.unexpectedEOF), no eof); the client lost(nil)", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                transport.abort()
                try ctx.expect(transport.isClosing, "isClosing after abort")
                try await client.lost.value
                guard let serverPeer = peers.all.first else { throw ctx.failure("no server connection") }
                try await serverPeer.lost.value
                try ctx.expect(client.lostError == nil, "the client's own abort is not an error")
                try ctx.expect(!serverPeer.events.contains("eof"), "no eof on the server: \(serverPeer.events)")
                try ctx.expectEqual((serverPeer.lostError as? TLSError)?.kind, .unexpectedEOF, "server's lost error \(String(describing: serverPeer.lostError))")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X47", "TLS 1.2 on both ends: 1 MiB echoed through a TLS echo server and verified", requires: [.realTime], timeout: .seconds(40)) { ctx in
            let loop = try ctx.makeLoop()
            let data = SocketCases.pattern(count: 1 << 20)
            try SocketCases.run(ctx, loop, within: .seconds(30)) { () async throws -> Void in
                let serverContext = try TLSSupport.serverContext()
                serverContext.maximumVersion = .tls1_2
                let (server, port) = try await TLSSupport.echoServer(ctx, loop, ssl: serverContext)
                let clientContext = try TLSSupport.clientContext()
                clientContext.maximumVersion = .tls1_2
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port, ssl: clientContext)
                try ctx.expectEqual((writer.extraInfo("ssl_object") as? TLSConnectionInfo)?.versionName, "TLSv1.2", "version")
                try writer.write(data)
                let echoed = try await reader.readexactly(data.count)
                try ctx.expect(echoed == data, "the echo equals the data")
                writer.close()
                try await writer.waitClosed()
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X48", "a server keeps serving after a plaintext client, a garbage client and a client that closes at once, then serves a good one", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                for payload in [Array("GET / HTTP/1.0\r\n\r\n".utf8), SocketCases.pattern(count: 300), []] {
                    let bad = TCPCases.Peer(loop)
                    let (transport, _) = try await loop.createConnection({ bad }, host: "127.0.0.1", port: port)
                    if payload.isEmpty { transport.close() } else { try transport.write(payload) }
                    try await bad.lost.value
                }
                let (good, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                try ctx.expectEqual(good.received, Array("pong".utf8), "the good client's data")
                try ctx.expectEqual(peers.all.filter { !$0.events.isEmpty }.count, 1, "only the good connection reached a protocol")
                transport.close()
                try await good.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X49", "a server context from PEM files with an encrypted key and its password serves a handshake; a missing key file, a wrong password and a mismatched key are typed errors", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            let fixtures = try TLSFixtures.get()
            let certFile = try TLSSupport.temporaryFile(ctx, fixtures.encryptedServer.certificatePEM)
            let keyFile = try TLSSupport.temporaryFile(ctx, fixtures.encryptedServer.privateKeyPEM)
            let otherKey = try TLSSupport.temporaryFile(ctx, fixtures.client.privateKeyPEM)
            let password = fixtures.keyPassword
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                _ = try await TLSSupport.expectTLSError(ctx, .fileNotFound, "missing key") {
                    _ = try TLSContext.server(certificateChainFile: certFile, privateKeyFile: "/nonexistent/key.pem")
                }
                _ = try await TLSSupport.expectTLSError(ctx, .badPassword, "wrong password") {
                    _ = try TLSContext.server(certificateChainFile: certFile, privateKeyFile: keyFile, password: "wrong")
                }
                _ = try await TLSSupport.expectTLSError(ctx, .keyMismatch, "other key") {
                    _ = try TLSContext.server(certificateChainFile: certFile, privateKeyFile: otherKey)
                }
                let context = try TLSContext.server(certificateChainFile: certFile, privateKeyFile: keyFile, password: password)
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: context)
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                transport.close()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
    ]
}
