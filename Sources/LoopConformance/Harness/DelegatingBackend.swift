import LoopCore

/// Forwards every hook, the transport hook included, to another backend (the one
/// under test). Cases subclass it to change one hook: inject readiness, fail a hook
/// on purpose, supply their own transports.
class DelegatingBackend: SelectorBackend, @unchecked Sendable {
    // @unchecked: the only stored property is a constant Sendable backend; subclasses
    // keep their own state Sendable (atomics, mutexes).
    let inner: any SelectorBackend

    init(inner: any SelectorBackend) { self.inner = inner }

    var name: String { inner.name }
    var capabilities: BackendCapabilities { inner.capabilities }
    var details: String { inner.details }
    func now() -> Double { inner.now() }
    func register(fd: Int32, interest: IOEvents) throws { try inner.register(fd: fd, interest: interest) }
    func modify(fd: Int32, interest: IOEvents) throws { try inner.modify(fd: fd, interest: interest) }
    func unregister(fd: Int32) throws { try inner.unregister(fd: fd) }
    func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws { try inner.wait(timeout: timeout, into: &ready) }
    func wakeup() { inner.wakeup() }
    func close() { inner.close() }
    func makeSocketTransport(_ request: SocketTransportRequest) throws -> (any Transport)? {
        try inner.makeSocketTransport(request)
    }
}
