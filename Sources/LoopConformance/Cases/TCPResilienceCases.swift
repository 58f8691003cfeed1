import Glibc
@_spi(Testing) import LoopCore

/// TCP beyond one connection: a host with several refusing addresses, accept running
/// out of descriptors, and a thousand connections at once.
enum TCPResilienceCases {
    static let all: [ConformanceCase] = [
        ConformanceCase(
            "TCP-13", "a host resolving to ::1 and 127.0.0.1, both refusing → MultipleConnectionErrors naming both addresses (each address is tried)",
            requires: [.realTime]  // the resolver answers from its own thread: the watchdog must not fire first
        ) { ctx in
            let loop = try ctx.makeLoop()
            let port = try TCPCases.closedPort(ctx)
            let resolver = FixedResolver(host: "dual.test", addresses: [
                try SocketAddress(host: "::1", port: port), try SocketAddress(host: "127.0.0.1", port: port),
            ])
            loop.setAddressResolver(resolver)
            let outcome = try SocketCases.run(ctx, loop) { () async throws -> (any Error)? in
                do {
                    _ = try await loop.createConnection({ TCPCases.Peer(loop) }, host: "dual.test", port: port)
                    return nil
                } catch {
                    return error
                }
            }
            guard let multiple = outcome as? MultipleConnectionErrors else {
                throw ctx.failure("expected MultipleConnectionErrors, got \(outcome.map { String(describing: $0) } ?? "a connection")")
            }
            try ctx.expectEqual(multiple.errors.count, 2, "errors, one per address")
            for error in multiple.errors {
                try ctx.expectEqual((error as? SystemError)?.errno, ECONNREFUSED, "each address's error (\(error))")
            }
            let text = multiple.description
            try ctx.expect(text.hasPrefix("Multiple exceptions: "), "the message starts with 'Multiple exceptions: ': \(text)")
            try ctx.expect(text.contains("::1") && text.contains("127.0.0.1"), "the message names both addresses: \(text)")
            try ctx.expectEqual(resolver.lookups, 1, "resolver lookups")
            try loop.close()
        },
        ConformanceCase("TCP-X05", "accept failing with EMFILE (fault hook) → 'socket.accept() out of system resource' to the handler, accepting pauses for acceptRetryDelay instead of spinning, then the waiting client is served") { ctx in
            let loop = try ctx.makeLoop()
            loop.setExceptionHandler(ctx.recordingHandler)
            let client = TCPCases.Peer(loop)
            let (faults, elapsed) = try SocketCases.run(ctx, loop) { () async throws -> (Int, Double) in
                let server = try await loop.createServer({ TCPCases.Echo() }, host: "127.0.0.1", port: 0)
                server.acceptRetryDelay = .milliseconds(150)
                let start = loop.time()
                var faults = 0
                server.acceptFault = { _ in
                    guard loop.time() - start < 0.4 else { return nil }
                    faults += 1
                    return EMFILE
                }
                let port = try TCPCases.serverPort(ctx, server)
                let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port)
                try transport.write(Array("after the pause".utf8))
                try await TCPCases.until { client.received.count == 15 }
                let elapsed = loop.time() - start
                transport.close()
                try await client.lost.value
                server.close()
                try await server.waitClosed()
                return (faults, elapsed)
            }
            // Failing at 0, 0.15 and 0.3 s: three attempts. A loop that kept the listener
            // registered would have retried thousands of times in 0.4 s.
            try ctx.expect((2...4).contains(faults), "accept attempts that failed while paused: \(faults) (spinning?)")
            try ctx.expect(elapsed >= 0.4, "the connection was served only after the pauses (\(elapsed) s)")
            let contexts = ctx.takeExceptionContexts()
            try ctx.expectEqual(contexts.count, faults, "exception-handler calls, one per failed accept")
            for context in contexts {
                try ctx.expectEqual(context.message, "socket.accept() out of system resource", "handler message")
                try ctx.expectEqual((context.error as? SystemError)?.errno, EMFILE, "handler error")
                try ctx.expect(context.socket != nil, "the context names the listening socket")
            }
            try ctx.expectEqual(client.received, Array("after the pause".utf8), "echoed bytes")
            try loop.close()
        },
        ConformanceCase("TCP-X06", "closing a server while accepting is paused cancels the retry: no accept after close, waitClosed completes") { ctx in
            let loop = try ctx.makeLoop()
            loop.setExceptionHandler(ctx.recordingHandler)
            let attemptsAfterClose = try SocketCases.run(ctx, loop) { () async throws -> Int in
                let server = try await loop.createServer({ TCPCases.Echo() }, host: "127.0.0.1", port: 0)
                server.acceptRetryDelay = .milliseconds(50)
                var closed = false
                var failures = 0
                var attemptsAfterClose = 0
                server.acceptFault = { _ in
                    if closed { attemptsAfterClose += 1 }
                    failures += 1
                    return ENFILE
                }
                let port = try TCPCases.serverPort(ctx, server)
                let fd = try SocketCases.socket(ctx, .inet, .stream)
                let connecting = try loop.createTask { () async throws -> Void in
                    try await loop.sockConnect(fd, to: SocketAddress(host: "127.0.0.1", port: port))
                }
                try await connecting.value
                try await TCPCases.until { failures > 0 }
                server.close()
                closed = true
                try await server.waitClosed()
                try await sleep(.milliseconds(150))
                return attemptsAfterClose
            }
            try ctx.expectEqual(attemptsAfterClose, 0, "accept attempts after close()")
            let contexts = ctx.takeExceptionContexts()
            try ctx.expect(!contexts.isEmpty, "ENFILE reported to the exception handler")
            try ctx.expectEqual(contexts.first?.message, "socket.accept() out of system resource", "handler message")
            try loop.close()
        },
        ConformanceCase(
            "TCP-X07", "1,000 concurrent connections to one server, each echoing 64 distinct bytes, all served; every connection closes cleanly",
            requires: [.highDescriptors], timeout: .seconds(60)
        ) { ctx in
            let count = 1_000
            try raiseDescriptorLimit(ctx, to: 2 * count + 256)
            let loop = try ctx.makeLoop()
            let results = try SocketCases.run(ctx, loop, within: .seconds(45)) { () async throws -> [Bool] in
                let server = try await loop.createServer({ TCPCases.Echo() }, host: "127.0.0.1", port: 0, backlog: count)
                let port = try TCPCases.serverPort(ctx, server)
                var tasks: [LoopTask<Bool>] = []
                for index in 0..<count {
                    tasks.append(try loop.createTask { () async throws -> Bool in
                        let client = TCPCases.Peer(loop)
                        let (transport, _) = try await loop.createConnection({ client }, host: "127.0.0.1", port: port)
                        let message = (0..<64).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0) }
                        try transport.write(message)
                        try await TCPCases.until { client.received.count >= 64 }
                        transport.close()
                        try await client.lost.value
                        return client.received == message && client.lostError == nil
                    })
                }
                var results: [Bool] = []
                for task in tasks { results.append(try await task.value) }
                server.close()
                try await server.waitClosed()
                return results
            }
            try ctx.expectEqual(results.count, count, "connections finished")
            try ctx.expectEqual(results.filter { !$0 }.count, 0, "connections whose echo differed or that ended with an error")
            try loop.close()
        },
        ConformanceCase(
            "TCP-X08", "happyEyeballsDelay 100 ms: the first address never answers (a full accept queue), the second is tried after the delay and wins; the hanging attempt is abandoned; a negative delay → argument error",
            requires: [.realTime]  // the resolver answers from its own thread, and the race needs real time
        ) { ctx in
            let loop = try ctx.makeLoop()
            // A listener with a backlog of 0 holding one unaccepted connection drops
            // further SYNs: connecting to it hangs.
            let (_, stuckAddress) = try SocketCases.listen(ctx, on: SocketAddress(host: "127.0.0.1", port: 0), backlog: 0)
            let filler = try SocketCases.socket(ctx, .inet, .stream)
            let server = TCPCases.Peer(loop)
            let (listener, address) = try SocketCases.listen(ctx, on: SocketAddress(host: "127.0.0.1", port: 0))
            loop.setAddressResolver(FixedResolver(host: "eyeballs.test", addresses: [stuckAddress, address]))
            let client = TCPCases.Peer(loop)
            let elapsed = try SocketCases.run(ctx, loop) { () async throws -> Double in
                try await loop.sockConnect(filler, to: stuckAddress)
                do {
                    _ = try await loop.createConnection(
                        { TCPCases.Peer(loop) }, host: "eyeballs.test", port: 1, happyEyeballsDelay: .milliseconds(-1))
                    throw ctx.failure("a negative happyEyeballsDelay was accepted")
                } catch let error as LoopError {
                    try ctx.expectEqual(error.kind, .invalidArgument, "error for a negative happyEyeballsDelay")
                }
                let accepting = try loop.createTask { () async throws -> Void in
                    let (fd, _) = try await loop.sockAccept(listener)
                    _ = try await loop.connectAcceptedSocket({ server }, fd)
                }
                let start = loop.time()
                let (transport, _) = try await loop.createConnection(
                    { client }, host: "eyeballs.test", port: 1, happyEyeballsDelay: .milliseconds(100))
                let elapsed = loop.time() - start
                try await accepting.value
                try transport.write(Array("won".utf8))
                try await TCPCases.until { server.received.count == 3 }
                transport.close()
                try await client.lost.value
                try await server.lost.value
                return elapsed
            }
            try ctx.expect(elapsed >= 0.09, "the second address was tried only after the delay (\(elapsed) s)")
            try ctx.expect(elapsed < 5, "the second address won instead of waiting for the first (\(elapsed) s)")
            try ctx.expectEqual(server.received, Array("won".utf8), "bytes at the second address")
            try loop.close()
        },
    ]

    /// Answers one host name with fixed addresses; counts the lookups.
    final class FixedResolver: AddressResolver, @unchecked Sendable {
        // @unchecked: `count` is guarded by `lock`.
        private let lock = Protected(0)
        let host: String
        let addresses: [SocketAddress]

        init(host: String, addresses: [SocketAddress]) {
            self.host = host
            self.addresses = addresses
        }

        var lookups: Int { lock.withLock { $0 } }

        func getaddrinfo(
            host: String?, service: String?, family: AddressFamily, type: SocketType, proto: Int32, flags: Int32
        ) throws -> [AddressInfo] {
            lock.withLock { $0 += 1 }
            guard host == self.host else { throw ResolverError(code: EAI_NONAME, call: "getaddrinfo(\(host ?? "nil"), \(service ?? "nil"))") }
            return addresses.map {
                AddressInfo(family: $0.family, type: .stream, proto: Int32(IPPROTO_TCP), canonicalName: "", address: $0)
            }
        }
    }

    /// Raises this process's soft RLIMIT_NOFILE to at least `needed` (up to the hard
    /// limit); fails the case when the hard limit is lower.
    static func raiseDescriptorLimit(_ ctx: CaseContext, to needed: Int) throws {
        var limit = try Posix.openFileLimit()
        if limit.soft >= UInt64(needed) { return }
        guard limit.hard >= UInt64(needed) else {
            throw ctx.failure("RLIMIT_NOFILE's hard limit \(limit.hard) is below the \(needed) descriptors this case needs")
        }
        limit.soft = UInt64(needed)
        try Posix.setOpenFileLimit(limit)
    }
}
