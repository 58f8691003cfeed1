/// The protocol behind a streams-level ``Process`` (asyncio's `SubprocessStreamProtocol`):
/// stdout and stderr bytes feed ``StreamReader``s, stdin is a ``StreamWriter`` whose
/// `drain()` follows the stdin pipe's flow control. Once the child exited and its
/// stdout and stderr pipes closed, it closes the transport.
final class SubprocessStreamProtocol: SubprocessProtocol {
    private let loop: BaseEventLoop
    private let limit: Int
    private(set) var stdin: StreamWriter?
    private(set) var stdout: StreamReader?
    private(set) var stderr: StreamReader?
    /// Carries the stdin pipe's flow control and loss to the writer's `drain()`.
    private let stdinProtocol: StreamReaderProtocol
    private var transport: SubprocessTransport?
    private var openReadPipes: Set<Int32> = []
    private var exited = false

    init(limit: Int, loop: BaseEventLoop) {
        self.limit = limit
        self.loop = loop
        self.stdinProtocol = StreamReaderProtocol(nil, loop: loop)
    }

    func connectionMade(_ transport: any BaseTransport) throws {
        guard let transport = transport as? SubprocessTransport else { return }
        self.transport = transport
        for fd: Int32 in [1, 2] {
            guard let pipe = transport.pipeTransport(fd: fd) as? ReadPipeTransport else { continue }
            let reader = try StreamReader(loop: loop, limit: limit)
            try reader.setTransport(pipe)
            if fd == 1 { stdout = reader } else { stderr = reader }
            openReadPipes.insert(fd)
        }
        if let pipe = transport.pipeTransport(fd: 0) as? WritePipeTransport {
            stdin = StreamWriter(transport: SubprocessStdinTransport(pipe), protocol: stdinProtocol, reader: nil, loop: loop)
        }
    }

    func pipeDataReceived(fd: Int32, data: [UInt8]) throws {
        try (fd == 1 ? stdout : fd == 2 ? stderr : nil)?.feedData(data)
    }

    func pipeConnectionLost(fd: Int32, error: (any Error)?) throws {
        if fd == 0 {
            transport?.pipeTransport(fd: 0)?.close()
            try stdinProtocol.connectionLost(error)
            return
        }
        if let reader = fd == 1 ? stdout : fd == 2 ? stderr : nil {
            if let error { reader.setException(error) } else { reader.feedEof() }
        }
        openReadPipes.remove(fd)
        closeTransportIfDone()
    }

    func processExited() throws {
        exited = true
        closeTransportIfDone()
    }

    func pauseWriting() throws { try stdinProtocol.pauseWriting() }

    func resumeWriting() throws { try stdinProtocol.resumeWriting() }

    private func closeTransportIfDone() {
        guard exited, openReadPipes.isEmpty, let transport else { return }
        transport.close()
        self.transport = nil
    }
}

/// The stdin pipe seen as the bidirectional ``Transport`` a ``StreamWriter`` wants:
/// the writing side is the pipe's; there is nothing to read (`isReading` is false).
final class SubprocessStdinTransport: Transport, CustomStringConvertible {
    let pipe: WritePipeTransport

    init(_ pipe: WritePipeTransport) { self.pipe = pipe }

    var description: String { pipe.description }
    func close() { pipe.close() }
    var isClosing: Bool { pipe.isClosing }
    var `protocol`: any BaseProtocol { pipe.protocol }
    func setProtocol(_ protocol: any BaseProtocol) { pipe.setProtocol(`protocol`) }
    func extraInfo(_ key: String) -> Any? { pipe.extraInfo(key) }
    var isReading: Bool { false }
    func pauseReading() {}
    func resumeReading() {}
    func write(_ bytes: [UInt8]) throws { try pipe.write(bytes) }
    func writeEof() throws { try pipe.writeEof() }
    var canWriteEof: Bool { pipe.canWriteEof }
    func abort() { pipe.abort() }
    var writeBufferSize: Int { pipe.writeBufferSize }
    var writeBufferLimits: (low: Int, high: Int) { pipe.writeBufferLimits }
    func setWriteBufferLimits(high: Int?, low: Int?) throws { try pipe.setWriteBufferLimits(high: high, low: low) }
}
