import Glibc
import ArgumentParser
import LoopCtlKit
import Loops

/// `loopctl echo-server`: a plain TCP echo server (the W3 benchmark's server side), with
/// a protocol (the default) or with streams.
struct EchoServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "Serve a plain TCP echo protocol until SIGINT or SIGTERM.",
        discussion: """
            Prints the backend, the mode and the listening address, then echoes every byte
            each connection sends: with a protocol per connection (--protocol, the default)
            or with a stream callback that reads up to 64 KiB, writes it back and drains
            (--streams). SIGINT or SIGTERM closes the server and its connections and
            exits 0.
            """
    )

    @Option(name: .long, help: "The host or address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "The port to listen on (0 picks a free one).")
    var port = 8888

    @Option(name: .long, help: "Run on this backend (default: LOOP_BACKEND or the best available).")
    var backend: String?

    /// How connections are served (`--protocol` or `--streams`).
    enum Mode: String, EnumerableFlag {
        case `protocol`, streams

        static func help(for value: Mode) -> ArgumentHelp? {
            switch value {
            case .protocol: "Echo with a protocol per connection (the default)."
            case .streams: "Echo with startServer streams: read(65536), write, drain, until end of file."
            }
        }
    }

    @Flag var mode: Mode = .protocol

    /// `--backlog`, parsed and validated by LoopCtlKit.
    @OptionGroup var backlogOption: BacklogOption

    /// `--busy-poll-us`, parsed and validated by LoopCtlKit.
    @OptionGroup var busyPollOption: BusyPollOption

    func validate() throws {
        guard (0...65535).contains(port) else {
            throw ValidationError("--port \(port) is outside 0...65535")
        }
        guard !host.isEmpty else { throw ValidationError("--host must not be empty") }
    }

    func run() throws {
        BuiltinBackends.register()
        // Idle-connection benchmarks (W4) hold 10,000 sockets: allow as many as the hard limit does.
        Posix.raiseOpenFileLimitToHard()
        let loop: BaseEventLoop
        do {
            loop = try BackendRegistry.shared.makeLoop(name: backend)
        } catch {
            Output.err("loopctl echo-server: \(error)\n")
            throw ExitCode.failure
        }
        defer { try? loop.close() }
        do {
            try loop.setBusyPoll(limit: busyPollOption.limit)
        } catch {
            Output.err("loopctl echo-server: --busy-poll-us \(busyPollOption.microseconds): \(error)\n")
            throw ExitCode.failure
        }
        let (host, port, backlog, busyPollMicroseconds) = (self.host, self.port, backlogOption.backlog, busyPollOption.microseconds)
        let mode: EchoMode = self.mode == .streams ? .streams : .protocol
        do {
            try loop.runUntilComplete { () async throws -> Void in
                let echo = try await EchoServer.start(on: loop, host: host, port: port, mode: mode, backlog: backlog)
                let stop = loop.createFuture(of: Void.self)
                for signal in [SIGINT, SIGTERM] {
                    try loop.addSignalHandler(signal) {
                        if !stop.isDone { try stop.setResult(()) }
                    }
                }
                Output.out("backend: \(loop.backendName)\n")
                Output.out("mode: \(mode.rawValue)\n")
                Output.out("busy poll: \(busyPollMicroseconds > 0 ? "up to \(busyPollMicroseconds) µs" : "off")\n")
                Output.out("listening on: \(try echo.addresses().map(\.description).joined(separator: " "))\n")
                try await stop.value
                for signal in [SIGINT, SIGTERM] { _ = try loop.removeSignalHandler(signal) }
                try await echo.shutdown()
            }
        } catch {
            Output.err("loopctl echo-server: \(error)\n")
            throw ExitCode.failure
        }
    }
}
