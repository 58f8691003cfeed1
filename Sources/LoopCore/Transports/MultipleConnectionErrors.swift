/// Every address
/// ``BaseEventLoop/createConnection(_:host:port:family:proto:flags:localAddr:happyEyeballsDelay:interleave:)``
/// tried failed, with different errors (asyncio's `OSError("Multiple exceptions: …")`).
/// The description lists each error, and so each address.
public struct MultipleConnectionErrors: Error, CustomStringConvertible {
    /// One error per address tried, in order.
    public let errors: [any Error]

    public var description: String {
        "Multiple exceptions: " + errors.map { String(describing: $0) }.joined(separator: ", ")
    }
}
