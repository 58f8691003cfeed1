/// A protocol callback of a stream transport that threw: the error and asyncio's
/// message for it (e.g. "Fatal error: protocol.data_received() call failed."), for
/// ``TransportCore/fail(_:message:)``.
public struct ProtocolCallbackFailure: Error {
    /// What the callback threw.
    public let error: any Error
    /// asyncio's message naming the callback.
    public let message: String
}

/// How a stream transport hands what it reads to its protocol, with asyncio's rules:
/// a ``BufferedProtocol`` supplies the memory (`getBuffer(sizeHint: -1)`, which must
/// not be empty) and hears `bufferUpdated`; a ``StreamProtocol`` gets `dataReceived`
/// with a copy; any other protocol's bytes are dropped. The loop's ``SocketTransport``
/// and a backend's own transports share it.
public enum StreamDelivery {
    /// Reads once with `read` and delivers the bytes to `proto`. `read` fills the
    /// memory it gets and returns the byte count, 0 at end of file, or -1 after a
    /// failure (its errno is the caller's to keep). For a stream protocol `read` gets
    /// `loop`'s receive buffer, shared by its transports (256 KiB, the most read at
    /// once), and the protocol gets a copy of what was read.
    ///
    /// Returns what `read` returned; nothing is delivered for 0 or -1.
    /// - Throws: ``ProtocolCallbackFailure`` when a protocol callback throws or
    ///   `getBuffer` returns an empty buffer.
    public static func read(
        to proto: any BaseProtocol, on loop: BaseEventLoop, _ read: (UnsafeMutableRawBufferPointer) -> Int
    ) throws(ProtocolCallbackFailure) -> Int {
        try deliver(
            buffered: proto as? any BufferedProtocol, stream: proto as? any StreamProtocol, on: loop, read)
    }

    /// As ``read(to:on:_:)`` for `transport`'s protocol, without casting it on every read.
    @_spi(Backend) public static func read(
        for transport: TransportCore, _ read: (UnsafeMutableRawBufferPointer) -> Int
    ) throws(ProtocolCallbackFailure) -> Int {
        try deliver(buffered: transport.bufferedProtocol, stream: transport.streamProtocol, on: transport.loop, read)
    }

    private static func deliver(
        buffered: (any BufferedProtocol)?, stream: (any StreamProtocol)?, on loop: BaseEventLoop,
        _ read: (UnsafeMutableRawBufferPointer) -> Int
    ) throws(ProtocolCallbackFailure) -> Int {
        if let buffered {
            let memory: UnsafeMutableRawBufferPointer
            do {
                memory = try buffered.getBuffer(sizeHint: -1)
                guard memory.count > 0 else {
                    throw LoopError(.invalidState, "get_buffer() returned an empty buffer")
                }
            } catch {
                throw ProtocolCallbackFailure(error: error, message: "Fatal error: protocol.get_buffer() call failed.")
            }
            let count = read(memory)
            guard count > 0 else { return count }
            do {
                try buffered.bufferUpdated(count)
            } catch {
                throw ProtocolCallbackFailure(error: error, message: "Fatal error: protocol.buffer_updated() call failed.")
            }
            return count
        }
        let scratch = loop.readScratch
        let count = read(scratch.bytes)
        guard count > 0, let stream else { return count }
        do {
            try stream.dataReceived(scratch.copy(count))
        } catch {
            throw ProtocolCallbackFailure(error: error, message: "Fatal error: protocol.data_received() call failed.")
        }
        return count
    }

    /// Tells `proto` the peer ended the stream (`eofReceived`) and returns whether the
    /// transport stays open (`true`: keep writing; `false`: close).
    /// - Throws: ``ProtocolCallbackFailure`` when `eofReceived` throws.
    public static func endOfFile(to proto: any BaseProtocol) throws(ProtocolCallbackFailure) -> Bool {
        try endOfFile(buffered: proto as? any BufferedProtocol, stream: proto as? any StreamProtocol)
    }

    static func endOfFile(
        buffered: (any BufferedProtocol)?, stream: (any StreamProtocol)?
    ) throws(ProtocolCallbackFailure) -> Bool {
        do {
            if let buffered { return try buffered.eofReceived() }
            if let stream { return try stream.eofReceived() }
            return false
        } catch {
            throw ProtocolCallbackFailure(error: error, message: "Fatal error: protocol.eof_received() call failed.")
        }
    }
}
