import Logging

// The error handling API (the reference's "Error Handling API").
extension BaseEventLoop {
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

    /// Reports an error a callback threw to the exception handler.
    func reportCallbackError(_ error: any Error, handle: Handle) {
        var context = ExceptionContext(message: "Exception in callback \(handle)", error: error, handle: handle)
        if let location = handle.sourceLocation { context.sourceTraceback = [location] }
        callExceptionHandler(context)
    }
}
