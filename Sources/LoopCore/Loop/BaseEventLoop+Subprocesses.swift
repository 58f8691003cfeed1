import CLoopShims
import Glibc

/// Running subprocesses (asyncio's `subprocess_exec` and `subprocess_shell`). Children
/// start with `posix_spawn`: signal dispositions back to default (SIGPIPE, which the
/// loop ignores, included), an empty signal mask, and only fds 0, 1, 2 and `passFds`
/// open. Their exits are watched through pidfds on whatever backend the loop runs
/// (see ``ChildWatcherKind``). Await these from a task running on the loop.
///
/// ```swift
/// let (transport, protocol) = try await loop.subprocessExec({ Collector() }, "ls", ["-l"])
/// ```
extension BaseEventLoop {
    /// Starts `program` with `arguments` (argv is `[program] + arguments`; a program
    /// without a slash is looked up on the child's PATH) and returns once the protocol's
    /// `connectionMade` has run.
    ///
    /// - Parameters:
    ///   - stdin, stdout, stderr: where each stream goes (a pipe by default); stderr may
    ///     be `.stdout`.
    ///   - environment: inherit (default), replace or amend the parent's environment.
    ///   - currentDirectory: the child's working directory.
    ///   - passFds: further fds (> 2) the child keeps open.
    ///   - newSession: start the child in a new session (`setsid`).
    ///   - processGroup: 0 for a new process group led by the child, or a group to join.
    /// - Throws: ``SubprocessError`` naming the program and the cause (missing, not
    ///   executable, a directory, a bad working directory, an empty program, a NUL byte,
    ///   a stdio fd that is not open); nothing is left behind.
    public func subprocessExec<P: SubprocessProtocol>(
        _ factory: () throws -> P, _ program: String, _ arguments: [String] = [],
        stdin: SubprocessStdio = .pipe, stdout: SubprocessStdio = .pipe, stderr: SubprocessStdio = .pipe,
        environment: SubprocessEnvironment = .inherit, currentDirectory: String? = nil,
        passFds: [Int32] = [], newSession: Bool = false, processGroup: Int32? = nil
    ) async throws -> (transport: SubprocessTransport, protocol: P) {
        try checkTransportCall("subprocessExec")
        let options = SubprocessSpawnOptions(
            stdin: stdin, stdout: stdout, stderr: stderr, environment: environment,
            currentDirectory: currentDirectory, passFds: passFds, newSession: newSession, processGroup: processGroup)
        try ChildSpawner.validate(program: program, arguments: arguments, options: options)
        let made = try factory()
        let child = try ChildSpawner.spawn(program: program, arguments: arguments, options: options)
        let waiter = createFuture(of: Void.self, from: nil)
        let transport: SubprocessTransport
        do {
            transport = try SubprocessTransport(loop: self, child: child, program: program, protocol: made, waiter: waiter)
        } catch {
            abandon(child)
            throw error
        }
        do {
            try await waiter.value
        } catch {
            transport.close()
            throw error
        }
        return (transport, made)
    }

    /// Runs `command` with `/bin/sh -c` (asyncio's `subprocess_shell`); the options are
    /// those of ``subprocessExec(_:_:_:stdin:stdout:stderr:environment:currentDirectory:passFds:newSession:processGroup:)``.
    /// Throws ``SubprocessError`` kind `invalidArgument` for a command with a NUL byte.
    public func subprocessShell<P: SubprocessProtocol>(
        _ factory: () throws -> P, _ command: String,
        stdin: SubprocessStdio = .pipe, stdout: SubprocessStdio = .pipe, stderr: SubprocessStdio = .pipe,
        environment: SubprocessEnvironment = .inherit, currentDirectory: String? = nil,
        passFds: [Int32] = [], newSession: Bool = false, processGroup: Int32? = nil
    ) async throws -> (transport: SubprocessTransport, protocol: P) {
        if command.utf8.contains(0) {
            throw SubprocessError(.invalidArgument, program: "/bin/sh", "cannot start /bin/sh: the shell command contains a NUL byte")
        }
        return try await subprocessExec(
            factory, "/bin/sh", ["-c", command], stdin: stdin, stdout: stdout, stderr: stderr,
            environment: environment, currentDirectory: currentDirectory, passFds: passFds,
            newSession: newSession, processGroup: processGroup)
    }

    /// The watcher this loop gives new children (``ChildWatcherKind/preferred`` unless
    /// set): setting ``ChildWatcherKind/waiterThread`` forces the fallback, for tests.
    @_spi(Backend) public var childWatcher: ChildWatcherKind {
        get { subprocesses.watcherKind }
        set { subprocesses.watcherKind = newValue }
    }

    /// How many children this loop started that were not reaped yet.
    public var runningSubprocessCount: Int { subprocesses.count }

    /// A child whose transport could not be made: kill and reap it, close its pipes.
    private func abandon(_ child: SpawnedChild) {
        _ = Glibc.kill(child.pid, SIGKILL)
        var status: Int32 = 0
        _ = cloop_reap(-1, child.pid, 1, &status)
        for fd in child.pipes.values where cloop_fd_is_open(fd) >= 0 { _ = Glibc.close(fd) }
    }
}
