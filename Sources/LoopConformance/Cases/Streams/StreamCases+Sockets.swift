import Glibc
import LoopCore

/// STREAM cases for the sock: and hosts: forms of the stream functions.
extension StreamCases {
    static let sockets: [ConformanceCase] = [
        ConformanceCase("STREAM-X13", "openConnection(sock:) on a TCP socket the case connected with sockConnect to a startServer echo: lines both ways, the limit and the socket are the ones given; closing the writer closes the socket") { ctx in
            let seen = try withServers(ctx) { (loop, callbacks) async throws -> [String] in
                let (server, port) = try await serve(loop, callbacks, echoLines { _ in "echo: " })
                // From openConnection on, the transport owns the socket and closes it.
                let fd = try await SocketCases.connectedSocket(loop, to: SocketAddress(host: "127.0.0.1", port: port))
                let (reader, writer) = try await loop.openConnection(sock: fd, limit: 1000)
                var seen = [
                    "socket: \(writer.getExtraInfo("socket") as? Int32 == fd), limit: \(reader.limit)",
                    "peername: \(writer.getExtraInfo("peername") as? SocketAddress == (try SocketAddress(host: "127.0.0.1", port: port)))",
                ]
                seen += try await exchangeLines(["ping", "pong"], reader, writer)
                try await finish(server, callbacks, closing: writer)
                seen.append("socket closed: \(fcntl(fd, F_GETFD) == -1 && errno == EBADF)")
                return seen
            }
            try ctx.expectEqual(seen, [
                "socket: true, limit: 1000", "peername: true", "echo: ping\n", "echo: pong\n", "at end: [], atEOF true",
                "socket closed: true",
            ], "observations")
        },
        ConformanceCase("STREAM-X14", "startServer(sock:) on a TCP socket the case bound to 127.0.0.1 port 0 and listened on: the server's only socket is that one, two clients in turn get replies with the given limit; close() closes the socket") { ctx in
            let seen = try withServers(ctx) { (loop, callbacks) async throws -> [String] in
                // From startServer on, the server owns the socket and closes it.
                let listener = try SocketCases.boundSocket(.stream, to: SocketAddress(host: "127.0.0.1", port: 0), listening: true)
                let address = try Socket.localAddress(listener)
                let server = try await loop.startServer(callbacks.wrap { reader, writer in
                    let line = try await reader.readline()
                    try writer.write(bytes("served (limit \(reader.limit)): ") + line)
                    try await writer.drain()
                    writer.close()
                }, sock: listener, limit: 500)
                var seen = ["sockets: \(server.sockets == [listener]), serving: \(server.isServing)"]
                for client in ["first", "second"] {
                    guard let port = address.port else { throw ctx.failure("no port in \(address)") }
                    let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                    try writer.write(bytes(client + "\n"))
                    seen.append(text(try await reader.read()))
                    writer.close()
                    try await writer.waitClosed()
                }
                try await TCPCases.until { callbacks.finished >= 2 }
                server.close()
                seen.append("socket closed: \(fcntl(listener, F_GETFD) == -1 && errno == EBADF)")
                try await server.waitClosed()
                return seen
            }
            try ctx.expectEqual(seen, [
                "sockets: true, serving: true", "served (limit 500): first\n", "served (limit 500): second\n",
                "socket closed: true",
            ], "observations")
        },
        ConformanceCase("STREAM-X15", "startServer(hosts: [\"127.0.0.1\", \"::1\"], port: 0) (the module-level function) → one IPv4 and one IPv6 listening socket, and a client of each address gets a reply") { ctx in
            let seen = try withServers(ctx) { (loop, callbacks) async throws -> [String] in
                let server = try await startServer(callbacks.wrap { reader, writer in
                    let host = (writer.getExtraInfo("sockname") as? SocketAddress)?.host ?? "unknown"
                    try writer.write(bytes("served on \(host): ") + (try await reader.readline()))
                    try await writer.drain()
                    writer.close()
                }, hosts: ["127.0.0.1", "::1"], port: 0)
                let addresses = try server.sockets.map { try Socket.localAddress($0) }
                var seen = ["families: \(addresses.map { "\($0.family)" }.sorted())"]
                var replies: [String] = []
                for address in addresses {
                    guard let host = address.host, let port = address.port else { throw ctx.failure("no host or port in \(address)") }
                    let (reader, writer) = try await loop.openConnection(host: host, port: port)
                    try writer.write(bytes("hello\n"))
                    replies.append(text(try await reader.read()))
                    writer.close()
                    try await writer.waitClosed()
                }
                seen += replies.sorted()
                try await TCPCases.until { callbacks.finished >= 2 }
                server.close()
                try await server.waitClosed()
                return seen
            }
            try ctx.expectEqual(seen, [
                "families: \([AddressFamily.inet, .inet6].map { "\($0)" }.sorted())",
                "served on 127.0.0.1: hello\n", "served on ::1: hello\n",
            ], "observations")
        },
        ConformanceCase("STREAM-X16", "Unix sockets the case made: startUnixServer(sock:) on a bound one and openUnixConnection(sock:) on one connected to it (the module-level functions) exchange lines both ways with the given limits; both sockets are closed with their owners") { ctx in
            let path = try UnixCases.directory(ctx) + "/streams-sock.sock"
            let seen = try withServers(ctx) { (loop, callbacks) async throws -> [String] in
                // From startUnixServer and openUnixConnection on, the server and the
                // transport own these sockets and close them.
                let listener = try SocketCases.boundSocket(.stream, to: SocketAddress(unixPath: path))
                let server = try await startUnixServer(callbacks.wrap(echoLines { reader in "unix (limit \(reader.limit)): " }), sock: listener, limit: 300)
                let fd = try await SocketCases.connectedSocket(loop, to: SocketAddress(unixPath: path))
                let (reader, writer) = try await openUnixConnection(sock: fd, limit: 200)
                var seen = [
                    "server sockets: \(server.sockets == [listener]), client socket: \(writer.getExtraInfo("socket") as? Int32 == fd)",
                    "peername: \(writer.getExtraInfo("peername").map { "\($0)" } ?? "none"), client limit: \(reader.limit)",
                ]
                seen += try await exchangeLines(["one", "two"], reader, writer)
                writer.close()
                try await writer.waitClosed()
                seen.append("client socket closed: \(fcntl(fd, F_GETFD) == -1 && errno == EBADF)")
                try await TCPCases.until { callbacks.finished >= 1 }
                server.close()
                seen.append("server socket closed: \(fcntl(listener, F_GETFD) == -1 && errno == EBADF)")
                try await server.waitClosed()
                return seen
            }
            try ctx.expectEqual(seen, [
                "server sockets: true, client socket: true", "peername: \(path), client limit: 200",
                "unix (limit 300): one\n", "unix (limit 300): two\n", "at end: [], atEOF true",
                "client socket closed: true", "server socket closed: true",
            ], "observations")
        },
        ConformanceCase("STREAM-X17", "bad input to the sock: and hosts: forms → LoopError invalidArgument: a UDP socket to openConnection/startServer(sock:) ('A Stream Socket was expected'), UDP and TCP sockets to the Unix forms ('A UNIX Domain Stream Socket was expected'), a limit of 0 or -1 ('Limit cannot be <= 0'); every socket stays open and usable for the caller") { ctx in
            let loop = try ctx.makeLoop()
            let udp = try SocketCases.socket(ctx, .inet, .datagram)
            let tcp = try SocketCases.socket(ctx, .inet, .stream)
            let unix = try SocketCases.socket(ctx, .unix, .stream)
            let (connected, peer) = try ctx.socketPair()
            let ignore: StreamReaderProtocol.ClientConnected = { _, _ in }
            let outcomes = try SocketCases.run(ctx, loop) { () async throws -> [String] in
                var outcomes: [String] = []
                func attempt(_ call: String, _ body: () async throws -> Void) async {
                    do {
                        try await body()
                        outcomes.append("\(call): succeeded")
                    } catch let error as LoopError where error.kind == .invalidArgument {
                        let phrases = ["A UNIX Domain Stream Socket was expected", "A Stream Socket was expected", "Limit cannot be <= 0"]
                        outcomes.append("\(call): " + (phrases.first { error.message.contains($0) } ?? "invalidArgument: \(error.message)"))
                    } catch {
                        outcomes.append("\(call): other: \(error)")
                    }
                }
                await attempt("openConnection(sock: udp)") { _ = try await loop.openConnection(sock: udp) }
                await attempt("startServer(sock: udp)") { _ = try await loop.startServer(ignore, sock: udp) }
                await attempt("openUnixConnection(sock: udp)") { _ = try await loop.openUnixConnection(sock: udp) }
                await attempt("openUnixConnection(sock: tcp)") { _ = try await openUnixConnection(sock: tcp) }
                await attempt("startUnixServer(sock: tcp)") { _ = try await loop.startUnixServer(ignore, sock: tcp) }
                await attempt("openConnection(sock:, limit: 0)") { _ = try await openConnection(sock: connected, limit: 0) }
                await attempt("openUnixConnection(sock:, limit: 0)") { _ = try await loop.openUnixConnection(sock: connected, limit: 0) }
                await attempt("startServer(sock:, limit: 0)") { _ = try await startServer(ignore, sock: tcp, limit: 0) }
                await attempt("startUnixServer(sock:, limit: -1)") { _ = try await loop.startUnixServer(ignore, sock: unix, limit: -1) }
                await attempt("startServer(hosts:, limit: 0)") { _ = try await loop.startServer(ignore, hosts: ["127.0.0.1"], port: 0, limit: 0) }
                return outcomes
            }
            try ctx.expectEqual(outcomes, [
                "openConnection(sock: udp): A Stream Socket was expected",
                "startServer(sock: udp): A Stream Socket was expected",
                "openUnixConnection(sock: udp): A UNIX Domain Stream Socket was expected",
                "openUnixConnection(sock: tcp): A UNIX Domain Stream Socket was expected",
                "startUnixServer(sock: tcp): A UNIX Domain Stream Socket was expected",
                "openConnection(sock:, limit: 0): Limit cannot be <= 0",
                "openUnixConnection(sock:, limit: 0): Limit cannot be <= 0",
                "startServer(sock:, limit: 0): Limit cannot be <= 0",
                "startUnixServer(sock:, limit: -1): Limit cannot be <= 0",
                "startServer(hosts:, limit: 0): Limit cannot be <= 0",
            ], "outcomes")
            let open = [udp, tcp, unix, connected].map { fcntl($0, F_GETFD) >= 0 }
            try ctx.expectEqual(open, [true, true, true, true], "the sockets stay open for the caller")
            try ctx.write(connected, "still mine")
            try ctx.expectEqual(ctx.read(peer), "still mine", "the connected socket still carries data")
            try loop.close()
        },
    ]
}
