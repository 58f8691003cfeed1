import Glibc

/// A child process could not be started, or is gone (asyncio's FileNotFoundError,
/// PermissionError, ValueError from the create call, and ProcessLookupError from
/// signalling a child that was already reaped).
///
/// ``kind`` says what went wrong; ``program`` names the program; ``message`` says why.
public struct SubprocessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Hashable {
        /// No such program (asyncio's FileNotFoundError).
        case programNotFound
        /// The program exists but cannot be executed: no execute permission, or a
        /// directory (asyncio's PermissionError).
        case permissionDenied
        /// The working directory does not exist, is not a directory, or cannot be entered.
        case badWorkingDirectory
        /// An argument is unusable: an empty argument list, a NUL byte in an argument,
        /// the command or an environment entry, a misplaced stdio choice (asyncio's ValueError).
        case invalidArgument
        /// A descriptor given for stdio or `passFds` is not open.
        case badFileDescriptor
        /// The child has exited and was reaped: it can no longer be signalled
        /// (asyncio's ProcessLookupError).
        case processLookup
        /// The OS refused to start the child for another reason (see ``errno``).
        case spawnFailed
    }

    /// What went wrong.
    public let kind: Kind
    /// The program that was to be started, or was started.
    public let program: String
    /// The `errno` value behind the failure, when there is one.
    public let errno: Int32?
    /// The cause, naming the program.
    public let message: String

    public init(_ kind: Kind, program: String, errno: Int32? = nil, _ message: String) {
        self.kind = kind
        self.program = program
        self.errno = errno
        self.message = message
    }

    public var description: String { message }

    static func fromSpawn(errno code: Int32, program: String, path: String, currentDirectory: String?) -> SubprocessError {
        if let currentDirectory, let problem = DirectoryCheck.problem(currentDirectory) {
            return SubprocessError(.badWorkingDirectory, program: program, errno: problem,
                "cannot start \(program): working directory '\(currentDirectory)': \(SystemError.describe(problem))")
        }
        switch code {
        case ENOENT, ENOTDIR:
            return SubprocessError(.programNotFound, program: program, errno: code,
                "cannot start \(program): no such file or directory: '\(path)'")
        case EACCES, EPERM, EISDIR:
            var info = stat()
            let isDirectory = stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
            return SubprocessError(.permissionDenied, program: program, errno: code,
                "cannot start \(program): '\(path)' \(isDirectory ? "is a directory" : "is not executable (permission denied)")")
        default:
            return SubprocessError(.spawnFailed, program: program, errno: code,
                "cannot start \(program): posix_spawn failed: \(SystemError.describe(code)) (errno \(code))")
        }
    }
}

/// Whether a path can serve as a working directory.
enum DirectoryCheck {
    /// The errno that makes `path` unusable as a working directory, or nil when it is usable.
    static func problem(_ path: String) -> Int32? {
        var info = stat()
        if stat(path, &info) != 0 { return errno }
        if info.st_mode & S_IFMT != S_IFDIR { return ENOTDIR }
        if access(path, X_OK) != 0 { return errno }
        return nil
    }
}
