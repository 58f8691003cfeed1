/// What a backend can do beyond the required selector hooks.
///
/// A conformance case names the capabilities it needs; on a backend that does not
/// declare one of them the case is skipped, and the skip names the capability.
public struct BackendCapabilities: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Time moves with the real monotonic clock (a virtual-time loop lacks this).
    public static let realTime = BackendCapabilities(rawValue: 1 << 0)
    /// `wakeup()` may be called from any thread and interrupts a blocked wait.
    public static let crossThreadWakeup = BackendCapabilities(rawValue: 1 << 1)
    /// Descriptors numbered 1024 and above can be watched (select(2) cannot).
    public static let highDescriptors = BackendCapabilities(rawValue: 1 << 2)
    /// Regular files can be watched (reported always ready), as poll(2) allows;
    /// epoll refuses them with EPERM.
    public static let regularFiles = BackendCapabilities(rawValue: 1 << 3)

    /// What every built-in backend offers. A backend that can also watch regular
    /// files adds ``regularFiles``.
    public static let standard: BackendCapabilities = [.realTime, .crossThreadWakeup, .highDescriptors]

    /// Human-readable names, e.g. `realTime`.
    public var names: [String] {
        var names: [String] = []
        if contains(.realTime) { names.append("realTime") }
        if contains(.crossThreadWakeup) { names.append("crossThreadWakeup") }
        if contains(.highDescriptors) { names.append("highDescriptors") }
        if contains(.regularFiles) { names.append("regularFiles") }
        return names
    }

    public var description: String { "[" + names.joined(separator: ", ") + "]" }
}
