/// A misuse of the loop API or a loop that cannot do what was asked.
///
/// ``kind`` says which rule was broken (switch on it); ``message`` names the call
/// and, where there is one, the fix.
public struct LoopError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule that was broken.
    public enum Kind: Sendable, Hashable {
        /// The loop is closed; nothing can be scheduled on it (asyncio: "Event loop is closed").
        case closed
        /// The loop is already running (asyncio: "This event loop is already running").
        case alreadyRunning
        /// Another loop already runs on this thread.
        case anotherLoopRunning
        /// `close()` was called while the loop runs.
        case closeWhileRunning
        /// No loop is running on this thread (asyncio: "no running event loop").
        case noRunningLoop
        /// The loop stopped before the future given to `runUntilComplete` completed.
        case stoppedBeforeFutureCompleted
        /// A non-thread-safe call came from a thread other than the loop's (debug mode).
        case wrongThread
        /// An argument is out of range or inconsistent (asyncio's ValueError).
        case invalidArgument
        /// An object is in the wrong state for the call (asyncio's InvalidStateError).
        case invalidState
        /// A future or task belongs to a different loop.
        case differentLoop
        /// A file descriptor is owned by a transport and cannot be watched directly.
        case fdInUseByTransport
        /// No backend by the requested name, or it cannot run here.
        case backendUnavailable
        /// A backend name is already registered.
        case duplicateBackend
        /// A backend hook failed or broke its contract.
        case backendFailure
        /// Work was submitted to an executor that is shut down, or `runInExecutor(nil, …)`
        /// was called after `shutdownDefaultExecutor()` (asyncio's RuntimeError
        /// "Executor shutdown has been called").
        case executorShutdown
        /// `addSignalHandler` could not install the handler: it was called off the
        /// process's main thread, or the OS refused (asyncio's RuntimeError).
        case signalInstallFailed
    }

    /// The rule that was broken.
    public let kind: Kind
    /// What happened, naming the call and the fix.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The standard error for `call` on a closed loop.
    public static func closed(_ call: String) -> LoopError {
        LoopError(.closed, "Event loop is closed: \(call) cannot be used after close(); create a new loop")
    }
}

/// An operating-system call failed (asyncio's OSError).
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `errno` value.
    public let errno: Int32
    /// The failing call, e.g. `"epoll_ctl(ADD)"`.
    public let call: String

    public init(errno: Int32, call: String) {
        self.errno = errno
        self.call = call
    }

    public var description: String { "\(call) failed: \(SystemError.describe(errno)) (errno \(errno))" }

    /// `strerror` text for an errno value.
    public static func describe(_ errno: Int32) -> String {
        guard let text = strerror(errno) else { return "unknown error" }
        return String(cString: text)
    }
}

import Glibc
