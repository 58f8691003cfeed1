// The executor (the reference's "Executing code in thread or process pools").
extension BaseEventLoop {
    public func runInExecutor<T: Sendable>(
        _ executor: (any LoopExecutor)?, from location: SourceLocation?, _ body: @escaping @Sendable () throws -> T
    ) throws -> Future<T> {
        try checkOpen("runInExecutor")
        if debugEnabled { try checkThread("runInExecutor") }
        let chosen: any LoopExecutor
        if let executor {
            chosen = executor
        } else {
            chosen = try defaultExecutorForUse()
        }
        let source = try chosen.submit(body)
        let destination = createFuture(of: T.self, from: location)
        try chain(source, to: destination)
        return destination
    }

    public func setDefaultExecutor(_ executor: any LoopExecutor) throws {
        if debugEnabled { try checkThread("setDefaultExecutor") }
        guard let pool = executor as? ThreadPoolExecutor else {
            throw LoopError(
                .invalidArgument,
                "setDefaultExecutor: executor must be a ThreadPoolExecutor, got \(type(of: executor)); pass other executors to runInExecutor explicitly"
            )
        }
        executorState.executor = pool
    }

    public func shutdownDefaultExecutor(timeout: Duration?) throws -> Future<Void> {
        try checkOpen("shutdownDefaultExecutor")
        if debugEnabled { try checkThread("shutdownDefaultExecutor") }
        if let timeout, timeout < .zero {
            throw LoopError(.invalidArgument, "shutdownDefaultExecutor: the timeout must not be negative, got \(timeout)")
        }
        executorState.shutdownCalled = true
        let done = createFuture(of: Void.self, from: nil)
        guard let executor = executorState.executor else {
            try done.setResult(())
            return done
        }
        var timer: TimerHandle?
        if let timeout {
            timer = try callLater(timeout, { [weak self, done] in
                guard !done.isDone else { return }
                self?.logger.warning("The executor did not finish joining its threads within \(timeout); it is shut down without waiting")
                executor.shutdown(wait: false)
                try done.setResult(())
            }, from: nil)
        }
        let timeoutTimer = timer
        let finished: @Sendable () -> Void = { [weak self] in
            _ = try? self?.callSoonThreadsafe({
                timeoutTimer?.cancel()
                if !done.isDone { try done.setResult(()) }
            }, from: nil)
        }
        let started = startDetachedThread(named: "executor-shutdown") {
            executor.shutdown(wait: true)
            finished()
        }
        if started != 0 {
            timer?.cancel()
            throw SystemError(errno: started, call: "pthread_create (shutdownDefaultExecutor)")
        }
        return done
    }

    /// The default executor, created on first use; refuses after `shutdownDefaultExecutor()`.
    private func defaultExecutorForUse() throws -> ThreadPoolExecutor {
        if executorState.shutdownCalled {
            throw LoopError(
                .executorShutdown,
                "runInExecutor: Executor shutdown has been called; pass an executor explicitly or use a new loop")
        }
        if let executor = executorState.executor { return executor }
        let executor = try ThreadPoolExecutor(threadNamePrefix: "loop-executor")
        executorState.executor = executor
        return executor
    }

    /// At close: shut the default executor down without waiting (asyncio's close()).
    func shutDownDefaultExecutorAtClose() {
        executorState.shutdownCalled = true
        if let executor = executorState.executor {
            executorState.executor = nil
            executor.shutdown(wait: false)
        }
    }
}
