import ArgumentParser
import Loops

/// `loopctl backends`: every registered backend, whether it is available, and which wins.
struct BackendsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backends",
        abstract: "List the registered loop backends and say which one LOOP_BACKEND or the default would choose."
    )

    func run() throws {
        BuiltinBackends.register()
        let registry = BackendRegistry.shared
        for descriptor in registry.descriptors {
            let availability: String
            switch descriptor.availability() {
            case .available: availability = "available"
            case .unavailable(let why): availability = "unavailable (\(why))"
            }
            // Details (e.g. libevent's OS method) are facts of a live backend.
            var details = ""
            if descriptor.availability().isAvailable, let backend = try? descriptor.make() {
                details = backend.details
                backend.close()
            }
            print("\(descriptor.name)\tpriority \(descriptor.priority)\t\(availability)\t\(descriptor.summary)"
                + "\tcapabilities \(descriptor.capabilities)" + (details.isEmpty ? "" : "\t[\(details)]"))
        }
        do {
            let choice = try registry.choose()
            print("chosen: \(choice.descriptor.name) (\(choice.reason))")
        } catch {
            print("chosen: none — \(error)")
            throw ExitCode.failure
        }
    }
}
