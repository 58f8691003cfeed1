import CLoopShims
import Glibc
import LoopCore
import Synchronization

/// The eventfd that lets ``UringSelector/wakeup()`` end a wait from any thread, with the
/// close-versus-wakeup race solved in one place (the same scheme as `EpollSelector`).
///
/// Kept self-contained, with the shape of LoopCore's shared `WakeupChannel` (``readFD``,
/// ``wakeup()``, ``drain()``, ``close()``), so it is swapped for that one when it lands.
///
/// Every ``wakeup()`` announces itself in one atomic (bit 0: closed; the rest: twice the
/// wakeups in flight) before it writes; ``close()`` sets the closed bit, waits until no
/// wakeup is in flight, and only then closes the eventfd, so a late wakeup never writes
/// into a recycled descriptor number.
final class UringWakeup: @unchecked Sendable {
    /// The eventfd the ring polls (multishot) for reading. Constant until ``close()``.
    let readFD: Int32
    private let state = Atomic<Int>(0)

    init() throws {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw SystemError(errno: errno, call: "eventfd") }
        readFD = fd
    }

    /// Any thread, any number of times, also after ``close()`` (then nothing happens).
    func wakeup() {
        let saved = errno
        let old = state.wrappingAdd(2, ordering: .acquiring).oldValue
        if old & 1 == 0 {
            // EAGAIN: the counter is saturated, a wakeup is pending anyway.
            _ = eventfd_write(readFD, 1)
        }
        state.wrappingSubtract(2, ordering: .releasing)
        errno = saved
    }

    /// Resets the counter (loop thread), so a re-armed poll does not fire for old wakeups.
    func drain() {
        var value: eventfd_t = 0
        _ = eventfd_read(readFD, &value)
    }

    /// Whether ``close()`` ran.
    var isClosed: Bool { state.load(ordering: .acquiring) & 1 != 0 }

    /// Closes the eventfd once no ``wakeup()`` can be using it. Idempotent.
    func close() {
        let old = state.bitwiseOr(1, ordering: .acquiringAndReleasing).oldValue
        guard old & 1 == 0 else { return }
        while state.load(ordering: .acquiring) != 1 { sched_yield() }
        _ = Glibc.close(readFD)
    }
}
