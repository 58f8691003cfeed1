/// Something that runs work off the loop's thread (Python's `concurrent.futures.Executor`),
/// for ``EventLoop/runInExecutor(_:from:_:)``.
///
/// ``ThreadPoolExecutor`` is the built-in one and the only kind a loop accepts as its
/// default executor; any conforming type may be passed to `runInExecutor` explicitly.
public protocol LoopExecutor: AnyObject, Sendable {
    /// Schedules `body` and returns the future of its result. Throws
    /// ``LoopError/Kind-swift.enum/executorShutdown`` after ``shutdown(wait:cancelFutures:)``.
    func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> ConcurrentFuture<T>

    /// Stops accepting work. With `wait`, returns once the work already submitted has
    /// finished; without it, returns at once. With `cancelFutures`, work that has not
    /// started is cancelled instead of run.
    func shutdown(wait: Bool, cancelFutures: Bool)
}

extension LoopExecutor {
    /// Stops accepting work and, by default, waits for the work already submitted.
    public func shutdown(wait: Bool = true) {
        shutdown(wait: wait, cancelFutures: false)
    }
}
