import CLoopShims

/// The hooks an OS readiness mechanism implements to drive a ``BaseEventLoop``.
///
/// This is the only thing a backend writes: everything else — ready queue, timers,
/// run/stop/close, exception handling, debug mode — is ``BaseEventLoop``'s. Backend
/// authors write `@_spi(Backend) import LoopCore`, which also opens the backend kit:
/// `WakeupChannel` (the cross-thread wakeup, done once), ``ForwardingBackend`` (a
/// base class that wraps another backend) and the transport pieces.
///
/// The contract below is what the conformance suite checks (`HOOK-` cases); each rule
/// names its case.
///
/// ## Identity
/// A backend's name, summary, priority and capabilities live in its
/// ``BackendDescriptor``, written once (usually `static let descriptor`); the instance
/// returns it from ``descriptor``, and ``name`` and ``capabilities`` read it.
///
/// ## Threading
/// The loop calls every hook from its own thread, except ``wakeup()``, which any
/// thread may call at any time, including while the loop thread is inside
/// ``wait(timeout:into:)`` or after ``close()``. That is why a backend is `Sendable`:
/// implementations are usually `@unchecked Sendable` and keep ``wakeup()`` free of
/// data races by forwarding it to a `WakeupChannel`.
///
/// ## Descriptors
/// - `register` of an fd already registered throws ``SystemError`` `EEXIST`; `modify`
///   of an fd not registered throws ``SystemError`` `ENOENT` (HOOK-X08).
/// - `unregister` of an fd that is not registered — never registered, unregistered
///   already, closed by its owner, or any fd after ``close()`` — is a silent no-op and
///   never throws (HOOK-X09, X10, X18). (epoll's `ENOENT`/`EBADF` from `EPOLL_CTL_DEL`
///   are therefore swallowed, unlike its `EEXIST`/`ENOENT` from `ADD`/`MOD`.)
/// - An fd its owner closes while it is registered (after `register` or `modify`,
///   before the next wait) must not crash, hang or fail the wait: the next wait returns
///   normally and reports the other fds as usual; the closed fd is either not reported
///   (epoll drops it) or reported readable and writable (poll's `POLLNVAL`), so its
///   owner meets `EBADF` on its next I/O. A mechanism that aborts on it (libuv) needs a
///   guard (HOOK-X20).
///
/// ## Readiness
/// Level-triggered: an fd is reported by every wait while it stays ready, once per
/// wait, with everything it is ready for in one event (HOOK-X01..X07). A hang-up or
/// an error is reported as at least every event the fd is watched for, so the callback
/// watching it runs and meets the end of file or the error; a backend may add the
/// event not watched (epoll and poll report both), which the loop ignores (HOOK-X22).
///
/// ## Timing
/// ``wait(timeout:into:)`` may return early with nothing ready (a spurious return: the
/// loop just computes its timeout again and waits once more), but must not return
/// late: at most the OS's scheduling slack after the timeout, i.e. milliseconds, never
/// a rounding of a short timeout up to a long one (a wait of 1 ms or less must not
/// last tens of milliseconds; HOOK-X11, X12, X21).
///
/// ## After close
/// ``close()`` may be called again (a no-op); ``wakeup()`` is harmless and writes to
/// no descriptor; ``unregister(fd:)`` does not throw; ``register(fd:interest:)``,
/// ``modify(fd:interest:)`` and ``wait(timeout:into:)`` throw ``LoopError`` of kind
/// ``LoopError/Kind-swift.enum/closed`` (see `LoopError.backendClosed(_:hook:)`; HOOK-X15,
/// X16, X19).
///
/// ## Capabilities
/// What ``capabilities`` declares must hold: the suite runs the cases of every declared
/// capability and fails the backend where it does not (e.g. ``BackendCapabilities/regularFiles``
/// declared over epoll fails HOOK-X23); an undeclared one only skips cases.
///
/// ## Required hooks
/// ``register(fd:interest:)``, ``modify(fd:interest:)``, ``unregister(fd:)``,
/// ``wait(timeout:into:)``, ``wakeup()``, ``close()`` and ``descriptor`` have no
/// default: a backend that omits one does not compile.
///
/// ## Optional hooks
/// ``details``, the clock hook ``now()`` and the transport hook
/// ``makeSocketTransport(_:)`` have defaults.
public protocol SelectorBackend: AnyObject, Sendable {
    /// This backend's identity: name, summary, priority and ``BackendCapabilities``.
    /// Usually `Self.descriptor`, the registry entry the backend is made from.
    var descriptor: BackendDescriptor { get }

    /// Starts watching `fd` for `interest`. The loop never registers an fd twice
    /// without unregistering it first, never registers an empty interest, and checks
    /// that `fd` is open before calling. Registering an fd twice throws
    /// ``SystemError`` `EEXIST`; after ``close()`` it throws ``LoopError`` `.closed`.
    func register(fd: Int32, interest: IOEvents) throws

    /// Changes the interest of a registered `fd` (never to an empty set). An fd that
    /// is not registered throws ``SystemError`` `ENOENT`; after ``close()`` this throws
    /// ``LoopError`` `.closed`.
    func modify(fd: Int32, interest: IOEvents) throws

    /// Stops watching `fd`. An fd that is not registered (never registered, already
    /// unregistered, closed by its owner, or after ``close()``) is a silent no-op: this
    /// throws only for a failure of the mechanism itself. (Users should remove watchers
    /// before closing an fd, as in asyncio: an epoll registration outlives `close`
    /// while a `dup` of the fd stays open.)
    func unregister(fd: Int32) throws

    /// Waits until a registered fd is ready, ``wakeup()`` is called, or `timeout`
    /// passes (`nil`: no limit; zero or negative: do not block), then appends every
    /// ready fd to `ready` (which the loop hands over empty). Reporting an fd that is
    /// not registered is an error the loop reports, naming this backend.
    ///
    /// It may return early with nothing (spurious returns are allowed), but no later
    /// than the OS's scheduling slack after `timeout`. A wait interrupted by a signal
    /// returns normally with what it has; a backend may also retry after `EINTR`
    /// (libevent does), so ``wakeup()`` is the only guaranteed way to cut a wait short.
    /// After ``close()`` it throws ``LoopError`` `.closed`.
    func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws

    /// Makes a current or the next ``wait(timeout:into:)`` return promptly.
    /// Called from any thread, also after ``close()`` (where it does nothing); must be
    /// async-signal-safe enough to call from a signal handler's deferred path.
    /// `WakeupChannel.wakeup()` is all of that.
    func wakeup()

    /// Releases every OS resource. Called by ``BaseEventLoop/close()``; calling it
    /// again does nothing.
    func close()

    /// Optional: extra facts for `loopctl backends`, e.g. libevent's own method.
    var details: String { get }

    /// Optional clock hook: the loop's time in seconds, monotonic, never going
    /// backwards. Defaults to `CLOCK_MONOTONIC`; a virtual-time backend overrides it.
    func now() -> Double

    /// Optional transport hook (asyncio's `_make_socket_transport`): a transport for a
    /// connected stream socket (TCP or Unix), or `nil` for the loop's own readiness-based
    /// ``SocketTransport`` (the default). Datagram and pipe transports are always the
    /// loop's own.
    ///
    /// Called on the loop's thread whenever the loop wraps a connected stream socket:
    /// `createConnection`, `connectAcceptedSocket`, the Unix variants, and each
    /// connection a ``Server`` accepts. A transport returned here must keep the contract
    /// of ``SocketTransport``, which the conformance suite checks for every backend.
    /// Building it on ``FileDescriptorTransport`` (``FileDescriptorTransport/init(_:kind:)``
    /// with the request) keeps most of that contract by construction: the lifecycle of
    /// ``TransportCore`` (closing, `connectionLost` exactly once as a loop callback,
    /// asyncio's fatal-error rule, ignored writes after the loss, write flow control)
    /// and the fd ownership (the ownership mark, server accounting, closing the fd). The
    /// transport then does its own I/O and
    /// - calls ``FileDescriptorTransport/start(waiter:startReading:)`` once, from its
    ///   initializer (`connectionMade` as a loop callback, then reading, then the waiter);
    /// - runs protocol methods only as loop callbacks, never from inside
    ///   ``wait(timeout:into:)``, in the order `connectionMade`, `dataReceived`
    ///   (or `getBuffer`/`bufferUpdated`)…, `eofReceived`, `connectionLost`;
    /// - reports extra info with ``SocketTransportRequest/prepareSocket()``'s keys;
    /// - ends on errors through ``TransportCore/fail(_:message:)`` with SocketTransport's
    ///   messages (e.g. "Fatal error: protocol.data_received() call failed."); a reset
    ///   peer is a ``SystemError`` (ECONNRESET, EPIPE).
    ///
    /// A transport may outlive the backend: ``close()`` must leave the backend's
    /// transports harmless (they then stop doing I/O), since a program may close a loop
    /// with transports still open. Throwing fails the connection: the caller of
    /// `createConnection` (…) gets the error; a server closes the accepted fd and
    /// reports the error to the exception handler.
    func makeSocketTransport(_ request: SocketTransportRequest) throws -> (any Transport)?
}

extension SelectorBackend {
    /// The registry name of this backend, e.g. `"epoll"` (its ``descriptor``'s).
    public var name: String { descriptor.name }

    /// What this backend can do (its ``descriptor``'s).
    public var capabilities: BackendCapabilities { descriptor.capabilities }

    public var details: String { "" }

    @inlinable
    public func now() -> Double { MonotonicClock.seconds() }

    public func makeSocketTransport(_ request: SocketTransportRequest) throws -> (any Transport)? { nil }
}

/// Readings of the system's monotonic clock.
public enum MonotonicClock {
    /// Seconds since an arbitrary fixed point (`CLOCK_MONOTONIC`).
    @inlinable
    public static func seconds() -> Double { Double(cloop_monotonic_ns()) * 1e-9 }

    /// Nanoseconds since an arbitrary fixed point (`CLOCK_MONOTONIC`).
    @inlinable
    public static func nanoseconds() -> Int64 { Int64(cloop_monotonic_ns()) }
}

extension Duration {
    /// Milliseconds for a poll-style timeout, rounded up so that a wait never ends
    /// before the deadline it was computed from (which would make the loop spin).
    public var pollMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        if seconds >= Int64(Int32.max / 1000) { return Int32.max }
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }
}
