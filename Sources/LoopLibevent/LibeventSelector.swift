import Glibc
internal import CLibevent
import CLoopShims
@_spi(Backend) import LoopCore

/// A selector backend on libevent 2.1: one `event_base` per loop, one persistent,
/// level-triggered `struct event` per watched descriptor.
///
/// libevent picks its own OS mechanism (epoll on Linux, kqueue on the BSDs and macOS);
/// ``details`` names it together with libevent's version. Each wait reports every ready
/// descriptor in one batch, a descriptor that is both readable and writable once, with
/// both. Errors and hang-ups are reported for the events the descriptor is watched for.
///
/// Timeouts use libevent's precise timer by default, so a wait never ends long after its
/// timeout; see ``init(preciseTimer:)``.
///
/// Stream connections (TCP and Unix) get a ``BuffereventTransport`` through the
/// transport hook ``makeSocketTransport(_:)``: a libevent bufferevent on this backend's
/// base does their I/O, while datagram and pipe transports stay the loop's own.
///
/// Thread safety: `@unchecked Sendable` is sound because the loop calls every hook from
/// its own thread except ``wakeup()``, which only touches the ``WakeupChannel`` (built
/// for exactly that). libevent itself is put in its
/// thread-safe mode (`evthread_use_pthreads`) before any base is made.
public final class LibeventSelector: SelectorBackend, @unchecked Sendable {
    /// The registry entry for this backend: name `"libevent"`, priority 20 (between
    /// epoll's 30 and poll's 10).
    public static let descriptor = BackendDescriptor(
        name: "libevent",
        summary: "libevent 2.1 event_base (its own OS method), level-triggered, eventfd wakeup",
        priority: 20,
        availability: {
            libeventThreadingResult == 0
                ? .available
                : .unavailable(reason: "evthread_use_pthreads() failed: libevent was built without thread support")
        },
        make: { try LibeventSelector() }
    )

    /// This backend's identity: ``descriptor``.
    public var descriptor: BackendDescriptor { Self.descriptor }

    /// libevent's version and the OS method its base uses, e.g.
    /// `"libevent 2.1.12-stable, method epoll, precise timer"`.
    public let details: String

    /// The base, `nil` once closed. Loop thread only.
    private var base: OpaquePointer?
    /// The reusable one-shot timer that bounds a wait with a timeout.
    private var timer: OpaquePointer?
    /// The persistent read event on the wakeup descriptor.
    private var wakeEvent: OpaquePointer?
    /// Registrations and the batch being collected. Reached through a pointer so that
    /// libevent's C callbacks can fill it during `event_base_loop`.
    private let state: UnsafeMutablePointer<DispatchState>

    /// The eventfd ``wakeup()`` writes, from any thread; the wakeup event reads it.
    private let wake: WakeupChannel
    /// The live bufferevent transports, kept alive while libevent may call them back
    /// (their callbacks get an unretained pointer). Loop thread only.
    private var transports: [ObjectIdentifier: BuffereventTransport] = [:]
    /// How many of them have bytes waiting in their output buffer, which libevent may
    /// write during a wait. Loop thread only.
    private var transportsWithOutput = 0

    /// Makes an `event_base` and its wakeup descriptor.
    ///
    /// - Parameter preciseTimer: Use libevent's precise timer
    ///   (`EVENT_BASE_FLAG_PRECISE_TIMER`). Without it libevent measures time with a
    ///   coarse clock and a short timeout can last several milliseconds longer than asked
    ///   (a 1 µs timeout lasts about one 4 ms clock tick on Linux); with it, each wait
    ///   costs one extra system call on the epoll method (a `timerfd` update).
    /// - Throws: ``LoopError`` of kind ``LoopError/Kind/backendFailure`` naming the
    ///   libevent call that failed, or ``SystemError`` when the kernel refuses the
    ///   wakeup descriptor (e.g. the process is out of descriptors).
    public init(preciseTimer: Bool = true) throws {
        guard libeventThreadingResult == 0 else {
            throw LoopError(.backendFailure, "libevent: evthread_use_pthreads failed; libevent lacks thread support")
        }
        guard let config = event_config_new() else {
            throw LoopError(.backendFailure, "libevent: event_config_new failed")
        }
        if preciseTimer {
            _ = event_config_set_flag(config, Int32(bitPattern: EVENT_BASE_FLAG_PRECISE_TIMER.rawValue))
        }
        let madeBase = event_base_new_with_config(config)
        event_config_free(config)
        guard let base = madeBase else {
            throw LoopError(.backendFailure, "libevent: event_base_new_with_config failed")
        }

        let wake: WakeupChannel
        do {
            wake = try WakeupChannel()
        } catch {
            event_base_free(base)
            throw error
        }

        let method = event_base_get_method(base).map { String(cString: $0) } ?? "unknown"
        let state = UnsafeMutablePointer<DispatchState>.allocate(capacity: 1)
        state.initialize(to: DispatchState(method: method, wake: wake))

        func undo(_ events: OpaquePointer?...) {
            for event in events { if let event { event_free(event) } }
            event_base_free(base)
            wake.close()
            state.deinitialize(count: 1)
            state.deallocate()
        }

        guard
            let wakeEvent = event_new(
                base, wake.readFD, Int16(EV_READ | EV_PERSIST), libeventWakeCallback, UnsafeMutableRawPointer(state))
        else {
            undo()
            throw LoopError(.backendFailure, "libevent: event_new failed for the wakeup fd \(wake.readFD)")
        }
        guard event_add(wakeEvent, nil) == 0 else {
            undo(wakeEvent)
            throw LoopError(.backendFailure, "libevent: event_add failed for the wakeup fd \(wake.readFD)")
        }
        guard let timer = event_new(base, -1, 0, libeventTimerCallback, UnsafeMutableRawPointer(state)) else {
            undo(wakeEvent)
            throw LoopError(.backendFailure, "libevent: event_new failed for the wait timer")
        }

        let version = event_get_version().map { String(cString: $0) } ?? "unknown version"
        details = "libevent \(version), method \(method)" + (preciseTimer ? ", precise timer" : ", coarse timer")
        self.base = base
        self.timer = timer
        self.wakeEvent = wakeEvent
        self.state = state
        self.wake = wake
    }

    deinit {
        close()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    // MARK: - Interest

    /// Starts watching `fd` for `interest`, level-triggered.
    ///
    /// - Throws: ``SystemError`` named `event_add` when the OS method refuses the
    ///   descriptor (`EBADF` for one that is not open, `EPERM` for a regular file on
    ///   epoll); ``SystemError`` with `EEXIST` if `fd` is already registered;
    ///   ``LoopError`` for a negative `fd`, an empty interest, or a closed backend.
    public func register(fd: Int32, interest: IOEvents) throws {
        let base = try liveBase("register(fd:interest:)")
        try check(fd: fd, interest: interest, call: "register(fd:interest:)")
        if Int(fd) < state.pointee.slots.count, state.pointee.slots[Int(fd)].event != nil {
            throw SystemError(errno: EEXIST, call: "libevent register(fd: \(fd))")
        }
        guard
            let event = event_new(
                base, fd, Self.flags(interest), libeventIOCallback, UnsafeMutableRawPointer(state))
        else {
            throw LoopError(.backendFailure, "libevent: event_new failed for fd \(fd)")
        }
        errno = 0
        guard event_add(event, nil) == 0 else {
            let error = errno
            event_free(event)
            throw Self.failure("event_add", fd: fd, errno: error)
        }
        state.pointee.store(event, interest: interest, for: fd)
    }

    /// Changes what a registered `fd` is watched for.
    ///
    /// - Throws: ``SystemError`` with `ENOENT` when `fd` is not registered;
    ///   ``SystemError`` or ``LoopError`` naming `event_add` when libevent refuses the
    ///   new interest (the old interest is then restored if possible).
    public func modify(fd: Int32, interest: IOEvents) throws {
        let base = try liveBase("modify(fd:interest:)")
        try check(fd: fd, interest: interest, call: "modify(fd:interest:)")
        guard Int(fd) < state.pointee.slots.count, let event = state.pointee.slots[Int(fd)].event else {
            throw SystemError(errno: ENOENT, call: "libevent modify(fd: \(fd))")
        }
        let old = IOEvents(rawValue: state.pointee.slots[Int(fd)].interest)
        if old == interest { return }
        let arg = UnsafeMutableRawPointer(state)
        _ = event_del(event)
        _ = event_assign(event, base, fd, Self.flags(interest), libeventIOCallback, arg)
        errno = 0
        guard event_add(event, nil) == 0 else {
            let error = errno
            _ = event_assign(event, base, fd, Self.flags(old), libeventIOCallback, arg)
            _ = event_add(event, nil)
            throw Self.failure("event_add", fd: fd, errno: error)
        }
        state.pointee.slots[Int(fd)].interest = interest.rawValue
    }

    /// Stops watching `fd` and frees its event. A descriptor its owner already closed,
    /// one that is not registered, or a closed backend is not an error.
    public func unregister(fd: Int32) throws {
        guard base != nil, let event = state.pointee.remove(fd: fd) else { return }
        // event_free deletes the event first; libevent's epoll method ignores the
        // EBADF/ENOENT a descriptor closed by its owner produces.
        event_free(event)
    }

    // MARK: - Waiting

    /// Waits for readiness, a wakeup, or the timeout, and appends every ready fd to
    /// `ready`, once per descriptor, with everything it is ready for.
    ///
    /// A zero or negative `timeout` polls without blocking; `nil` blocks until an fd is
    /// ready or ``wakeup()`` is called. A wakeup is consumed here and never reported.
    /// Nothing is allocated once the backend has seen its working number of fds.
    ///
    /// - Throws: ``SystemError`` or ``LoopError`` naming `event_base_loop` when the OS
    ///   method fails, ``LoopError`` when the backend is closed.
    public func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        let base = try liveBase("wait(timeout:into:)")
        // EVLOOP_ONCE: block until something is active, run the callbacks, return.
        // EVLOOP_NONBLOCK on top: poll once instead of blocking. (EVLOOP_NONBLOCK alone
        // would keep dispatching while level-triggered fds stay ready, i.e. forever.)
        var flags = Int32(EVLOOP_ONCE)
        var armed = false
        if let timeout {
            if var interval = Self.interval(timeout) {
                // The reusable one-shot timer bounds the blocking dispatch.
                guard let timer, event_add(timer, &interval) == 0 else {
                    throw LoopError(.backendFailure, "libevent: event_add failed for the wait timer")
                }
                state.pointee.timerFired = false
                armed = true
            } else {
                flags |= Int32(EVLOOP_NONBLOCK)
            }
        }
        // libevent writes bufferevents' output with writev, which raises SIGPIPE when the
        // peer is gone: block it for the dispatch and discard one raised there. Loops
        // ignore SIGPIPE by default, and an ignored one is discarded by the kernel: then
        // one disposition query replaces the guard's four calls.
        var sigpipeGuard = cloop_sigpipe_guard()
        let guardSigpipe = transportsWithOutput > 0 && cloop_signal_disposition(SIGPIPE) != 1
        if guardSigpipe { cloop_sigpipe_block(&sigpipeGuard) }
        defer { if guardSigpipe { cloop_sigpipe_unblock(&sigpipeGuard) } }
        state.pointee.callbacks = 0
        errno = 0
        var result = event_base_loop(base, flags)
        var error = errno
        // libevent's epoll and kqueue methods fetch at most as many events per dispatch as
        // their array holds (epoll: 32 at first, doubled after every dispatch that fills
        // it, up to 4096). When a dispatch filled it, more fds may be ready: fetch them
        // with non-blocking dispatches, so this wait still reports every ready fd. This
        // happens only while the array grows or when more fds are ready than it holds;
        // otherwise a wait is exactly one event_base_loop call.
        var passes = 1
        while result == 0, passes < Self.maximumPasses, state.pointee.dispatchFilledArray() {
            state.pointee.callbacks = 0
            errno = 0
            result = event_base_loop(base, Int32(EVLOOP_ONCE | EVLOOP_NONBLOCK))
            error = errno
            passes += 1
        }
        if armed, !state.pointee.timerFired, let timer { _ = event_del(timer) }
        state.pointee.drain(into: &ready)
        if result < 0 {
            throw Self.failure("event_base_loop", fd: nil, errno: error)
        }
    }

    /// At most this many `event_base_loop` calls per wait (the first one plus follow-ups
    /// after a dispatch filled libevent's event array).
    private static var maximumPasses: Int { 8 }

    /// Makes the current or the next ``wait(timeout:into:)`` return promptly, from any
    /// thread. Harmless after ``close()``. Lock-free; leaves `errno` as it was.
    public func wakeup() { wake.wakeup() }

    /// Frees every event, the base and the wakeup descriptor. Calling it again does nothing.
    ///
    /// Transports still open keep their sockets but lose their bufferevents, which are
    /// freed first: they do no more I/O (closing them later still closes their sockets
    /// if the loop can run their `connectionLost`).
    public func close() {
        guard base != nil else { return }
        let live = transports
        for transport in live.values { transport.backendClosing() }
        transports = [:]
        transportsWithOutput = 0
        state.pointee.freeAllEvents()
        if let timer { event_free(timer) }
        if let wakeEvent { event_free(wakeEvent) }
        timer = nil
        wakeEvent = nil
        if let base { event_base_free(base) }
        base = nil
        wake.close()
    }

    // MARK: - Transports

    /// The transport hook: a ``BuffereventTransport`` on this backend's base for every
    /// stream socket (TCP and Unix).
    ///
    /// - Throws: ``LoopError`` when the backend is closed or libevent cannot make the
    ///   bufferevent, or the loop's error when it cannot schedule `connectionMade`.
    public func makeSocketTransport(_ request: SocketTransportRequest) throws -> (any Transport)? {
        let base = try liveBase("makeSocketTransport(_:)")
        return try BuffereventTransport(request, base: base, selector: self)
    }

    /// How many bufferevent transports are alive (not yet ended, backend open).
    public var liveTransportCount: Int { transports.count }

    func adopt(_ transport: BuffereventTransport) {
        transports[ObjectIdentifier(transport)] = transport
    }

    func forget(_ transport: BuffereventTransport) {
        transports[ObjectIdentifier(transport)] = nil
    }

    /// A transport's output buffer became non-empty (+1) or empty (-1).
    func outputWaiting(_ delta: Int) {
        transportsWithOutput = max(0, transportsWithOutput + delta)
    }

    // MARK: - Helpers

    private func liveBase(_ call: String) throws -> OpaquePointer {
        guard let base else {
            throw LoopError.backendClosed(name, hook: call)
        }
        return base
    }

    private func check(fd: Int32, interest: IOEvents, call: String) throws {
        guard fd >= 0 else {
            throw LoopError(.invalidArgument, "libevent backend: \(call) got fd \(fd); a descriptor is never negative")
        }
        guard !interest.intersection([.readable, .writable]).isEmpty else {
            throw LoopError(.invalidArgument, "libevent backend: \(call) got an empty interest for fd \(fd)")
        }
    }

    private static func flags(_ interest: IOEvents) -> Int16 {
        var flags = Int16(EV_PERSIST)
        if interest.contains(.readable) { flags |= Int16(EV_READ) }
        if interest.contains(.writable) { flags |= Int16(EV_WRITE) }
        return flags
    }

    /// `nil` for a timeout that is zero or negative; otherwise the timeout rounded up to
    /// whole microseconds, so a wait never ends before it.
    private static func interval(_ duration: Duration) -> timeval? {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return nil }
        let limit: Int64 = 100_000_000  // about three years; libevent adds it to "now"
        if seconds >= limit { return timeval(tv_sec: .init(limit), tv_usec: 0) }
        var micros = (attoseconds + 999_999_999_999) / 1_000_000_000_000
        var whole = seconds
        if micros >= 1_000_000 {
            whole += 1
            micros -= 1_000_000
        }
        return timeval(tv_sec: .init(whole), tv_usec: .init(micros))
    }

    /// A ``SystemError`` when libevent left an errno (e.g. from `epoll_ctl`), else a
    /// ``LoopError``; both name the libevent call and the fd.
    private static func failure(_ call: String, fd: Int32?, errno error: Int32) -> any Error {
        let subject = fd.map { " for fd \($0)" } ?? ""
        if error != 0 { return SystemError(errno: error, call: "libevent \(call)\(subject)") }
        return LoopError(.backendFailure, "libevent: \(call) failed\(subject)")
    }
}

// MARK: - Dispatch state

/// One registered descriptor.
private struct Slot {
    var event: OpaquePointer?
    /// The `IOEvents` raw value watched.
    var interest: UInt8 = 0
    /// The `IOEvents` raw value collected during the current wait.
    var pending: UInt8 = 0
}

/// What libevent's callbacks write to during `event_base_loop`. Loop thread only.
private struct DispatchState {
    /// Indexed by descriptor; grows in `store`, never during a wait.
    var slots: ContiguousArray<Slot> = []
    /// Descriptors with a non-empty `pending`, in the order libevent reported them.
    /// Its capacity is kept at least the number of registered descriptors.
    var touched: ContiguousArray<Int32> = []
    var registered = 0
    var timerFired = false
    /// Callbacks run during the current `event_base_loop` call.
    var callbacks = 0
    /// Our estimate of how many events libevent's method fetches per dispatch, mirroring
    /// its growth rule; 0 when the method has no such limit (poll, select).
    var arrayEstimate: Int
    /// The size at which the method's array stops growing.
    let arrayLimit: Int
    /// `IOEvents` raw values, read once (a cross-module static costs a lazy-init check).
    let readableBit = IOEvents.readable.rawValue
    let writableBit = IOEvents.writable.rawValue
    /// The backend's wakeup channel, drained by the wakeup event's callback.
    let wake: WakeupChannel

    init(method: String, wake: WakeupChannel) {
        self.wake = wake
        switch method {
        case "epoll":
            arrayEstimate = 32
            arrayLimit = 4096
        case "kqueue":
            arrayEstimate = 64
            arrayLimit = Int.max / 2
        default:
            arrayEstimate = 0
            arrayLimit = 0
        }
        touched.reserveCapacity(64)
    }

    /// Whether the last dispatch may have filled the method's event array, in which case
    /// libevent has doubled it (and so does the estimate). Two entries of slack cover
    /// events that run no callback of ours (libevent's own notification fd and timerfd).
    mutating func dispatchFilledArray() -> Bool {
        guard arrayEstimate > 0, callbacks + 2 >= arrayEstimate else { return false }
        arrayEstimate = min(arrayEstimate * 2, arrayLimit)
        return true
    }

    mutating func store(_ event: OpaquePointer, interest: IOEvents, for fd: Int32) {
        let index = Int(fd)
        if index >= slots.count {
            let wanted = max(index + 1, slots.count * 2, 64)
            slots.reserveCapacity(wanted)
            slots.append(contentsOf: repeatElement(Slot(), count: wanted - slots.count))
        }
        slots[index] = Slot(event: event, interest: interest.rawValue, pending: 0)
        registered += 1
        if touched.capacity < registered {
            touched.reserveCapacity(max(registered, touched.capacity * 2))
        }
    }

    mutating func remove(fd: Int32) -> OpaquePointer? {
        let index = Int(fd)
        guard index >= 0, index < slots.count, let event = slots[index].event else { return nil }
        slots[index] = Slot()
        registered -= 1
        return event
    }

    @inline(__always)
    mutating func record(fd: Int32, what: Int16) {
        let index = Int(fd)
        guard index >= 0, index < slots.count else { return }
        var events: UInt8 = 0
        if what & Int16(EV_READ) != 0 { events |= readableBit }
        if what & Int16(EV_WRITE) != 0 { events |= writableBit }
        if events == 0 { return }
        if slots[index].pending == 0 { touched.append(fd) }
        slots[index].pending |= events
    }

    mutating func drain(into ready: inout ReadinessBuffer) {
        var position = 0
        while position < touched.count {
            let fd = touched[position]
            ready.append(fd: fd, events: IOEvents(rawValue: slots[Int(fd)].pending))
            slots[Int(fd)].pending = 0
            position += 1
        }
        touched.removeAll(keepingCapacity: true)
    }

    mutating func freeAllEvents() {
        for index in slots.indices {
            if let event = slots[index].event { event_free(event) }
        }
        slots = []
        touched = []
        registered = 0
    }
}

// MARK: - C callbacks (run on the loop thread, inside event_base_loop)

private func libeventIOCallback(_ fd: Int32, _ what: Int16, _ arg: UnsafeMutableRawPointer?) {
    guard let arg else { return }
    let state = arg.assumingMemoryBound(to: DispatchState.self)
    state.pointee.callbacks += 1
    state.pointee.record(fd: fd, what: what)
}

private func libeventWakeCallback(_ fd: Int32, _ what: Int16, _ arg: UnsafeMutableRawPointer?) {
    guard let arg else { return }
    let state = arg.assumingMemoryBound(to: DispatchState.self)
    state.pointee.callbacks += 1
    // drain() leaves errno as it was: errno is libevent's to read after the dispatch.
    state.pointee.wake.drain()
}

private func libeventTimerCallback(_ fd: Int32, _ what: Int16, _ arg: UnsafeMutableRawPointer?) {
    guard let arg else { return }
    let state = arg.assumingMemoryBound(to: DispatchState.self)
    state.pointee.callbacks += 1
    state.pointee.timerFired = true
}

// MARK: - Process-wide setup and wakeup descriptors

/// `evthread_use_pthreads()`'s result, run once per process before the first base is
/// made (a global's initializer runs exactly once, thread-safely). The same one-time
/// setup routes libevent's log: its warnings repeat failures the hooks already throw
/// (e.g. "Epoll ADD(1) on fd 9 failed"), so only its errors reach standard error.
private let libeventThreadingResult: Int32 = {
    event_set_log_callback(libeventLogCallback)
    return evthread_use_pthreads()
}()

private func libeventLogCallback(_ severity: Int32, _ message: UnsafePointer<CChar>?) {
    guard severity >= Int32(EVENT_LOG_ERR), let message else { return }
    var line = Array("libevent: ".utf8)
    line.append(contentsOf: UnsafeBufferPointer(start: message, count: strlen(message)).lazy.map { UInt8(bitPattern: $0) })
    line.append(UInt8(ascii: "\n"))
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
