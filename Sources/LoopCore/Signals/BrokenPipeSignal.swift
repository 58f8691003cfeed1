import CLoopShims

/// SIGPIPE, raised by a write to a pipe or socket whose reader is gone, ends the
/// process by default. CPython ignores it when it starts, so asyncio code sees a
/// broken-pipe error instead; loops here do the same: creating the first loop of a
/// process sets SIGPIPE to ignored, but only while it still has its default action,
/// so a handler (or an explicit default) the program installed earlier is kept.
/// Writes to a closed pipe then fail with EPIPE, which the transports report.
enum BrokenPipeSignal {
    /// Whether SIGPIPE was switched from its default action to ignored.
    static let ignoredByLoop: Bool = {
        guard cloop_signal_disposition(SIGPIPE) == 0 else { return false }
        return cloop_signal_set_disposition(SIGPIPE, 1) == 0
    }()

    /// Applies the rule once per process; later calls do nothing.
    static func ignoreIfDefault() { _ = ignoredByLoop }
}
