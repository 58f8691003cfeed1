import LoopCore

/// The kit's ``ForwardingBackend`` under the harness's name, made from the backend under
/// test. Cases subclass it to change one hook: inject readiness, fail a hook on purpose,
/// supply their own transports.
class DelegatingBackend: ForwardingBackend, @unchecked Sendable {
    init(inner: any SelectorBackend) { super.init(wrapping: inner) }
}
