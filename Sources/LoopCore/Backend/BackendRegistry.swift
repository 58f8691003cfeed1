import Synchronization

/// The outcome of choosing a backend: which one, and why it was chosen.
public struct BackendChoice: Sendable {
    public let descriptor: BackendDescriptor
    /// E.g. "LOOP_BACKEND=poll" or "highest-priority available backend".
    public let reason: String
}

/// Maps backend names to factories; the default policy chooses from it.
///
/// Registration is explicit (Swift modules cannot register themselves at load time):
/// the `Loops` module registers the built-in backends, and a third party calls
/// ``register(_:)`` once for its own.
public final class BackendRegistry: Sendable {
    /// The process-wide registry used by the default policy.
    public static let shared = BackendRegistry()

    /// The environment variable that names the backend for the default policy.
    public static let environmentVariable = "LOOP_BACKEND"

    private let entries = Mutex<[BackendDescriptor]>([])

    public init() {}

    /// Adds a backend. A name that is already registered is refused.
    public func register(_ descriptor: BackendDescriptor) throws {
        try entries.withLock { entries in
            guard !descriptor.name.isEmpty else {
                throw LoopError(.invalidArgument, "BackendRegistry.register: a backend name must not be empty")
            }
            if entries.contains(where: { $0.name == descriptor.name }) {
                throw LoopError(
                    .duplicateBackend,
                    "BackendRegistry.register: a backend named '\(descriptor.name)' is already registered; pick another name"
                )
            }
            entries.append(descriptor)
        }
    }

    /// Adds a backend unless one with the same name is already there. Returns whether it was added.
    @discardableResult
    public func registerIfAbsent(_ descriptor: BackendDescriptor) -> Bool {
        entries.withLock { entries in
            if entries.contains(where: { $0.name == descriptor.name }) { return false }
            entries.append(descriptor)
            return true
        }
    }

    /// Every registered backend, highest priority first.
    public var descriptors: [BackendDescriptor] {
        entries.withLock { $0 }.sorted { $0.priority > $1.priority }
    }

    /// The backend registered under `name`, if any.
    public func descriptor(named name: String) -> BackendDescriptor? {
        entries.withLock { entries in entries.first { $0.name == name } }
    }

    /// Chooses a backend: `name` if given, else the `LOOP_BACKEND` variable if set and
    /// non-empty, else the highest-priority available one. An unknown or unavailable
    /// name is an error listing the available names; there is no fallback.
    public func choose(
        name: String? = nil,
        environment: [String: String] = ProcessEnvironment.current
    ) throws -> BackendChoice {
        let all = descriptors
        let availableNames = all.filter { $0.availability().isAvailable }.map(\.name)
        let listing = availableNames.isEmpty ? "none" : availableNames.joined(separator: ", ")
        let requested: (String, String)?
        if let name {
            requested = (name, "requested by name")
        } else if let value = environment[Self.environmentVariable], !value.isEmpty {
            requested = (value, "\(Self.environmentVariable)=\(value)")
        } else {
            requested = nil
        }
        if let (wanted, reason) = requested {
            guard let descriptor = all.first(where: { $0.name == wanted }) else {
                throw LoopError(
                    .backendUnavailable,
                    "unknown loop backend '\(wanted)' (\(reason)); available backends: \(listing)"
                )
            }
            if case .unavailable(let why) = descriptor.availability() {
                throw LoopError(
                    .backendUnavailable,
                    "loop backend '\(wanted)' is not available here: \(why); available backends: \(listing)"
                )
            }
            return BackendChoice(descriptor: descriptor, reason: reason)
        }
        guard let best = all.first(where: { $0.availability().isAvailable }) else {
            throw LoopError(
                .backendUnavailable,
                "no loop backend is registered and available; import Loops and call BuiltinBackends.register(), or register your own"
            )
        }
        return BackendChoice(descriptor: best, reason: "highest-priority available backend (\(Self.environmentVariable) unset)")
    }

    /// Makes a loop on the chosen backend (see ``choose(name:environment:)``).
    public func makeLoop(
        name: String? = nil,
        environment: [String: String] = ProcessEnvironment.current
    ) throws -> BaseEventLoop {
        let choice = try choose(name: name, environment: environment)
        return try BaseEventLoop(backend: choice.descriptor.make())
    }
}
