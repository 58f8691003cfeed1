import CLoopShims

/// The hooks an OS readiness mechanism implements to drive a ``BaseEventLoop``.
///
/// This is the only thing a backend writes: everything else — ready queue, timers,
/// run/stop/close, exception handling, debug mode — is ``BaseEventLoop``'s.
///
/// ## Threading
/// The loop calls every hook from its own thread, except ``wakeup()``, which any
/// thread may call at any time, including while the loop thread is inside
/// ``wait(timeout:into:)`` or after ``close()``. That is why a backend is `Sendable`:
/// implementations are usually `@unchecked Sendable` and must keep ``wakeup()``
/// free of data races.
///
/// ## Required hooks
/// ``register(fd:interest:)``, ``modify(fd:interest:)``, ``unregister(fd:)``,
/// ``wait(timeout:into:)``, ``wakeup()``, ``close()`` and ``name`` have no default:
/// a backend that omits one does not compile.
///
/// ## Optional hooks
/// ``capabilities``, ``details``, the clock hook ``now()`` and the transport hook
/// ``makeSocketTransport(_:)`` have defaults.
public protocol SelectorBackend: AnyObject, Sendable {
    /// The registry name of this backend, e.g. `"epoll"`.
    var name: String { get }

    /// Starts watching `fd` for `interest`. The loop never registers an fd twice
    /// without unregistering it first, never registers an empty interest, and checks
    /// that `fd` is open before calling. Registering an fd twice should throw
    /// `SystemError` with `EEXIST`, as epoll does.
    func register(fd: Int32, interest: IOEvents) throws

    /// Changes the interest of a registered `fd` (never to an empty set). An fd that
    /// is not registered should throw `SystemError` with `ENOENT`.
    func modify(fd: Int32, interest: IOEvents) throws

    /// Stops watching `fd`. The fd may already be closed by its owner, which must not
    /// be an error. (Users should remove watchers before closing an fd, as in asyncio:
    /// an epoll registration outlives `close` while a `dup` of the fd stays open.)
    func unregister(fd: Int32) throws

    /// Waits until a registered fd is ready, ``wakeup()`` is called, or `timeout`
    /// passes (`nil`: no limit; zero: do not block), then appends every ready fd to
    /// `ready` (which the loop hands over empty). Reporting an fd that is not
    /// registered is an error the loop reports, naming this backend.
    ///
    /// A wait interrupted by a signal returns normally with what it has; a backend
    /// may also retry after `EINTR` (libevent does), so ``wakeup()`` is the only
    /// guaranteed way to cut a wait short.
    func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws

    /// Makes a current or the next ``wait(timeout:into:)`` return promptly.
    /// Called from any thread; must be async-signal-safe enough to call from
    /// a signal handler's deferred path (one write to an eventfd or pipe is).
    func wakeup()

    /// Releases every OS resource. Called once, by ``BaseEventLoop/close()``.
    func close()

    /// Optional: what this backend can do. Defaults to ``BackendCapabilities/standard``.
    /// Hang-ups and errors may be reported only for the events the fd is watched for.
    var capabilities: BackendCapabilities { get }

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
    public var capabilities: BackendCapabilities { .standard }

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
