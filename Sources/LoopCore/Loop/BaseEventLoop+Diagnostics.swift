import CLoopShims
import Logging

extension BaseEventLoop {
    // MARK: Exception handler API

    public func setExceptionHandler(_ handler: ExceptionHandler?) {
        customExceptionHandler = handler
    }

    public var exceptionHandler: ExceptionHandler? { customExceptionHandler }

    public func defaultExceptionHandler(_ context: ExceptionContext) {
        logger.error(
            Logger.Message(stringLiteral: context.description),
            error: context.error,
            metadata: ["backend": .string(backend.name)]
        )
    }

    public func callExceptionHandler(_ context: ExceptionContext) {
        guard let handler = customExceptionHandler else {
            defaultExceptionHandler(context)
            return
        }
        do {
            try handler(self, context)
        } catch {
            var report = ExceptionContext(message: "Unhandled error in exception handler", error: error)
            report.extra["context"] = context.description
            defaultExceptionHandler(report)
        }
    }

    // MARK: Debug mode

    public var debug: Bool { debugEnabled }

    public func setDebug(_ enabled: Bool) { debugEnabled = enabled }

    public var slowCallbackDuration: Duration {
        get { slowCallbackThreshold }
        set { slowCallbackThreshold = newValue }
    }

    /// Throws ``LoopError/Kind-swift.enum/wrongThread`` when a running loop is
    /// called from another thread (asyncio's `_check_thread`; debug mode only).
    func checkThread(_ call: String) throws {
        let owner = runningThread.load(ordering: .relaxed)
        guard owner != 0, owner != cloop_thread_id() else { return }
        throw LoopError(
            .wrongThread,
            "\(call): Non-thread-safe operation invoked on an event loop other than the current one; use callSoonThreadsafe from other threads"
        )
    }

    func runHandleInDebugMode(_ handle: Handle, _ callback: () throws -> Void) {
        let start = MonotonicClock.nanoseconds()
        do {
            try callback()
        } catch {
            reportCallbackError(error, handle: handle)
        }
        let elapsed = Duration.nanoseconds(MonotonicClock.nanoseconds() - start)
        if elapsed >= slowCallbackThreshold {
            let seconds = Double(elapsed.components.attoseconds) * 1e-18 + Double(elapsed.components.seconds)
            let rounded = (seconds * 1000).rounded() / 1000
            logger.warning("Executing \(handle) took \(rounded) seconds")
        }
    }
}
