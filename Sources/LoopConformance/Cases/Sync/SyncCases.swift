import LoopCore

/// SYNC — what asyncio programs use beside the loop: Lock, Event, Condition,
/// Semaphore, BoundedSemaphore, Barrier, the queues, TaskGroup, the timeout scope and
/// eager task start, each checked against CPython first (3.11; the 3.12 eager start
/// and the 3.13 Queue.shutdown and Condition hand-on against CPython 3.13). The IDs
/// are this group's own numbering, SYNC-01 onwards: CONFORMANCE.md has no SYNC lines.
public enum SyncCases {
    public static let all: [ConformanceCase] =
        LockCases.all + EventCases.all + ConditionCases.all + SemaphoreCases.all + BarrierCases.all
        + QueueCases.all + TaskGroupCases.all + TimeoutScopeCases.all + EagerTaskCases.all + SyncBadInputCases.all
}
