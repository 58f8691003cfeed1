/// A backend that forwards every hook — the optional ones and the transport hook
/// included — to another backend it wraps.
///
/// Subclass it to change one thing about a real backend and keep the rest: a virtual
/// clock (LoopTesting's `VirtualClockBackend`), injected readiness or failures in the
/// conformance suite, a counting or tracing wrapper. Override ``descriptor`` to give the
/// wrapper its own identity (name, capabilities).
///
/// ```swift
/// final class CountingWaits: ForwardingBackend, @unchecked Sendable {
///     let waits = Atomic<Int>(0)
///     override func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
///         waits.add(1, ordering: .relaxed)
///         try super.wait(timeout: timeout, into: &ready)
///     }
/// }
/// ```
///
/// Threading is the wrapped backend's: ``wakeup()`` may be called from any thread, every
/// other hook from the loop's. `@unchecked Sendable`: the only stored property is a
/// constant `Sendable` backend; a subclass keeps its own state `Sendable` (atomics, mutexes).
///
/// It is `public` rather than kit-only because public wrappers (`VirtualClockBackend`)
/// inherit from it.
open class ForwardingBackend: SelectorBackend, @unchecked Sendable {
    /// The backend every hook goes to. This wrapper owns it and closes it in ``close()``.
    public let inner: any SelectorBackend

    /// Wraps `inner`, a fresh backend nothing else uses.
    public init(wrapping inner: any SelectorBackend) { self.inner = inner }

    /// The wrapped backend's identity, unless overridden.
    open var descriptor: BackendDescriptor { inner.descriptor }
    open var details: String { inner.details }
    open func now() -> Double { inner.now() }
    open func register(fd: Int32, interest: IOEvents) throws { try inner.register(fd: fd, interest: interest) }
    open func modify(fd: Int32, interest: IOEvents) throws { try inner.modify(fd: fd, interest: interest) }
    open func unregister(fd: Int32) throws { try inner.unregister(fd: fd) }
    open func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        try inner.wait(timeout: timeout, into: &ready)
    }
    open func wakeup() { inner.wakeup() }
    open func close() { inner.close() }
    open func makeSocketTransport(_ request: SocketTransportRequest) throws -> (any Transport)? {
        try inner.makeSocketTransport(request)
    }
}
