import Glibc
import ArgumentParser
import LoopCtlKit
import Loops

/// `loopctl echo-server --loops N [--reuse-port | --handoff]`: the echo server across a
/// loop group. The main thread runs no loop: it waits for SIGINT or SIGTERM with
/// sigwait (both blocked before the loop threads start, which inherit the mask), then
/// closes the server and its connections and shuts the group down.
extension EchoServerCommand {
    func runGroup(loops: Int) throws {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        defer { pthread_sigmask(SIG_UNBLOCK, &signals, nil) }
        let group: LoopGroup
        do {
            group = try LoopGroup(loops: loops, backend: backend)
        } catch {
            Output.err("loopctl echo-server: \(error)\n")
            throw ExitCode.failure
        }
        do {
            for loop in group.loops { try loop.setBusyPoll(limit: busyPollOption.limit) }
        } catch {
            try? group.shutdown()
            Output.err("loopctl echo-server: --busy-poll-us \(busyPollOption.microseconds): \(error)\n")
            throw ExitCode.failure
        }
        let mode: EchoMode = self.mode == .streams ? .streams : .protocol
        let distribution = groupOption.distribution
        do {
            let echo = try GroupEchoServer.start(
                on: group, distribution: distribution.groupDistribution, host: host, port: port,
                mode: mode, backlog: backlogOption.backlog)
            Output.out("backend: \(group.loops[0].backendName)\n")
            Output.out("mode: \(mode.rawValue)\n")
            Output.out("loops: \(loops) (\(distribution == .handoff ? "handoff" : "reuse-port"))\n")
            let busy = busyPollOption.microseconds
            Output.out("busy poll: \(busy > 0 ? "up to \(busy) µs" : "off")\n")
            Output.out("listening on: \(echo.addresses.map(\.description).joined(separator: " "))\n")
            var received: Int32 = 0
            sigwait(&signals, &received)
            try echo.shutdown(timeout: .seconds(10))
            try group.shutdown()
        } catch {
            if !group.isShutDown { try? group.shutdown() }
            Output.err("loopctl echo-server: \(error)\n")
            throw ExitCode.failure
        }
    }
}
