/// The hook a TLS upgrade of a stream (asyncio's `StreamWriter.start_tls`) needs:
/// the writer and its protocol move to the upgraded transport.
extension StreamWriter {
    /// Whether the writer belongs to a server's connection (its protocol runs a
    /// client-connected callback), so an upgrade takes the server side.
    package var isServerSide: Bool { streamProtocol.clientConnected != nil }

    /// The protocol the writer's transport delivers to.
    package var readerProtocol: StreamReaderProtocol { streamProtocol }

    /// Makes `transport` the writer's transport and its protocol's (asyncio's
    /// `StreamReaderProtocol._replace_writer`).
    package func replaceTransport(_ transport: any Transport) {
        self.transport = transport
        streamProtocol.transport = transport
    }
}
