/// State of the loop's default executor, loop thread only.
struct DefaultExecutorState {
    /// Created on first use by `runInExecutor(nil, …)`, or set by `setDefaultExecutor`.
    var executor: ThreadPoolExecutor?
    /// Set by `shutdownDefaultExecutor()` and `close()`: `runInExecutor(nil, …)` refuses from then on.
    var shutdownCalled = false
}
