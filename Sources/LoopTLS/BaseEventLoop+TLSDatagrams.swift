import LoopCore

/// TLS does not run over datagrams (asyncio's `create_datagram_endpoint` has no `ssl`).
extension BaseEventLoop {
    /// Always throws ``LoopError/Kind-swift.enum/invalidArgument``: a datagram endpoint
    /// cannot use TLS (DTLS is not supported). Use the call without `ssl:`.
    public func createDatagramEndpoint<P: DatagramProtocol>(
        _ factory: () throws -> P, localAddr: (host: String, port: Int)? = nil, remoteAddr: (host: String, port: Int)? = nil,
        ssl: TLSContext?
    ) async throws -> (transport: DatagramTransport, protocol: P) {
        throw LoopError(.invalidArgument, "createDatagramEndpoint: ssl is not supported on datagram endpoints (TLS needs a stream; DTLS is not supported)")
    }
}
