extension LoopError {
    /// The error a backend's `register`, `modify` and `wait` throw after its
    /// ``SelectorBackend/close()``: kind ``LoopError/Kind-swift.enum/closed``, naming the backend
    /// and the hook.
    ///
    /// ```swift
    /// guard !wake.isClosed else { throw LoopError.backendClosed(name, hook: "register(fd:interest:)") }
    /// ```
    @_spi(Backend) public static func backendClosed(_ backend: String, hook: String) -> LoopError {
        LoopError(.closed, "backend '\(backend)': \(hook) called after close(); make a new backend")
    }
}
