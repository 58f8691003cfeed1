/// Whether a registered backend can run on this machine.
public enum BackendAvailability: Sendable, Equatable {
    case available
    /// Registered but unusable here, with the reason (e.g. a missing kernel feature).
    case unavailable(reason: String)

    public var isAvailable: Bool { self == .available }
}

/// A backend's identity — name, summary, priority, capabilities — and the way to make it.
///
/// This is the one place a backend says who it is: a backend instance returns its
/// descriptor from ``SelectorBackend/descriptor``, and the loop's
/// ``BaseEventLoop/backendName`` and ``BaseEventLoop/capabilities`` come from there, so
/// the registry, `loopctl backends` and the conformance suite (which skips cases by
/// ``capabilities``) read them without making a backend.
///
/// ```swift
/// public static let descriptor = BackendDescriptor(
///     name: "select", summary: "POSIX select(2)", priority: 5,
///     capabilities: [.realTime, .crossThreadWakeup],
///     make: { try SelectSelector() })
/// public var descriptor: BackendDescriptor { Self.descriptor }
/// ```
public struct BackendDescriptor: Sendable {
    /// The name `LOOP_BACKEND` selects it by, e.g. `"epoll"`.
    public var name: String
    /// One line saying what it is.
    public var summary: String
    /// Among available backends with no name requested, the highest priority wins.
    public var priority: Int
    /// What the backend can do beyond the required hooks. The conformance suite skips a
    /// case that needs a capability not declared here, and fails a case whose declared
    /// capability does not hold.
    public var capabilities: BackendCapabilities
    /// Checks whether the backend can run here.
    public var availability: @Sendable () -> BackendAvailability
    /// Makes a fresh backend for one loop.
    public var make: @Sendable () throws -> any SelectorBackend

    public init(
        name: String,
        summary: String,
        priority: Int = 0,
        capabilities: BackendCapabilities = .standard,
        availability: @escaping @Sendable () -> BackendAvailability = { .available },
        make: @escaping @Sendable () throws -> any SelectorBackend
    ) {
        self.name = name
        self.summary = summary
        self.priority = priority
        self.capabilities = capabilities
        self.availability = availability
        self.make = make
    }
}
