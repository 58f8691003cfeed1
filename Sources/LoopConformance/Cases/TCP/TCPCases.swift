import Glibc
import LoopCore

/// TCP — stream transports and protocols over loopback TCP: createConnection,
/// connectAcceptedSocket and the socket transport (write buffering, flow control,
/// close/abort/half-close, pause/resume reading, extra info, fatal protocol errors).
///
/// The server side of each connection is a listening socket the case owns, accepted
/// with sockAccept and wrapped with connectAcceptedSocket. Every scenario runs in a
/// loop task under ``SocketCases/run(_:_:within:_:)``'s watchdog.
enum TCPCases {
    static let all: [ConformanceCase] = catalogue + extra

    static let catalogue: [ConformanceCase] = [
        ConformanceCase("TCP-01", "createServer on 127.0.0.1:0 → one listening socket, serving, its loop; close() → not serving, no sockets; waitClosed completes") { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.createServer({ Peer(loop) }, host: "127.0.0.1", port: 0)
                try ctx.expectEqual(server.sockets.count, 1, "listening sockets")
                try ctx.expect(server.isServing, "isServing after createServer")
                try ctx.expect(server.loop === loop, "the server's loop")
                server.close()
                try ctx.expect(!server.isServing, "isServing after close()")
                try ctx.expectEqual(server.sockets, [], "sockets after close()")
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TCP-02", "createConnection: connectionMade ran before it returns; data both ways; close → made, data, lost(nil) / made, data, eof, lost(nil)") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            let madeBeforeReturn = try SocketCases.run(ctx, loop) { () async throws -> Bool in
                let (clientTransport, serverTransport, made) = try await connect(ctx, loop, client, server)
                try clientTransport.write(Array("ping".utf8))
                try await until { server.received.count == 4 }
                try serverTransport.write(Array("pong".utf8))
                try await until { client.received.count == 4 }
                clientTransport.close()
                try await client.lost.value
                try await server.lost.value
                return made
            }
            try ctx.expect(madeBeforeReturn, "connectionMade must run before createConnection returns")
            try ctx.expectEqual(client.events, ["made", "data", "lost(nil)"], "client events")
            try ctx.expectEqual(server.events, ["made", "data", "eof", "lost(nil)"], "server events")
            try ctx.expectEqual(client.received, Array("pong".utf8), "client received")
            try ctx.expectEqual(server.received, Array("ping".utf8), "server received")
            try loop.close()
        },
        ConformanceCase("TCP-03", "8 MiB written in 100 KB pieces, then close() → the peer receives every byte in order before its end of file") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            let data = SocketCases.pattern(count: 8 << 20)
            try SocketCases.run(ctx, loop, within: .seconds(20)) { () async throws -> Void in
                let (clientTransport, _, _) = try await connect(ctx, loop, client, server)
                try write(data, to: clientTransport, piecesOf: 100_000)
                clientTransport.close()
                try await server.lost.value
                try await client.lost.value
            }
            try ctx.expectEqual(server.received.count, data.count, "bytes received")
            try ctx.expect(checksum(server.received) == checksum(data), "the received bytes must equal the sent ones")
            try ctx.expectEqual(server.events.suffix(2), ["eof", "lost(nil)"], "the server's last events")
            try loop.close()
        },
        ConformanceCase("TCP-04", "canWriteEof; write then writeEof; server's eofReceived false → data, eof, lost(nil); then the client sees eof, lost(nil)") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            let canWriteEof = try SocketCases.run(ctx, loop) { () async throws -> Bool in
                let (clientTransport, _, _) = try await connect(ctx, loop, client, server)
                try clientTransport.write(Array("bye".utf8))
                try clientTransport.writeEof()
                try await server.lost.value
                try await client.lost.value
                return clientTransport.canWriteEof
            }
            try ctx.expect(canWriteEof, "canWriteEof must be true for TCP")
            try ctx.expectEqual(server.events, ["made", "data", "eof", "lost(nil)"], "server events")
            try ctx.expectEqual(client.events, ["made", "eof", "lost(nil)"], "client events")
            try loop.close()
        },
        ConformanceCase("TCP-05", "eofReceived true keeps the server's transport open to send; write after writeEof throws") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            server.keepOpen = true
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientTransport, serverTransport, _) = try await connect(ctx, loop, client, server)
                try clientTransport.writeEof()
                try await until { server.events.contains("eof") }
                try ctx.expect(!serverTransport.isClosing, "the server's transport must stay open")
                try serverTransport.write(Array("late".utf8))
                try await until { client.received.count == 4 }
                try ctx.expectLoopError(.invalidState, "write after writeEof") { try clientTransport.write(Array("x".utf8)) }
                serverTransport.close()
                try await client.lost.value
                try await server.lost.value
            }
            try ctx.expectEqual(client.received, Array("late".utf8), "the half-closed client still receives")
            try loop.close()
        },
        ConformanceCase("TCP-06", "16 MiB buffered, peer not reading, then abort() → isClosing, lost(nil) once, the peer gets less than everything") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            let data = SocketCases.pattern(count: 16 << 20)
            let closing = try SocketCases.run(ctx, loop, within: .seconds(20)) { () async throws -> Bool in
                let (clientTransport, serverTransport, _) = try await connect(ctx, loop, client, server)
                serverTransport.pauseReading()
                try clientTransport.write(data)
                clientTransport.abort()
                let closing = clientTransport.isClosing
                try await client.lost.value
                serverTransport.resumeReading()
                try await server.lost.value
                return closing
            }
            try ctx.expect(closing, "isClosing must be true after abort()")
            try ctx.expectEqual(client.events.filter { $0.hasPrefix("lost") }, ["lost(nil)"], "connectionLost calls")
            try ctx.expect(server.received.count < data.count, "the peer must receive less than everything, got \(server.received.count)")
            try loop.close()
        },
        ConformanceCase("TCP-07", "close() → isClosing at once, connectionLost not synchronous, second close a no-op, lost(nil) exactly once") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientTransport, _, _) = try await connect(ctx, loop, client, server)
                clientTransport.close()
                try ctx.expect(clientTransport.isClosing, "isClosing right after close()")
                try ctx.expect(!client.events.contains { $0.hasPrefix("lost") }, "connectionLost must not run inside close()")
                clientTransport.close()
                try await client.lost.value
                try await server.lost.value
                try await sleep(.milliseconds(5))
            }
            try ctx.expectEqual(client.events, ["made", "lost(nil)"], "client events")
            try loop.close()
        },
        ConformanceCase("TCP-08", "write-buffer limits: default (16384, 65536); high 1000 → (250, 1000); low 100 → (100, 400); high < low → argument error") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (transport, _, _) = try await connect(ctx, loop, client, server)
                try ctx.expect(transport.writeBufferLimits == (16384, 65536), "default limits \(transport.writeBufferLimits)")
                try transport.setWriteBufferLimits(high: 1000, low: nil)
                try ctx.expect(transport.writeBufferLimits == (250, 1000), "after high 1000: \(transport.writeBufferLimits)")
                try transport.setWriteBufferLimits(high: nil, low: 100)
                try ctx.expect(transport.writeBufferLimits == (100, 400), "after low 100: \(transport.writeBufferLimits)")
                try ctx.expectLoopError(.invalidArgument, "high < low") { try transport.setWriteBufferLimits(high: 10, low: 20) }
                transport.close()
                try await client.lost.value
                try await server.lost.value
            }
            try loop.close()
        },
        ConformanceCase("TCP-09", "writes past the high mark → pauseWriting once; the peer reads → resumeWriting once at or below the low mark") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            let sizes = try SocketCases.run(ctx, loop, within: .seconds(20)) { () async throws -> (Int, Int) in
                let (clientTransport, serverTransport, _) = try await connect(ctx, loop, client, server)
                serverTransport.pauseReading()
                var sizeAtPause = -1
                client.onPause = { sizeAtPause = clientTransport.writeBufferSize }
                var sizeAtResume = -1
                client.onResume = { sizeAtResume = clientTransport.writeBufferSize }
                let chunk = [UInt8](repeating: 7, count: 65_536)
                var rounds = 0
                while !client.events.contains("pause") && rounds < 4096 {
                    try clientTransport.write(chunk)
                    rounds += 1
                }
                serverTransport.resumeReading()
                try await until { client.events.contains("resume") }
                clientTransport.close()
                try await client.lost.value
                try await server.lost.value
                return (sizeAtPause, sizeAtResume)
            }
            try ctx.expect(sizes.0 > 65536, "the buffer must exceed the high mark at pauseWriting, was \(sizes.0)")
            try ctx.expect(sizes.1 >= 0 && sizes.1 <= 16384, "the buffer must be at or below the low mark at resumeWriting, was \(sizes.1)")
            try ctx.expectEqual(client.events.filter { $0 == "pause" || $0 == "resume" }, ["pause", "resume"], "flow-control calls")
            try loop.close()
        },
        ConformanceCase("TCP-10", "pauseReading → isReading false, no data while paused, idempotent; resumeReading delivers the held data") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientTransport, serverTransport, _) = try await connect(ctx, loop, client, server)
                serverTransport.pauseReading()
                serverTransport.pauseReading()
                try ctx.expect(!serverTransport.isReading, "isReading after pauseReading")
                try clientTransport.write(Array("held".utf8))
                try await sleep(.milliseconds(30))
                try ctx.expectEqual(server.received, [], "data delivered while paused")
                serverTransport.resumeReading()
                serverTransport.resumeReading()
                try ctx.expect(serverTransport.isReading, "isReading after resumeReading")
                try await until { server.received.count == 4 }
                clientTransport.close()
                try await client.lost.value
                try await server.lost.value
            }
            try ctx.expectEqual(server.received, Array("held".utf8), "the held data")
            try loop.close()
        },
        ConformanceCase("TCP-11", "extra info: sockname/peername match on both sides, socket, unknown key → default; TCP_NODELAY on") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientTransport, serverTransport, _) = try await connect(ctx, loop, client, server)
                let clientName = clientTransport.getExtraInfo("sockname") as? SocketAddress
                let clientPeer = clientTransport.getExtraInfo("peername") as? SocketAddress
                let serverName = serverTransport.getExtraInfo("sockname") as? SocketAddress
                let serverPeer = serverTransport.getExtraInfo("peername") as? SocketAddress
                try ctx.expect(clientName != nil && clientName == serverPeer, "client sockname \(String(describing: clientName)) = server peername \(String(describing: serverPeer))")
                try ctx.expect(serverName != nil && serverName == clientPeer, "server sockname \(String(describing: serverName)) = client peername \(String(describing: clientPeer))")
                guard let fd = clientTransport.getExtraInfo("socket") as? Int32 else { throw ctx.failure("extra info socket missing") }
                try ctx.expectEqual(try Socket.localAddress(fd), clientName, "the socket's own address")
                try ctx.expectEqual(try Socket.option(fd, Int32(IPPROTO_TCP), TCP_NODELAY) != 0, true, "TCP_NODELAY")
                try ctx.expect(clientTransport.getExtraInfo("nope") == nil, "unknown key without default")
                try ctx.expectEqual(clientTransport.getExtraInfo("nope", default: 42) as? Int, 42, "unknown key with default")
                clientTransport.close()
                try await client.lost.value
                try await server.lost.value
            }
            try loop.close()
        },
        ConformanceCase("TCP-12", "createConnection to a closed port → ECONNREFUSED; the factory is never called") { ctx in
            let loop = try ctx.makeLoop()
            let port = try closedPort(ctx)
            let calls = Recorder<Int>()
            let error = try SocketCases.run(ctx, loop) { () async throws -> (any Error)? in
                do {
                    _ = try await loop.createConnection({ () -> Peer in calls.record(1); return Peer(loop) }, host: "127.0.0.1", port: port)
                    return nil
                } catch {
                    return error
                }
            }
            try ctx.expectEqual((error as? SystemError)?.errno, ECONNREFUSED, "the error \(String(describing: error))")
            try ctx.expectEqual(calls.count, 0, "factory calls")
            try loop.close()
        },
        ConformanceCase("TCP-14", "createConnection and createServer: host/port with sock, and neither → argument errors with asyncio's messages") { ctx in
            let loop = try ctx.makeLoop()
            let (fd, _) = try ctx.socketPair()
            let errors = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                var messages: [String] = []
                do { _ = try await loop.createConnection({ Peer(loop) }, host: "127.0.0.1", port: 1, sock: fd) } catch let error as LoopError where error.kind == .invalidArgument { messages.append(error.message) }
                do { _ = try await loop.createConnection({ Peer(loop) }, host: nil, port: nil) } catch let error as LoopError where error.kind == .invalidArgument { messages.append(error.message) }
                do { _ = try await loop.createServer({ Peer(loop) }, host: "127.0.0.1", port: 0, sock: fd) } catch let error as LoopError where error.kind == .invalidArgument { messages.append(error.message) }
                do { _ = try await loop.createServer({ Peer(loop) }, host: nil, port: nil, sock: nil) } catch let error as LoopError where error.kind == .invalidArgument { messages.append(error.message) }
                return messages
            }
            try ctx.expectEqual(errors.count, 4, "argument errors: \(errors)")
            let expected = [
                "host/port and sock can not be specified at the same time", "host and port was not specified and no sock specified",
                "host/port and sock can not be specified at the same time", "Neither host/port nor sock were specified",
            ]
            for (message, text) in zip(errors, expected) { try ctx.expect(message.contains(text), "message '\(message)' must contain '\(text)'") }
            try loop.close()
        },
        ConformanceCase("TCP-15", "Server.close() with a live connection → new connections refused; the existing one keeps exchanging data until its owner closes it") { ctx in
            let loop = try ctx.makeLoop()
            let peers = Peers()
            let client = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.createServer({ peers.make(loop) }, host: "127.0.0.1", port: 0)
                let port = try serverPort(ctx, server)
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port)
                try await until { peers.all.count == 1 }
                server.close()
                do {
                    _ = try await loop.createConnection({ Peer(loop) }, host: "127.0.0.1", port: port)
                    throw ctx.failure("a connection to the closed server was accepted")
                } catch let error as SystemError {
                    try ctx.expectEqual(error.errno, ECONNREFUSED, "error connecting to the closed server")
                }
                try transport.write(Array("still".utf8))
                try await until { peers.all.first?.received.count == 5 }
                transport.close()
                try await client.lost.value
                try await peers.all[0].lost.value
                try await server.waitClosed()
            }
            try ctx.expectEqual(peers.all.first?.received ?? [], Array("still".utf8), "data after Server.close()")
            try loop.close()
        },
        ConformanceCase("TCP-16", "startServing: false → not serving, connections refused; startServing() → serving, connections accepted") { ctx in
            let loop = try ctx.makeLoop()
            let peers = Peers()
            let client = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.createServer({ peers.make(loop) }, host: "127.0.0.1", port: 0, startServing: false)
                let port = try serverPort(ctx, server)
                try ctx.expect(!server.isServing, "isServing before startServing()")
                do {
                    _ = try await loop.createConnection({ Peer(loop) }, host: "127.0.0.1", port: port)
                    throw ctx.failure("a connection before startServing() was accepted")
                } catch let error as SystemError {
                    try ctx.expectEqual(error.errno, ECONNREFUSED, "error before startServing()")
                }
                try server.startServing()
                try ctx.expect(server.isServing, "isServing after startServing()")
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port)
                try await until { peers.all.count == 1 }
                transport.close()
                try await client.lost.value
                try await peers.all[0].lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TCP-17", "cancelling the task running serveForever closes the server; a closing scope closes it on exit") { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.createServer({ Peer(loop) }, host: "127.0.0.1", port: 0, startServing: false)
                let forever = try loop.createTask { () async throws -> Void in try await server.serveForever() }
                try await sleep(.milliseconds(5))
                try ctx.expect(server.isServing, "serveForever starts serving")
                _ = forever.cancel()
                do {
                    try await forever.value
                    throw ctx.failure("serveForever returned normally")
                } catch let error where !(error is CaseFailure) {}
                try ctx.expect(forever.isCancelled, "the serveForever task is cancelled")
                try ctx.expect(!server.isServing && server.sockets.isEmpty, "the server is closed")
                let scoped = try await loop.createServer({ Peer(loop) }, host: "127.0.0.1", port: 0)
                let servingInside = try await scoped.closing { $0.isServing }
                try ctx.expect(servingInside, "serving inside the scope")
                try ctx.expect(!scoped.isServing && scoped.sockets.isEmpty, "closed after the scope")
            }
            try loop.close()
        },
        ConformanceCase("TCP-18", "binding a port in use → EADDRINUSE 'error while attempting to bind on address'; two reusePort servers share a port") { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let first = try await loop.createServer({ Peer(loop) }, host: "127.0.0.1", port: 0)
                let port = try serverPort(ctx, first)
                do {
                    let second = try await loop.createServer({ Peer(loop) }, host: "127.0.0.1", port: port)
                    second.close()
                    throw ctx.failure("binding a port in use succeeded")
                } catch let error as SystemError {
                    try ctx.expectEqual(error.errno, EADDRINUSE, "errno")
                    try ctx.expect(error.description.contains("error while attempting to bind on address"), "message: \(error)")
                }
                first.close()
                let a = try await loop.createServer({ Peer(loop) }, host: "127.0.0.1", port: 0, reusePort: true)
                let shared = try serverPort(ctx, a)
                let b = try await loop.createServer({ Peer(loop) }, host: "127.0.0.1", port: shared, reusePort: true)
                try ctx.expectEqual(try serverPort(ctx, b), shared, "the second reusePort server's port")
                a.close()
                b.close()
            }
            try loop.close()
        },
        ConformanceCase("TCP-19", "createServer(hosts: [\"127.0.0.1\", \"::1\"], port: 0) → one IPv4 and one IPv6 listening socket") { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.createServer({ Peer(loop) }, hosts: ["127.0.0.1", "::1"], port: 0)
                let families = try server.sockets.map { try Socket.family(of: $0) }
                try ctx.expectEqual(families.count, 2, "listening sockets")
                try ctx.expect(families.contains(.inet) && families.contains(.inet6), "families \(families)")
                server.close()
            }
            try loop.close()
        },
        ConformanceCase("TCP-20", "connectAcceptedSocket on a socket accepted outside the loop: connectionMade, data both ways, the transport closes the socket") { ctx in
            let loop = try ctx.makeLoop()
            let (listener, address) = try SocketCases.listen(ctx, on: SocketAddress(host: "127.0.0.1", port: 0))
            let outside = try Socket.make(.inet, .stream)
            ctx.own(outside)
            try Socket.setNonBlocking(outside, false)
            try address.withSockAddr { guard Glibc.connect(outside, $0, $1) == 0 else { throw SystemError(errno: errno, call: "connect") } }
            try Socket.setNonBlocking(listener, false)
            let accepted = Glibc.accept(listener, nil, nil)
            guard accepted >= 0 else { throw SystemError(errno: errno, call: "accept") }
            let server = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (transport, made) = try await loop.connectAcceptedSocket({ server }, accepted)
                try ctx.expect(made === server, "the returned protocol")
                try ctx.expectEqual(server.events, ["made"], "events after connectAcceptedSocket")
                try ctx.write(outside, "in")
                try await until { server.received.count == 2 }
                try transport.write(Array("out".utf8))
                transport.close()
                try await server.lost.value
            }
            try ctx.expectEqual(ctx.read(outside), "out", "the outside peer receives")
            try ctx.expectEqual(fcntl(accepted, F_GETFD) == -1 && errno == EBADF, true, "the transport closed the accepted socket")
            try loop.close()
        },
        ConformanceCase("TCP-21", "the peer resets the connection → connectionLost gets ECONNRESET") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (_, serverTransport, _) = try await connect(ctx, loop, client, server)
                guard let fd = serverTransport.getExtraInfo("socket") as? Int32 else { throw ctx.failure("no socket") }
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                guard setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size)) == 0 else {
                    throw SystemError(errno: errno, call: "setsockopt(SO_LINGER)")
                }
                serverTransport.abort()
                try await client.lost.value
                try await server.lost.value
            }
            try ctx.expectEqual((client.lostError as? SystemError)?.errno, ECONNRESET, "the client's connectionLost error \(String(describing: client.lostError))")
            try loop.close()
        },
        ConformanceCase("TCP-22", "dataReceived throws → one handler call 'Fatal error: protocol.data_received() call failed.'; closed, connectionLost(E)") { ctx in
            struct Boom: Error {}
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            server.failOnData = Boom()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientTransport, serverTransport, _) = try await connect(ctx, loop, client, server)
                try clientTransport.write(Array("x".utf8))
                try await server.lost.value
                try ctx.expect(serverTransport.isClosing, "the transport must be closed")
                try await client.lost.value
            }
            let contexts = ctx.takeExceptionContexts()
            try ctx.expectEqual(contexts.count, 1, "handler calls")
            try ctx.expectEqual(contexts.first?.message, "Fatal error: protocol.data_received() call failed.", "message")
            try ctx.expect(contexts.first?.error is Boom, "the handler's error")
            try ctx.expect(contexts.first?.transport != nil && contexts.first?.transport === server.transport && contexts.first?.protocol === server, "transport and protocol in the context")
            try ctx.expect(server.lostError is Boom, "connectionLost(E)")
            try loop.close()
        },
        ConformanceCase("TCP-23", "writelines → the peer receives \"abc\"; setProtocol(p2) → protocol is p2, later data and connectionLost go to p2 only") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop), second = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientTransport, serverTransport, _) = try await connect(ctx, loop, client, server)
                try clientTransport.writelines([Array("a".utf8), Array("b".utf8), Array("c".utf8)])
                try await until { server.received.count == 3 }
                serverTransport.setProtocol(second)
                try ctx.expect(serverTransport.protocol === second, "protocol after setProtocol")
                try clientTransport.write(Array("d".utf8))
                try await until { second.received.count == 1 }
                clientTransport.close()
                try await second.lost.value
                try await client.lost.value
            }
            try ctx.expectEqual(server.received, Array("abc".utf8), "the first protocol's data")
            try ctx.expectEqual(second.received, Array("d".utf8), "the second protocol's data")
            try ctx.expect(!server.events.contains { $0.hasPrefix("lost") }, "the first protocol gets no connectionLost")
            try loop.close()
        },
        ConformanceCase("TCP-24", "a buffered protocol with an 8-byte buffer receives 20 bytes: getBuffer ≥ 3 times, bufferUpdated(n ≤ 8), all bytes in order") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop)
            let server = BufferedPeer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientTransport, _, _) = try await connect(ctx, loop, client, server)
                try clientTransport.write(Array("abcdefghijklmnopqrst".utf8))
                try await until { server.received.count == 20 }
                clientTransport.close()
                try await server.lost.value
                try await client.lost.value
            }
            try ctx.expect(server.getBufferCalls >= 3, "getBuffer calls: \(server.getBufferCalls)")
            try ctx.expect(server.updates.allSatisfy { $0 > 0 && $0 <= 8 }, "bufferUpdated counts \(server.updates)")
            try ctx.expectEqual(String(decoding: server.received, as: UTF8.self), "abcdefghijklmnopqrst", "the bytes")
            try loop.close()
        },
        ConformanceCase("TCP-25", "createConnection(localAddr: (\"127.0.0.2\", p)) → the transport's sockname is 127.0.0.2:p") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            let port = try freePort(ctx, host: "127.0.0.2")
            let name = try SocketCases.run(ctx, loop) { () async throws -> SocketAddress? in
                let (clientTransport, _, _) = try await connect(ctx, loop, client, server, localAddr: ("127.0.0.2", port))
                let name = clientTransport.getExtraInfo("sockname") as? SocketAddress
                clientTransport.close()
                try await client.lost.value
                try await server.lost.value
                return name
            }
            try ctx.expectEqual(name, try SocketAddress(host: "127.0.0.2", port: port), "sockname")
            try loop.close()
        },
    ]
}
