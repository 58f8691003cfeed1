import Glibc
import LoopCore

/// TCP cases beyond the catalogue.
extension TCPCases {
    static let extra: [ConformanceCase] = [
        ConformanceCase("TCP-X01", "writing to a closed transport is ignored; from the fifth ignored write on each logs 'socket.send() raised exception.'") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (clientTransport, _, _) = try await connect(ctx, loop, client, server)
                clientTransport.close()
                try await client.lost.value
                try await server.lost.value
                _ = ctx.takeLogRecords()
                for _ in 0..<6 { try clientTransport.write(Array("x".utf8)) }
            }
            let warnings = ctx.takeLogRecords().filter { $0.message == "socket.send() raised exception." }
            try ctx.expectEqual(warnings.count, 2, "warnings for 6 ignored writes")
            try loop.close()
        },
        ConformanceCase("TCP-X02", "bad input: port 70000 → argument error, an unknown host → ResolverError (factory never called); connectAcceptedSocket of a datagram socket → argument error", requires: [.realTime, .crossThreadWakeup], timeout: .seconds(60)) { ctx in
            let loop = try ctx.makeLoop()
            let calls = Recorder<Int>()
            let (datagram, other) = try Socket.makePair(.datagram)
            ctx.own(datagram)
            ctx.own(other)
            let outcomes = try SocketCases.run(ctx, loop, within: .seconds(50)) { () async throws -> [String] in
                var outcomes: [String] = []
                let factory = { () -> Peer in calls.record(1); return Peer(loop) }
                do {
                    _ = try await loop.createConnection(factory, host: "127.0.0.1", port: 70000)
                    outcomes.append("connected")
                } catch let error as LoopError {
                    outcomes.append("\(error.kind)")
                }
                do {
                    _ = try await loop.createServer({ Peer(loop) }, host: "127.0.0.1", port: 70000)
                    outcomes.append("served")
                } catch let error as LoopError {
                    outcomes.append("\(error.kind)")
                }
                do {
                    _ = try await loop.createConnection(factory, host: "no-such-host.invalid", port: 80)
                    outcomes.append("connected")
                } catch is ResolverError {
                    outcomes.append("ResolverError")
                }
                do {
                    _ = try await loop.connectAcceptedSocket(factory, datagram)
                    outcomes.append("wrapped")
                } catch let error as LoopError {
                    outcomes.append("\(error.kind)")
                }
                return outcomes
            }
            try ctx.expectEqual(outcomes, ["invalidArgument", "invalidArgument", "ResolverError", "invalidArgument"], "outcomes")
            try ctx.expectEqual(calls.count, 0, "factory calls")
            try loop.close()
        },
        ConformanceCase("TCP-X03", "16 MiB through an echo server made with createServer(sock:): the client gets every byte back (checksum), then eof and lost(nil)") { ctx in
            let loop = try ctx.makeLoop()
            let data = SocketCases.pattern(count: 16 << 20)
            let client = Peer(loop)
            // The server takes the listening socket over and closes it.
            let listener = try SocketCases.boundSocket(.stream, to: SocketAddress(host: "127.0.0.1", port: 0))
            try SocketCases.run(ctx, loop, within: .seconds(30)) { () async throws -> Void in
                let server = try await loop.createServer({ Echo() }, sock: listener)
                let port = try serverPort(ctx, server)
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port)
                try write(data, to: transport, piecesOf: 1 << 20)
                try transport.writeEof()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            try ctx.expectEqual(client.received.count, data.count, "bytes echoed")
            try ctx.expect(checksum(client.received) == checksum(data), "the echoed bytes must equal the sent ones")
            try ctx.expectEqual(client.events.first, "made", "the client's first event")
            try ctx.expectEqual(Array(client.events.suffix(2)), ["eof", "lost(nil)"], "the client's last events")
            try loop.close()
        },
        ConformanceCase("TCP-X04", "IPv6: createServer on ::1 with family inet6; createConnection(sock:) on a socket connected with sockConnect; data both ways") { ctx in
            let loop = try ctx.makeLoop()
            let peers = Peers()
            let client = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.createServer({ peers.make(loop) }, host: "::1", port: 0, family: .inet6)
                try ctx.expectEqual(try server.sockets.map { try Socket.family(of: $0) }, [.inet6], "the server's socket families")
                let port = try serverPort(ctx, server)
                // The transport takes the connected socket over and closes it.
                let fd = try await SocketCases.connectedSocket(loop, to: SocketAddress(host: "::1", port: port))
                let (transport, _) = try await loop.createConnection({ client }, sock: fd)
                try transport.write(Array("six".utf8))
                try await until { peers.all.first?.received.count == 3 }
                transport.close()
                try await client.lost.value
                try await peers.all[0].lost.value
                server.close()
                try await server.waitClosed()
            }
            try ctx.expectEqual(peers.all.first?.received ?? [], Array("six".utf8), "the server received")
            try ctx.expectEqual(client.events, ["made", "lost(nil)"], "client events")
            try loop.close()
        },
    ]
}
