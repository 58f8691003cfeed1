import Synchronization

/// An ordered, thread-safe list of events a case records ("A", "B", …) to check order.
public final class Recorder<Event: Sendable>: Sendable {
    private let events = Mutex<[Event]>([])

    public init() {}

    public func record(_ event: Event) { events.withLock { $0.append(event) } }

    /// Everything recorded so far, in order.
    public var all: [Event] { events.withLock { $0 } }

    public var count: Int { events.withLock { $0.count } }

    public func removeAll() { events.withLock { $0.removeAll() } }
}
