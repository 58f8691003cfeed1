import Glibc
import CSelect
@_spi(Backend) import LoopCore

/// A selector backend on POSIX `select(2)`, woken from other threads through a
/// self-pipe: the whole of a third-party backend, in one file.
///
/// It implements the required hooks of ``SelectorBackend`` (`descriptor`, `register`,
/// `modify`, `unregister`, `wait`, `wakeup`, `close`) and one optional one
/// (`details`); the clock hook `now()` keeps its default. The kit's ``WakeupChannel``
/// does the cross-thread wakeup.
///
/// ## Limit: FD_SETSIZE
/// An `fd_set` holds descriptors below `FD_SETSIZE` (1024 on Linux) only; writing a
/// higher one would corrupt memory. So ``register(fd:interest:)`` refuses such a
/// descriptor with a typed error, and its descriptor's capabilities leave out
/// ``BackendCapabilities/highDescriptors``: conformance cases that need high
/// descriptors are skipped on this backend, naming that capability.
///
/// ## Threading
/// The loop calls every hook on its own thread except ``wakeup()``, which any thread
/// may call at any time, also during ``wait(timeout:into:)`` and after ``close()``.
/// `@unchecked Sendable` is sound because ``wakeup()`` touches only the kit's
/// ``WakeupChannel``, which solves the wakeup-versus-close race.
public final class SelectSelector: SelectorBackend, @unchecked Sendable {
    /// The registry entry: name `"select"`, below every built-in backend in priority,
    /// so it is used only when asked for (`LOOP_BACKEND=select`).
    public static let descriptor = BackendDescriptor(
        name: "select",
        summary: "POSIX select(2), level-triggered, self-pipe wakeup, fds below FD_SETSIZE only",
        priority: 5,
        // Real time and cross-thread wakeups; regular files too (select reports them
        // always ready, as poll does). Not highDescriptors.
        capabilities: [.realTime, .crossThreadWakeup, .regularFiles],
        make: { try SelectSelector() }
    )

    /// Registers ``descriptor`` so `LOOP_BACKEND=select` (or `makeLoop(name: "select")`)
    /// finds it.
    ///
    /// - Throws: ``LoopError`` `.duplicateBackend` when a backend named `"select"` is
    ///   already registered in `registry`.
    public static func register(in registry: BackendRegistry = .shared) throws {
        try registry.register(descriptor)
    }

    /// `FD_SETSIZE`: the descriptors this backend can watch are `0 ..< setSize`.
    public static let setSize = Int32(cselect_setsize())

    public var descriptor: BackendDescriptor { Self.descriptor }

    public var details: String { "select, self-pipe wakeup, FD_SETSIZE \(Self.setSize)" }

    // Loop-thread state.
    private var readSet = fd_set()
    private var writeSet = fd_set()
    /// Interest of each registered fd, indexed by fd; empty when not registered.
    private var interests: [IOEvents] = []
    /// The highest registered fd, or -1.
    private var highestFD: Int32 = -1
    /// The self-pipe ``wakeup()`` writes, from any thread.
    private let wake: WakeupChannel

    /// Opens the wakeup pipe.
    ///
    /// - Throws: ``SystemError`` named `pipe2` when out of descriptors, or `EMFILE`
    ///   named `SelectSelector.init` when the pipe's read end is not below
    ///   `FD_SETSIZE` (the process already has more than a thousand open).
    public init() throws {
        wake = try WakeupChannel(kind: .pipe)
        guard wake.readFD < Self.setSize else {
            wake.close()
            throw SystemError(errno: EMFILE, call: "SelectSelector.init (wakeup pipe fd \(wake.readFD) >= FD_SETSIZE \(Self.setSize))")
        }
        cselect_zero(&readSet)
        cselect_zero(&writeSet)
    }

    deinit {
        close()
    }

    /// Starts watching `fd` for `interest`.
    ///
    /// - Throws: ``LoopError`` `.invalidArgument` when `fd` is not below `FD_SETSIZE`;
    ///   ``SystemError`` named `SelectSelector.register`: `EBADF` for a negative fd,
    ///   `EEXIST` if `fd` is already registered; ``LoopError`` `.closed` after ``close()``.
    public func register(fd: Int32, interest: IOEvents) throws {
        guard !wake.isClosed else { throw LoopError.backendClosed(name, hook: "register(fd:interest:)") }
        guard fd >= 0 else { throw SystemError(errno: EBADF, call: "SelectSelector.register") }
        guard fd < Self.setSize else {
            throw LoopError(
                .invalidArgument,
                "SelectSelector.register: fd \(fd) is not below FD_SETSIZE (\(Self.setSize)); select(2) cannot watch it "
                    + "(this backend lacks the highDescriptors capability); use another backend for high descriptors")
        }
        let index = Int(fd)
        if index >= interests.count {
            interests.append(contentsOf: repeatElement([], count: index + 1 - interests.count))
        }
        guard interests[index].isEmpty else { throw SystemError(errno: EEXIST, call: "SelectSelector.register") }
        set(fd, interest)
        highestFD = max(highestFD, fd)
    }

    /// Changes what a registered `fd` is watched for.
    ///
    /// - Throws: ``SystemError`` named `SelectSelector.modify` with `ENOENT` when `fd`
    ///   is not registered; ``LoopError`` `.closed` after ``close()``.
    public func modify(fd: Int32, interest: IOEvents) throws {
        guard !wake.isClosed else { throw LoopError.backendClosed(name, hook: "modify(fd:interest:)") }
        guard isRegistered(fd) else { throw SystemError(errno: ENOENT, call: "SelectSelector.modify") }
        set(fd, interest)
    }

    /// Stops watching `fd`. One its owner already closed, or one not registered, is fine.
    public func unregister(fd: Int32) throws {
        guard isRegistered(fd) else { return }
        set(fd, [])
        if fd == highestFD {
            while highestFD >= 0 && interests[Int(highestFD)].isEmpty { highestFD -= 1 }
        }
    }

    /// Waits for readiness, a wakeup or the timeout, and appends every ready fd.
    ///
    /// A wakeup is consumed here and never reported as an fd. A signal makes it return
    /// with no events. A registered fd that its owner closed makes `select` fail with
    /// `EBADF`: it is then reported readable and writable (as poll's `POLLNVAL`), so the
    /// code watching it meets the error on its next read or write, and the other fds are
    /// polled again without it.
    ///
    /// - Throws: ``SystemError`` named `select`; ``LoopError`` `.closed` after ``close()``.
    public func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        guard !wake.isClosed else { throw LoopError.backendClosed(name, hook: "wait(timeout:into:)") }
        var readable = readSet
        var writable = writeSet
        var result = select(&readable, &writable, timeout)
        if result < 0, errno == EBADF {
            readable = readSet
            writable = writeSet
            guard reportClosedDescriptors(into: &ready, clearingFrom: &readable, &writable) else {
                throw SystemError(errno: EBADF, call: "select")
            }
            result = select(&readable, &writable, .zero)
        }
        guard result >= 0 else {
            let error = errno
            if error == EINTR { return }
            throw SystemError(errno: error, call: "select")
        }
        guard result > 0 else { return }
        if cselect_isset(wake.readFD, &readable) != 0 { wake.drain() }
        guard highestFD >= 0 else { return }
        for fd in 0...highestFD where !interests[Int(fd)].isEmpty {
            var events: IOEvents = []
            if cselect_isset(fd, &readable) != 0 { events.insert(.readable) }
            if cselect_isset(fd, &writable) != 0 { events.insert(.writable) }
            if !events.isEmpty { ready.append(fd: fd, events: events) }
        }
    }

    /// One `select(2)` on the given sets plus the wakeup pipe.
    private func select(_ readable: inout fd_set, _ writable: inout fd_set, _ timeout: Duration?) -> Int32 {
        cselect_set(wake.readFD, &readable)
        let count = max(highestFD, wake.readFD) + 1
        guard let timeout else { return Glibc.select(count, &readable, &writable, nil, nil) }
        var limit = Self.selectTimeout(timeout)
        return Glibc.select(count, &readable, &writable, nil, &limit)
    }

    /// Makes the current or next ``wait(timeout:into:)`` return promptly. Any thread,
    /// any number of times, also after ``close()`` (where it does nothing).
    public func wakeup() { wake.wakeup() }

    /// Closes the wakeup pipe and forgets every registration. Calling it again does nothing.
    public func close() {
        wake.close()
        interests = []
        highestFD = -1
        cselect_zero(&readSet)
        cselect_zero(&writeSet)
    }

    // MARK: Helpers

    private func isRegistered(_ fd: Int32) -> Bool {
        fd >= 0 && Int(fd) < interests.count && !interests[Int(fd)].isEmpty
    }

    /// Records `interest` for `fd` (which is below FD_SETSIZE) in both sets.
    private func set(_ fd: Int32, _ interest: IOEvents) {
        interests[Int(fd)] = interest
        if interest.contains(.readable) { cselect_set(fd, &readSet) } else { cselect_clear(fd, &readSet) }
        if interest.contains(.writable) { cselect_set(fd, &writeSet) } else { cselect_clear(fd, &writeSet) }
    }

    /// Reports every registered fd that is no longer open and clears it from the sets;
    /// returns whether there was one.
    private func reportClosedDescriptors(
        into ready: inout ReadinessBuffer, clearingFrom readable: inout fd_set, _ writable: inout fd_set
    ) -> Bool {
        guard highestFD >= 0 else { return false }
        var found = false
        for fd in 0...highestFD where !interests[Int(fd)].isEmpty && fcntl(fd, F_GETFD) < 0 {
            ready.append(fd: fd, events: [.readable, .writable])
            cselect_clear(fd, &readable)
            cselect_clear(fd, &writable)
            found = true
        }
        return found
    }

    /// A `select` timeout, rounded up to whole microseconds so the wait never ends
    /// before the deadline it was computed from.
    private static func selectTimeout(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, seconds > 0 || attoseconds > 0 else { return timeval(tv_sec: 0, tv_usec: 0) }
        var wholeSeconds = min(seconds, 100_000_000)
        var micros = (attoseconds + 999_999_999_999) / 1_000_000_000_000
        if micros >= 1_000_000 {
            wholeSeconds += 1
            micros -= 1_000_000
        }
        return timeval(tv_sec: .init(wholeSeconds), tv_usec: .init(micros))
    }
}
