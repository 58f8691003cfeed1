/// Where one of a child's standard streams goes (asyncio's `stdin=`/`stdout=`/`stderr=`
/// arguments: `PIPE`, `DEVNULL`, `None`, a file descriptor, `STDOUT`).
public enum SubprocessStdio: Sendable, Equatable {
    /// A pipe to the parent, served by a pipe transport (``SubprocessTransport/pipeTransport(fd:)``).
    case pipe
    /// `/dev/null`.
    case devNull
    /// The parent's own stream of the same number.
    case inherit
    /// A descriptor the caller owns (it stays open in the parent; the child gets a copy).
    case fd(Int32)
    /// For stderr only: the same place as stdout (asyncio's `STDOUT`).
    case stdout
}

/// The environment a child starts with.
public enum SubprocessEnvironment: Sendable, Equatable {
    /// The parent's environment.
    case inherit
    /// Exactly these variables.
    case replace([String: String])
    /// The parent's environment with these changes: a value sets the variable, `nil`
    /// removes it.
    case amend([String: String?])

    /// The variables the child gets.
    func resolved() -> [String: String] {
        switch self {
        case .inherit:
            return ProcessEnvironment.current
        case .replace(let variables):
            return variables
        case .amend(let changes):
            var variables = ProcessEnvironment.current
            for (name, value) in changes { variables[name] = value }
            return variables
        }
    }
}

/// Everything a subprocess call says about the child besides its program and arguments.
struct SubprocessSpawnOptions {
    var stdin: SubprocessStdio
    var stdout: SubprocessStdio
    var stderr: SubprocessStdio
    var environment: SubprocessEnvironment
    var currentDirectory: String?
    var passFds: [Int32]
    var newSession: Bool
    var processGroup: Int32?
}
