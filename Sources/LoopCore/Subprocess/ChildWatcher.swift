import CLoopShims
import Glibc

/// How a loop learns that one of its children exited.
///
/// - ``pidfd``: the child's pidfd (`pidfd_open`, Linux ≥ 5.3) is watched as an ordinary
///   reader by the loop's backend, so every backend watches children with no SIGCHLD
///   handler and no thread. Signals go through `pidfd_send_signal`.
/// - ``waiterThread``: the fallback when `pidfd_open` is refused (ENOSYS, EPERM in some
///   sandboxes). A short-lived thread per child blocks in `waitid(P_PID, WNOWAIT)` —
///   it never reaps — and tells the loop through `callSoonThreadsafe`; the loop's thread
///   then reaps that one child. Until the loop reaps it the pid stays a zombie, so a
///   signal sent to the pid cannot reach a recycled process.
///
/// Either way only the loop's own children are reaped, each by its pid, on the loop's thread.
public enum ChildWatcherKind: String, Sendable, CaseIterable {
    case pidfd
    case waiterThread = "waiter-thread"

    /// The environment variable that forces a watcher: `pidfd` or `waiter-thread`.
    public static let environmentVariable = "LOOP_CHILD_WATCHER"

    /// The watcher new children use unless the loop was told otherwise: the one named by
    /// `LOOP_CHILD_WATCHER`, else `pidfd` when this kernel grants pidfds, else the waiter thread.
    public static var preferred: ChildWatcherKind {
        if let forced = ProcessEnvironment.value(environmentVariable).flatMap(ChildWatcherKind.init(rawValue:)) {
            return forced
        }
        return pidfdAvailable ? .pidfd : .waiterThread
    }

    /// Whether `pidfd_open` works here (probed once, on this process).
    public static let pidfdAvailable: Bool = {
        let fd = cloop_pidfd_open(getpid())
        guard fd >= 0 else { return false }
        _ = Glibc.close(fd)
        return true
    }()

    /// One line for `loopctl backends`: which watcher is in use and why.
    public static var summary: String {
        let forced = ProcessEnvironment.value(environmentVariable).flatMap(ChildWatcherKind.init(rawValue:))
        switch (preferred, forced) {
        case (let kind, .some): return "child watcher: \(kind.rawValue) (forced by \(environmentVariable))"
        case (.pidfd, nil): return "child watcher: pidfd (pidfd_open granted; watched by every backend as a reader)"
        case (.waiterThread, nil): return "child watcher: waiter-thread (pidfd_open refused on this system)"
        }
    }
}

/// Watches one child for its exit and reaps it on the loop's thread.
final class ChildWatch {
    let pid: pid_t
    let kind: ChildWatcherKind
    private unowned let loop: BaseEventLoop
    private var pidfd: Int32
    private var onExit: ((Int32) -> Void)?
    private(set) var reaped = false

    /// Starts watching `pid` with `preferred`, falling back to the waiter thread when
    /// `pidfd_open` is refused. `onExit` runs once on the loop's thread with the status.
    init(loop: BaseEventLoop, pid: pid_t, preferred: ChildWatcherKind, onExit: @escaping (Int32) -> Void) throws {
        self.loop = loop
        self.pid = pid
        self.onExit = onExit
        var fd: Int32 = -1
        if preferred == .pidfd {
            fd = cloop_pidfd_open(pid)
            if fd < 0 && errno != ENOSYS && errno != EPERM {
                throw SystemError(errno: errno, call: "pidfd_open(\(pid))")
            }
        }
        pidfd = fd
        kind = fd >= 0 ? .pidfd : .waiterThread
        if fd >= 0 {
            try loop.transportAddReader(fd) { [unowned self] in exitMayHaveHappened() }
            loop.setTransportOwner(fd, "<pidfd pid=\(pid)>")
        } else {
            let box = WatchBox(self)
            let child = pid
            let started = startDetachedThread(named: "loop-waitid") { [loop] in
                _ = cloop_wait_exited_no_reap(child)
                _ = try? loop.callSoonThreadsafe({ box.watch.exitMayHaveHappened() }, from: nil)
            }
            if started != 0 { throw SystemError(errno: started, call: "pthread_create(child waiter)") }
        }
    }

    /// Sends `signal` to the child unless it was reaped; throws ``SubprocessError`` kind
    /// `processLookup` once it was.
    func send(_ signal: Int32, program: String) throws {
        let result: Int32
        if reaped {
            result = -1
            errno = ESRCH
        } else if pidfd >= 0 {
            result = cloop_pidfd_send_signal(pidfd, signal)
        } else {
            result = Glibc.kill(pid, signal)
        }
        guard result != 0 else { return }
        if errno == ESRCH {
            throw SubprocessError(.processLookup, program: program, errno: ESRCH, "\(program) (pid \(pid)) has exited and was reaped: no process to signal")
        }
        throw SystemError(errno: errno, call: "pidfd_send_signal(\(pid), \(signal))")
    }

    /// The watcher saw the child exit (or woke spuriously): reap it without blocking.
    private func exitMayHaveHappened() {
        guard !reaped else { return }
        var status: Int32 = 0
        let result = cloop_reap(pidfd, pid, 0, &status)
        if result == 0 { return }
        finish(result == 1 ? status : 255)
    }

    /// Kills the child (if it still runs) and reaps it, blocking: for a loop that closes.
    func killAndReap() {
        guard !reaped else { return }
        if pidfd >= 0 { _ = cloop_pidfd_send_signal(pidfd, SIGKILL) } else { _ = Glibc.kill(pid, SIGKILL) }
        var status: Int32 = 0
        let result = cloop_reap(pidfd, pid, 1, &status)
        finish(result == 1 ? status : -SIGKILL, notify: false)
    }

    private func finish(_ status: Int32, notify: Bool = true) {
        reaped = true
        if pidfd >= 0 {
            loop.setTransportOwner(pidfd, nil)
            _ = try? loop.transportRemoveReader(pidfd)
            _ = Glibc.close(pidfd)
            pidfd = -1
        }
        let callback = onExit
        onExit = nil
        if notify { callback?(status) }
    }
}

/// Carries a loop-confined watch to the loop's thread from the waiter thread, which
/// only hands it back through callSoonThreadsafe and never touches it.
private final class WatchBox: @unchecked Sendable {
    let watch: ChildWatch
    init(_ watch: ChildWatch) { self.watch = watch }
}
