import Glibc
import CLoopShims
@_spi(Backend) import LoopCore

/// A selector backend on Linux `epoll(7)`, woken from other threads through an `eventfd(2)`.
///
/// Interest is level-triggered: a descriptor is reported on every wait for as long as it
/// stays ready. Errors and hang-ups are reported as readable and writable, so a reader
/// sees end of file and a writer sees the error.
///
/// epoll watches sockets, pipes, FIFOs, terminals, eventfds and the like; it refuses
/// regular files and directories, so ``register(fd:interest:)`` throws `EPERM` for them.
///
/// Thread safety: `@unchecked Sendable` is sound because the loop calls every hook from
/// its own thread except ``wakeup()``, which only touches the ``WakeupChannel`` (built
/// for exactly that).
public final class EpollSelector: SelectorBackend, @unchecked Sendable {
    /// The registry entry for this backend: name `"epoll"`, preferred over `"poll"`.
    public static let descriptor = BackendDescriptor(
        name: "epoll",
        summary: "Linux epoll(7), level-triggered, eventfd wakeup",
        priority: 30,
        make: { try EpollSelector() }
    )

    /// This backend's identity: ``descriptor``.
    public var descriptor: BackendDescriptor { Self.descriptor }

    /// The calls this backend is built on.
    public var details: String { "epoll_wait, eventfd wakeup" }

    // Loop-thread state.
    private var epollFD: Int32
    private var events: UnsafeMutablePointer<epoll_event>
    private var eventCapacity: Int
    private var registeredCount = 0

    /// The eventfd ``wakeup()`` writes, from any thread.
    private let wake: WakeupChannel

    /// Opens an epoll instance and its wakeup eventfd.
    ///
    /// - Throws: ``SystemError`` naming `epoll_create1`, `eventfd` or `epoll_ctl(ADD)`
    ///   when the kernel refuses (e.g. the process is out of descriptors).
    public init() throws {
        let epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { throw SystemError(errno: errno, call: "epoll_create1") }
        let wake: WakeupChannel
        do {
            wake = try WakeupChannel()
        } catch {
            systemClose(epfd)
            throw error
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wake.readFD
        guard epoll_ctl(epfd, EPOLL_CTL_ADD, wake.readFD, &event) == 0 else {
            let error = errno
            wake.close()
            systemClose(epfd)
            throw SystemError(errno: error, call: "epoll_ctl(ADD)")
        }
        let capacity = 256
        epollFD = epfd
        self.wake = wake
        eventCapacity = capacity
        events = .allocate(capacity: capacity)
        events.initialize(repeating: epoll_event(), count: capacity)
    }

    deinit {
        close()
        events.deinitialize(count: eventCapacity)
        events.deallocate()
    }

    /// Starts watching `fd` for `interest`.
    ///
    /// - Throws: ``SystemError`` named `epoll_ctl(ADD)`: `EBADF` for a descriptor that is
    ///   not open (including -1), `EEXIST` if it is already registered, `EPERM` for a
    ///   regular file or directory; ``LoopError`` `.closed` after ``close()``.
    public func register(fd: Int32, interest: IOEvents) throws {
        guard epollFD >= 0 else { throw LoopError.backendClosed(name, hook: "register(fd:interest:)") }
        var event = epoll_event()
        event.events = Self.epollMask(interest)
        event.data.fd = fd
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
            throw SystemError(errno: errno, call: "epoll_ctl(ADD)")
        }
        registeredCount += 1
        // Room for every registered fd plus the eventfd, so one wait reports every
        // ready fd in a single batch. Grows here, never in wait's steady state.
        if registeredCount + 1 > eventCapacity {
            growEvents(to: max(eventCapacity * 2, registeredCount + 1))
        }
    }

    /// Changes what a registered `fd` is watched for.
    ///
    /// - Throws: ``SystemError`` named `epoll_ctl(MOD)`, e.g. `ENOENT` when `fd` is not
    ///   registered; ``LoopError`` `.closed` after ``close()``.
    public func modify(fd: Int32, interest: IOEvents) throws {
        guard epollFD >= 0 else { throw LoopError.backendClosed(name, hook: "modify(fd:interest:)") }
        var event = epoll_event()
        event.events = Self.epollMask(interest)
        event.data.fd = fd
        guard epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) == 0 else {
            throw SystemError(errno: errno, call: "epoll_ctl(MOD)")
        }
    }

    /// Stops watching `fd`. A descriptor its owner already closed, one that is not
    /// registered, or any after ``close()`` is not an error.
    ///
    /// - Throws: ``SystemError`` named `epoll_ctl(DEL)` for any other failure.
    public func unregister(fd: Int32) throws {
        guard epollFD >= 0 else { return }
        if epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil) != 0 {
            let error = errno
            // Closing an fd removes it from the epoll set (EBADF, or ENOENT once the
            // number is reused); either way there is nothing left to remove.
            guard error == EBADF || error == ENOENT else {
                throw SystemError(errno: error, call: "epoll_ctl(DEL)")
            }
        }
        if registeredCount > 0 { registeredCount -= 1 }
    }

    /// Waits for readiness, a wakeup, or the timeout, and appends every ready fd to `ready`.
    ///
    /// A wakeup is consumed here and never reported as an fd. A signal interrupting the
    /// wait makes it return with no events.
    ///
    /// - Throws: ``SystemError`` named `epoll_wait`; ``LoopError`` `.closed` after ``close()``.
    public func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        guard epollFD >= 0 else { throw LoopError.backendClosed(name, hook: "wait(timeout:into:)") }
        let milliseconds = timeout?.pollMilliseconds ?? -1
        let count = epoll_wait(epollFD, events, Int32(clamping: eventCapacity), milliseconds)
        guard count >= 0 else {
            let error = errno
            if error == EINTR { return }
            throw SystemError(errno: error, call: "epoll_wait")
        }
        let n = Int(count)
        for index in 0..<n {
            let event = events[index]
            let fd = event.data.fd
            if fd == wake.readFD {
                wake.drain()
                continue
            }
            ready.append(fd: fd, events: Self.ioEvents(event.events))
        }
        // Only reachable when the set holds more than we counted (fds closed without
        // unregistering while duplicated elsewhere); leftovers come on the next wait.
        if n == eventCapacity {
            growEvents(to: eventCapacity * 2)
        }
    }

    /// Makes the current or next ``wait(timeout:into:)`` return promptly. Safe from any
    /// thread, any number of times, and after ``close()`` (where it does nothing).
    public func wakeup() { wake.wakeup() }

    /// Closes the epoll instance and the eventfd. Calling it again does nothing.
    public func close() {
        wake.close()
        if epollFD >= 0 {
            systemClose(epollFD)
            epollFD = -1
        }
    }

    private func growEvents(to capacity: Int) {
        let grown = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        grown.initialize(repeating: epoll_event(), count: capacity)
        events.deinitialize(count: eventCapacity)
        events.deallocate()
        events = grown
        eventCapacity = capacity
    }

    @inline(__always)
    private static func epollMask(_ interest: IOEvents) -> UInt32 {
        var mask: UInt32 = 0
        if interest.contains(.readable) { mask |= EPOLLIN.rawValue }
        if interest.contains(.writable) { mask |= EPOLLOUT.rawValue }
        return mask
    }

    @inline(__always)
    private static func ioEvents(_ mask: UInt32) -> IOEvents {
        if mask & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { return [.readable, .writable] }
        var result: IOEvents = []
        if mask & EPOLLIN.rawValue != 0 { result.insert(.readable) }
        if mask & EPOLLOUT.rawValue != 0 { result.insert(.writable) }
        return result
    }
}

/// `close(2)` under a name the ``EpollSelector/close()`` method does not shadow.
private func systemClose(_ fd: Int32) {
    _ = close(fd)
}
