import Glibc
import LoopCore
import LoopTLS

/// Data over TLS: large transfers, close_notify versus truncation, flow control both
/// ways, buffered protocols, many connections, TLS streams.
enum TLSDataCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("TLS-X13", "16 MiB client → server in 256 KiB writes, then close → the server receives every byte (checksum) before eof, lost(nil)", requires: [.realTime], timeout: .seconds(60)) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            let data = SocketCases.pattern(count: 16 << 20)
            try SocketCases.run(ctx, loop, within: .seconds(50)) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let client = TCPCases.Peer(loop)
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext())
                var offset = 0
                while offset < data.count {
                    try transport.write(Array(data[offset..<min(offset + 262_144, data.count)]))
                    offset += 262_144
                }
                transport.close()
                try await client.lost.value
                guard let serverPeer = peers.all.first else { throw ctx.failure("no server connection") }
                try await serverPeer.lost.value
                try ctx.expectEqual(serverPeer.received.count, data.count, "bytes received")
                try ctx.expect(TCPCases.checksum(serverPeer.received) == TCPCases.checksum(data), "checksum")
                try ctx.expectEqual(serverPeer.events.suffix(2), ["eof", "lost(nil)"], "server's last events")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X14", "16 MiB server → client in one write, server close → the client receives every byte (checksum), then eof, lost(nil); pause/resume writing reached the server's protocol", requires: [.realTime], timeout: .seconds(60)) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            let data = SocketCases.pattern(count: 16 << 20)
            try SocketCases.run(ctx, loop, within: .seconds(50)) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let client = TCPCases.Peer(loop)
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext())
                try transport.write(Array("go".utf8))
                try await TCPCases.until { peers.all.first?.received.count == 2 }
                guard let serverPeer = peers.all.first, let serverTransport = serverPeer.transport as? any WriteTransport else {
                    throw ctx.failure("no server connection")
                }
                try serverTransport.write(data)
                try ctx.expect(serverPeer.events.contains("pause"), "16 MiB at once must pause the writer")
                serverTransport.close()
                try await client.lost.value
                try await serverPeer.lost.value
                try ctx.expectEqual(client.received.count, data.count, "bytes received")
                try ctx.expect(TCPCases.checksum(client.received) == TCPCases.checksum(data), "checksum")
                try ctx.expectEqual(client.events.suffix(2), ["eof", "lost(nil)"], "client's last events")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X15", "clean close: the server's close() sends close_notify → the client gets eofReceived then lost(nil) (no error), and can tell it from a truncation", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let (client, _) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                peers.all.first?.transport?.close()
                try await client.lost.value
                try ctx.expectEqual(client.events, ["made", "data", "eof", "lost(nil)"], "client events")
                try ctx.expect(client.lostError == nil, "no error on a clean close")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X16", "truncation: the server aborts (TCP close without close_notify) → the client gets no eofReceived and lost(TLSError.unexpectedEOF)", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let (client, _) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                (peers.all.first?.transport as? any WriteTransport)?.abort()
                try await client.lost.value
                try ctx.expect(!client.events.contains("eof"), "no eofReceived on a truncation: \(client.events)")
                try ctx.expectEqual((client.lostError as? TLSError)?.kind, .unexpectedEOF, "lost error \(String(describing: client.lostError))")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X17", "half-close via close_notify: client close() → the server gets eof, lost(nil); the client lost(nil) once both close_notify went", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                transport.close()
                try ctx.expect(transport.isClosing, "isClosing after close()")
                guard let serverPeer = peers.all.first else { throw ctx.failure("no server connection") }
                try await serverPeer.lost.value
                try await client.lost.value
                try ctx.expectEqual(serverPeer.events, ["made", "data", "eof", "lost(nil)"], "server events")
                try ctx.expectEqual(client.events.filter { $0.hasPrefix("lost") }, ["lost(nil)"], "client lost once, cleanly")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X18", "writeEof over TLS throws invalidState (SSL doesn't support half-closes); writes after close are ignored without error; connectionLost exactly once after close then abort", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                let error = try ctx.expectLoopError(.invalidState, "writeEof") { try transport.writeEof() }
                try ctx.expect(error.message.contains("SSL doesn't support half-closes"), "message: \(error.message)")
                transport.close()
                for _ in 0..<3 { try transport.write(Array("late".utf8)) }
                transport.abort()
                transport.close()
                try await client.lost.value
                try await sleep(.milliseconds(20))
                try ctx.expectEqual(client.events.filter { $0.hasPrefix("lost") }.count, 1, "connectionLost calls")
                try await peers.all.first?.lost.value
                try ctx.expect(peers.all.first?.received == Array("ping".utf8), "nothing after close reached the server")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X19", "write flow control: the peer stops reading, 8 MiB written → pauseWriting; writeBufferSize above the high mark; the peer resumes → resumeWriting and every byte arrives", requires: [.realTime], timeout: .seconds(40)) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            let data = SocketCases.pattern(count: 8 << 20)
            try SocketCases.run(ctx, loop, within: .seconds(30)) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                guard let serverPeer = peers.all.first, let serverTransport = serverPeer.transport as? any ReadTransport else {
                    throw ctx.failure("no server connection")
                }
                serverTransport.pauseReading()
                try ctx.expect(!serverTransport.isReading, "isReading after pauseReading")
                try ctx.expectEqual(transport.writeBufferLimits.high, 512 * 1024, "TLS high mark")
                var offset = 0
                while offset < data.count && !client.events.contains("pause") {
                    try transport.write(Array(data[offset..<(offset + 65_536)]))
                    offset += 65_536
                    try await sleep(.zero)
                }
                try ctx.expect(client.events.contains("pause"), "pauseWriting after \(offset) bytes")
                try ctx.expect(transport.writeBufferSize >= 512 * 1024, "writeBufferSize \(transport.writeBufferSize)")
                try transport.write(Array(data[offset...]))
                serverTransport.resumeReading()
                try await TCPCases.until { client.events.contains("resume") }
                try await TCPCases.until { serverPeer.received.count == 4 + data.count }
                try ctx.expect(TCPCases.checksum(Array(serverPeer.received.dropFirst(4))) == TCPCases.checksum(data), "checksum")
                transport.close()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X20", "read flow control: the app's pauseReading stops dataReceived and, past 256 KiB of ciphertext, the reading below; resumeReading delivers the rest", requires: [.realTime], timeout: .seconds(40)) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            // More than loopback's socket buffers hold, so that the server's writer pauses.
            let data = SocketCases.pattern(count: 16 << 20)
            try SocketCases.run(ctx, loop, within: .seconds(30)) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                guard let serverPeer = peers.all.first, let serverTransport = serverPeer.transport as? any WriteTransport else {
                    throw ctx.failure("no server connection")
                }
                transport.pauseReading()
                let before = client.received.count
                try serverTransport.write(data)
                try await TCPCases.until { serverPeer.events.contains("pause") }
                try await sleep(.milliseconds(50))
                try ctx.expectEqual(client.received.count, before, "nothing delivered while paused")
                try ctx.expect(serverTransport.writeBufferSize > 512 * 1024, "the server's data waits (the reading below stopped): \(serverTransport.writeBufferSize)")
                transport.resumeReading()
                try await TCPCases.until { client.received.count == before + data.count }
                try ctx.expect(TCPCases.checksum(Array(client.received.dropFirst(before))) == TCPCases.checksum(data), "checksum")
                transport.close()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X21", "setWriteBufferLimits over TLS: asyncio's defaults (high only → low high/4; low only → high 4×low) and high < low refused", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (server, port) = try await TLSSupport.server(ctx, loop, peers, ssl: try TLSSupport.serverContext())
                let (client, transport) = try await TLSSupport.roundTrip(ctx, loop, port: port, ssl: try TLSSupport.clientContext(), peers: peers)
                try ctx.expect(transport.writeBufferLimits == (low: 131_072, high: 524_288), "defaults \(transport.writeBufferLimits)")
                try transport.setWriteBufferLimits(high: 4000, low: nil)
                try ctx.expect(transport.writeBufferLimits == (low: 1000, high: 4000), "high only: \(transport.writeBufferLimits)")
                try transport.setWriteBufferLimits(high: nil, low: 100)
                try ctx.expect(transport.writeBufferLimits == (low: 100, high: 400), "low only: \(transport.writeBufferLimits)")
                try ctx.expectLoopError(.invalidArgument, "high < low") { try transport.setWriteBufferLimits(high: 1, low: 2) }
                transport.close()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X22", "BufferedProtocol over TLS: 1 MiB arrives through getBuffer/bufferUpdated (4 KiB buffer) intact, then eofReceived and lost", requires: [.realTime], timeout: .seconds(40)) { ctx in
            let loop = try ctx.makeLoop()
            let data = SocketCases.pattern(count: 1 << 20)
            let receiver = BufferedReceiver(loop)
            try SocketCases.run(ctx, loop, within: .seconds(30)) { () async throws -> Void in
                let server = try await loop.createServer({ receiver }, host: "127.0.0.1", port: 0, ssl: try TLSSupport.serverContext())
                let port = try TCPCases.serverPort(ctx, server)
                let client = TCPCases.Peer(loop)
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext())
                try transport.write(data)
                transport.close()
                try await receiver.lost.value
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            try ctx.expectEqual(receiver.received.count, data.count, "bytes through the buffered protocol")
            try ctx.expect(TCPCases.checksum(receiver.received) == TCPCases.checksum(data), "checksum")
            try ctx.expect(receiver.largestUpdate <= 4096 && receiver.updates > 200, "updates \(receiver.updates), largest \(receiver.largestUpdate)")
            try ctx.expect(receiver.sawEof, "eofReceived")
            try loop.close()
        },
        ConformanceCase("TLS-X23", "200 concurrent TLS connections to one server, each echoing 16 KiB verified, all closed, nothing leaked", requires: [.realTime], timeout: .seconds(90)) { ctx in
            // 200 connections × 2 ends, plus the harness's own descriptors.
            try TCPResilienceCases.raiseDescriptorLimit(ctx, to: 1024)
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop, within: .seconds(80)) { () async throws -> Void in
                let (server, port) = try await TLSSupport.echoServer(ctx, loop, ssl: try TLSSupport.serverContext())
                let clientContext = LoopBound(try TLSSupport.clientContext())
                var tasks: [LoopTask<Bool>] = []
                for index in 0..<200 {
                    tasks.append(try loop.createTask { () async throws -> Bool in
                        let payload = SocketCases.pattern(count: 16_384 + index)
                        let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port, ssl: clientContext.value)
                        try writer.write(payload)
                        let echoed = try await reader.readexactly(payload.count)
                        writer.close()
                        try await writer.waitClosed()
                        return echoed == payload
                    })
                }
                var good = 0
                for task in tasks where try await task.value { good += 1 }
                try ctx.expectEqual(good, 200, "connections echoed correctly")
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
        ConformanceCase("TLS-X24", "TLS streams: startServer(ssl:) + openConnection(ssl:) → readline/write/drain over TLS; the writer's transport is TLS; canWriteEof false", requires: [.realTime]) { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.startServer({ reader, writer in
                    let line = try await reader.readline()
                    try writer.write(Array("echo: ".utf8) + line)
                    try await writer.drain()
                    writer.close()
                }, host: "127.0.0.1", port: 0, ssl: try TLSSupport.serverContext())
                let port = try TCPCases.serverPort(ctx, server)
                let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port, ssl: try TLSSupport.clientContext())
                try ctx.expect(writer.transport is TLSTransport, "the writer's transport is TLS")
                try ctx.expect(!writer.canWriteEof, "canWriteEof")
                try writer.write(Array("hello\n".utf8))
                try await writer.drain()
                let answer = try await reader.readline()
                try ctx.expectEqual(String(decoding: answer, as: UTF8.self), "echo: hello\n", "answer")
                let rest = try await reader.read()
                try ctx.expectEqual(rest, [], "end of file after the server's close_notify")
                writer.close()
                try await writer.waitClosed()
                server.close()
                try await server.waitClosed()
            }
            try loop.close()
        },
    ]

    /// A buffered protocol with a 4 KiB buffer; loop-thread only.
    final class BufferedReceiver: BufferedProtocol, @unchecked Sendable {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        var received: [UInt8] = []
        var updates = 0
        var largestUpdate = 0
        var sawEof = false
        let lost: Future<Void>

        init(_ loop: BaseEventLoop) { lost = loop.createFuture(of: Void.self) }
        deinit { buffer.deallocate() }

        func getBuffer(sizeHint: Int) throws -> UnsafeMutableRawBufferPointer { buffer }
        func bufferUpdated(_ count: Int) throws {
            updates += 1
            largestUpdate = max(largestUpdate, count)
            received += buffer.prefix(count)
        }
        func eofReceived() throws -> Bool {
            sawEof = true
            return false
        }
        func connectionLost(_ error: (any Error)?) throws {
            if !lost.isDone { try lost.setResult(()) }
        }
    }
}
