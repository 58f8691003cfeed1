import Glibc
import LoopCore

/// UNIX — Unix-domain stream sockets: createUnixServer and createUnixConnection (socket
/// files, stale files, abstract names, argument rules, errors) over the same transports
/// and servers as TCP.
///
/// Each case works in its own temporary directory under /tmp, removed after the case.
/// Every scenario runs in a loop task under ``SocketCases/run(_:_:within:_:)``'s watchdog.
enum UnixCases {
    typealias Peer = TCPCases.Peer

    static let all: [ConformanceCase] = [
        ConformanceCase("UNIX-01", "createUnixServer(path) makes a socket file named path; the client's peername is path, the server side's is unnamed; data both ways; canWriteEof; writeEof → server eof, lost(nil), then the client's") { ctx in
            let loop = try ctx.makeLoop()
            let path = try directory(ctx) + "/s.sock"
            let serverPeer = Peer(loop)
            let serverSide = Tracking(serverPeer)
            let client = Peer(loop)
            let seen = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let server = try await loop.createUnixServer({ serverSide }, path: path)
                guard let listener = server.sockets.first else { throw ctx.failure("the server has no socket") }
                var seen = ["file: \(fileKind(path))", "sockname: \(try Socket.localAddress(listener))"]
                let (transport, _) = try await loop.createUnixConnection({ client }, path: path)
                seen.append("client peername: \(transport.getExtraInfo("peername").map { "\($0)" } ?? "none")")
                try transport.write(Array("ping".utf8))
                try await TCPCases.until { serverPeer.received.count == 4 }
                guard let serverTransport = serverSide.transport else { throw ctx.failure("no server transport") }
                seen.append("server peername: \(serverTransport.getExtraInfo("peername").map { "\($0)" } ?? "none")")
                try serverTransport.write(Array("pong".utf8))
                try await TCPCases.until { client.received.count == 4 }
                seen.append("canWriteEof: \(transport.canWriteEof)")
                try transport.writeEof()
                try await serverPeer.lost.value
                try await client.lost.value
                server.close()
                try await server.waitClosed()
                return seen
            }
            try ctx.expectEqual(seen, [
                "file: socket", "sockname: \(path)", "client peername: \(path)", "server peername: <unnamed>", "canWriteEof: true",
            ], "observations")
            try ctx.expectEqual(serverPeer.events, ["made", "data", "eof", "lost(nil)"], "server events")
            try ctx.expectEqual(client.events, ["made", "data", "eof", "lost(nil)"], "client events")
            try ctx.expectEqual(client.received, Array("pong".utf8), "client received")
            try loop.close()
        },
        ConformanceCase("UNIX-02", "a stale socket file (bound, never listening, closed) at path → createUnixServer replaces it and serves") { ctx in
            let loop = try ctx.makeLoop()
            let path = try directory(ctx) + "/stale.sock"
            let stale = try SocketCases.socket(ctx, .unix, .stream)
            try Socket.bind(stale, to: SocketAddress(unixPath: path))
            ctx.close(stale)
            let before = fileKind(path)
            let client = Peer(loop)
            let peers = TCPCases.Peers()
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.createUnixServer({ peers.make(loop) }, path: path)
                let (transport, _) = try await loop.createUnixConnection({ client }, path: path)
                try transport.write(Array("hi".utf8))
                try await TCPCases.until { peers.all.first?.received.count == 2 }
                transport.close()
                try await client.lost.value
                try await peers.all[0].lost.value
                server.close()
                try await server.waitClosed()
            }
            try ctx.expectEqual(before, "socket", "the stale file before")
            try ctx.expectEqual(peers.all.first?.received ?? [], Array("hi".utf8), "the server received")
            try loop.close()
        },
        ConformanceCase("UNIX-03", "a regular file at path → createUnixServer throws SystemError EADDRINUSE, the factory is never called and the file is left untouched") { ctx in
            let loop = try ctx.makeLoop()
            let path = try directory(ctx) + "/regular"
            try writeFile(ctx, path, "keep me")
            let calls = Recorder<Int>()
            let outcome = try SocketCases.run(ctx, loop) { () async throws -> String in
                do {
                    let server = try await loop.createUnixServer({ calls.record(1); return Peer(loop) }, path: path)
                    server.close()
                    return "served"
                } catch let error as SystemError {
                    return error.errno == EADDRINUSE ? "EADDRINUSE" : "errno \(error.errno)"
                }
            }
            try ctx.expectEqual(outcome, "EADDRINUSE", "createUnixServer on a regular file")
            try ctx.expectEqual(fileKind(path), "regular", "the file after")
            try ctx.expectEqual(try readFile(ctx, path), "keep me", "the file's contents after")
            try ctx.expectEqual(calls.count, 0, "factory calls")
            try loop.close()
        },
        ConformanceCase("UNIX-04", "createUnixConnection to a missing path → SystemError ENOENT; to a socket file nobody listens on → ECONNREFUSED; the factory is never called") { ctx in
            let loop = try ctx.makeLoop()
            let dir = try directory(ctx)
            let stale = try SocketCases.socket(ctx, .unix, .stream)
            try Socket.bind(stale, to: SocketAddress(unixPath: dir + "/stale.sock"))
            ctx.close(stale)
            let calls = Recorder<Int>()
            let outcomes = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                var outcomes: [String] = []
                for path in [dir + "/missing.sock", dir + "/stale.sock"] {
                    do {
                        _ = try await loop.createUnixConnection({ calls.record(1); return Peer(loop) }, path: path)
                        outcomes.append("connected")
                    } catch let error as SystemError {
                        outcomes.append(error.errno == ENOENT ? "ENOENT" : error.errno == ECONNREFUSED ? "ECONNREFUSED" : "errno \(error.errno)")
                    }
                }
                return outcomes
            }
            try ctx.expectEqual(outcomes, ["ENOENT", "ECONNREFUSED"], "outcomes")
            try ctx.expectEqual(calls.count, 0, "factory calls")
            try loop.close()
        },
        ConformanceCase("UNIX-05", "an abstract name (\"\\0name\") works for createUnixServer and createUnixConnection; the server's sockname is the name") { ctx in
            let loop = try ctx.makeLoop()
            let name = "\0loop-conformance-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            let client = Peer(loop)
            let peers = TCPCases.Peers()
            let sockname = try SocketCases.run(ctx, loop) { () async throws -> String in
                let server = try await loop.createUnixServer({ peers.make(loop) }, path: name)
                guard let listener = server.sockets.first else { throw ctx.failure("the server has no socket") }
                let sockname = try Socket.localAddress(listener).unixPath ?? "none"
                let (transport, _) = try await loop.createUnixConnection({ client }, path: name)
                try transport.write(Array("abstract".utf8))
                try await TCPCases.until { peers.all.first?.received.count == 8 }
                transport.close()
                try await client.lost.value
                try await peers.all[0].lost.value
                server.close()
                try await server.waitClosed()
                return sockname
            }
            try ctx.expect(sockname == name, "the server's sockname must be the abstract name")
            try ctx.expectEqual(peers.all.first?.received ?? [], Array("abstract".utf8), "the server received")
            try loop.close()
        },
        ConformanceCase("UNIX-06", "argument errors: path and sock together, neither, a TCP or datagram socket → invalidArgument with asyncio's messages; a path longer than sun_path → invalidArgument; the factory is never called") { ctx in
            let loop = try ctx.makeLoop()
            let dir = try directory(ctx)
            let tcp = try SocketCases.socket(ctx, .inet, .stream)
            let (datagram, other) = try Socket.makePair(.datagram)
            ctx.own(datagram)
            ctx.own(other)
            let unix = try SocketCases.socket(ctx, .unix, .stream)
            let long = dir + "/" + String(repeating: "x", count: SocketAddress.unixPathCapacity)
            let calls = Recorder<Int>()
            let outcomes = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                let factory = { () -> Peer in calls.record(1); return Peer(loop) }
                var outcomes: [String] = []
                func attempt(_ body: () async throws -> Void) async {
                    do {
                        try await body()
                        outcomes.append("succeeded")
                    } catch let error as LoopError where error.kind == .invalidArgument {
                        outcomes.append(["path and sock can not be specified at the same time", "path was not specified, and no sock specified",
                                         "A UNIX Domain Stream Socket was expected", "too long"].first { "\(error)".contains($0) } ?? "\(error)")
                    } catch {
                        outcomes.append("other: \(error)")
                    }
                }
                await attempt { _ = try await loop.createUnixServer(factory, path: dir + "/a.sock", sock: unix) }
                await attempt { _ = try await loop.createUnixConnection(factory, path: dir + "/a.sock", sock: unix) }
                await attempt { _ = try await loop.createUnixServer(factory, path: nil, sock: nil) }
                await attempt { _ = try await loop.createUnixConnection(factory, path: nil, sock: nil) }
                await attempt { _ = try await loop.createUnixServer(factory, sock: tcp) }
                await attempt { _ = try await loop.createUnixConnection(factory, sock: datagram) }
                await attempt { _ = try await loop.createUnixServer(factory, path: long) }
                await attempt { _ = try await loop.createUnixConnection(factory, path: long) }
                return outcomes
            }
            try ctx.expectEqual(outcomes, [
                "path and sock can not be specified at the same time", "path and sock can not be specified at the same time",
                "path was not specified, and no sock specified", "path was not specified, and no sock specified",
                "A UNIX Domain Stream Socket was expected", "A UNIX Domain Stream Socket was expected",
                "too long", "too long",
            ], "outcomes")
            try ctx.expectEqual(calls.count, 0, "factory calls")
            try ctx.expectEqual(fileKind(dir + "/a.sock"), "missing", "no socket file is made on an argument error")
            try loop.close()
        },
        ConformanceCase("UNIX-X01", "1 MiB each way between createUnixConnection and an echo server on createUnixServer(sock:), verified by checksum; then eof and lost(nil)") { ctx in
            let loop = try ctx.makeLoop()
            let path = try directory(ctx) + "/echo.sock"
            let data = SocketCases.pattern(count: 1 << 20)
            let client = Peer(loop)
            // The server takes the bound socket over and closes it.
            let listener = try SocketCases.boundSocket(.stream, to: SocketAddress(unixPath: path))
            try SocketCases.run(ctx, loop, within: .seconds(20)) { () async throws -> Void in
                let server = try await loop.createUnixServer({ TCPCases.Echo() }, sock: listener)
                let (transport, _) = try await loop.createUnixConnection({ client }, path: path)
                try TCPCases.write(data, to: transport, piecesOf: 64 << 10)
                try transport.writeEof()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
            }
            try ctx.expectEqual(client.received.count, data.count, "bytes echoed")
            try ctx.expect(TCPCases.checksum(client.received) == TCPCases.checksum(data), "the echoed bytes must equal the sent ones")
            try ctx.expectEqual(Array(client.events.suffix(2)), ["eof", "lost(nil)"], "the client's last events")
            try loop.close()
        },
        ConformanceCase("UNIX-X02", "createUnixServer removes only a socket file at its own path: a regular file and another stale socket file in the same directory are kept") { ctx in
            let loop = try ctx.makeLoop()
            let dir = try directory(ctx)
            try writeFile(ctx, dir + "/notes.txt", "data")
            let stale = try SocketCases.socket(ctx, .unix, .stream)
            try Socket.bind(stale, to: SocketAddress(unixPath: dir + "/other.sock"))
            ctx.close(stale)
            try SocketCases.run(ctx, loop) { () async throws -> Void in
                let server = try await loop.createUnixServer({ Peer(loop) }, path: dir + "/mine.sock")
                server.close()
                try await server.waitClosed()
            }
            try ctx.expectEqual(fileKind(dir + "/notes.txt"), "regular", "the regular file")
            try ctx.expectEqual(try readFile(ctx, dir + "/notes.txt"), "data", "the regular file's contents")
            try ctx.expectEqual(fileKind(dir + "/other.sock"), "socket", "the other socket file")
            try loop.close()
        },
    ]

    // MARK: Helpers

    /// Forwards to a ``TCPCases/Peer`` and keeps the transport; loop-thread only.
    final class Tracking: StreamProtocol, @unchecked Sendable {
        let peer: Peer
        var transport: (any WriteTransport)?
        init(_ peer: Peer) { self.peer = peer }
        func connectionMade(_ transport: any BaseTransport) throws {
            self.transport = transport as? any WriteTransport
            try peer.connectionMade(transport)
        }
        func dataReceived(_ bytes: [UInt8]) throws { try peer.dataReceived(bytes) }
        func eofReceived() throws -> Bool { try peer.eofReceived() }
        func connectionLost(_ error: (any Error)?) throws { try peer.connectionLost(error) }
    }

    /// A new directory under /tmp, removed with everything directly in it after the case.
    static func directory(_ ctx: CaseContext) throws -> String {
        var template = Array("/tmp/loop-unix.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard made else { throw SystemError(errno: errno, call: "mkdtemp") }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        ctx.onCleanup { removeDirectory(path) }
        return path
    }

    static func removeDirectory(_ path: String) {
        if let stream = opendir(path) {
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { _ = unlink(path + "/" + name) }
            }
            closedir(stream)
        }
        _ = rmdir(path)
    }

    /// "socket", "regular", "missing" or "other" for what is at `path`.
    static func fileKind(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "missing" }
        switch info.st_mode & S_IFMT {
        case S_IFSOCK: return "socket"
        case S_IFREG: return "regular"
        default: return "other"
        }
    }

    static func writeFile(_ ctx: CaseContext, _ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError(errno: errno, call: "open(\(path))") }
        ctx.own(fd)
        try ctx.write(fd, text)
        ctx.close(fd)
    }

    static func readFile(_ ctx: CaseContext, _ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(errno: errno, call: "open(\(path))") }
        ctx.own(fd)
        defer { ctx.close(fd) }
        return ctx.read(fd)
    }
}
