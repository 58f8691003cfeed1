import Glibc
import LoopCore
import LoopTLS

/// TLS handshakes in both directions and what they negotiate: the accepted-socket
/// server, client certificates, versions, ALPN, SNI, session reuse, extra info.
enum TLSHandshakeCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("TLS-X01", "server side via connectAcceptedSocket(ssl:), client via createConnection(ssl:) → both handshake; the server's TLS transport reports the client's address", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let client = TCPCases.Peer(loop), server = TCPCases.Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (listener, port) = try TLSSupport.silentListener(ctx)
                let serverContext = LoopBound(try TLSSupport.serverContext())
                let accepting = try loop.createTask { () async throws -> LoopBound<any Transport> in
                    let (fd, _) = try await loop.sockAccept(listener)
                    return LoopBound(try await loop.connectAcceptedSocket({ server }, fd, ssl: serverContext.value).transport)
                }
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext())
                let serverTransport = try await accepting.value.value
                try ctx.expect(serverTransport is TLSTransport, "the accepted side is a TLS transport")
                try ctx.expect(serverTransport.extraInfo("peername") != nil, "peername on the server side")
                try ctx.expectEqual(server.events, ["made"], "server events")
                try serverTransport.write(Array("hello".utf8))
                try await TCPCases.until { client.received.count == 5 }
                transport.close()
                try await server.lost.value
                try await client.lost.value
                ctx.close(listener)
            }
            try loop.close()
        },
        ConformanceCase("TLS-X02", "mutual TLS: the server requires a client certificate and the client presents one → the server's peercert is the client's (CN client)", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let fixtures = try TLSFixtures.get()
                let serverContext = try TLSSupport.serverContext()
                try serverContext.loadVerifyLocations(caPEM: fixtures.ca.certificatePEM)
                try serverContext.setVerifyMode(.required)
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: serverContext)
                let clientContext = try TLSSupport.clientContext()
                try clientContext.loadCertificateChain(pem: fixtures.client.certificatePEM, keyPEM: fixtures.client.privateKeyPEM)
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: clientContext, peers: peers)
                let serverTransport = peers.all.first?.transport
                try ctx.expectEqual((serverTransport?.extraInfo("peercert") as? TLSCertificateInfo)?.commonName, "client", "the server's peercert")
                transport.close()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X03", "the server requires a client certificate, the client has none → the client's call throws, the server keeps serving a client that has one", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let fixtures = try TLSFixtures.get()
                let serverContext = try TLSSupport.serverContext()
                try serverContext.loadVerifyLocations(caPEM: fixtures.ca.certificatePEM)
                try serverContext.setVerifyMode(.required)
                serverContext.maximumVersion = .tls1_2  // the refusal then comes within the handshake
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: serverContext)
                let error = try await TLSSupport.expectTLSError(ctx, .handshakeFailed, "no client certificate") {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext())
                }
                try ctx.expect(error.reason?.contains("handshake failure") == true || error.reason?.contains("certificate") == true, "reason: \(String(describing: error.reason))")
                let clientContext = try TLSSupport.clientContext()
                try clientContext.loadCertificateChain(pem: fixtures.client.certificatePEM, keyPEM: fixtures.client.privateKeyPEM)
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: clientContext, peers: peers)
                transport.close()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X04", "defaults negotiate TLS 1.3 (ssl_object version, tls_version, cipher TLS_*); a client limited to 1.2 negotiates TLSv1.2 with an ECDHE cipher", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let (client13, transport13) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                let info13 = transport13.extraInfo("ssl_object") as? TLSConnectionInfo
                try ctx.expectEqual(info13?.version, .tls1_3, "default version")
                try ctx.expectEqual(transport13.extraInfo("tls_version") as? TLSVersion, .tls1_3, "tls_version")
                try ctx.expect((transport13.extraInfo("cipher") as? TLSCipher)?.name.hasPrefix("TLS_") == true, "a TLS 1.3 suite")
                transport13.close()
                try await client13.lost.value
                let context12 = try TLSSupport.clientContext()
                context12.maximumVersion = .tls1_2
                let (client12, transport12) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: context12, peers: peers)
                let info12 = transport12.extraInfo("ssl_object") as? TLSConnectionInfo
                try ctx.expectEqual(info12?.versionName, "TLSv1.2", "limited version")
                try ctx.expect(info12?.cipher?.name.contains("ECDHE") == true, "an ECDHE cipher, got \(String(describing: info12?.cipher))")
                try ctx.expect((info12?.cipher?.bits ?? 0) >= 128, "cipher bits")
                transport12.close()
                try await client12.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X05", "ALPN: client offers h2, http/1.1; server prefers http/1.1 → both report http/1.1; no common protocol → nil on both", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let serverContext = try TLSSupport.serverContext()
                try serverContext.setALPNProtocols(["http/1.1", "h2"])
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: serverContext)
                let clientContext = try TLSSupport.clientContext()
                try clientContext.setALPNProtocols(["h2", "http/1.1"])
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: clientContext, peers: peers)
                try ctx.expectEqual(transport.extraInfo("alpn_protocol") as? String, "http/1.1", "client's ALPN")
                try ctx.expectEqual(peers.all.last?.transport?.extraInfo("alpn_protocol") as? String, "http/1.1", "server's ALPN")
                transport.close()
                try await client.lost.value
                let otherContext = try TLSSupport.clientContext()
                try otherContext.setALPNProtocols(["spdy/3"])
                let (other, otherTransport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: otherContext, peers: peers)
                try ctx.expect(otherTransport.extraInfo("alpn_protocol") == nil, "no ALPN without a common protocol")
                otherTransport.close()
                try await other.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X06", "SNI: the server's callback sees the name the client sent and picks the other.example context for it; the client verifies other.example; another name keeps the default", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            let seen = LoopBound(NameLog())
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let fixtures = try TLSFixtures.get()
                let serverContext = try TLSSupport.serverContext()
                let otherContext = try TLSSupport.serverContext(fixtures.otherHost)
                serverContext.serverNameCallback = { name in
                    seen.value.names.append(name ?? "<none>")
                    return name == "other.example" ? otherContext : nil
                }
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: serverContext)
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), serverHostname: "other.example", peers: peers)
                try ctx.expectEqual((transport.extraInfo("peercert") as? TLSCertificateInfo)?.commonName, "other.example", "certificate chosen by SNI")
                try ctx.expectEqual((peers.all.last?.transport?.extraInfo("ssl_object") as? TLSConnectionInfo)?.serverName, "other.example", "server's serverName")
                transport.close()
                try await client.lost.value
                let (plain, plainTransport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), serverHostname: "localhost", peers: peers)
                try ctx.expectEqual((plainTransport.extraInfo("peercert") as? TLSCertificateInfo)?.commonName, "localhost", "default certificate")
                plainTransport.close()
                try await plain.lost.value
                server.close()
                try await server.waitClosed()
            }
            try ctx.expectEqual(seen.value.names, ["other.example", "localhost"], "names the callback saw")
            try loop.close()
        },
        ConformanceCase("TLS-X07", "session reuse: a second connection with the same client context resumes the session (sessionReused true); reusesSessions false → a full handshake", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let clientContext = try TLSSupport.clientContext()
                var reused: [Bool] = []
                for _ in 0..<2 {
                    let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: clientContext, peers: peers)
                    reused.append((transport.extraInfo("ssl_object") as? TLSConnectionInfo)?.sessionReused ?? false)
                    transport.close()
                    try await client.lost.value
                }
                try ctx.expectEqual(reused, [false, true], "sessionReused per connection")
                let fresh = try TLSSupport.clientContext()
                fresh.reusesSessions = false
                for _ in 0..<2 {
                    let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: fresh, peers: peers)
                    try ctx.expect((transport.extraInfo("ssl_object") as? TLSConnectionInfo)?.sessionReused == false, "no reuse when off")
                    transport.close()
                    try await client.lost.value
                }
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X08", "an empty serverHostname: refused while the context checks hostnames (check_hostname requires server_hostname); with checkHostname off the chain is still verified and the connection works", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext(try TLSFixtures.get().otherHost))
                let error = try await TLSSupport.expectTLSError(ctx, .invalidConfiguration, "empty serverHostname") {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext(), serverHostname: "")
                }
                try ctx.expect(error.message.contains("check_hostname requires server_hostname"), "message: \(error.message)")
                let relaxed = try TLSSupport.clientContext()
                relaxed.checkHostname = false
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: relaxed, serverHostname: "", peers: peers)
                transport.close()
                try await client.lost.value
                let untrusting = try TLSSupport.clientContext(trusting: try TLSFixtures.get().otherCA)
                untrusting.checkHostname = false
                _ = try await TLSSupport.expectTLSError(ctx, .certificateVerifyFailed, "chain still verified") {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "127.0.0.1", port: port, ssl: untrusting, serverHostname: "")
                }
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X09", "verify mode none on the client: an untrusted self-signed server is accepted; its peercert is still reported", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext(try TLSFixtures.get().selfSigned))
                let context = try TLSContext(side: .client)
                context.checkHostname = false
                try context.setVerifyMode(.none)
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: context, peers: peers)
                try ctx.expectEqual((transport.extraInfo("peercert") as? TLSCertificateInfo)?.commonName, "localhost", "peercert")
                transport.close()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X10", "peer certificate fields: DER non-empty, subject CN=localhost, issuer CN=Loop Test CA, SANs DNS:localhost and IP Address:127.0.0.1, notAfter in GMT", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                guard let cert = transport.extraInfo("peercert") as? TLSCertificateInfo else { throw ctx.failure("no peercert") }
                try ctx.expect(cert.der.count > 100, "DER size \(cert.der.count)")
                try ctx.expectEqual(cert.subject, "CN=localhost", "subject")
                try ctx.expectEqual(cert.issuer, "CN=Loop Test CA", "issuer")
                try ctx.expect(cert.subjectAltNames.contains("DNS:localhost") && cert.subjectAltNames.contains("IP Address:127.0.0.1"), "SANs \(cert.subjectAltNames)")
                try ctx.expect(cert.notAfter.hasSuffix("GMT"), "notAfter \(cert.notAfter)")
                transport.close()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X11", "data written before the handshake is done (startTLS client writes at once) is kept and delivered after it", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let client = TCPCases.Peer(loop), server = TCPCases.Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientPlain, serverPlain, _) = try await TCPCases.connect(ctx, loop, client, server)
                let plain = LoopBound(serverPlain)
                let serverSide = try loop.createTask { () async throws -> LoopBound<TLSTransport> in
                    LoopBound(try await loop.startTLS(plain.value, protocol: server, context: try TLSSupport.serverContext(), serverSide: true))
                }
                let clientTLS = try await loop.startTLS(clientPlain, protocol: client, context: try TLSSupport.clientContext(), serverHostname: "localhost")
                let serverTLS = try await serverSide.value.value
                try serverTLS.write(Array("early".utf8))
                try await TCPCases.until { client.received.count == 5 }
                try ctx.expectEqual(client.received, Array("early".utf8), "the client got the server's write")
                serverTLS.close()
                try await client.lost.value
                try await server.lost.value
                _ = clientTLS
            }
            try loop.close()
        },
        ConformanceCase("TLS-X12", "TLS over Unix sockets: createUnixServer(ssl:) and createUnixConnection(ssl:, serverHostname: localhost) → data both ways, close", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            let path = "/tmp/loop-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
            ctx.onCleanup { _ = unlink(path) }
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.createUnixServer({ peers.make(loop) }, path: path, ssl: try TLSSupport.serverContext())
                let client = TCPCases.Peer(loop)
                let (transport, _) = try await loop.createUnixConnection({ client }, path: path, ssl: try TLSSupport.clientContext(), serverHostname: "localhost")
                try transport.write(Array("unix".utf8))
                try await TCPCases.until { peers.all.first?.received.count == 4 }
                try (peers.all.first?.transport as? any WriteTransport)?.write(Array("back".utf8))
                try await TCPCases.until { client.received.count == 4 }
                transport.close()
                try await client.lost.value
                let error = try await TLSSupport.expectLoopError(ctx, .invalidArgument, "no serverHostname over Unix") {
                    _ = try await loop.createUnixConnection({ TCPCases.Peer(loop) }, path: path, ssl: try TLSSupport.clientContext())
                }
                try ctx.expect(error.message.contains("you have to pass server_hostname when using ssl"), "message: \(error.message)")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
    ]

    final class NameLog {
        var names: [String] = []
    }
}
