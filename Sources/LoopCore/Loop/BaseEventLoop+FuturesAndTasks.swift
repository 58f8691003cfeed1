// Creating futures and tasks (the reference's "Creating Futures and Tasks").
extension BaseEventLoop {
    @inlinable
    public func createFuture<T>(of type: T.Type, from location: SourceLocation?) -> Future<T> {
        Future(loop: self, sourceLocation: location)
    }

    @inlinable
    public func createTask<T>(
        name: String?, from location: SourceLocation?, _ body: sending @escaping () async throws -> T
    ) throws -> LoopTask<T> {
        if let taskFactory = try taskFactoryForCreateTask() {
            return taskFactory.makeTask(loop: self, name: name, sourceLocation: location, body)
        }
        return LoopTask(loop: self, name: name, sourceLocation: location, body)
    }

    /// Runs `body` as a ``LoopTask`` on this loop; it starts in a later iteration.
    /// Throws ``LoopError/Kind-swift.enum/closed`` on a closed loop.
    // The same as EventLoop's, declared on the concrete class so that the call reaches
    // createTask(name:from:_:) directly and is specialised for `T` in the caller.
    @inlinable
    public func createTask<T>(
        name: String? = nil, file: StaticString = #fileID, line: UInt = #line,
        _ body: sending @escaping () async throws -> T
    ) throws -> LoopTask<T> {
        try createTask(name: name, from: debug ? SourceLocation(file, line) : nil, body)
    }

    /// Checks that a task may be created now; returns the custom task factory, if any.
    @usableFromInline
    func taskFactoryForCreateTask() throws -> (any TaskFactory)? {
        try checkOpen("createTask")
        if debugEnabled { try checkThread("createTask") }
        return taskFactory
    }

    /// Makes `createTask` (and `runUntilComplete { }`) use `factory`; `nil` restores
    /// the default (asyncio's `set_task_factory`).
    public func setTaskFactory(_ factory: (any TaskFactory)?) { taskFactory = factory }

    /// The custom task factory, or `nil` for the default.
    public var currentTaskFactory: (any TaskFactory)? { taskFactory }
}
