/// The lifecycle every transport shares (asyncio's `_SelectorTransport` with
/// `_FlowControlMixin`), written once; a transport kind supplies only its I/O.
///
/// It assumes no file descriptor: ``FileDescriptorTransport`` adds the fd a readiness
/// transport owns, and a transport layered over another one (TLS) or one doing its own
/// I/O (a backend's, e.g. a bufferevent or a completion ring) subclasses this class
/// directly or through that layer.
///
/// ## States
///
/// 1. **Open** — after `init`; ``startConnection(waiter:reads:)`` schedules, each
///    as its own loop callback and in this order, `connectionMade(self)`, the kind's
///    ``startReading()`` (unless closing or paused by then) and the completion of the
///    waiter. A kind that conforms to ``ReadTransport`` gets `isReading`,
///    `pauseReading()` and `resumeReading()` from the core (``readingActive``;
///    ``stopReading()`` on pause, ``startReading()`` on resume).
/// 2. **Closing** — ``isClosing`` turns true exactly once, in ``markClosing()`` (called by
///    ``close()``, ``forceClose(_:)`` or a kind's own close path); the kind then hears
///    ``closingStarted()``. ``close()`` also calls ``stopReading()`` and, when nothing
///    waits to be written (``hasPendingWrites``), schedules `connectionLost(nil)`;
///    otherwise the kind calls ``callConnectionLost(_:)`` itself once its buffer drained.
/// 3. **Lost** — ``forceClose(_:)`` (asyncio's `_force_close`, used by `abort()` and
///    ``fail(_:message:)``) drops pending output (``discardOutput()``), stops reading
///    and schedules `connectionLost(error)`; ``fail(_:message:)`` (asyncio's
///    `_fatal_error`) first reports an `error` that is not a ``SystemError`` to the loop's
///    exception handler with `message`; a ``SystemError`` (a reset peer, …) is quiet.
/// 4. **Finished** — ``callConnectionLost(_:)`` runs at most once (scheduling it twice,
///    or calling it after it ran, does nothing): it calls `connectionLost` (an error it
///    throws goes to the exception handler as "Exception in callback
///    <kind>._call_connection_lost"), then ``releaseResources()``; ``isFinished`` turns
///    true after both.
///
/// Writes after the loss are the kind's to refuse: it checks ``lost`` and passes each
/// such write to ``ignoreWrite(warning:)``, which logs the warning from the fifth on.
/// Write flow control (``flow``): the kind calls ``maybePauseProtocol(buffered:)`` after
/// its buffer grew and ``maybeResumeProtocol(buffered:)`` after it shrank; each tells the
/// protocol once per crossing of the high (pause) or low (resume) mark.
///
/// `closeCountsLoss` picks asyncio's counting: its selector transports count closing
/// and `_force_close` as a loss (writes after `close()` are ignored once nothing is
/// pending), its pipe transports do not (they refuse writes while closing instead).
///
/// ## What a kind supplies
///
/// Its I/O through the hooks ``startReading()``, ``stopReading()``,
/// ``discardOutput()`` and ``hasPendingWrites``, and optionally ``closingStarted()``,
/// ``releaseResources()``, ``extraInfo(_:)`` (or just fill ``extra``) and ``close()`` (a
/// write pipe closes as `writeEof`). A ``WriteTransport`` kind gets `abort()`
/// (``forceClose(_:)``), `writeBufferLimits` and `setWriteBufferLimits` from the core and
/// supplies `write`, `writeEof`, `canWriteEof` and `writeBufferSize`; a stream reader
/// hands an end of file to ``deliverEndOfStream()``. Everything runs on the loop's thread.
///
/// ## Shapes built on it
///
/// - ``FileDescriptorTransport`` (fd ownership) → ``SocketTransport``,
///   ``ReadPipeTransport``, ``WritePipeTransport`` (also a subprocess's stdio pipes),
///   ``DatagramTransport``, and a backend's transport from
///   ``SelectorBackend/makeSocketTransport(_:)`` (libevent's bufferevent; a completion
///   transport overrides the hooks and does its own I/O).
/// - A transport over another transport (TLS's app-facing side) subclasses
///   ``TransportCore`` directly: no fd, its ``releaseResources()`` closes the lower one.
open class TransportCore: BaseTransport, CustomStringConvertible {
    /// The loop the transport belongs to.
    @_spi(Backend) public final unowned let loop: BaseEventLoop
    /// The protocol receiving the transport's events (``protocol`` for loop users).
    @_spi(Backend) @exclusivity(unchecked) public final var currentProtocol: any BaseProtocol {
        didSet { classifyProtocol() }
    }
    /// ``currentProtocol`` as the protocol kinds a stream read delivers to (`nil` when it
    /// is not one), cast once per protocol rather than once per read.
    @exclusivity(unchecked) final private(set) var bufferedProtocol: (any BufferedProtocol)?
    @exclusivity(unchecked) final private(set) var streamProtocol: (any StreamProtocol)?
    /// The transport type's name for descriptions and messages, e.g. "SocketTransport".
    @_spi(Backend) public final let kind: String
    /// The extra info by key (see ``extraInfo(_:)``).
    @_spi(Backend) @exclusivity(unchecked) public final var extra: [String: Any] = [:]
    /// asyncio's `_conn_lost`: whether (and how often) the connection was found lost.
    @_spi(Backend) @exclusivity(unchecked) public final var lost = ConnectionLostCounter()
    /// The write buffer's flow-control marks and pause state.
    @_spi(Backend) @exclusivity(unchecked) public final var flow = WriteFlowControl()
    /// Whether closing counts as a loss for ignored writes (asyncio's selector
    /// transports: `true`; its pipe transports: `false`).
    @_spi(Backend) public final let closeCountsLoss: Bool
    /// The socket named in fatal-error reports, if any.
    @_spi(Backend) @exclusivity(unchecked) public final var reportedSocket: Int32?
    @exclusivity(unchecked) private var closing = false
    /// Whether reading is paused (``ReadTransport/pauseReading()``).
    @_spi(Backend) @exclusivity(unchecked) public final internal(set) var isReadingPaused = false
    /// `connectionLost` is scheduled or running.
    @exclusivity(unchecked) private var lostScheduled = false
    /// Whether `connectionLost` ran and the resources are released.
    @_spi(Backend) @exclusivity(unchecked) public final private(set) var isFinished = false

    /// A transport of type `kind` for `protocol`, open, not yet started.
    @_spi(Backend) public init(loop: BaseEventLoop, protocol: any BaseProtocol, kind: String, closeCountsLoss: Bool = true) {
        self.loop = loop
        self.currentProtocol = `protocol`
        self.kind = kind
        self.closeCountsLoss = closeCountsLoss
        classifyProtocol()
    }

    private func classifyProtocol() {
        bufferedProtocol = currentProtocol as? any BufferedProtocol
        streamProtocol = currentProtocol as? any StreamProtocol
    }

    // MARK: BaseTransport

    public final var isClosing: Bool { closing }

    public final var `protocol`: any BaseProtocol { currentProtocol }

    public final func setProtocol(_ protocol: any BaseProtocol) { currentProtocol = `protocol` }

    open func extraInfo(_ key: String) -> Any? { extra[key] }

    /// Closes the transport: reading stops at once, pending output is still written,
    /// then `connectionLost(nil)` runs from a later loop callback. A second call does nothing.
    open func close() {
        if closing { return }
        markClosing()
        stopReading()
        if !hasPendingWrites {
            if closeCountsLoss { lost.markLost() }
            discardOutput()
            scheduleConnectionLost(nil)
        }
    }

    open var description: String { "<\(kind)\(closing ? " closing" : "")>" }

    /// Whether received data is delivered: not paused, not closing (``ReadTransport/isReading``).
    @_spi(Backend) public final var readingActive: Bool { !isReadingPaused && !closing }

    // MARK: Hooks a kind overrides

    /// Starts (or resumes) delivering received data (add the reader, enable reading, …).
    @_spi(Backend) open func startReading() throws {}
    /// Stops delivering received data (remove the reader, disable reading, …).
    @_spi(Backend) open func stopReading() {}
    /// Drops what waits to be written and stops writing.
    @_spi(Backend) open func discardOutput() {}
    /// Whether output waits to be written.
    @_spi(Backend) open var hasPendingWrites: Bool { false }
    /// Called once, when ``isClosing`` turns true.
    @_spi(Backend) open func closingStarted() {}
    /// Called once, right after the protocol's `connectionLost`: release what the
    /// transport holds (its fd, its bufferevent, …).
    @_spi(Backend) open func releaseResources() {}

    // MARK: The state machine

    /// Schedules, each as its own loop callback and in this order, the protocol's
    /// `connectionMade(self)`, ``startReading()`` when `reads` (skipped if the
    /// transport is closing or paused by then) and the completion of `waiter`. Call it
    /// once, from the kind's initializer. Throws when the loop is closed.
    @_spi(Backend) public final func startConnection(waiter: Future<Void>?, reads: Bool) throws {
        let proto = currentProtocol
        _ = try loop.callSoon({ [self] in try proto.connectionMade(self) }, from: nil)
        if reads {
            _ = try loop.callSoon({ [self] in if readingActive { try startReading() } }, from: nil)
        }
        if let waiter {
            _ = try loop.callSoon({ if !waiter.isDone { try waiter.setResult(()) } }, from: nil)
        }
    }

    /// Turns ``isClosing`` true (once) and tells the kind through ``closingStarted()``.
    @_spi(Backend) public final func markClosing() {
        guard !closing else { return }
        closing = true
        closingStarted()
    }

    /// asyncio's `_force_close`: drops pending output, stops reading and schedules
    /// `connectionLost(error)`, unless `connectionLost` is already scheduled or ran.
    @_spi(Backend) public final func forceClose(_ error: (any Error)?) {
        if lostScheduled || isFinished { return }
        discardOutput()
        if !closing {
            markClosing()
            stopReading()
        }
        if closeCountsLoss { lost.markLost() }
        scheduleConnectionLost(error)
    }

    /// asyncio's `_fatal_error`: an `error` that is not a ``SystemError`` goes to the
    /// exception handler with `message` (system errors, such as a reset peer, are
    /// quiet); then ``forceClose(_:)`` with `error`.
    @_spi(Backend) public final func fail(_ error: any Error, message: String) {
        if !(error is SystemError) {
            loop.callExceptionHandler(ExceptionContext(
                message: message, error: error, transport: self, protocol: currentProtocol, socket: reportedSocket))
        }
        forceClose(error)
    }

    /// Schedules ``callConnectionLost(_:)`` as a loop callback.
    @_spi(Backend) public final func scheduleConnectionLost(_ error: (any Error)?) {
        lostScheduled = true
        _ = try? loop.callSoon({ [self] in callConnectionLost(error) }, from: nil)
    }

    /// asyncio's `_call_connection_lost`, at most once: the protocol's
    /// `connectionLost(error)`, then ``releaseResources()``.
    @_spi(Backend) public final func callConnectionLost(_ error: (any Error)?) {
        guard !isFinished else { return }
        lostScheduled = true
        if closeCountsLoss && !lost.isLost { lost.markLost() }
        let proto = currentProtocol
        do {
            try proto.connectionLost(error)
        } catch {
            loop.callExceptionHandler(ExceptionContext(
                message: "Exception in callback \(kind)._call_connection_lost", error: error,
                transport: self, protocol: proto))
        }
        releaseResources()
        isFinished = true
    }

    /// The peer ended the stream: tells the protocol (``StreamDelivery/endOfFile(to:)``)
    /// and closes unless it asks to stay open; a callback that throws ends the
    /// transport (``fail(_:message:)``). Returns whether the transport stays open.
    @_spi(Backend) public final func deliverEndOfStream() -> Bool {
        do {
            if try StreamDelivery.endOfFile(buffered: bufferedProtocol, stream: streamProtocol) { return true }
        } catch {
            fail(error.error, message: error.message)
            return false
        }
        close()
        return false
    }

    /// Counts a write ignored because the connection is lost, logging `warning` from
    /// the fifth such write on (asyncio's rule).
    @_spi(Backend) public final func ignoreWrite(warning: String = "socket.send() raised exception.") {
        lost.ignoreWrite(loop: loop, warning: warning)
    }

    /// Tells the protocol to pause writing if `buffered` bytes exceed the high mark.
    @_spi(Backend) public final func maybePauseProtocol(buffered: Int) {
        flow.pauseIfNeeded(buffered: buffered, protocol: currentProtocol, transport: self, loop: loop)
    }

    /// Tells a paused protocol to resume writing if `buffered` bytes are at the low mark or below.
    @_spi(Backend) public final func maybeResumeProtocol(buffered: Int) {
        flow.resumeIfNeeded(buffered: buffered, protocol: currentProtocol, transport: self, loop: loop)
    }

    /// Sets the flow-control marks by asyncio's rules, then pauses the protocol if
    /// `buffered` bytes now exceed the high mark.
    @_spi(Backend) public final func applyWriteBufferLimits(high: Int?, low: Int?, buffered: Int) throws {
        try flow.setLimits(high: high, low: low)
        maybePauseProtocol(buffered: buffered)
    }
}

/// The reading side of every ``ReadTransport`` built on ``TransportCore``.
extension ReadTransport where Self: TransportCore {
    public var isReading: Bool { readingActive }

    public func pauseReading() {
        guard readingActive else { return }
        isReadingPaused = true
        stopReading()
    }

    public func resumeReading() {
        guard !isClosing, isReadingPaused else { return }
        isReadingPaused = false
        try? startReading()
    }
}

/// The write-side defaults of every ``WriteTransport`` built on ``TransportCore``.
extension WriteTransport where Self: TransportCore {
    public func abort() { forceClose(nil) }

    public var writeBufferLimits: (low: Int, high: Int) { flow.limits }

    public func setWriteBufferLimits(high: Int? = nil, low: Int? = nil) throws {
        try applyWriteBufferLimits(high: high, low: low, buffered: writeBufferSize)
    }
}
