import Glibc
import CLoopShims
import Synchronization

/// Process-wide signal bookkeeping: which loop owns each signal. A signal has at most
/// one owner; the last loop that adds a handler for it takes it over. The lock also
/// serializes the C install/restore calls, which share the saved dispositions.
enum SignalRegistry {
    static let owners = Mutex<[Int32: ObjectIdentifier]>([:])
}

/// A loop's signal handlers and its wakeup pipe, loop thread only (asyncio's
/// `_signal_handlers` and self-pipe).
///
/// Delivery: the C handler (async-signal-safe) sets the signal's pending flag and
/// writes a byte to the owner loop's pipe; the pipe's read end is an ordinary reader
/// of the loop, so any backend wakes up; the reader drains the pipe and queues the
/// handle of each pending signal, which then runs on the loop thread like any callback.
struct LoopSignalState {
    /// The callback handle of each signal this loop handles.
    var handlers: [Int32: Handle] = [:]
    /// The wakeup pipe, open while ``handlers`` is not empty.
    var wakeupRead: Int32 = -1
    var wakeupWrite: Int32 = -1
}

/// Signal numbers and dispositions, for loop users and tests.
public enum Signals {
    /// One more than the largest signal number (`NSIG`).
    public static var count: Int32 { cloop_nsig() }

    /// Whether `signal` is a number a process may use (Python's `signal.valid_signals()`).
    public static func isValid(_ signal: Int32) -> Bool { cloop_signal_is_valid(signal) != 0 }

    /// Whether the calling thread is the process's main thread, the only one that may
    /// install signal handlers.
    public static var isMainThread: Bool { cloop_is_main_thread() != 0 }

    /// What the process does on `signal` now.
    public enum Disposition: Sendable, Equatable {
        /// The default action (`SIG_DFL`).
        case `default`
        /// Ignored (`SIG_IGN`).
        case ignore
        /// A loop's handler (``EventLoop/addSignalHandler(_:_:from:)``).
        case loopHandler
        /// Some other handler.
        case other
    }

    /// The disposition of `signal`; `nil` for an invalid signal number.
    public static func disposition(of signal: Int32) -> Disposition? {
        switch cloop_signal_disposition(signal) {
        case 0: return .default
        case 1: return .ignore
        case 2: return .loopHandler
        case 3: return .other
        default: return nil
        }
    }
}
