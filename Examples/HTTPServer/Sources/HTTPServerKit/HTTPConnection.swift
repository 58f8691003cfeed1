import HTTPParsing
import HTTPTypes
import LoopCore

/// One HTTP/1.1 connection: a ``BufferedProtocol`` that reads into its own buffer,
/// parses with ``HTTPRequestParser`` and answers each request in order (keep-alive and
/// pipelining), all the answers to one read in one write. A request the parser refuses
/// gets its 4xx/5xx answer and the connection is closed; so is one after a request
/// that asked for `Connection: close`. While the transport's write buffer is full the
/// connection stops reading. Loop-thread only, as protocols are.
public final class HTTPConnection: BufferedProtocol, @unchecked Sendable {
    // @unchecked: like every protocol, used on its loop's thread only.
    /// How much one read takes at most.
    public static let readSize = 64 * 1024

    private var parser: HTTPRequestParser
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: HTTPConnection.readSize, alignment: 16)
    private var transport: (any Transport)?
    private weak var connections: HTTPConnectionSet?
    private var current: HTTPRequestHead?
    private var bodyCount = 0
    private var events: [HTTPParserEvent] = []
    private var output: [UInt8] = []
    private var closing = false

    /// A connection with the parser's `limits`, tracked in `connections` while open.
    public init(connections: HTTPConnectionSet? = nil, limits: HTTPParserLimits = HTTPParserLimits()) {
        self.connections = connections
        self.parser = HTTPRequestParser(limits: limits)
    }

    deinit { readBuffer.deallocate() }

    public func connectionMade(_ transport: any BaseTransport) throws {
        self.transport = transport as? any Transport
        connections?.add(self)
    }

    public func getBuffer(sizeHint: Int) throws -> UnsafeMutableRawBufferPointer { readBuffer }

    public func bufferUpdated(_ count: Int) throws {
        guard !closing else { return }
        var refused: HTTPParseError?
        do {
            try parser.feed(UnsafeRawBufferPointer(rebasing: readBuffer[..<count]), into: &events)
        } catch {
            refused = error
        }
        for event in events where !closing { handle(event) }
        events.removeAll(keepingCapacity: true)
        if let refused, !closing {
            let (response, body) = HTTPRoutes.respond(to: refused)
            HTTPResponseEncoder.encode(response, body: body, close: true, into: &output)
            closing = true
        }
        flush()
    }

    public func eofReceived() throws -> Bool { false }

    public func connectionLost(_ error: (any Error)?) throws {
        transport = nil
        connections?.remove(self)
    }

    public func pauseWriting() throws { transport?.pauseReading() }

    public func resumeWriting() throws { if !closing { transport?.resumeReading() } }

    /// Closes the connection once what it wrote is sent.
    public func close() {
        closing = true
        transport?.close()
    }

    private func handle(_ event: HTTPParserEvent) {
        switch event {
        case .head(let head):
            current = head
            bodyCount = 0
            if head.expectsContinue { output.append(contentsOf: HTTPResponseEncoder.continueResponse) }
        case .body(let bytes):
            bodyCount += bytes.count
        case .end:
            guard let head = current else { return }
            current = nil
            let (response, body) = HTTPRoutes.respond(to: head, bodyCount: bodyCount)
            HTTPResponseEncoder.encode(response, body: body, close: !head.keepAlive, into: &output)
            if !head.keepAlive { closing = true }
        }
    }

    private func flush() {
        guard let transport else { return }
        if !output.isEmpty {
            do {
                try transport.write(output)
            } catch {
                transport.abort()
                return
            }
            output.removeAll(keepingCapacity: true)
        }
        if closing { transport.close() }
    }
}
