/// One result of getaddrinfo: what to pass to socket(2) and the address to connect
/// or bind to (Python's `(family, type, proto, canonname, sockaddr)` tuple).
public struct AddressInfo: Sendable, Hashable, CustomStringConvertible {
    /// The address family, e.g. ``AddressFamily/inet``.
    public var family: AddressFamily
    /// The socket type, e.g. ``SocketType/stream``.
    public var type: SocketType
    /// The protocol number, e.g. `IPPROTO_TCP` (6).
    public var proto: Int32
    /// The canonical name of the host when `AI_CANONNAME` was asked for (first result
    /// only), otherwise `""`.
    public var canonicalName: String
    /// The socket address.
    public var address: SocketAddress

    public init(family: AddressFamily, type: SocketType, proto: Int32, canonicalName: String, address: SocketAddress) {
        self.family = family
        self.type = type
        self.proto = proto
        self.canonicalName = canonicalName
        self.address = address
    }

    public var description: String {
        "(\(family), \(type), \(proto), '\(canonicalName)', \(address))"
    }
}
