/// The streams-level subprocess calls (asyncio's `asyncio.create_subprocess_exec` and
/// `create_subprocess_shell`): a ``Process`` with stream objects for the piped
/// streams. As in asyncio, every stream is inherited unless asked for as `.pipe`.
/// The free functions run on the loop running the current task.
extension BaseEventLoop {
    /// Starts `program` with `arguments` and returns its ``Process``; `limit` is the
    /// buffer limit of the stdout and stderr readers. The other options are those of
    /// ``subprocessExec(_:_:_:stdin:stdout:stderr:environment:currentDirectory:passFds:newSession:processGroup:)``.
    /// Throws ``SubprocessError`` (the program and the cause) when the child cannot start.
    public func createSubprocessExec(
        _ program: String, _ arguments: [String] = [],
        stdin: SubprocessStdio = .inherit, stdout: SubprocessStdio = .inherit, stderr: SubprocessStdio = .inherit,
        limit: Int = StreamReader.defaultLimit,
        environment: SubprocessEnvironment = .inherit, currentDirectory: String? = nil,
        passFds: [Int32] = [], newSession: Bool = false, processGroup: Int32? = nil
    ) async throws -> Process {
        guard limit > 0 else {
            throw SubprocessError(.invalidArgument, program: program, "cannot start \(program): limit must be greater than 0, not \(limit)")
        }
        let (transport, proto) = try await subprocessExec(
            { SubprocessStreamProtocol(limit: limit, loop: self) }, program, arguments,
            stdin: stdin, stdout: stdout, stderr: stderr, environment: environment,
            currentDirectory: currentDirectory, passFds: passFds, newSession: newSession, processGroup: processGroup)
        return Process(transport: transport, protocol: proto, loop: self)
    }

    /// Runs `command` with `/bin/sh -c` and returns its ``Process``; see
    /// ``createSubprocessExec(_:_:stdin:stdout:stderr:limit:environment:currentDirectory:passFds:newSession:processGroup:)``.
    public func createSubprocessShell(
        _ command: String,
        stdin: SubprocessStdio = .inherit, stdout: SubprocessStdio = .inherit, stderr: SubprocessStdio = .inherit,
        limit: Int = StreamReader.defaultLimit,
        environment: SubprocessEnvironment = .inherit, currentDirectory: String? = nil,
        passFds: [Int32] = [], newSession: Bool = false, processGroup: Int32? = nil
    ) async throws -> Process {
        if command.utf8.contains(0) {
            throw SubprocessError(.invalidArgument, program: "/bin/sh", "cannot start /bin/sh: the shell command contains a NUL byte")
        }
        return try await createSubprocessExec(
            "/bin/sh", ["-c", command], stdin: stdin, stdout: stdout, stderr: stderr, limit: limit,
            environment: environment, currentDirectory: currentDirectory, passFds: passFds,
            newSession: newSession, processGroup: processGroup)
    }
}

/// Starts `program` on the loop running the current task (asyncio's
/// `create_subprocess_exec`); see ``BaseEventLoop/createSubprocessExec(_:_:stdin:stdout:stderr:limit:environment:currentDirectory:passFds:newSession:processGroup:)``.
public func createSubprocessExec(
    _ program: String, _ arguments: [String] = [],
    stdin: SubprocessStdio = .inherit, stdout: SubprocessStdio = .inherit, stderr: SubprocessStdio = .inherit,
    limit: Int = StreamReader.defaultLimit,
    environment: SubprocessEnvironment = .inherit, currentDirectory: String? = nil,
    passFds: [Int32] = [], newSession: Bool = false, processGroup: Int32? = nil
) async throws -> Process {
    try await runningSubprocessLoop("createSubprocessExec").createSubprocessExec(
        program, arguments, stdin: stdin, stdout: stdout, stderr: stderr, limit: limit,
        environment: environment, currentDirectory: currentDirectory, passFds: passFds,
        newSession: newSession, processGroup: processGroup)
}

/// Runs `command` with `/bin/sh -c` on the loop running the current task (asyncio's
/// `create_subprocess_shell`); see ``BaseEventLoop/createSubprocessShell(_:stdin:stdout:stderr:limit:environment:currentDirectory:passFds:newSession:processGroup:)``.
public func createSubprocessShell(
    _ command: String,
    stdin: SubprocessStdio = .inherit, stdout: SubprocessStdio = .inherit, stderr: SubprocessStdio = .inherit,
    limit: Int = StreamReader.defaultLimit,
    environment: SubprocessEnvironment = .inherit, currentDirectory: String? = nil,
    passFds: [Int32] = [], newSession: Bool = false, processGroup: Int32? = nil
) async throws -> Process {
    try await runningSubprocessLoop("createSubprocessShell").createSubprocessShell(
        command, stdin: stdin, stdout: stdout, stderr: stderr, limit: limit,
        environment: environment, currentDirectory: currentDirectory, passFds: passFds,
        newSession: newSession, processGroup: processGroup)
}

private func runningSubprocessLoop(_ call: String) throws -> BaseEventLoop {
    let running = try RunningLoop.get()
    guard let loop = running as? BaseEventLoop else {
        throw LoopError(.invalidState, "\(call): the running loop \(type(of: running)) cannot start subprocesses; call it on a BaseEventLoop")
    }
    return loop
}
