import Glibc
import CLoopShims

/// A mutex with a condition variable (pthreads), for the blocking waits of
/// ``ConcurrentFuture`` and ``ThreadPoolExecutor``. The Synchronization module's
/// `Mutex` has no condition variable.
final class ConditionLock: @unchecked Sendable {
    // @unchecked: the pthread objects are what make the state thread-safe.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let usesMonotonicClock: Bool

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if os(Linux)
        usesMonotonicClock = pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC) == 0
        #else
        usesMonotonicClock = false
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the lock.
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a broadcast; the lock must be held (use inside ``withLock(_:)``).
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits for a broadcast until the monotonic deadline (nanoseconds, see
    /// ``MonotonicClock``); returns `false` once the deadline has passed. The lock must be held.
    func wait(untilNanoseconds deadline: Int64) -> Bool {
        let now = MonotonicClock.nanoseconds()
        if now >= deadline { return false }
        var spec = timespec()
        if usesMonotonicClock {
            spec.tv_sec = Int(deadline / 1_000_000_000)
            spec.tv_nsec = Int(deadline % 1_000_000_000)
        } else {
            var wall = timespec()
            clock_gettime(CLOCK_REALTIME, &wall)
            let target = Int64(wall.tv_sec) * 1_000_000_000 + Int64(wall.tv_nsec) + (deadline - now)
            spec.tv_sec = Int(target / 1_000_000_000)
            spec.tv_nsec = Int(target % 1_000_000_000)
        }
        pthread_cond_timedwait(condition, mutex, &spec)
        return MonotonicClock.nanoseconds() < deadline
    }

    /// Wakes every waiter.
    func broadcast() { pthread_cond_broadcast(condition) }

    /// Wakes one waiter.
    func signal() { pthread_cond_signal(condition) }
}
