import Glibc
import LoopCore
import Synchronization

/// GROUP — a ``LoopGroup`` on the backend under test: loops on their own threads,
/// round robin, work submitted from other threads, shutdown, and ``GroupServer`` in
/// both distributions. asyncio has no twin (one loop per thread, several processes
/// with `reuse_port=True`); SwiftNIO's `MultiThreadedEventLoopGroup` and
/// `ServerBootstrap` are the model.
enum GroupCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("GROUP-X01", "LoopGroup(2) on the backend: next() is round robin; each loop runs callSoonThreadsafe and runCoroutineThreadsafe work on its own thread; shutdown closes and joins; later work → LoopError.closed") { ctx in
            let group = try GroupCaseSupport.makeGroup(ctx)
            try ctx.expect(group.next() === group.loops[0] && group.next() === group.loops[1] && group.next() === group.loops[0], "next() round robin")
            var threads: Set<UInt> = []
            for loop in group.loops {
                try ctx.expectEqual(loop.backendName, ctx.backend.name, "each loop's backend")
                let ran = ConcurrentFuture<Bool>()
                try loop.callSoonThreadsafe {
                    if (try? ran.setRunningOrNotifyCancel()) == true { try? ran.setResult(RunningLoop.current === loop) }
                }
                try ctx.expect(try ran.result(timeout: .seconds(10)), "callSoonThreadsafe runs on the loop")
                threads.insert(try runCoroutineThreadsafe(on: loop) { () async -> UInt in
                    var id = pthread_self()
                    return withUnsafeBytes(of: &id) { $0.load(as: UInt.self) }
                }.result(timeout: .seconds(10)))
            }
            try ctx.expectEqual(threads.count, 2, "a thread per loop")
            try group.shutdownGracefully(timeout: .seconds(10))
            try ctx.expect(group.loops.allSatisfy(\.isClosed), "every loop closed")
            try ctx.expectLoopError(.closed, "callSoonThreadsafe after shutdown") { try group.callSoonThreadsafe {} }
            try ctx.expectLoopError(.closed, "a loop's callSoonThreadsafe after shutdown") { try group.loops[1].callSoonThreadsafe {} }
            try ctx.expectLoopError(.invalidState, "a second shutdown") { try group.shutdownGracefully(timeout: .seconds(1)) }
        },
        ConformanceCase("GROUP-X02", "shutdown cancels and awaits the tasks left on every loop (their cleanup runs); a user's stop() does not end a group loop") { ctx in
            let group = try GroupCaseSupport.makeGroup(ctx)
            let cleaned = Atomic<Int>(0)
            var futures: [ConcurrentFuture<Void>] = []
            for _ in 0..<4 {
                futures.append(try group.runCoroutineThreadsafe {
                    do {
                        // A future nobody completes (a long sleep would end at once in virtual time).
                        try await RunningLoop.get().createFuture(of: Void.self).value
                    } catch {
                        cleaned.add(1, ordering: .relaxed)
                        throw error
                    }
                })
            }
            let loop = group.loops[0]
            try loop.callSoonThreadsafe { loop.stop() }
            try ctx.expectEqual(try runCoroutineThreadsafe(on: loop) { 5 }.result(timeout: .seconds(10)), 5, "work after a user's stop()")
            try ctx.expectEqual(try runCoroutineThreadsafe(on: group.loops[1]) { 6 }.result(timeout: .seconds(10)), 6, "the other loop")
            try group.shutdownGracefully(timeout: .seconds(10))
            try ctx.expectEqual(cleaned.load(ordering: .relaxed), 4, "cancelled tasks whose cleanup ran")
            try ctx.expect(futures.allSatisfy(\.isCancelled), "the submitters' futures are cancelled")
        },
        ConformanceCase("GROUP-X03", "GroupServer with SO_REUSEPORT: a socket per loop on one port; 32 connections echo and land on both loops; close → refused; waitClosed after the clients close") { ctx in
            let group = try GroupCaseSupport.makeGroup(ctx)
            let log = GroupServedLog(group)
            let server = try GroupServer.start(on: group, distribution: .reusePort, host: "127.0.0.1", port: 0) { loop in
                GroupEcho(loop, log)
            }
            guard let port = server.addresses.first?.port else { throw ctx.failure("no address") }
            var clients: [Int32] = []
            for index in 0..<32 {
                let fd = try GroupCaseSupport.connect(ctx, port: port)
                clients.append(fd)
                try ctx.expectEqual(try GroupCaseSupport.roundTrip(ctx, fd, "echo \(index)"), "echo \(index)", "echo \(index)")
            }
            let order = log.order
            try ctx.expectEqual(order.count, 32, "connections served")
            try ctx.expect(Set(order) == [0, 1], "connections landed on both loops: \(order)")
            server.close()
            // close() reaches each loop in its next iteration: soon, not at once.
            try ctx.expect(try GroupCaseSupport.refusedSoon(ctx, port: port), "connections are refused after close()")
            for fd in clients { ctx.close(fd) }
            try server.waitClosed(timeout: .seconds(10))
            try group.shutdownGracefully(timeout: .seconds(10))
        },
        ConformanceCase("GROUP-X04", "GroupServer with handoff: the first loop accepts, connections go to loops 0, 1, 0, 1, 0, 1 and echo; waitClosed times out while one is open, returns once all are closed") { ctx in
            let group = try GroupCaseSupport.makeGroup(ctx)
            let log = GroupServedLog(group)
            let server = try GroupServer.start(on: group, distribution: .handoff, host: "127.0.0.1", port: 0) { loop in
                GroupEcho(loop, log)
            }
            guard let port = server.addresses.first?.port else { throw ctx.failure("no address") }
            var clients: [Int32] = []
            for index in 0..<6 {
                let fd = try GroupCaseSupport.connect(ctx, port: port)
                clients.append(fd)
                try ctx.expectEqual(try GroupCaseSupport.roundTrip(ctx, fd, "n\(index)"), "n\(index)", "echo \(index)")
            }
            try ctx.expectEqual(log.order, [0, 1, 0, 1, 0, 1], "the loops that served, in order")
            server.close()
            var timedOut = false
            do {
                try server.waitClosed(timeout: .milliseconds(100))
            } catch is TimeoutError {
                timedOut = true
            }
            try ctx.expect(timedOut, "waitClosed must time out while connections are open")
            for fd in clients { ctx.close(fd) }
            try server.waitClosed(timeout: .seconds(10))
            try group.shutdownGracefully(timeout: .seconds(10))
        },
    ]
}
