/// Answers a loop's `getaddrinfo` in place of the system's resolver: service
/// discovery, a fixed host table, or canned answers in tests.
///
/// Set one with ``BaseEventLoop/setAddressResolver(_:)``. It is called on the
/// ``Resolver`` pool, never on the loop's thread, so it may block.
public protocol AddressResolver: Sendable {
    /// The addresses for `host` and `service` (a port number or a service name), in
    /// the order connections should try them. Throw ``ResolverError`` for a name that
    /// does not resolve.
    func getaddrinfo(
        host: String?, service: String?, family: AddressFamily, type: SocketType, proto: Int32, flags: Int32
    ) throws -> [AddressInfo]
}
