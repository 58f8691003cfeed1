import Glibc
import LoopCore

/// SOCK — the loop's socket operations (sockRecv, sockRecvInto, sockSendall,
/// sockConnect, sockAccept, sockSendfile, sockSendto, sockRecvfrom) and name resolution
/// (getaddrinfo, getnameinfo on the resolver pool), plus SocketAddress's bad-input errors.
///
/// Every scenario runs inside loop tasks (``SocketCases/run(_:_:within:_:)``, which fails
/// the case instead of hanging); sockets are loopback or socketpairs, owned by the harness.
/// Cases that resolve names off the loop's thread require `crossThreadWakeup`, and
/// `realTime` too: their watchdog must not fire in virtual time while a lookup thread runs.
enum SocketCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("SOCK-01", "sockRecv waits for the peer's bytes (sent 20 ms later); after the peer's shutdown it returns []") { ctx in
            let loop = try ctx.makeLoop()
            let (a, b) = try ctx.socketPair()
            let order = Recorder<String>()
            try loop.callLater(.milliseconds(20)) {
                order.record("sent")
                try ctx.write(b, "hello")
            }
            let results = try run(ctx, loop) { () async throws -> [[UInt8]] in
                let first = try await loop.sockRecv(a, maxBytes: 100)
                order.record("received")
                try loop.callLater(.milliseconds(20)) { try Socket.shutdown(b, SHUT_WR) }
                let second = try await loop.sockRecv(a, maxBytes: 100)
                return [first, second]
            }
            try ctx.expectEqual(order.all, ["sent", "received"], "sockRecv must wait until the peer sends")
            try ctx.expectEqual(results, [Array("hello".utf8), []], "bytes received, then end of stream")
            try loop.close()
        },
        ConformanceCase("SOCK-02", "sockRecvInto returns the byte count (3) and fills the buffer, as an array and as raw memory") { ctx in
            let loop = try ctx.makeLoop()
            let (a, b) = try ctx.socketPair()
            try loop.callLater(.milliseconds(10)) { try ctx.write(b, "abc") }
            let (count, buffer) = try run(ctx, loop) { () async throws -> (Int, [UInt8]) in
                var buffer = [UInt8](repeating: 0, count: 10)
                let count = try await loop.sockRecvInto(a, &buffer)
                return (count, buffer)
            }
            try ctx.expectEqual(count, 3, "sockRecvInto(array) count")
            try ctx.expectEqual(Array(buffer.prefix(4)), Array("abc".utf8) + [0], "the array's first bytes")
            try ctx.write(b, "xyz")
            let (rawCount, rawBytes) = try run(ctx, loop) { () async throws -> (Int, [UInt8]) in
                let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 1)
                defer { raw.deallocate() }
                let count = try await loop.sockRecvInto(a, raw)
                return (count, Array(raw.prefix(3)))
            }
            try ctx.expectEqual(rawCount, 3, "sockRecvInto(raw memory) count")
            try ctx.expectEqual(rawBytes, Array("xyz".utf8), "the raw memory's bytes")
            try loop.close()
        },
        ConformanceCase("SOCK-03", "sockSendall of 4 MiB with a concurrent reader returns after everything was sent; every byte arrives in order") { ctx in
            let loop = try ctx.makeLoop()
            let (a, b) = try ctx.socketPair()
            let data = pattern(count: 4 << 20)
            let order = Recorder<String>()
            let received = try run(ctx, loop) { () async throws -> [UInt8] in
                let reader = try loop.createTask { () async throws -> [UInt8] in
                    var received: [UInt8] = []
                    while received.count < data.count {
                        let chunk = try await loop.sockRecv(b, maxBytes: 65_536)
                        if chunk.isEmpty { break }
                        received += chunk
                    }
                    order.record("reader done")
                    return received
                }
                try await loop.sockSendall(a, data)
                order.record("sendall returned")
                return try await reader.value
            }
            try ctx.expectEqual(received.count, data.count, "bytes received")
            try ctx.expect(received == data, "the bytes must arrive in order, unchanged")
            try ctx.expectEqual(order.all.first, "sendall returned", "sendall returns once everything was handed to the OS")
            try loop.close()
        },
        ConformanceCase("SOCK-04", "sockAccept with a concurrent sockConnect: connect returns, accept gives a non-blocking socket and the client's address") { ctx in
            let loop = try ctx.makeLoop()
            let (listener, address) = try listen(ctx, on: SocketAddress(host: "127.0.0.1", port: 0))
            let client = try socket(ctx, .inet, .stream)
            let peer = try run(ctx, loop) { () async throws -> SocketAddress in
                let accepting = try loop.createTask { try await loop.sockAccept(listener) }
                try await loop.sockConnect(client, to: address)
                let (connection, peer) = try await accepting.value
                ctx.own(connection)
                try ctx.expect(try Socket.isNonBlocking(connection), "the accepted socket must be non-blocking")
                try await loop.sockSendall(connection, Array("hi".utf8))
                try ctx.expectEqual(try await loop.sockRecv(client, maxBytes: 10), Array("hi".utf8), "data over the accepted connection")
                return peer
            }
            try ctx.expectEqual(peer, try Socket.localAddress(client), "the accepted address is the client's local address")
            try loop.close()
        },
        ConformanceCase("SOCK-05", "sockConnect to a port nobody listens on throws SystemError ECONNREFUSED") { ctx in
            let loop = try ctx.makeLoop()
            // Bound but not listening: connecting gets a reset, and no other process can take the port.
            let closedPort = try socket(ctx, .inet, .stream)
            try Socket.bind(closedPort, to: SocketAddress(host: "127.0.0.1", port: 0))
            let address = try Socket.localAddress(closedPort)
            let client = try socket(ctx, .inet, .stream)
            let outcome = try run(ctx, loop) { () async throws -> String in
                do {
                    try await loop.sockConnect(client, to: address)
                    return "connected"
                } catch let error as SystemError {
                    return error.errno == ECONNREFUSED ? "refused" : "\(error)"
                }
            }
            try ctx.expectEqual(outcome, "refused", "sockConnect to \(address)")
            try loop.close()
        },
        ConformanceCase("SOCK-06", "sockConnect(host: \"localhost\") resolves the name and connects to 127.0.0.1:port", requires: [.realTime, .crossThreadWakeup], timeout: .seconds(30)) { ctx in
            let loop = try ctx.makeLoop()
            let (listener, address) = try listen(ctx, on: SocketAddress(host: "127.0.0.1", port: 0))
            let client = try socket(ctx, .inet, .stream)
            let port = address.port ?? 0
            try run(ctx, loop, within: .seconds(20)) {
                let accepting = try loop.createTask { try await loop.sockAccept(listener) }
                try await loop.sockConnect(client, host: "localhost", port: port)
                ctx.own(try await accepting.value.fd)
            }
            try ctx.expectEqual(try Socket.peerAddress(client), try SocketAddress(host: "127.0.0.1", port: port), "the connected peer")
            try loop.close()
        },
        ConformanceCase("SOCK-07", "sockSendfile(offset: 1000, count: 100000) returns 100000, leaves the file at 101000; the peer gets bytes 1000..<101000") { ctx in
            let loop = try ctx.makeLoop()
            let (a, b) = try ctx.socketPair()
            let content = pattern(count: 200_000)
            let file = try temporaryFile(ctx, content)
            let (sent, received) = try run(ctx, loop) { () async throws -> (Int, [UInt8]) in
                let reader = try loop.createTask { () async throws -> [UInt8] in
                    var received: [UInt8] = []
                    while received.count < 100_000 {
                        let chunk = try await loop.sockRecv(b, maxBytes: 65_536)
                        if chunk.isEmpty { break }
                        received += chunk
                    }
                    return received
                }
                let sent = try await loop.sockSendfile(a, file: file, offset: 1000, count: 100_000)
                return (sent, try await reader.value)
            }
            try ctx.expectEqual(sent, 100_000, "sockSendfile's result")
            try ctx.expectEqual(Int(lseek(file, 0, SEEK_CUR)), 101_000, "the file position afterwards")
            try ctx.expect(received == Array(content[1000..<101_000]), "the peer must receive exactly bytes 1000..<101000 (got \(received.count) bytes)")
            try ctx.expectEqual(ctx.read(b), "", "nothing beyond count may be sent")
            try loop.close()
        },
        ConformanceCase("SOCK-08", "getaddrinfo matches the blocking call; getnameinfo NUMERICHOST|NUMERICSERV; an unknown host gives a ResolverError", requires: [.realTime, .crossThreadWakeup], timeout: .seconds(60)) { ctx in
            let loop = try ctx.makeLoop()
            let infos = try runGuarded(ctx, loop, loop.getaddrinfo(host: "127.0.0.1", port: 80, type: .stream))
            let blocking = try Resolver.getaddrinfo(host: "127.0.0.1", service: "80", type: .stream)
            try ctx.expectEqual(infos, blocking, "getaddrinfo(\"127.0.0.1\", 80, type: stream) against the blocking call")
            let expected = AddressInfo(
                family: .inet, type: .stream, proto: Int32(IPPROTO_TCP), canonicalName: "",
                address: try SocketAddress(host: "127.0.0.1", port: 80))
            try ctx.expectEqual(infos, [expected], "getaddrinfo(\"127.0.0.1\", 80, type: stream)")
            let names = try runGuarded(ctx, loop, loop.getnameinfo(try SocketAddress(host: "127.0.0.1", port: 80), flags: NI_NUMERICHOST | NI_NUMERICSERV))
            try ctx.expectEqual([names.host, names.service], ["127.0.0.1", "80"], "getnameinfo")
            let unknown = try loop.getaddrinfo(host: "no-such-host.invalid", port: 80)
            let outcome = try run(ctx, loop, within: .seconds(50)) { () async throws -> String in
                do {
                    _ = try await unknown.value
                    return "resolved"
                } catch let error as ResolverError {
                    return error.message.isEmpty ? "no message" : "ResolverError"
                }
            }
            try ctx.expectEqual(outcome, "ResolverError", "getaddrinfo of an unknown host")
            try loop.close()
        },
        ConformanceCase("SOCK-09", "a cancelled pending sockRecv consumes nothing; addReader then works on the fd and reads the data") { ctx in
            let loop = try ctx.makeLoop()
            let (a, b) = try ctx.socketPair()
            let task = try loop.createTask { try await loop.sockRecv(a, maxBytes: 100) }
            try loop.callLater(.milliseconds(10)) { task.cancel() }
            let watchdog = try loop.callLater(.seconds(5)) { loop.stop() }
            do {
                _ = try loop.runUntilComplete(task)
                throw ctx.failure("the cancelled sockRecv must not return")
            } catch is CancelledError {}
            watchdog.cancel()
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "fds watched after the cancellation")
            try ctx.write(b, "data")
            let seen = Recorder<String>()
            try loop.addReader(a) {
                seen.record(ctx.read(a))
                loop.stop()
            }
            let guardTimer = try loop.callLater(.seconds(5)) { loop.stop() }
            try loop.runForever()
            guardTimer.cancel()
            try loop.removeReader(a)
            try ctx.expectEqual(seen.all, ["data"], "what the new reader read")
            try loop.close()
        },
        ConformanceCase("SOCK-10", "UDP: sockSendto returns 5; a concurrent sockRecvfrom returns the datagram and the sender's address") { ctx in
            let loop = try ctx.makeLoop()
            let s1 = try socket(ctx, .inet, .datagram)
            let s2 = try socket(ctx, .inet, .datagram)
            try Socket.bind(s1, to: SocketAddress(host: "127.0.0.1", port: 0))
            try Socket.bind(s2, to: SocketAddress(host: "127.0.0.1", port: 0))
            let address2 = try Socket.localAddress(s2)
            let (sent, datagram) = try run(ctx, loop) { () async throws -> (Int, (bytes: [UInt8], address: SocketAddress?)) in
                let receiving = try loop.createTask { try await loop.sockRecvfrom(s2, maxBytes: 100) }
                try await loop.sleep(.milliseconds(10))
                let sent = try await loop.sockSendto(s1, Array("dgram".utf8), to: address2)
                return (sent, try await receiving.value)
            }
            try ctx.expectEqual(sent, 5, "sockSendto's result")
            try ctx.expectEqual(datagram.bytes, Array("dgram".utf8), "the datagram")
            try ctx.expectEqual(datagram.address, try Socket.localAddress(s1), "the sender's address")
            try loop.close()
        },
        ConformanceCase("SOCK-11", "debug mode: sock operations on a blocking socket throw 'the socket must be non-blocking'") { ctx in
            let loop = try ctx.makeLoop()
            loop.setDebug(true)
            let (a, _) = try ctx.socketPair()
            try Socket.setNonBlocking(a, false)
            let errors = try run(ctx, loop) { () async throws -> [String] in
                var errors: [String] = []
                func attempt(_ name: String, _ body: () async throws -> Void) async {
                    do {
                        try await body()
                        errors.append("\(name): nothing thrown")
                    } catch let error as LoopError where error.kind == .invalidArgument && error.message.contains("must be non-blocking") {
                        errors.append("ok")
                    } catch {
                        errors.append("\(name): \(error)")
                    }
                }
                await attempt("sockRecv") { _ = try await loop.sockRecv(a, maxBytes: 10) }
                await attempt("sockSendall") { try await loop.sockSendall(a, [1]) }
                await attempt("sockConnect") { try await loop.sockConnect(a, to: SocketAddress(host: "127.0.0.1", port: 9)) }
                await attempt("sockAccept") { _ = try await loop.sockAccept(a) }
                return errors
            }
            try ctx.expectEqual(errors, ["ok", "ok", "ok", "ok"], "errors thrown")
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "fds watched")
            try loop.close()
        },
        ConformanceCase("SOCK-X01", "IPv6: sockAccept and sockConnect over [::1]; the accepted address is the client's") { ctx in
            let loop = try ctx.makeLoop()
            let (listener, address) = try listen(ctx, on: SocketAddress(host: "::1", port: 0))
            let client = try socket(ctx, .inet6, .stream)
            let peer = try run(ctx, loop) { () async throws -> SocketAddress in
                let accepting = try loop.createTask { try await loop.sockAccept(listener) }
                try await loop.sockConnect(client, to: address)
                let (connection, peer) = try await accepting.value
                ctx.own(connection)
                try await loop.sockSendall(client, Array("six".utf8))
                try ctx.expectEqual(try await loop.sockRecv(connection, maxBytes: 10), Array("six".utf8), "data over IPv6")
                return peer
            }
            try ctx.expectEqual(peer, try Socket.localAddress(client), "the accepted address")
            try ctx.expectEqual(peer.family, .inet6, "the accepted address's family")
            try ctx.expectEqual(peer.host, "::1", "the accepted address's host")
            try loop.close()
        },
        ConformanceCase("SOCK-X02", "Unix socket path: sockConnect/sockAccept; the listener's address is the path; the client is unnamed") { ctx in
            let loop = try ctx.makeLoop()
            let path = "/tmp/loop-sock-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
            _ = unlink(path)
            ctx.onCleanup { _ = unlink(path) }
            let address = try SocketAddress(unixPath: path)
            let (listener, bound) = try listen(ctx, on: address)
            try ctx.expectEqual(bound, address, "the listener's address")
            try ctx.expectEqual(bound.description, path, "the address's description")
            let client = try socket(ctx, .unix, .stream)
            let peer = try run(ctx, loop) { () async throws -> SocketAddress in
                let accepting = try loop.createTask { try await loop.sockAccept(listener) }
                try await loop.sockConnect(client, to: address)
                let (connection, peer) = try await accepting.value
                ctx.own(connection)
                try await loop.sockSendall(connection, Array("unix".utf8))
                try ctx.expectEqual(try await loop.sockRecv(client, maxBytes: 10), Array("unix".utf8), "data over the Unix socket")
                return peer
            }
            try ctx.expectEqual(peer, SocketAddress.unix(path: []), "the unnamed client's address")
            try ctx.expectEqual(try Socket.peerAddress(client), address, "the client's peer")
            try loop.close()
        },
        ConformanceCase("SOCK-X03", "Linux abstract name \"\\0name\": listen, connect and accept; the address round-trips with its leading NUL") { ctx in
            let loop = try ctx.makeLoop()
            let name = "\0loop-sock-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let address = try SocketAddress(unixPath: name)
            let (listener, bound) = try listen(ctx, on: address)
            try ctx.expectEqual(bound, address, "the listener's address")
            try ctx.expectEqual(bound.unixPath, name, "the abstract name with its NUL")
            try ctx.expect(bound.description.hasPrefix("@loop-sock-"), "an abstract name is described with '@': \(bound)")
            let client = try socket(ctx, .unix, .stream)
            try run(ctx, loop) {
                let accepting = try loop.createTask { try await loop.sockAccept(listener) }
                try await loop.sockConnect(client, to: address)
                ctx.own(try await accepting.value.fd)
            }
            try ctx.expectEqual(try Socket.peerAddress(client), address, "the client's peer")
            try loop.close()
        },
        ConformanceCase("SOCK-X04", "a Unix path longer than sun_path is an invalidArgument error naming the limit; the longest that fits works") { ctx in
            let limit = SocketAddress.maxUnixPathLength
            let error = try ctx.expectLoopError(.invalidArgument, "SocketAddress(unixPath:) of \(limit + 1) bytes") {
                _ = try SocketAddress(unixPath: "/tmp/" + String(repeating: "a", count: limit - 4))
            }
            try ctx.expect(error.message.contains("too long") && error.message.contains("\(limit)"), "the message must say too long and name \(limit): \(error.message)")
            try ctx.expectLoopError(.invalidArgument, "an abstract name longer than sun_path") {
                _ = try SocketAddress(unixPath: "\0" + String(repeating: "b", count: SocketAddress.unixPathCapacity))
            }
            try ctx.expectLoopError(.invalidArgument, "a path with an inner NUL") { _ = try SocketAddress(unixPath: "/tmp/a\0b") }
            // The longest path that fits binds, and reads back unchanged.
            let directory = "/tmp/"
            let stem = "ls\(getpid())-"
            let longest = directory + stem + String(repeating: "c", count: limit - directory.utf8.count - stem.utf8.count)
            _ = unlink(longest)
            ctx.onCleanup { _ = unlink(longest) }
            let fd = try socket(ctx, .unix, .stream)
            let address = try SocketAddress(unixPath: longest)
            try Socket.bind(fd, to: address)
            try ctx.expectEqual(try Socket.localAddress(fd).unixPath, longest, "the longest path, read back")
        },
        ConformanceCase("SOCK-X05", "bad port (70000) and bad host: typed errors from SocketAddress, getaddrinfo and sockConnect", requires: [.realTime, .crossThreadWakeup], timeout: .seconds(60)) { ctx in
            let loop = try ctx.makeLoop()
            try ctx.expectLoopError(.invalidArgument, "SocketAddress(port: 70000)") { _ = try SocketAddress(host: "127.0.0.1", port: 70000) }
            try ctx.expectLoopError(.invalidArgument, "SocketAddress(port: -1)") { _ = try SocketAddress(host: "127.0.0.1", port: -1) }
            try ctx.expectLoopError(.invalidArgument, "SocketAddress(port: \"http\")") { _ = try SocketAddress(host: "127.0.0.1", port: "http") }
            let badHost = try ctx.expectLoopError(.invalidArgument, "SocketAddress(host: \"not an address\")") {
                _ = try SocketAddress(host: "not an address", port: 80)
            }
            try ctx.expect(badHost.message.contains("getaddrinfo"), "the message must point to getaddrinfo: \(badHost.message)")
            try ctx.expectLoopError(.invalidArgument, "getaddrinfo(port: 70000)") { _ = try loop.getaddrinfo(host: "127.0.0.1", port: 70000) }
            let client = try socket(ctx, .inet, .stream)
            let outcomes = try run(ctx, loop, within: .seconds(50)) { () async throws -> [String] in
                var outcomes: [String] = []
                do {
                    try await loop.sockConnect(client, host: "127.0.0.1", port: 70000)
                    outcomes.append("connected")
                } catch let error as LoopError {
                    outcomes.append("\(error.kind)")
                }
                do {
                    try await loop.sockConnect(client, host: "no-such-host.invalid", port: 80)
                    outcomes.append("connected")
                } catch is ResolverError {
                    outcomes.append("ResolverError")
                }
                return outcomes
            }
            try ctx.expectEqual(outcomes, ["invalidArgument", "ResolverError"], "sockConnect with a bad port, then a bad host")
            try loop.close()
        },
        ConformanceCase("SOCK-X06", "getnameinfo of [::1]:80 (numeric and by name); getaddrinfo(\"::1\") gives an IPv6 address", requires: [.realTime, .crossThreadWakeup], timeout: .seconds(30)) { ctx in
            let loop = try ctx.makeLoop()
            let address = try SocketAddress(host: "::1", port: 80)
            let numeric = try runGuarded(ctx, loop, loop.getnameinfo(address, flags: NI_NUMERICHOST | NI_NUMERICSERV))
            try ctx.expectEqual([numeric.host, numeric.service], ["::1", "80"], "numeric getnameinfo")
            let named = try runGuarded(ctx, loop, loop.getnameinfo(address, flags: NI_NUMERICHOST), within: .seconds(20))
            // "http" where the services database names port 80 (it does on every usual system).
            try ctx.expect(named.host == "::1" && ["http", "80"].contains(named.service), "getnameinfo with the service by name: \(named)")
            let infos = try runGuarded(ctx, loop, loop.getaddrinfo(host: "::1", port: 80, type: .stream))
            try ctx.expectEqual(infos.map(\.address), [address], "getaddrinfo(\"::1\", 80)")
            try ctx.expectEqual(infos.map(\.family), [.inet6], "the family")
            try loop.close()
        },
        ConformanceCase("SOCK-X07", "4 MiB over TCP loopback: sockSendall to an echoing peer, read back with sockRecv; checksums match", timeout: .seconds(30)) { ctx in
            let loop = try ctx.makeLoop()
            let (listener, address) = try listen(ctx, on: SocketAddress(host: "127.0.0.1", port: 0))
            let client = try socket(ctx, .inet, .stream)
            let data = pattern(count: 4 << 20)
            let (sentSum, echoedSum, echoedCount) = try run(ctx, loop, within: .seconds(25)) { () async throws -> (UInt64, UInt64, Int) in
                let accepting = try loop.createTask { try await loop.sockAccept(listener) }
                try await loop.sockConnect(client, to: address)
                let connection = try await accepting.value.fd
                ctx.own(connection)
                let echo = try loop.createTask { () async throws -> Void in
                    while true {
                        let chunk = try await loop.sockRecv(connection, maxBytes: 65_536)
                        if chunk.isEmpty { break }
                        try await loop.sockSendall(connection, chunk)
                    }
                    try Socket.shutdown(connection, SHUT_WR)
                }
                let sender = try loop.createTask { () async throws -> Void in
                    try await loop.sockSendall(client, data)
                    try Socket.shutdown(client, SHUT_WR)
                }
                var sum = Checksum()
                var count = 0
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let got = try await loop.sockRecvInto(client, &buffer)
                    if got == 0 { break }
                    sum.add(buffer[..<got])
                    count += got
                }
                try await sender.value
                try await echo.value
                var expected = Checksum()
                expected.add(data[...])
                return (expected.value, sum.value, count)
            }
            try ctx.expectEqual(echoedCount, data.count, "bytes echoed back")
            try ctx.expectEqual(echoedSum, sentSum, "checksum of the echoed bytes")
            try loop.close()
        },
        ConformanceCase("SOCK-X08", "getaddrinfo(\"localhost\") completes while every default-executor worker is blocked", requires: [.realTime, .crossThreadWakeup], timeout: .seconds(30)) { ctx in
            let loop = try ctx.makeLoop()
            let pool = try ThreadPoolExecutor(maxWorkers: 1)
            try loop.setDefaultExecutor(pool)
            let gate = WorkerGate()
            ctx.onCleanup { gate.open() }
            let blocked = try loop.runInExecutor { gate.wait() }
            let infos = try runGuarded(ctx, loop, loop.getaddrinfo(host: "localhost", port: 80, family: .inet, type: .stream), within: .seconds(20))
            try ctx.expectEqual(infos.map(\.address), [try SocketAddress(host: "127.0.0.1", port: 80)], "localhost resolved")
            try ctx.expect(!blocked.isDone, "the default executor's worker was still blocked")
            gate.open()
            try runGuarded(ctx, loop, blocked)
            pool.shutdown()
            try loop.close()
        },
        ConformanceCase("SOCK-X09", "sockSendfile from a pipe falls back to read and send; without fallback it is an invalidArgument error") { ctx in
            let loop = try ctx.makeLoop()
            let (a, b) = try ctx.socketPair()
            let pipe = try ctx.pipe()
            let content = pattern(count: 50_000)
            let written = content.withUnsafeBytes { write(pipe.write, $0.baseAddress, $0.count) }
            try ctx.expectEqual(written, content.count, "bytes put in the pipe")
            ctx.close(pipe.write)
            let (sent, received, refusal) = try run(ctx, loop) { () async throws -> (Int, [UInt8], String) in
                var refusal = "nothing thrown"
                do {
                    _ = try await loop.sockSendfile(a, file: pipe.read, fallback: false)
                } catch let error as LoopError {
                    refusal = "\(error.kind)"
                }
                let reader = try loop.createTask { () async throws -> [UInt8] in
                    var received: [UInt8] = []
                    while received.count < content.count {
                        let chunk = try await loop.sockRecv(b, maxBytes: 65_536)
                        if chunk.isEmpty { break }
                        received += chunk
                    }
                    return received
                }
                let sent = try await loop.sockSendfile(a, file: pipe.read)
                return (sent, try await reader.value, refusal)
            }
            try ctx.expectEqual(refusal, "invalidArgument", "sockSendfile(fallback: false) from a pipe")
            try ctx.expectEqual(sent, content.count, "bytes sent from the pipe")
            try ctx.expect(received == content, "the peer must receive the pipe's bytes in order")
            try loop.close()
        },
        ConformanceCase("SOCK-X10", "sockSendfile argument errors: count 0, a negative offset, a datagram socket") { ctx in
            let loop = try ctx.makeLoop()
            let (a, _) = try ctx.socketPair()
            let file = try temporaryFile(ctx, pattern(count: 10))
            let udp = try socket(ctx, .inet, .datagram)
            let kinds = try run(ctx, loop) { () async throws -> [String] in
                var kinds: [String] = []
                for attempt in [(a, 0, Optional(0)), (a, -1, nil), (udp, 0, nil)] {
                    do {
                        _ = try await loop.sockSendfile(attempt.0, file: file, offset: attempt.1, count: attempt.2)
                        kinds.append("nothing thrown")
                    } catch let error as LoopError {
                        kinds.append("\(error.kind)")
                    }
                }
                return kinds
            }
            try ctx.expectEqual(kinds, ["invalidArgument", "invalidArgument", "invalidArgument"], "errors thrown")
            try loop.close()
        },
        ConformanceCase("SOCK-X11", "a cancelled sockSendall (peer not reading) ends with CancelledError and stops watching the socket") { ctx in
            let loop = try ctx.makeLoop()
            let (a, _) = try ctx.socketPair()
            let task = try loop.createTask { try await loop.sockSendall(a, pattern(count: 8 << 20)) }
            try loop.callLater(.milliseconds(20)) { task.cancel() }
            let watchdog = try loop.callLater(.seconds(5)) { loop.stop() }
            do {
                try loop.runUntilComplete(task)
                throw ctx.failure("sockSendall to a peer that never reads must not complete")
            } catch is CancelledError {}
            watchdog.cancel()
            try ctx.expectEqual(loop.snapshot.watchedDescriptors, 0, "fds watched after the cancellation")
            try loop.close()
        },
    ]
}
