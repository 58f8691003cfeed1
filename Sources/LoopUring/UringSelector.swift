import CLoopUring
import Glibc
@_spi(Backend) import LoopCore

/// A selector backend on Linux `io_uring(7)`: readiness through multishot
/// `IORING_OP_POLL_ADD`, woken from other threads through an eventfd the ring also polls.
///
/// ## Design
/// - **liburing, not raw syscalls**: Debian's liburing-dev 2.3 sets the ring up, maps it
///   and carries the memory barriers of the SQ/CQ protocol; those are easy to get subtly
///   wrong by hand and liburing is the kernel maintainers' own. Its `static inline`
///   helpers are wrapped by the small C target `CLoopUring`, so Swift sees plain calls.
/// - **Multishot poll per fd**, `user_data` = tag | generation | fd (``UringUserData``).
///   A completion whose generation is not the fd's current one (the fd was unregistered,
///   modified or re-armed since) is dropped, never reported.
/// - **Level-triggered, as the hook contract asks**: a multishot poll only fires on
///   wakeups (edge). Every fd reported by a wait (and every modified one) is re-checked at
///   the next wait: its poll is removed (success CQE skipped) and a fresh multishot poll
///   added under a new generation, which the kernel checks at once, so an fd still ready
///   is reported again. (A poll *update* re-arms without that check on 6.18, so HOOK-X04
///   fails with it; remove + add costs one more SQE, no more syscalls.) A poll the kernel
///   dropped (a completion without `IORING_CQE_F_MORE`) is re-added the same way.
/// - **Batched submission**: registrations, modifies, removes and re-checks only queue
///   SQEs; `wait` submits them and waits in one `io_uring_enter` (with
///   `IORING_ENTER_EXT_ARG` for the timeout). A full SQ is submitted and refilled, never
///   dropped; `EBUSY`/`EAGAIN` from the kernel leave the SQEs queued (completions are
///   reaped, and the submission is retried), and completions reaped outside `wait` are
///   kept and reported by the next wait, which then does not block.
/// - **No allocation per wait**: slots, lists and the completion buffer keep their memory.
///
/// ## Bad input
/// - An fd that is not open: `EBADF` (checked with `fcntl`, since the poll would only fail
///   later, in a completion).
/// - A regular file or directory: watched, and reported always ready, as `poll(2)` does
///   (the kernel completes such a poll at once; it is re-added at every wait), hence
///   ``BackendCapabilities/regularFiles``.
/// - An fd its owner closed while watched: its poll completes with `EBADF` and it is
///   reported readable and writable (the I/O then sees the error), as HOOK-X20 allows.
/// - ``wakeup()`` after ``close()`` does nothing; `register`, `modify` and `wait` after it
///   throw ``LoopError`` `.closed`; ``unregister(fd:)`` after it is not an error.
///
/// A poll request holds a reference to its file, so ``unregister(fd:)`` submits its remove
/// at once (one `io_uring_enter`, as epoll's `epoll_ctl(DEL)`): a socket closed next must
/// really close.
///
/// Thread safety: `@unchecked Sendable` is sound because the loop calls every hook from
/// its own thread except ``wakeup()``, which only touches LoopCore's `WakeupChannel`.
@_spi(Backend) public final class UringSelector: SelectorBackend, @unchecked Sendable {
    /// The registry entry: name `"io_uring"`, priority 25 (below epoll's 30, see the
    /// CompletionBasedBackend article for the measurements), available when the probe
    /// (``UringProbe``) opens a ring with the features this backend needs.
    public static let descriptor = descriptor(probe: UringProbe.availability)

    /// The registry entry with another availability probe (tests make it fail).
    @_spi(Testing) public static func descriptor(
        probe: @escaping @Sendable () -> BackendAvailability
    ) -> BackendDescriptor {
        BackendDescriptor(
            name: "io_uring",
            summary: "Linux io_uring(7), multishot poll, level-triggered, eventfd wakeup",
            priority: 25,
            capabilities: BackendCapabilities.standard.union(.regularFiles),
            availability: probe,
            make: { try UringSelector() }
        )
    }

    /// This backend's identity: ``descriptor``.
    public var descriptor: BackendDescriptor { Self.descriptor }

    public var details: String {
        "io_uring multishot POLL_ADD, remove+add re-check, \(sqEntries)-entry SQ, liburing"
    }

    struct Slot {
        var generation: UInt32 = 0
        /// Empty: not registered.
        var interest: IOEvents = []
        /// A poll request with this generation is live in the kernel (or queued).
        var armed = false
        /// In `recheckList`: re-arm (update or add) at the next wait.
        var recheck = false
        /// In `touchedList`: `pending` is reported by the next wait.
        var touched = false
        var pending: IOEvents = []
        /// The poll failed (e.g. EBADF): reported readable and writable whatever the interest.
        var failed = false
    }

    var ring: OpaquePointer?
    let wake: WakeupChannel
    var wakeGeneration: UInt32 = 0
    var wakeArmed = false
    var slots: [Slot] = []
    var recheckList: [Int32] = []
    var touchedList: [Int32] = []
    let completions: UnsafeMutablePointer<cloop_uring_cqe>
    let completionCapacity = 256
    let sqEntries: Int

    /// Completions dropped because their fd was unregistered or re-armed since (tests).
    package internal(set) var staleCompletions = 0
    /// Removes the kernel refused with EALREADY and that were queued again (tests).
    package internal(set) var retriedRemoves = 0
    /// Errors the next submissions return instead of calling the kernel (tests), e.g.
    /// `[-EBUSY, -EAGAIN]`: the SQEs stay queued, as after a real refusal.
    package var injectedSubmitErrors: [Int32] = []

    /// Opens a ring (`entries` SQ entries) and its wakeup eventfd.
    ///
    /// - Throws: ``SystemError`` naming `io_uring_setup` (e.g. `ENOSYS`, `EPERM`), `eventfd`,
    ///   or `io_uring features` (`EOPNOTSUPP`) on a kernel without `IORING_FEAT_EXT_ARG`,
    ///   `IORING_FEAT_NODROP` or poll update.
    public convenience init() throws { try self.init(entries: 256) }

    package init(entries: UInt32) throws {
        var error: Int32 = 0
        guard let made = cloop_uring_create(entries, entries * 8, &error) else {
            throw SystemError(errno: -error, call: "io_uring_setup")
        }
        guard cloop_uring_has_needed_features(made) == 1 else {
            cloop_uring_destroy(made)
            throw SystemError(errno: EOPNOTSUPP, call: "io_uring features (EXT_ARG, NODROP, poll update; kernel 5.13+)")
        }
        do {
            wake = try WakeupChannel()
        } catch {
            cloop_uring_destroy(made)
            throw error
        }
        ring = made
        sqEntries = Int(cloop_uring_sq_entries(made))
        completions = .allocate(capacity: completionCapacity)
        completions.initialize(repeating: cloop_uring_cqe(), count: completionCapacity)
        recheckList.reserveCapacity(256)
        touchedList.reserveCapacity(256)
        try armWake()
        try submitQueued()
    }

    deinit {
        close()
        completions.deinitialize(count: completionCapacity)
        completions.deallocate()
    }

    /// Starts watching `fd` for `interest`.
    ///
    /// - Throws: ``SystemError`` named `io_uring register`: `EBADF` for a descriptor that
    ///   is not open, `EEXIST` if it is already registered; ``LoopError`` `.closed` after
    ///   ``close()``.
    public func register(fd: Int32, interest: IOEvents) throws {
        guard ring != nil else { throw LoopError.backendClosed(name, hook: "register(fd:interest:)") }
        guard fd >= 0, fcntl(fd, F_GETFD) >= 0 else {
            throw SystemError(errno: EBADF, call: "io_uring register")
        }
        if Int(fd) >= slots.count {
            slots.append(contentsOf: repeatElement(Slot(), count: Int(fd) + 1 - slots.count))
        }
        guard slots[Int(fd)].interest.isEmpty else { throw SystemError(errno: EEXIST, call: "io_uring register") }
        slots[Int(fd)].interest = interest
        slots[Int(fd)].pending = []
        slots[Int(fd)].failed = false
        try addPoll(fd)
    }

    /// Changes what a registered `fd` is watched for; the next wait re-arms its poll.
    ///
    /// - Throws: ``SystemError`` named `io_uring modify`: `ENOENT` when `fd` is not registered;
    ///   ``LoopError`` `.closed` after ``close()``.
    public func modify(fd: Int32, interest: IOEvents) throws {
        guard ring != nil else { throw LoopError.backendClosed(name, hook: "modify(fd:interest:)") }
        guard fd >= 0, Int(fd) < slots.count, !slots[Int(fd)].interest.isEmpty else {
            throw SystemError(errno: ENOENT, call: "io_uring modify")
        }
        slots[Int(fd)].interest = interest
        slots[Int(fd)].pending.formIntersection(interest)
        // A new request under a new generation (remove + add, queued): completions of
        // the old mask become stale, and the kernel checks the new mask at once.
        scheduleRecheck(fd)
    }

    /// Stops watching `fd` (its poll is removed by the next submission). A descriptor its
    /// owner already closed, or one that is not registered, is not an error.
    public func unregister(fd: Int32) throws {
        guard ring != nil, fd >= 0, Int(fd) < slots.count, !slots[Int(fd)].interest.isEmpty else { return }
        let slot = slots[Int(fd)]
        slots[Int(fd)].interest = []
        slots[Int(fd)].pending = []
        slots[Int(fd)].failed = false
        slots[Int(fd)].armed = false
        slots[Int(fd)].generation = UringUserData.next(slot.generation)
        if slot.armed {
            let target = UringUserData(.poll, generation: slot.generation, fd: fd).rawValue
            let own = UringUserData(.remove, generation: slot.generation, fd: fd).rawValue
            try queue { cloop_uring_poll_remove($0, target, own, true) }
            // Submitted now, not with the next wait: the poll holds a reference to the
            // file, so a socket its owner closes next (a server's listener) would
            // otherwise live on and take connections (TCP-15).
            try submitQueued()
            // And the kernel's task work that completes the cancelled poll (and drops its
            // file reference) runs now, before the owner closes the fd; a remove refused
            // with EALREADY is queued again by the reap and submitted here.
            for _ in 0..<100 {
                guard let ring else { break }
                _ = cloop_uring_submit_and_wait(ring, 0)
                try reapAll()
                if cloop_uring_sq_ready(ring) == 0 { break }
            }
        }
    }

    /// Submits what is queued, waits for completions, a wakeup or the timeout, and appends
    /// every ready fd (once) to `ready`. A signal ends the wait with what it has.
    ///
    /// - Throws: ``SystemError`` named `io_uring_enter`; ``LoopError`` `.closed` after ``close()``.
    public func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        guard let ring else { throw LoopError.backendClosed(name, hook: "wait(timeout:into:)") }
        try queueRechecks()
        var nanoseconds: Int64 = timeout.map { Self.nanoseconds($0) } ?? -1
        if !touchedList.isEmpty { nanoseconds = 0 }
        let result = submitAndWait(ring, nanoseconds)
        switch -result {
        case _ where result >= 0, ETIME, EINTR, EBUSY, EAGAIN:
            // EBUSY/EAGAIN: the SQEs stay queued; reaping below makes room for the retry.
            break
        default:
            throw SystemError(errno: -result, call: "io_uring_enter")
        }
        try reapAll()
        for fd in touchedList {
            let index = Int(fd)
            slots[index].touched = false
            let events: IOEvents = slots[index].failed
                ? [.readable, .writable] : slots[index].pending.intersection(slots[index].interest)
            slots[index].pending = []
            slots[index].failed = false
            guard !events.isEmpty else { continue }
            ready.append(fd: fd, events: events)
            scheduleRecheck(fd)
        }
        touchedList.removeAll(keepingCapacity: true)
    }

    /// Makes the current or next wait return promptly. Any thread; after ``close()`` it
    /// does nothing.
    public func wakeup() { wake.wakeup() }

    /// Closes the ring (the kernel cancels every poll) and the eventfd. Idempotent.
    public func close() {
        wake.close()
        if let ring {
            cloop_uring_destroy(ring)
            self.ring = nil
        }
        slots.removeAll()
        recheckList.removeAll()
        touchedList.removeAll()
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        if seconds > 86_400 * 365 { return 86_400 * 365 * 1_000_000_000 }
        return seconds * 1_000_000_000 + (attoseconds + 999_999_999) / 1_000_000_000
    }
}
