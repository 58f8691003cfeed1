import Glibc
import HTTPServerKit
import Loops

// http-server [--host H] [--port P] [--loops N] [--reuse-port | --handoff] [--backend NAME] [--pin]
// Serves until SIGINT or SIGTERM, then closes the connections and exits 0.

struct Options {
    var host = "127.0.0.1"
    var port = 8080
    var loops = 1
    var distribution = GroupServer.Distribution.reusePort
    var backend: String?
    var pin = false
}

func printError(_ message: String) {
    let bytes = Array("http-server: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func fail(_ message: String) -> Never {
    printError(message)
    exit(64)
}

func parse(_ arguments: [String]) -> Options {
    var options = Options()
    var rest = arguments[...]
    func value(_ flag: String) -> String {
        guard let next = rest.popFirst() else { fail("\(flag) needs a value") }
        return next
    }
    while let argument = rest.popFirst() {
        switch argument {
        case "--host": options.host = value(argument)
        case "--port":
            guard let port = Int(value(argument)), (0...65535).contains(port) else { fail("--port must be a number in 0...65535") }
            options.port = port
        case "--loops":
            guard let loops = Int(value(argument)), loops >= 1 else { fail("--loops must be a number of at least 1") }
            options.loops = loops
        case "--reuse-port": options.distribution = .reusePort
        case "--handoff": options.distribution = .handoff
        case "--backend": options.backend = value(argument)
        case "--pin": options.pin = true
        case "--help", "-h":
            print("usage: http-server [--host H] [--port P] [--loops N] [--reuse-port | --handoff] [--backend NAME] [--pin]")
            exit(0)
        default: fail("unknown argument '\(argument)' (see --help)")
        }
    }
    return options
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
BuiltinBackends.register()
// The loop threads inherit this mask: SIGINT and SIGTERM reach sigwait below only.
var signals = sigset_t()
sigemptyset(&signals)
sigaddset(&signals, SIGINT)
sigaddset(&signals, SIGTERM)
pthread_sigmask(SIG_BLOCK, &signals, nil)

do {
    let group = try LoopGroup(loops: options.loops, backend: options.backend, pinning: options.pin ? .spread : .none)
    let server = try HTTPServer.start(on: group, distribution: options.distribution, host: options.host, port: options.port)
    print("backend: \(group.loops[0].backendName)")
    print("loops: \(options.loops) (\(options.distribution.rawValue))")
    print("listening on: \(server.addresses.map(\.description).joined(separator: " "))")
    fflush(nil)
    var received: Int32 = 0
    sigwait(&signals, &received)
    try server.shutdown(timeout: .seconds(5))
    try group.shutdown()
} catch {
    printError("\(error)")
    exit(1)
}
