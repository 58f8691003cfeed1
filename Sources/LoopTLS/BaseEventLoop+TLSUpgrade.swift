import LoopCore

/// Upgrading a connection to TLS (asyncio's `loop.start_tls`), for STARTTLS-style
/// protocols (SMTP, IMAP, PostgreSQL).
extension BaseEventLoop {
    /// Runs TLS with `context` over the open `transport`, whose protocol `protocol` is
    /// (and stays) the application's; returns the ``TLSTransport`` to use from now on,
    /// once the handshake is done. The protocol does not get `connectionMade` again.
    /// `transport` then belongs to the TLS layer: do not use it any more. On failure or
    /// cancellation `transport` is closed and the error rethrown. `serverSide` runs the
    /// server's half of the handshake; a client checks `serverHostname`.
    public func startTLS(
        _ transport: any Transport, protocol: any BaseProtocol, context: TLSContext, serverSide: Bool = false,
        serverHostname: String? = nil, sslHandshakeTimeout: Duration? = nil, sslShutdownTimeout: Duration? = nil
    ) async throws -> TLSTransport {
        guard isOnLoopThread else {
            throw LoopError(.wrongThread, "startTLS: must be awaited from a task running on the loop's thread")
        }
        if isClosed { throw LoopError.closed("startTLS") }
        guard !transport.isClosing else {
            throw LoopError(.invalidState, "startTLS: transport \(transport) is closing")
        }
        try Self.checkTimeouts(sslHandshakeTimeout, sslShutdownTimeout)
        let waiter = createFuture(of: Void.self, from: nil)
        let tls = try TLSProtocol(
            loop: self, appProtocol: `protocol`, context: context, waiter: waiter, serverSide: serverSide,
            serverHostname: serverHostname, handshakeTimeout: sslHandshakeTimeout, shutdownTimeout: sslShutdownTimeout,
            callConnectionMade: false)
        // Nothing may reach the old protocol between the switch and the handshake.
        transport.pauseReading()
        transport.setProtocol(tls)
        let made = try callSoon({ try tls.connectionMade(transport) }, from: nil)
        let resumed = try callSoon({ transport.resumeReading() }, from: nil)
        do {
            try await waiter.value
        } catch {
            made.cancel()
            resumed.cancel()
            transport.close()
            throw error
        }
        return tls.applicationTransport
    }
}
