// Busy polling: an opt-in trade of CPU time for wakeup latency (setBusyPoll(limit:)).
extension BaseEventLoop {
    /// The largest limit ``setBusyPoll(limit:)`` accepts.
    public static let maximumBusyPollLimit: Duration = .milliseconds(1)

    /// The longest the loop polls before it sleeps, or `nil` when busy polling is off
    /// (the default). Set it with ``setBusyPoll(limit:)``.
    public var busyPollLimit: Duration? {
        let nanoseconds = busyPollLimitNanoseconds.load(ordering: .relaxed)
        return nanoseconds > 0 ? .nanoseconds(nanoseconds) : nil
    }

    /// Turns busy polling on with `limit` as the longest window, or off with `nil` or
    /// zero (the default).
    ///
    /// A loop that runs out of work normally sleeps in its backend's wait at once, and
    /// the next readiness has to wake its thread. Where waking a sleeping CPU is slow
    /// (virtual machines without guest halt-polling, deep idle states) that wakeup can
    /// cost more than handling the request, and the peer that wakes the loop pays for
    /// it too. With busy polling on, the loop first asks the backend for readiness with
    /// a zero timeout, over and over, for up to an adaptive window, and only then sleeps.
    ///
    /// The window never exceeds `limit` and follows the traffic: it grows while work
    /// keeps arriving within `limit` and halves each time the loop stays idle for
    /// longer, so a quiet loop soon sleeps at once again (``busyPollWindow`` shows it).
    /// Timers, callbacks from other threads and signals are handled as promptly while
    /// polling as while sleeping. Turn it on where latency matters more than the CPU
    /// time polling spends: a loop serving a steady stream of requests then keeps its
    /// CPU busy.
    ///
    /// ```swift
    /// try loop.setBusyPoll(limit: .microseconds(50))
    /// ```
    ///
    /// Safe to call from any thread; a running loop applies it the next time it runs
    /// out of work, starting again from a window of zero.
    ///
    /// - Throws: ``LoopError/Kind-swift.enum/invalidArgument`` when `limit` is negative
    ///   or longer than ``maximumBusyPollLimit``.
    public func setBusyPoll(limit: Duration?) throws {
        let limit = limit ?? .zero
        guard limit >= .zero, limit <= Self.maximumBusyPollLimit else {
            throw LoopError(
                .invalidArgument,
                "setBusyPoll: the limit must be between zero and \(Self.microseconds(Self.maximumBusyPollLimit)) µs, got \(Self.microseconds(limit)) µs")
        }
        busyPollLimitNanoseconds.store(limit.wholeNanoseconds, ordering: .relaxed)
    }

    private static func microseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) * 1e6 + Double(attoseconds) * 1e-12
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// The window the loop will poll for the next time it runs out of work (zero when
    /// it will sleep at once). Read it on the loop's thread or while the loop is not
    /// running.
    public var busyPollWindow: Duration { .nanoseconds(busyPoll.current) }
}
