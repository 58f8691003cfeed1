import Glibc
import LoopCore

/// UDP — datagram endpoints over loopback: createDatagramEndpoint (addresses, sock,
/// argument errors, socket options) and the datagram transport (sendto, connected
/// endpoints, ICMP errors, close/abort, sends after close).
///
/// Every scenario runs in a loop task under ``SocketCases/run(_:_:within:_:)``'s
/// watchdog; endpoints are closed and their `connectionLost` awaited before the loop
/// closes.
enum UDPCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("UDP-01", "two endpoints on 127.0.0.1:0: connectionMade before return; two datagrams with exact payloads and the sender's address; peername nil; close → lost(nil)") { ctx in
            let loop = try ctx.makeLoop()
            let sender = Peer(loop), receiver = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (t1, _) = try await loop.createDatagramEndpoint({ sender }, localAddr: ("127.0.0.1", 0))
                try ctx.expectEqual(sender.events, ["made"], "events when createDatagramEndpoint returned")
                let (t2, _) = try await loop.createDatagramEndpoint({ receiver }, localAddr: ("127.0.0.1", 0))
                let addr1 = try address(ctx, t1, "sockname"), addr2 = try address(ctx, t2, "sockname")
                try ctx.expect(t1.extraInfo("peername") == nil, "an unconnected endpoint has no peername")
                try t1.sendto(Array("one".utf8), to: addr2)
                try t1.sendto(Array("two".utf8), to: addr2)
                try await until { receiver.datagrams.count == 2 }
                try ctx.expectEqual(receiver.datagrams.map { String(decoding: $0.bytes, as: UTF8.self) }, ["one", "two"], "payloads")
                try ctx.expectEqual(receiver.datagrams.map(\.address), [addr1, addr1], "sender addresses")
                t1.close()
                t2.close()
                try await sender.lost.value
                try await receiver.lost.value
            }
            try ctx.expectEqual(sender.events, ["made", "lost(nil)"], "sender events")
            try loop.close()
        },
        ConformanceCase("UDP-02", "remoteAddr → peername; sendto without and with that address both send; another address → \"Invalid address\"; replies are received") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (st, _) = try await loop.createDatagramEndpoint({ server }, localAddr: ("127.0.0.1", 0))
                let serverAddr = try address(ctx, st, "sockname")
                let port = serverAddr.port ?? 0
                let (ct, _) = try await loop.createDatagramEndpoint({ client }, remoteAddr: ("127.0.0.1", port))
                try ctx.expectEqual(ct.extraInfo("peername") as? SocketAddress, serverAddr, "peername")
                try ct.sendto(Array("a".utf8))
                try ct.sendto(Array("b".utf8), to: serverAddr)
                let other = try SocketAddress(host: "127.0.0.1", port: port == 65535 ? 65534 : port + 1)
                let error = try ctx.expectLoopError(.invalidArgument, "sendto another address") { try ct.sendto(Array("c".utf8), to: other) }
                try ctx.expect(error.message.hasPrefix("Invalid address: must be nil or"), "message: \(error.message)")
                try await until { server.datagrams.count == 2 }
                try ctx.expectEqual(server.datagrams.map { String(decoding: $0.bytes, as: UTF8.self) }, ["a", "b"], "payloads")
                let clientAddr = try address(ctx, ct, "sockname")
                try st.sendto(Array("reply".utf8), to: clientAddr)
                try await until { client.datagrams.count == 1 }
                try ctx.expectEqual(client.datagrams.first?.address, serverAddr, "the reply's sender")
                ct.close()
                st.close()
                try await client.lost.value
                try await server.lost.value
            }
            try loop.close()
        },
        ConformanceCase("UDP-03", "a connected endpoint sending to a port without listener → errorReceived(ECONNREFUSED); the endpoint stays open") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let port = try closedUDPPort(ctx)
                let (ct, _) = try await loop.createDatagramEndpoint({ client }, remoteAddr: ("127.0.0.1", port))
                var sends = 0
                while client.errors.isEmpty && sends < 200 {
                    try ct.sendto(Array("ping".utf8))
                    sends += 1
                    try await sleep(.milliseconds(2))
                }
                try ctx.expect(!client.errors.isEmpty, "no errorReceived after \(sends) sends")
                try ctx.expectEqual((client.errors.first as? SystemError)?.errno, ECONNREFUSED, "the error: \(client.errors)")
                try ctx.expect(!ct.isClosing, "the endpoint stays open")
                try ctx.expect(!client.events.contains { $0.hasPrefix("lost") }, "no connectionLost")
                ct.close()
                try await client.lost.value
            }
            try loop.close()
        },
        ConformanceCase("UDP-04", "argument errors: sock with localAddr, a stream socket, neither address nor sock") { ctx in
            let loop = try ctx.makeLoop()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let dgram = try SocketCases.socket(ctx, .inet, .datagram)
                let stream = try SocketCases.socket(ctx, .inet, .stream)
                try await expectArgumentError(ctx, "socket modifier keyword arguments can not be used when sock is specified", "sock with localAddr") {
                    _ = try await loop.createDatagramEndpoint({ Peer(loop) }, sock: dgram, localAddr: ("127.0.0.1", 0))
                }
                try await expectArgumentError(ctx, "A UDP Socket was expected", "a stream socket") {
                    _ = try await loop.createDatagramEndpoint({ Peer(loop) }, sock: stream)
                }
                try await expectArgumentError(ctx, "unexpected address family", "neither address nor sock") {
                    _ = try await loop.createDatagramEndpoint({ Peer(loop) })
                }
            }
            try loop.close()
        },
        ConformanceCase("UDP-05", "sock: s is used as is (same sockname), made non-blocking and closed with the transport; allowBroadcast sets SO_BROADCAST") { ctx in
            let loop = try ctx.makeLoop()
            let peer = Peer(loop), broadcaster = Peer(loop)
            // A blocking socket: the endpoint must make it non-blocking. The transport owns it.
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            try ctx.expect(fd >= 0, "socket() failed: errno \(errno)")
            try Socket.bind(fd, to: SocketAddress(host: "127.0.0.1", port: 0))
            let sockname = try Socket.localAddress(fd)
            var before = stat()
            try ctx.expect(fstat(fd, &before) == 0, "fstat failed: errno \(errno)")
            let inode = before.st_ino
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (t, _) = try await loop.createDatagramEndpoint({ peer }, sock: fd)
                try ctx.expectEqual(t.extraInfo("sockname") as? SocketAddress, sockname, "sockname")
                try ctx.expectEqual(t.extraInfo("socket") as? Int32, fd, "socket")
                try ctx.expect(try Socket.isNonBlocking(fd), "the socket is non-blocking")
                let (b, _) = try await loop.createDatagramEndpoint({ broadcaster }, localAddr: ("127.0.0.1", 0), allowBroadcast: true)
                let bfd = try unwrap(ctx, b.extraInfo("socket") as? Int32, "socket of the broadcast endpoint")
                try ctx.expect(try Socket.option(bfd, SOL_SOCKET, SO_BROADCAST) != 0, "SO_BROADCAST set")
                t.close()
                b.close()
                try await peer.lost.value
                try await broadcaster.lost.value
            }
            // fd may already be reused by another thread: compare the inode, not the number.
            var after = stat()
            try ctx.expect(fstat(fd, &after) != 0 || after.st_ino != inode, "the transport closed the socket")
            try loop.close()
        },
        ConformanceCase("UDP-06", "SO_REUSEADDR never set; a connected endpoint's sendto after close() and after connectionLost → no error, nothing sent, no errorReceived") { ctx in
            let loop = try ctx.makeLoop()
            let client = Peer(loop), server = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (st, _) = try await loop.createDatagramEndpoint({ server }, localAddr: ("127.0.0.1", 0))
                let serverAddr = try address(ctx, st, "sockname")
                let sfd = try unwrap(ctx, st.extraInfo("socket") as? Int32, "server socket")
                try ctx.expectEqual(try Socket.option(sfd, SOL_SOCKET, SO_REUSEADDR), 0, "SO_REUSEADDR")
                let (ct, _) = try await loop.createDatagramEndpoint({ client }, remoteAddr: ("127.0.0.1", serverAddr.port ?? 0))
                ct.close()
                try ct.sendto(Array("after close".utf8))
                try await client.lost.value
                try ct.sendto(Array("after lost".utf8))
                try await sleep(.milliseconds(30))
                try ctx.expectEqual(server.datagrams.count, 0, "datagrams received")
                try ctx.expectEqual(client.errors.count, 0, "errorReceived calls")
                st.close()
                try await server.lost.value
            }
            try ctx.expectEqual(client.events, ["made", "lost(nil)"], "client events")
            try loop.close()
        },
        ConformanceCase("UDP-07", "writeBufferSize is 0 when the socket took everything; abort() → lost(nil)") { ctx in
            let loop = try ctx.makeLoop()
            let sender = Peer(loop), receiver = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (rt, _) = try await loop.createDatagramEndpoint({ receiver }, localAddr: ("127.0.0.1", 0))
                let (t, _) = try await loop.createDatagramEndpoint({ sender }, localAddr: ("127.0.0.1", 0))
                try t.sendto(Array("x".utf8), to: try address(ctx, rt, "sockname"))
                try ctx.expectEqual(t.writeBufferSize, 0, "writeBufferSize")
                t.abort()
                try ctx.expect(t.isClosing, "isClosing after abort()")
                try await sender.lost.value
                rt.close()
                try await receiver.lost.value
            }
            try ctx.expectEqual(sender.events, ["made", "lost(nil)"], "sender events")
            try loop.close()
        },
        ConformanceCase("UDP-X01", "IPv6: two endpoints on ::1 exchange datagrams with the sender's address") { ctx in
            let loop = try ctx.makeLoop()
            let a = Peer(loop), b = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (ta, _) = try await loop.createDatagramEndpoint({ a }, localAddr: ("::1", 0), family: .inet6)
                let (tb, _) = try await loop.createDatagramEndpoint({ b }, localAddr: ("::1", 0), family: .inet6)
                let addrA = try address(ctx, ta, "sockname"), addrB = try address(ctx, tb, "sockname")
                try ctx.expectEqual(addrA.family, .inet6, "family")
                try ta.sendto(Array("six".utf8), to: addrB)
                try await until { b.datagrams.count == 1 }
                try tb.sendto(Array("back".utf8), to: addrA)
                try await until { a.datagrams.count == 1 }
                try ctx.expectEqual(b.datagrams.first?.address, addrA, "sender of the first datagram")
                try ctx.expectEqual(a.datagrams.first.map { String(decoding: $0.bytes, as: UTF8.self) }, "back", "reply")
                ta.close()
                tb.close()
                try await a.lost.value
                try await b.lost.value
            }
            try loop.close()
        },
        // A datagram too large for UDP (over 65507 bytes) is refused by the OS with
        // EMSGSIZE, which goes to errorReceived as in asyncio; the endpoint stays open.
        ConformanceCase("UDP-X02", "a 70000-byte datagram → errorReceived(EMSGSIZE), endpoint open, the next datagram arrives") { ctx in
            let loop = try ctx.makeLoop()
            let peer = Peer(loop)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let (t, _) = try await loop.createDatagramEndpoint({ peer }, localAddr: ("127.0.0.1", 0))
                let own = try address(ctx, t, "sockname")
                try t.sendto([UInt8](repeating: 1, count: 70_000), to: own)
                try t.sendto(Array("small".utf8), to: own)
                try await until { peer.datagrams.count == 1 }
                try ctx.expectEqual(peer.errors.map { ($0 as? SystemError)?.errno }, [EMSGSIZE], "errors")
                try ctx.expectEqual(peer.datagrams.first?.bytes.count, 5, "the next datagram")
                try ctx.expect(!t.isClosing, "the endpoint stays open")
                t.close()
                try await peer.lost.value
            }
            try loop.close()
        },
    ]

    /// A datagram protocol recording its events; loop-thread only.
    final class Peer: DatagramProtocol, @unchecked Sendable {
        var events: [String] = []
        var datagrams: [(bytes: [UInt8], address: SocketAddress?)] = []
        var errors: [any Error] = []
        let lost: Future<Void>

        init(_ loop: BaseEventLoop) { lost = loop.createFuture(of: Void.self) }

        func connectionMade(_ transport: any BaseTransport) throws { events.append("made") }
        func datagramReceived(_ bytes: [UInt8], from address: SocketAddress?) throws {
            if events.last != "datagram" { events.append("datagram") }
            datagrams.append((bytes, address))
        }
        func errorReceived(_ error: any Error) throws { errors.append(error) }
        func connectionLost(_ error: (any Error)?) throws {
            events.append(error == nil ? "lost(nil)" : "lost(error)")
            if !lost.isDone { try lost.setResult(()) }
        }
    }

    static func until(_ condition: () -> Bool) async throws {
        while !condition() { try await sleep(.milliseconds(1)) }
    }

    static func address(_ ctx: CaseContext, _ transport: DatagramTransport, _ key: String) throws -> SocketAddress {
        try unwrap(ctx, transport.extraInfo(key) as? SocketAddress, "extra info \(key)")
    }

    static func unwrap<T>(_ ctx: CaseContext, _ value: T?, _ what: String) throws -> T {
        guard let value else { throw ctx.failure("\(what) is missing") }
        return value
    }

    /// A loopback UDP port nobody listens on (bound, then closed).
    static func closedUDPPort(_ ctx: CaseContext) throws -> Int {
        let fd = try Socket.make(.inet, .datagram)
        defer { _ = close(fd) }
        try Socket.bind(fd, to: SocketAddress(host: "127.0.0.1", port: 0))
        return try Socket.localAddress(fd).port ?? 0
    }

    /// Expects `body` to throw an invalid-argument LoopError whose message contains `text`.
    static func expectArgumentError(
        _ ctx: CaseContext, _ text: String, _ what: String, _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
        } catch let error as LoopError where error.kind == .invalidArgument {
            try ctx.expect(error.message.contains(text), "\(what): message \"\(error.message)\" lacks \"\(text)\"")
            return
        }
        throw ctx.failure("\(what): no error thrown")
    }
}
