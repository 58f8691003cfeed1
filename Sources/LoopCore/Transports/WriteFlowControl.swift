/// asyncio's write flow control for a transport (`set_write_buffer_limits`,
/// `_maybe_pause_protocol`, `_maybe_resume_protocol`): the buffer's high and low marks,
/// and the protocol told to pause once when the buffer grows above the high mark and
/// to resume once when it drains to the low mark or below.
///
/// Every loop transport that buffers writes keeps one, and so can a backend's own
/// transport (see ``SelectorBackend/makeSocketTransport(_:)``): it reports its buffer
/// size after each change and the rules stay asyncio's. A `pauseWriting` or
/// `resumeWriting` that throws goes to the loop's exception handler. Loop-thread only.
@_spi(Backend) public struct WriteFlowControl {
    /// Whether the protocol was told to pause and not yet to resume.
    public private(set) var isPaused = false
    /// The low mark: `resumeWriting` once the buffer drains to it (asyncio's default 16 KiB).
    public private(set) var low = 16384
    /// The high mark: `pauseWriting` once the buffer grows above it (asyncio's default 64 KiB).
    public private(set) var high = 65536

    /// Flow control with asyncio's default marks.
    public init() {}

    /// The marks as ``WriteTransport/writeBufferLimits`` reports them.
    public var limits: (low: Int, high: Int) { (low, high) }

    /// Sets the marks by asyncio's rules (no high → 4 × low or 64 KiB, no low → high / 4).
    /// Throws ``LoopError/Kind-swift.enum/invalidArgument`` unless high ≥ low ≥ 0. Call
    /// ``pauseIfNeeded(buffered:protocol:transport:loop:)`` afterwards, as the marks may
    /// now be crossed.
    public mutating func setLimits(high: Int?, low: Int?) throws {
        let high = high ?? (low.map { 4 * $0 } ?? 64 * 1024)
        let low = low ?? high / 4
        guard high >= low, low >= 0 else {
            throw LoopError(.invalidArgument, "setWriteBufferLimits: high (\(high)) must be >= low (\(low)) must be >= 0")
        }
        self.high = high
        self.low = low
    }

    /// Tells `proto` to pause writing if `buffered` bytes exceed the high mark and it
    /// is not paused yet.
    public mutating func pauseIfNeeded(
        buffered: Int, protocol proto: any BaseProtocol, transport: AnyObject, loop: BaseEventLoop
    ) {
        guard buffered > high, !isPaused else { return }
        isPaused = true
        do {
            try proto.pauseWriting()
        } catch {
            loop.callExceptionHandler(ExceptionContext(
                message: "protocol.pause_writing() failed", error: error, transport: transport, protocol: proto))
        }
    }

    /// Tells a paused `proto` to resume writing if `buffered` bytes are at the low mark
    /// or below.
    public mutating func resumeIfNeeded(
        buffered: Int, protocol proto: any BaseProtocol, transport: AnyObject, loop: BaseEventLoop
    ) {
        guard isPaused, buffered <= low else { return }
        isPaused = false
        do {
            try proto.resumeWriting()
        } catch {
            loop.callExceptionHandler(ExceptionContext(
                message: "protocol.resume_writing() failed", error: error, transport: transport, protocol: proto))
        }
    }
}

/// asyncio's `_conn_lost` counter for a transport: how many times the connection was
/// found lost, and the warning for writes made after that. A transport marks the loss
/// once it schedules `connectionLost` and passes every later write to
/// ``ignoreWrite(loop:warning:)``, which logs "socket.send() raised exception." from the fifth
/// such write on, as asyncio does. Loop-thread only.
@_spi(Backend) public struct ConnectionLostCounter {
    /// Ignored writes after a lost connection before each further one logs a warning.
    public static let warningThreshold = 5

    /// How often the loss was counted (each ignored write counts too).
    public private(set) var count = 0

    /// A counter of a connection not lost.
    public init() {}

    /// Whether the connection was found lost: writes are then ignored.
    public var isLost: Bool { count > 0 }

    /// Counts the loss (asyncio's `self._conn_lost += 1`).
    public mutating func markLost() { count += 1 }

    /// Counts a write ignored because the connection is lost, logging `warning`
    /// through `loop`'s logger once the threshold is reached.
    public mutating func ignoreWrite(loop: BaseEventLoop, warning: String = "socket.send() raised exception.") {
        if count >= Self.warningThreshold { loop.logger.warning("\(warning)") }
        count += 1
    }
}
