import Glibc
import ArgumentParser
import Loops

/// `loopctl example`: the event loop examples of the reference, on a chosen backend.
struct ExampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example",
        abstract: "Run one of the reference's event loop examples.",
        discussion: """
            hello     Hello World with callSoon, then stop.
            date      The current date every second for 5 seconds with callLater, then stop.
            watch-fd  Watch a socketpair for reading with addReader; a callSoon writes the other end.
            signals   Handle SIGINT and SIGTERM with addSignalHandler: print the signal, then stop.
            tls-client HOST PORT
                      Connect over TLS (createConnection with ssl:), print the negotiated
                      version, cipher and peer certificate, close with close_notify.
            subprocess  Run a child, stream its output line by line, print its exit status.
            """
    )

    enum Example: String, ExpressibleByArgument, CaseIterable {
        case hello, date
        case watchFD = "watch-fd"
        case signals
        case tlsClient = "tls-client"
        case subprocess
    }

    @Argument(help: "Which example: hello, date, watch-fd, signals, tls-client or subprocess.")
    var example: Example

    @Argument(help: "The example's arguments (tls-client: HOST PORT).")
    var arguments: [String] = []

    /// tls-client's options.
    @OptionGroup var tlsClient: TLSClientOptions

    @Option(name: .long, help: "Run on this backend (default: LOOP_BACKEND or the best available).")
    var backend: String?

    func run() throws {
        BuiltinBackends.register()
        let loop: BaseEventLoop
        do {
            loop = try BackendRegistry.shared.makeLoop(name: backend)
        } catch {
            Output.err("loopctl example: \(error)\n")
            throw ExitCode.failure
        }
        switch example {
        case .hello: try Self.helloWorld(loop)
        case .date: try Self.displayDate(loop)
        case .watchFD: try Self.watchFileDescriptor(loop)
        case .signals: try Self.signalHandlers(loop)
        case .tlsClient: try Self.tlsClientExample(loop, arguments: arguments, options: tlsClient)
        case .subprocess: try Self.subprocess(loop)
        }
        Output.out("(ran on the \(loop.backendName) backend)\n")
    }

    /// Hello World with callSoon(): the callback prints and stops the loop.
    static func helloWorld(_ loop: BaseEventLoop) throws {
        try loop.callSoon {
            Output.out("Hello World\n")
            loop.stop()
        }
        try loop.runForever()  // returns once the callback stopped the loop
        try loop.close()
    }

    /// Displays the current date every second with callLater(), for 5 seconds.
    static func displayDate(_ loop: BaseEventLoop) throws {
        let endTime = loop.time() + 5.0
        var displayDate: () throws -> Void = {}
        displayDate = {
            Output.out(wallClockDate() + "\n")
            if loop.time() + 1.0 < endTime {
                try loop.callLater(.seconds(1), displayDate)
            } else {
                loop.stop()
            }
        }
        defer { displayDate = {} }  // breaks the closure's reference to itself
        try loop.callSoon(displayDate)
        try loop.runForever()
        try loop.close()
    }

    /// Waits with addReader() until a socket receives data, then stops.
    static func watchFileDescriptor(_ loop: BaseEventLoop) throws {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw ExampleError("socketpair failed: \(String(cString: strerror(errno)))")
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer {
            close(readEnd)
            close(writeEnd)
        }
        try loop.addReader(readEnd) {
            var buffer = [UInt8](repeating: 0, count: 100)
            let count = recv(readEnd, &buffer, buffer.count, 0)
            guard count >= 0 else { throw ExampleError("recv failed: \(String(cString: strerror(errno)))") }
            Output.out("Received: \(String(decoding: buffer[0..<count], as: UTF8.self))\n")
            try loop.removeReader(readEnd)  // done: stop watching the fd
            loop.stop()
        }
        // Simulates the reception of data from the network.
        try loop.callSoon {
            let data: [UInt8] = Array("abc".utf8)
            guard send(writeEnd, data, data.count, 0) == data.count else {
                throw ExampleError("send failed: \(String(cString: strerror(errno)))")
            }
        }
        try loop.runForever()
        try loop.close()
    }

    /// Local wall-clock time as `YYYY-MM-DD HH:MM:SS.ffffff` (Python's datetime.now()).
    static func wallClockDate() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        let stamp = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let micros = String(spec.tv_nsec / 1000)
        return stamp + "." + String(repeating: "0", count: 6 - micros.count) + micros
    }
}

/// An example that could not set itself up.
struct ExampleError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
