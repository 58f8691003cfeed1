/// asyncio's write flow control for a transport (`_maybe_pause_protocol` /
/// `_maybe_resume_protocol`): the protocol is told to pause once when the buffer grows
/// above the high mark, and to resume once when it drains to the low mark or below. A
/// callback that throws goes to the loop's exception handler. Shared by every
/// transport that buffers writes; loop-thread only, like them.
struct WriteFlowControl {
    /// Whether the protocol was told to pause and not yet to resume.
    private(set) var isPaused = false

    mutating func pauseIfNeeded(
        buffered: Int, high: Int, protocol proto: any BaseProtocol, transport: AnyObject, loop: BaseEventLoop
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

    mutating func resumeIfNeeded(
        buffered: Int, low: Int, protocol proto: any BaseProtocol, transport: AnyObject, loop: BaseEventLoop
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
