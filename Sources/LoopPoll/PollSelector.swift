import Glibc
@_spi(Backend) import LoopCore

/// A portable selector backend on POSIX `poll(2)`, woken from other threads through a
/// self-pipe.
///
/// Interest is level-triggered: a descriptor is reported on every wait for as long as it
/// stays ready. Errors and hang-ups are reported as readable and writable, so a reader
/// sees end of file and a writer sees the error.
///
/// ## Descriptors that are not open
/// A negative descriptor is refused by ``register(fd:interest:)`` with `EBADF`. A
/// non-negative one is not checked (the loop validates descriptors before registering
/// them): if it is not open, or its owner closes it while it is registered, every wait
/// reports it as readable and writable (poll's `POLLNVAL`) until it is unregistered, so
/// the code watching it meets `EBADF` on its next read or write.
///
/// Thread safety: `@unchecked Sendable` is sound because the loop calls every hook from
/// its own thread except ``wakeup()``, which only touches the ``WakeupChannel`` (built
/// for exactly that).
public final class PollSelector: SelectorBackend, @unchecked Sendable {
    /// The registry entry for this backend: name `"poll"`, the portable fallback.
    public static let descriptor = BackendDescriptor(
        name: "poll",
        summary: "POSIX poll(2), level-triggered, self-pipe wakeup",
        priority: 10,
        // poll(2) also watches regular files (always ready), which epoll refuses.
        capabilities: BackendCapabilities.standard.union(.regularFiles),
        make: { try PollSelector() }
    )

    /// This backend's identity: ``descriptor``.
    public var descriptor: BackendDescriptor { Self.descriptor }

    /// The calls this backend is built on.
    public var details: String { "poll, self-pipe wakeup" }

    // Loop-thread state.
    /// What `poll` watches. Entry 0 is the wakeup pipe's read end; registered fds follow
    /// in no particular order.
    private var pollFDs: ContiguousArray<pollfd>
    /// Index into `pollFDs` of each registered fd, indexed by fd; -1 when not registered.
    private var slots: ContiguousArray<Int32> = []
    /// The self-pipe ``wakeup()`` writes, from any thread.
    private let wake: WakeupChannel

    /// Opens the wakeup pipe.
    ///
    /// - Throws: ``SystemError`` named `pipe2` when the process is out of descriptors.
    public init() throws {
        wake = try WakeupChannel(kind: .pipe)
        pollFDs = [pollfd(fd: wake.readFD, events: Self.pollIn, revents: 0)]
        pollFDs.reserveCapacity(64)
    }

    deinit {
        close()
    }

    /// Starts watching `fd` for `interest`.
    ///
    /// - Throws: ``SystemError`` named `PollSelector.register`: `EBADF` for a negative
    ///   descriptor, `EEXIST` if `fd` is already registered; ``LoopError`` `.closed` after
    ///   ``close()``. A non-negative descriptor that is not open is accepted (see the
    ///   type's notes).
    public func register(fd: Int32, interest: IOEvents) throws {
        guard !wake.isClosed else { throw LoopError.backendClosed(name, hook: "register(fd:interest:)") }
        guard fd >= 0 else { throw SystemError(errno: EBADF, call: "PollSelector.register") }
        let index = Int(fd)
        if index < slots.count {
            guard slots[index] < 0 else { throw SystemError(errno: EEXIST, call: "PollSelector.register") }
        } else {
            let newCount = max(index + 1, slots.count * 2, 64)
            slots.append(contentsOf: repeatElement(-1, count: newCount - slots.count))
        }
        slots[index] = Int32(pollFDs.count)
        pollFDs.append(pollfd(fd: fd, events: Self.pollMask(interest), revents: 0))
    }

    /// Changes what a registered `fd` is watched for.
    ///
    /// - Throws: ``SystemError`` named `PollSelector.modify` with `ENOENT` when `fd` is
    ///   not registered; ``LoopError`` `.closed` after ``close()``.
    public func modify(fd: Int32, interest: IOEvents) throws {
        guard !wake.isClosed else { throw LoopError.backendClosed(name, hook: "modify(fd:interest:)") }
        guard let slot = slot(of: fd) else { throw SystemError(errno: ENOENT, call: "PollSelector.modify") }
        pollFDs[slot].events = Self.pollMask(interest)
    }

    /// Stops watching `fd`. A descriptor its owner already closed, or one that is not
    /// registered, is not an error.
    public func unregister(fd: Int32) throws {
        guard let slot = slot(of: fd) else { return }
        let last = pollFDs.count - 1
        if slot != last {
            let moved = pollFDs[last]
            pollFDs[slot] = moved
            slots[Int(moved.fd)] = Int32(slot)
        }
        pollFDs.removeLast()
        slots[Int(fd)] = -1
    }

    /// Waits for readiness, a wakeup, or the timeout, and appends every ready fd to `ready`.
    ///
    /// A wakeup is consumed here and never reported as an fd. A signal interrupting the
    /// wait makes it return with no events.
    ///
    /// - Throws: ``SystemError`` named `poll`; ``LoopError`` `.closed` after ``close()``.
    public func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        guard !wake.isClosed else { throw LoopError.backendClosed(name, hook: "wait(timeout:into:)") }
        let milliseconds = timeout?.pollMilliseconds ?? -1
        let readyCount = pollFDs.withUnsafeMutableBufferPointer { entries in
            poll(entries.baseAddress, nfds_t(entries.count), milliseconds)
        }
        guard readyCount >= 0 else {
            let error = errno
            if error == EINTR { return }
            throw SystemError(errno: error, call: "poll")
        }
        guard readyCount > 0 else { return }
        var remaining = Int(readyCount)
        var wokenUp = false
        pollFDs.withUnsafeBufferPointer { entries in
            for index in entries.indices {
                let revents = entries[index].revents
                if revents == 0 { continue }
                if index == 0 {
                    wokenUp = true
                } else {
                    ready.append(fd: entries[index].fd, events: Self.ioEvents(revents))
                }
                remaining -= 1
                if remaining == 0 { break }
            }
        }
        if wokenUp { wake.drain() }
    }

    /// Makes the current or next ``wait(timeout:into:)`` return promptly. Safe from any
    /// thread, any number of times, and after ``close()`` (where it does nothing).
    public func wakeup() { wake.wakeup() }

    /// Closes the wakeup pipe and forgets every registration. Calling it again does nothing.
    public func close() {
        wake.close()
        pollFDs = []
        slots = []
    }

    @inline(__always)
    private func slot(of fd: Int32) -> Int? {
        let index = Int(fd)
        guard index >= 0, index < slots.count else { return nil }
        let slot = slots[index]
        return slot >= 0 ? Int(slot) : nil
    }

    private static var pollIn: Int16 { Int16(truncatingIfNeeded: POLLIN) }

    @inline(__always)
    private static func pollMask(_ interest: IOEvents) -> Int16 {
        var mask: Int16 = 0
        if interest.contains(.readable) { mask |= Int16(truncatingIfNeeded: POLLIN) }
        if interest.contains(.writable) { mask |= Int16(truncatingIfNeeded: POLLOUT) }
        return mask
    }

    @inline(__always)
    private static func ioEvents(_ revents: Int16) -> IOEvents {
        let failure = Int16(truncatingIfNeeded: POLLERR | POLLHUP | POLLNVAL)
        if revents & failure != 0 { return [.readable, .writable] }
        var result: IOEvents = []
        if revents & Int16(truncatingIfNeeded: POLLIN) != 0 { result.insert(.readable) }
        if revents & Int16(truncatingIfNeeded: POLLOUT) != 0 { result.insert(.writable) }
        return result
    }
}
