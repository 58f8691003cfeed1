import Glibc

/// A value guarded by a mutex, for harness state that is not `Sendable`
/// (exception contexts, cleanup closures) but is touched from case threads.
final class Protected<Value>: @unchecked Sendable {
    // @unchecked: every access to `value` goes through `mutex`.
    private var mutex = pthread_mutex_t()
    private var value: Value

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body(&value)
    }
}
