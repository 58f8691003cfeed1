import LoopCore
import Logging

/// The protocol that runs TLS over another transport (asyncio's `SSLProtocol`): it
/// receives ciphertext from the transport below, drives a ``TLSEngine`` through the
/// handshake, decrypts for the application's protocol and encrypts what the
/// application writes to its ``TLSTransport``.
///
/// The loop's `ssl:` calls and ``BaseEventLoop/startTLS(_:protocol:context:serverSide:serverHostname:sslHandshakeTimeout:sslShutdownTimeout:)``
/// make these; an application does not need to. Use it on the loop's thread.
public final class TLSProtocol: StreamProtocol, CustomStringConvertible, @unchecked Sendable {
    // @unchecked: like every protocol, used on its loop's thread only.
    enum State { case unwrapped, handshaking, wrapped, flushing, shutdown }
    enum AppState { case initial, made, eof, lost }

    /// asyncio's limits: 512 KiB of outgoing TLS data pauses the application's writing,
    /// 256 KiB of unprocessed ciphertext pauses the transport below.
    static let outgoingHighWater = 512 * 1024
    static let incomingHighWater = 256 * 1024
    static let readChunk = 256 * 1024
    /// Writes after close that are ignored silently before a warning is logged (asyncio's
    /// LOG_THRESHOLD_FOR_CONNLOST_WRITES).
    static let lostWritesWarningThreshold = 5

    let loop: BaseEventLoop
    let engine: TLSEngine
    /// The context the connection was made with.
    public let context: TLSContext
    private(set) var appProtocol: any BaseProtocol
    private var waiter: Future<Void>?
    private(set) var transport: (any Transport)?
    private(set) var appTransport: TLSTransport?
    private let handshakeTimeout: Duration
    let shutdownTimeout: Duration
    private(set) var state = State.unwrapped
    private var appState = AppState.initial
    private let callConnectionMade: Bool

    private var backlog: [[UInt8]] = []
    private var backlogOffset = 0
    private var backlogSize = 0
    private var appReadingPaused = false
    private var sslReadingPaused = false
    private var sslWritingPaused = false
    private var appWritingPaused = false
    private var outgoingHigh = TLSProtocol.outgoingHighWater
    private var outgoingLow = TLSProtocol.outgoingHighWater / 4
    private var incomingHigh = TLSProtocol.incomingHighWater
    private var incomingLow = TLSProtocol.incomingHighWater / 4
    private var peerSentEOF = false
    private var handshakeTimer: TimerHandle?
    private var shutdownTimer: TimerHandle?
    private var handshakeStart: ContinuousClock.Instant?
    /// The error the transport below is closed with, reported as the loss's cause.
    private var closeError: (any Error)?
    private var lostWrites = 0
    private var lost = false
    private(set) var info: TLSConnectionInfo?
    private var scratch: [UInt8] = []

    /// A TLS protocol for `appProtocol` over the transport that will call
    /// ``connectionMade(_:)``. `waiter` completes once the handshake is done and the
    /// application's `connectionMade` ran, or fails with the handshake's error.
    /// With `callConnectionMade` false the application is not told (``BaseEventLoop/startTLS(_:protocol:context:serverSide:serverHostname:sslHandshakeTimeout:sslShutdownTimeout:)``:
    /// its connection exists already).
    public init(
        loop: BaseEventLoop, appProtocol: any BaseProtocol, context: TLSContext, waiter: Future<Void>?,
        serverSide: Bool = false, serverHostname: String? = nil,
        handshakeTimeout: Duration? = nil, shutdownTimeout: Duration? = nil, callConnectionMade: Bool = true
    ) throws {
        if let handshakeTimeout, handshakeTimeout <= .zero {
            throw LoopError(.invalidArgument, "ssl_handshake_timeout should be a positive number, got \(TLSProtocol.seconds(handshakeTimeout))")
        }
        if let shutdownTimeout, shutdownTimeout <= .zero {
            throw LoopError(.invalidArgument, "ssl_shutdown_timeout should be a positive number, got \(TLSProtocol.seconds(shutdownTimeout))")
        }
        self.engine = try TLSEngine(context: context, serverSide: serverSide, serverHostname: serverHostname)
        self.loop = loop
        self.appProtocol = appProtocol
        self.context = context
        self.waiter = waiter
        self.handshakeTimeout = handshakeTimeout ?? TLSDefaults.handshakeTimeout
        self.shutdownTimeout = shutdownTimeout ?? TLSDefaults.shutdownTimeout
        self.callConnectionMade = callConnectionMade
        if !callConnectionMade { appState = .made }
    }

    public var description: String { "<TLSProtocol \(engine.serverSide ? "server" : "client") \(state)>" }

    /// The application's transport (made once).
    var applicationTransport: TLSTransport {
        if let appTransport { return appTransport }
        let made = TLSTransport(self)
        appTransport = made
        return made
    }

    func setAppProtocol(_ proto: any BaseProtocol) {
        appProtocol = proto
    }

    // MARK: The transport below

    public func connectionMade(_ transport: any BaseTransport) throws {
        guard let stream = transport as? any Transport else {
            transport.close()
            throw LoopError(.invalidArgument, "TLS needs a bidirectional stream transport, got \(transport)")
        }
        self.transport = stream
        startHandshake()
    }

    public func connectionLost(_ error: (any Error)?) throws {
        let cause = error ?? closeError
        backlog = []
        backlogOffset = 0
        backlogSize = 0
        _ = engine.takeOutput()
        engine.saveSession()
        lost = true
        appTransport?.markClosed()
        appTransport = nil
        if state != .handshaking && (appState == .made || appState == .eof) {
            appState = .lost
            let app = appProtocol
            _ = try? loop.callSoon({ try app.connectionLost(cause) }, from: nil)
        }
        let wasHandshaking = state == .handshaking
        state = .unwrapped
        transport = nil
        wakeWaiter(cause ?? (wasHandshaking
            ? TLSError(.connectionReset, "Connection lost during the TLS handshake") : nil))
        shutdownTimer?.cancel()
        shutdownTimer = nil
        handshakeTimer?.cancel()
        handshakeTimer = nil
    }

    public func dataReceived(_ bytes: [UInt8]) throws {
        engine.feed(bytes)
        switch state {
        case .handshaking: doHandshake()
        case .wrapped: doRead()
        case .flushing: doFlush()
        case .shutdown: doShutdown()
        case .unwrapped: break
        }
    }

    public func eofReceived() throws -> Bool {
        peerSentEOF = true
        engine.feedEOF()
        if loop.debug { loop.logger.debug("\(self) received EOF") }
        switch state {
        case .handshaking:
            onHandshakeComplete(TLSError(.connectionReset, "Connection reset by peer: EOF during the TLS handshake"))
        case .wrapped:
            state = .flushing
            if appReadingPaused { return true }
            doFlush()
        case .flushing:
            doWrite()
            state = .shutdown
            doShutdown()
        case .shutdown:
            doShutdown()
        case .unwrapped:
            break
        }
        // Only a paused application keeps the transport below open (it reads the rest
        // on resume); otherwise the transport closes itself, as in asyncio.
        return false
    }

    public func pauseWriting() throws {
        sslWritingPaused = true
    }

    public func resumeWriting() throws {
        sslWritingPaused = false
        // Sent from a later callback: the transport below is still inside its own
        // flow-control update while it calls this, and a write from here would
        // re-enter it (before the transport core, a SocketTransport trapped on that).
        _ = try? loop.callSoon({ [weak self] in
            guard let self, !sslWritingPaused else { return }
            processOutgoing()
        }, from: nil)
    }

    // MARK: Handshake

    private func startHandshake() {
        handshakeStart = .now
        state = .handshaking
        let limit = handshakeTimeout
        handshakeTimer = try? loop.callLater(limit, { [weak self] in self?.checkHandshakeTimeout(limit) }, from: nil)
        doHandshake()
    }

    private func checkHandshakeTimeout(_ limit: Duration) {
        guard state == .handshaking else { return }
        let error = TLSError(
            .handshakeTimeout,
            "SSL handshake is taking longer than \(Self.seconds(limit)) seconds: aborting the connection")
        fail(error, "SSL handshake timed out")
    }

    private func doHandshake() {
        let step = engine.handshake()
        switch step {
        case .done:
            processOutgoingRaw()
            onHandshakeComplete(nil)
        case .wantRead:
            processOutgoingRaw()
        case .closed:
            onHandshakeComplete(TLSError(.connectionReset, "the peer closed the connection during the TLS handshake"))
        case .failed(let error):
            // Send the alert that tells the peer why.
            processOutgoingRaw()
            onHandshakeComplete(error)
        }
    }

    private func onHandshakeComplete(_ error: (any Error)?) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        if let error {
            state = .unwrapped
            fail(error, (error as? TLSError)?.kind == .certificateVerifyFailed
                ? "SSL handshake failed on verifying the certificate" : "SSL handshake failed")
            wakeWaiter(error)
            return
        }
        state = .wrapped
        info = TLSConnectionInfo(engine)
        if loop.debug, let handshakeStart {
            loop.logger.debug("\(self): SSL handshake took \(ContinuousClock.now - handshakeStart)")
        }
        if appState == .initial {
            appState = .made
            do {
                try appProtocol.connectionMade(applicationTransport)
            } catch {
                fail(error, "Error calling connection_made()")
                wakeWaiter(error)
                return
            }
        }
        wakeWaiter(nil)
        doRead()
    }

    private func wakeWaiter(_ error: (any Error)?) {
        guard let waiter else { return }
        self.waiter = nil
        guard !waiter.isDone else { return }
        if let error {
            try? waiter.setException(error)
        } else {
            try? waiter.setResult(())
        }
    }

    // MARK: Shutdown

    /// The application closed its transport: flush, send close_notify, wait for the
    /// peer's up to the shutdown timeout, then close the transport below.
    func startShutdown() {
        guard state == .handshaking || state == .wrapped else { return }
        appTransport?.markClosed()
        if state == .handshaking {
            abort()
            return
        }
        state = .flushing
        shutdownTimer = try? loop.callLater(shutdownTimeout, { [weak self] in self?.checkShutdownTimeout() }, from: nil)
        doFlush()
    }

    private func checkShutdownTimeout() {
        guard state == .flushing || state == .shutdown else { return }
        closeError = TLSError(.shutdownTimeout, "SSL shutdown timed out")
        transport?.abort()
    }

    private func doFlush() {
        doRead()
        guard state == .flushing else { return }
        doWrite()
        guard state == .flushing else { return }
        state = .shutdown
        doShutdown()
    }

    private func doShutdown() {
        guard state == .shutdown else { return }
        if appReadingPaused { return }
        let step = engine.shutdown()
        switch step {
        case .wantRead:
            processOutgoingRaw()
            if peerSentEOF {
                // The peer is gone without its close_notify: a truncation.
                onShutdownComplete(TLSError(
                    .unexpectedEOF, "EOF occurred in violation of protocol (the peer closed without close_notify)",
                    reason: "unexpected eof while reading"))
            }
        case .done, .closed:
            processOutgoingRaw()
            callEofReceived()
            onShutdownComplete(nil)
        case .failed(let error):
            processOutgoingRaw()
            onShutdownComplete(error)
        }
    }

    private func onShutdownComplete(_ error: (any Error)?) {
        shutdownTimer?.cancel()
        shutdownTimer = nil
        state = .unwrapped
        if let error {
            fail(error, "Fatal error on SSL shutdown")
        } else if let transport {
            _ = try? loop.callSoon({ transport.close() }, from: nil)
        }
    }

    /// Closes the transport below at once (the application's `abort`).
    func abort() {
        state = .unwrapped
        transport?.abort()
    }

    // MARK: Writing

    func writeAppData(_ pieces: [[UInt8]]) {
        if state == .flushing || state == .shutdown || state == .unwrapped {
            if lostWrites >= Self.lostWritesWarningThreshold { loop.logger.warning("SSL connection is closed") }
            lostWrites += 1
            return
        }
        for piece in pieces where !piece.isEmpty {
            backlog.append(piece)
            backlogSize += piece.count
        }
        if state == .wrapped { doWrite() }
    }

    private func doWrite() {
        while let first = backlog.first {
            let (count, step) = first.withUnsafeBytes { raw in
                engine.write(UnsafeRawBufferPointer(rebasing: raw[backlogOffset...]))
            }
            backlogSize -= count
            backlogOffset += count
            if backlogOffset >= first.count {
                backlog.removeFirst()
                backlogOffset = 0
            }
            if case .failed(let error) = step {
                processOutgoingRaw()
                fail(error, "Fatal error on SSL protocol")
                return
            }
            if step != .done { break }
        }
        processOutgoing()
    }

    /// Sends the encrypted bytes unless the transport below asked to pause, then
    /// updates the application's flow control.
    private func processOutgoing() {
        if !sslWritingPaused { processOutgoingRaw() }
        controlAppWriting()
    }

    private func processOutgoingRaw() {
        guard engine.pendingOutput > 0, let transport, !transport.isClosing else { return }
        let bytes = engine.takeOutput()
        do {
            try transport.write(bytes)
        } catch {
            fail(error, "Fatal error on SSL transport")
        }
    }

    /// What waits to be sent: plaintext not yet encrypted, ciphertext not yet handed
    /// down, and what the transport below still buffers, so that the application's
    /// flow control reflects the socket's too.
    var writeBufferSize: Int { engine.pendingOutput + backlogSize + (transport?.writeBufferSize ?? 0) }

    var writeBufferLimits: (low: Int, high: Int) { (outgoingLow, outgoingHigh) }

    func setWriteBufferLimits(high: Int?, low: Int?) throws {
        (outgoingHigh, outgoingLow) = try Self.limits(high: high, low: low, kilobytes: 512)
        controlAppWriting()
    }

    private func controlAppWriting() {
        let size = writeBufferSize
        if size >= outgoingHigh && !appWritingPaused {
            appWritingPaused = true
            do {
                try appProtocol.pauseWriting()
            } catch {
                loop.callExceptionHandler(ExceptionContext(
                    message: "protocol.pause_writing() failed", error: error, transport: appTransport, protocol: self))
            }
        } else if size <= outgoingLow && appWritingPaused {
            appWritingPaused = false
            do {
                try appProtocol.resumeWriting()
            } catch {
                loop.callExceptionHandler(ExceptionContext(
                    message: "protocol.resume_writing() failed", error: error, transport: appTransport, protocol: self))
            }
        }
    }

    // MARK: Reading

    var isAppReading: Bool { !appReadingPaused }

    func pauseAppReading() {
        appReadingPaused = true
    }

    func resumeAppReading() {
        guard appReadingPaused else { return }
        appReadingPaused = false
        _ = try? loop.callSoon({ [weak self] in
            guard let self else { return }
            switch state {
            case .wrapped: doRead()
            case .flushing: doFlush()
            case .shutdown: doShutdown()
            default: break
            }
        }, from: nil)
    }

    private func doRead() {
        guard state == .wrapped || state == .flushing else { return }
        if !appReadingPaused {
            if let buffered = appProtocol as? any BufferedProtocol {
                readBuffered(buffered)
            } else if let stream = appProtocol as? any StreamProtocol {
                readCopied(stream)
            }
            guard state != .unwrapped else { return }
            if !backlog.isEmpty { doWrite() } else { processOutgoing() }
        }
        controlSSLReading()
    }

    private func readCopied(_ stream: any StreamProtocol) {
        if scratch.isEmpty { scratch = [UInt8](repeating: 0, count: Self.readChunk) }
        var data: [UInt8] = []
        var last = TLSEngine.Step.done
        while true {
            let (count, step) = scratch.withUnsafeMutableBytes { engine.read(into: $0) }
            if count > 0 {
                data += scratch[0..<count]
                continue
            }
            last = step
            break
        }
        if !data.isEmpty {
            do {
                try stream.dataReceived(data)
            } catch {
                fail(error, "Fatal error: protocol.data_received() call failed.")
                return
            }
        }
        finishRead(last)
    }

    private func readBuffered(_ buffered: any BufferedProtocol) {
        let buffer: UnsafeMutableRawBufferPointer
        do {
            buffer = try buffered.getBuffer(sizeHint: -1)
        } catch {
            fail(error, "Fatal error: protocol.get_buffer() call failed.")
            return
        }
        guard !buffer.isEmpty else {
            fail(LoopError(.invalidArgument, "get_buffer() returned an empty buffer"), "Fatal error: protocol.get_buffer() call failed.")
            return
        }
        var offset = 0
        var last = TLSEngine.Step.done
        while offset < buffer.count {
            let (count, step) = engine.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]))
            if count == 0 {
                last = step
                break
            }
            offset += count
        }
        if offset == buffer.count {
            // The buffer is full: more may wait; read again in a later iteration.
            _ = try? loop.callSoon({ [weak self] in self?.doRead() }, from: nil)
        }
        if offset > 0 {
            do {
                try buffered.bufferUpdated(offset)
            } catch {
                fail(error, "Fatal error: protocol.buffer_updated() call failed.")
                return
            }
        }
        finishRead(last)
    }

    private func finishRead(_ step: TLSEngine.Step) {
        switch step {
        case .done, .wantRead:
            break
        case .closed:
            callEofReceived()
            startShutdownAfterPeer()
        case .failed(let error):
            processOutgoingRaw()
            fail(error, "Fatal error on SSL protocol")
        }
    }

    /// The peer's close_notify: answer it and close (asyncio starts its shutdown).
    private func startShutdownAfterPeer() {
        appTransport?.markClosed()
        if state == .wrapped {
            state = .flushing
            shutdownTimer = try? loop.callLater(shutdownTimeout, { [weak self] in self?.checkShutdownTimeout() }, from: nil)
        }
        doWrite()
        state = .shutdown
        doShutdown()
    }

    private func callEofReceived() {
        guard appState == .made else { return }
        appState = .eof
        do {
            let keepOpen: Bool
            if let stream = appProtocol as? any StreamProtocol {
                keepOpen = try stream.eofReceived()
            } else if let buffered = appProtocol as? any BufferedProtocol {
                keepOpen = try buffered.eofReceived()
            } else {
                keepOpen = false
            }
            if keepOpen { loop.logger.warning("returning true from eof_received() has no effect when using ssl") }
        } catch {
            fail(error, "Error calling eof_received()")
        }
    }

    private func controlSSLReading() {
        guard let transport else { return }
        let size = engine.pendingInput
        if size >= incomingHigh && !sslReadingPaused {
            sslReadingPaused = true
            transport.pauseReading()
        } else if size <= incomingLow && sslReadingPaused {
            sslReadingPaused = false
            transport.resumeReading()
        }
    }

    // MARK: Errors

    /// Closes the transport below with `error` as the loss's cause. TLS and system
    /// errors are routine (a debug log in debug mode, as asyncio); others go to the
    /// exception handler.
    func fail(_ error: any Error, _ message: String) {
        state = .unwrapped
        if closeError == nil { closeError = error }
        if let transport, !lost { transport.abort() }
        if error is TLSError || error is SystemError {
            if loop.debug { loop.logger.debug("\(self): \(message): \(error)") }
        } else if !(error is CancelledError) && !(error is CancellationError) {
            loop.callExceptionHandler(ExceptionContext(
                message: message, error: error, transport: transport, protocol: self))
        }
    }
}
