import Glibc
import Loops

extension ExampleCommand {
    /// Sets signal handlers for SIGINT and SIGTERM with addSignalHandler(): the loop runs
    /// until one of them arrives, then the handler prints its name and stops the loop.
    static func signalHandlers(_ loop: BaseEventLoop) throws {
        func askExit(_ signame: String) {
            Output.out("got signal \(signame): exit\n")
            loop.stop()
        }
        for (signame, signal) in [("SIGINT", SIGINT), ("SIGTERM", SIGTERM)] {
            try loop.addSignalHandler(signal) { askExit(signame) }
        }
        Output.out("Event loop running forever, press Ctrl+C to interrupt.\n")
        Output.out("pid \(getpid()): send SIGINT or SIGTERM to exit.\n")
        defer { try? loop.close() }
        try loop.runForever()
    }
}
