extension BaseEventLoop {
    /// Runs `body` as a ``LoopTask`` on this loop, started eagerly (see
    /// ``eagerTaskFactory``) or in a later iteration as `eagerStart` says
    /// (asyncio 3.14's `create_task(eager_start=)`). The explicit choice bypasses a
    /// task factory set with ``setTaskFactory(_:)``, whose protocol has no such
    /// parameter. Throws ``LoopError/Kind-swift.enum/closed`` on a closed loop.
    @inlinable
    public func createTask<T>(
        name: String? = nil, eagerStart: Bool, file: StaticString = #fileID, line: UInt = #line,
        _ body: sending @escaping () async throws -> T
    ) throws -> LoopTask<T> {
        _ = try taskFactoryForCreateTask()
        return LoopTask(
            loop: self, name: name, sourceLocation: debug ? SourceLocation(file, line) : nil,
            eagerStart: eagerStart, body)
    }
}
