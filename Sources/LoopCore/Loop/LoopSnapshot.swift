/// Counts of what a loop holds at one moment, for diagnostics and leak checks.
public struct LoopSnapshot: Sendable, Equatable, CustomStringConvertible {
    /// Callbacks queued to run (cancelled ones included until they are skipped).
    public var readyCallbacks: Int
    /// Timers scheduled and not cancelled.
    public var scheduledTimers: Int
    /// File descriptors with a reader or a writer.
    public var watchedDescriptors: Int

    public var description: String {
        "\(readyCallbacks) ready callbacks, \(scheduledTimers) timers, \(watchedDescriptors) watched fds"
    }
}
