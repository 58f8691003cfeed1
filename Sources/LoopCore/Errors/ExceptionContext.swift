/// What the loop knows about an error it could not hand back to a caller:
/// an error thrown by a callback, a future whose error nobody retrieved, a failing
/// backend hook. Passed to the loop's exception handler (asyncio's `context` dict).
public struct ExceptionContext: CustomStringConvertible {
    /// What happened, e.g. "Exception in callback <Handle …>". Always present.
    public var message: String
    /// The error, when there is one.
    public var error: (any Error)?
    /// The callback handle involved.
    public var handle: Handle?
    /// The future involved (a `Future` or a task).
    public var future: AnyObject?
    /// The task involved.
    public var task: AnyObject?
    /// The transport involved.
    public var transport: AnyObject?
    /// The protocol involved.
    public var `protocol`: AnyObject?
    /// The socket descriptor involved.
    public var socket: Int32?
    /// Where the handle or future was created (debug mode only), innermost last.
    public var sourceTraceback: [SourceLocation]?
    /// Any other key a caller of `callExceptionHandler` supplied.
    public var extra: [String: any Sendable]

    public init(
        message: String,
        error: (any Error)? = nil,
        handle: Handle? = nil,
        future: AnyObject? = nil,
        task: AnyObject? = nil,
        transport: AnyObject? = nil,
        protocol: AnyObject? = nil,
        socket: Int32? = nil,
        sourceTraceback: [SourceLocation]? = nil,
        extra: [String: any Sendable] = [:]
    ) {
        self.message = message
        self.error = error
        self.handle = handle
        self.future = future
        self.task = task
        self.transport = transport
        self.protocol = `protocol`
        self.socket = socket
        self.sourceTraceback = sourceTraceback
        self.extra = extra
    }

    /// The context as text: the message on the first line, then one `key: value`
    /// line per other key present (the default handler logs this).
    public var description: String {
        var lines = [message]
        if let error { lines.append("error: \(String(reflecting: error))") }
        if let handle { lines.append("handle: \(handle)") }
        if let future { lines.append("future: \(future)") }
        if let task { lines.append("task: \(task)") }
        if let transport { lines.append("transport: \(transport)") }
        if let `protocol` { lines.append("protocol: \(`protocol`)") }
        if let socket { lines.append("socket: \(socket)") }
        for key in extra.keys.sorted() {
            lines.append("\(key): \(extra[key].map { String(describing: $0) } ?? "nil")")
        }
        if let sourceTraceback, !sourceTraceback.isEmpty {
            lines.append("source_traceback: created at " + sourceTraceback.map(\.description).joined(separator: " <- "))
        }
        return lines.joined(separator: "\n")
    }
}

/// A custom exception handler: receives the loop and the context. If it throws,
/// the loop logs that through the default handler and carries on.
public typealias ExceptionHandler = (any EventLoop, ExceptionContext) throws -> Void
