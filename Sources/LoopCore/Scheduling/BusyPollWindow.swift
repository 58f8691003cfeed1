/// How long a loop polls for readiness, without sleeping, each time it runs out of
/// work: the busy-poll window of ``BaseEventLoop/setBusyPoll(limit:)``.
///
/// The window adapts as Linux's cpuidle "haltpoll" governor adapts its poll time. An
/// idle period is the time from running out of work to the next work, polling
/// included. One that polling covered leaves the window as it is; one that ended
/// after the window but within `limit` doubles it (starting from ``growStart``), since
/// polling longer would have caught it; one longer than `limit` halves it, down to
/// zero, so a loop that goes quiet soon stops polling.
struct BusyPollWindow: Equatable, Sendable {
    /// The longest window, in nanoseconds; zero turns polling off.
    private(set) var limit: Int64
    /// What the next idle period polls for, in nanoseconds (zero through ``limit``).
    private(set) var current: Int64 = 0

    /// The window that growth starts from.
    static let growStartNanoseconds: Int64 = 10_000
    /// Windows shorter than this are not worth a poll and become zero.
    static let smallestNanoseconds: Int64 = 1_000

    init(limit: Int64) {
        self.limit = max(0, limit)
    }

    var growStart: Int64 { min(limit, Self.growStartNanoseconds) }

    /// Takes a new limit; the window starts again from zero.
    mutating func setLimit(_ limit: Int64) {
        self = BusyPollWindow(limit: limit)
    }

    /// Adapts the window to an idle period that lasted `idle` nanoseconds.
    mutating func record(idle: Int64) {
        guard limit > 0 else { return }
        if idle > limit {
            current /= 2
            if current < Self.smallestNanoseconds { current = 0 }
        } else if idle > current {
            current = min(limit, max(growStart, current &* 2))
        }
    }
}
