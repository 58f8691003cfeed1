/// The kinds of readiness a loop can watch a file descriptor for.
@_spi(Backend) public struct IOEvents: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The descriptor can be read without blocking (data, end of file, or an error).
    public static let readable = IOEvents(rawValue: 1 << 0)
    /// The descriptor can be written without blocking (or has an error).
    public static let writable = IOEvents(rawValue: 1 << 1)
}

/// One descriptor a backend found ready during a wait.
@_spi(Backend) public struct ReadinessEvent: Sendable, Hashable {
    /// The descriptor that is ready.
    public var fd: Int32
    /// What it is ready for. Errors and hang-ups are reported as readable and writable.
    public var events: IOEvents

    @inlinable
    public init(fd: Int32, events: IOEvents) {
        self.fd = fd
        self.events = events
    }
}

/// The batch of ready descriptors a backend fills during one wait.
///
/// The loop owns one buffer and hands it to every ``SelectorBackend/wait(timeout:into:)``
/// call, empty, so a wait allocates nothing once the buffer has grown to its working size.
@_spi(Backend) public struct ReadinessBuffer: Sendable {
    @usableFromInline
    var storage: ContiguousArray<ReadinessEvent>

    /// An empty buffer with room for `capacity` events before it grows.
    public init(capacity: Int = 256) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    /// Records that `fd` is ready for `events`.
    @inlinable
    public mutating func append(fd: Int32, events: IOEvents) {
        storage.append(ReadinessEvent(fd: fd, events: events))
    }

    /// The number of events recorded.
    @inlinable
    public var count: Int { storage.count }

    /// Whether no event was recorded.
    @inlinable
    public var isEmpty: Bool { storage.isEmpty }

    /// The event at `index`, in the order the backend recorded them.
    @inlinable
    public subscript(index: Int) -> ReadinessEvent { storage[index] }

    /// Forgets every event and keeps the memory for the next wait.
    @inlinable
    public mutating func removeAll() { storage.removeAll(keepingCapacity: true) }
}
