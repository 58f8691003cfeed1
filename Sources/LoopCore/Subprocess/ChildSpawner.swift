import CLoopShims
import Glibc

/// A child just started: its pid and the parent's ends of its pipes.
struct SpawnedChild {
    let pid: pid_t
    /// Child fd (0, 1, 2) → the parent's end of that pipe (non-blocking, close-on-exec).
    let pipes: [Int32: Int32]
}

/// Starts children with posix_spawn (cloop_spawn.c): checks the request, resolves the
/// program on PATH, makes the pipes, and cleans up everything it made when it fails.
enum ChildSpawner {
    /// Checks what can be checked before anything is created; throws ``SubprocessError``.
    static func validate(program: String, arguments: [String], options: SubprocessSpawnOptions) throws {
        if program.isEmpty {
            throw SubprocessError(.invalidArgument, program: program, "cannot start a child: the argument list is empty (the program name is missing)")
        }
        for argument in [program] + arguments where argument.utf8.contains(0) {
            throw SubprocessError(.invalidArgument, program: program, "cannot start \(program): an argument contains a NUL byte: \(argument.debugDescription)")
        }
        for (name, value) in options.environment.entries() {
            if name.utf8.contains(0) || value?.utf8.contains(0) == true {
                throw SubprocessError(.invalidArgument, program: program, "cannot start \(program): environment entry \(name.debugDescription) contains a NUL byte")
            }
            if name.isEmpty || name.contains("=") {
                throw SubprocessError(.invalidArgument, program: program, "cannot start \(program): illegal environment variable name \(name.debugDescription)")
            }
        }
        if let directory = options.currentDirectory {
            if directory.utf8.contains(0) {
                throw SubprocessError(.invalidArgument, program: program, "cannot start \(program): the working directory contains a NUL byte")
            }
            if let problem = DirectoryCheck.problem(directory) {
                throw SubprocessError(.badWorkingDirectory, program: program, errno: problem,
                    "cannot start \(program): working directory '\(directory)': \(SystemError.describe(problem))")
            }
        }
        if options.stdin == .stdout || options.stdout == .stdout {
            throw SubprocessError(.invalidArgument, program: program, "cannot start \(program): .stdout is only valid for stderr")
        }
        for (name, choice) in [("stdin", options.stdin), ("stdout", options.stdout), ("stderr", options.stderr)] {
            guard case .fd(let fd) = choice else { continue }
            if fd < 0 || fcntl(fd, F_GETFD) < 0 {
                throw SubprocessError(.badFileDescriptor, program: program, errno: EBADF,
                    "cannot start \(program): \(name) is fd \(fd), which is not open")
            }
        }
        for fd in options.passFds {
            if fd < 3 {
                throw SubprocessError(.invalidArgument, program: program, "cannot start \(program): passFds: \(fd) is a standard stream or negative; pass fds > 2")
            }
            if fcntl(fd, F_GETFD) < 0 {
                throw SubprocessError(.badFileDescriptor, program: program, errno: EBADF, "cannot start \(program): passFds: fd \(fd) is not open")
            }
        }
        if let group = options.processGroup, group < 0 {
            throw SubprocessError(.invalidArgument, program: program, "cannot start \(program): processGroup must be 0 (a new group) or a group id, not \(group)")
        }
        if options.newSession && options.processGroup != nil {
            throw SubprocessError(.invalidArgument, program: program, "cannot start \(program): newSession and processGroup exclude each other (a new session is a new group)")
        }
    }

    /// The program's path: itself when it contains a slash, otherwise the first
    /// executable file of that name on PATH (the child's PATH, as execvp would use).
    static func resolve(_ program: String, path: String?) -> String {
        if program.contains("/") { return program }
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false)
        var firstExisting: String?
        for directory in directories {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            var info = stat()
            guard stat(candidate, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFREG && access(candidate, X_OK) == 0 { return candidate }
            if firstExisting == nil { firstExisting = candidate }
        }
        return firstExisting ?? program
    }

    /// Starts the child. Throws ``SubprocessError``; on failure every fd it made is closed.
    static func spawn(program: String, arguments: [String], options: SubprocessSpawnOptions) throws -> SpawnedChild {
        // Inherited: the parent's environ goes to posix_spawn as it is, nothing to build.
        let environment = options.environment == .inherit ? nil : options.environment.resolved()
        let path = resolve(program, path: environment.map { $0["PATH"] } ?? ProcessEnvironment.value("PATH"))
        var made = Made()
        defer { made.closeChildEnds() }
        var stdio: [Int32] = [-1, -1, -1]
        do {
            for (target, choice) in [options.stdin, options.stdout, options.stderr].enumerated() {
                stdio[target] = try made.source(for: choice, target: Int32(target), program: program)
            }
        } catch {
            made.closeParentEnds()
            throw error
        }
        let keep = Array(Set(options.passFds)).sorted()
        let argv = CStringArray([program] + arguments)
        let envp = environment.map { CStringArray($0.map { "\($0.key)=\($0.value)" }.sorted()) }
        var pid: pid_t = 0
        // The arrays must outlive the spawn: their last Swift use is before cloop_spawn reads them.
        let code = withExtendedLifetime((argv, envp)) {
            start(path: path, argv: argv, envp: envp, stdio: stdio, keep: keep, options: options, pid: &pid)
        }
        if code != 0 {
            made.closeParentEnds()
            throw SubprocessError.fromSpawn(errno: code, program: program, path: path, currentDirectory: options.currentDirectory)
        }
        return SpawnedChild(pid: pid, pipes: made.parentEnds)
    }
}

extension ChildSpawner {
    /// Fills in the C request and calls cloop_spawn; returns its errno result.
    fileprivate static func start(
        path: String, argv: CStringArray, envp: CStringArray?, stdio: [Int32], keep: [Int32],
        options: SubprocessSpawnOptions, pid: inout pid_t
    ) -> Int32 {
        path.withCString { cPath in
            keep.withUnsafeBufferPointer { keepBuffer in
                withOptionalCString(options.currentDirectory) { cwd in
                    var request = cloop_spawn_request()
                    request.path = cPath
                    request.argv = UnsafePointer(argv.pointer)
                    request.envp = envp.map { UnsafePointer($0.pointer) }
                    request.cwd = cwd
                    request.stdio = (stdio[0], stdio[1], stdio[2])
                    request.keep = keepBuffer.baseAddress
                    request.keep_count = Int32(keepBuffer.count)
                    request.new_session = options.newSession ? 1 : 0
                    request.process_group = options.processGroup ?? -1
                    return cloop_spawn(&request, &pid)
                }
            }
        }
    }
}

/// The descriptors a spawn makes: the child's ends (closed in the parent after the
/// spawn) and the parent's ends of pipes (kept on success).
private struct Made {
    var childEnds: [Int32] = []
    var parentEnds: [Int32: Int32] = [:]

    /// The parent fd to dup2 onto `target` in the child, -1 to leave it, -2 for "stdout".
    mutating func source(for choice: SubprocessStdio, target: Int32, program: String) throws -> Int32 {
        switch choice {
        case .inherit:
            return -1
        case .stdout:
            return -2
        case .devNull:
            let fd = open("/dev/null", O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError(errno: errno, call: "open(/dev/null)") }
            childEnds.append(fd)
            return fd
        case .fd(let fd):
            // A caller's fd below 3 that lands elsewhere would be overwritten by an
            // earlier dup2 in the child: give the child a copy above the standard ones.
            guard fd < 3 && fd != target else { return fd }
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, 3)
            guard copy >= 0 else { throw SystemError(errno: errno, call: "fcntl(\(fd), F_DUPFD_CLOEXEC)") }
            childEnds.append(copy)
            return copy
        case .pipe:
            var fds: [Int32] = [-1, -1]
            guard cloop_pipe2(&fds, O_CLOEXEC) == 0 else {
                throw SubprocessError(.spawnFailed, program: program, errno: errno,
                    "cannot start \(program): pipe2 failed: \(SystemError.describe(errno))")
            }
            let (child, parent) = target == 0 ? (fds[0], fds[1]) : (fds[1], fds[0])
            childEnds.append(child)
            parentEnds[target] = parent
            _ = cloop_set_nonblocking(parent, 1)
            return child
        }
    }

    mutating func closeChildEnds() {
        for fd in childEnds { _ = Glibc.close(fd) }
        childEnds = []
    }

    mutating func closeParentEnds() {
        for fd in parentEnds.values { _ = Glibc.close(fd) }
        parentEnds = [:]
    }
}

/// A NULL-terminated array of C strings, freed with the value.
private final class CStringArray {
    let pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointer = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { pointer[index] = strdup(string) }
        pointer[strings.count] = nil
    }

    deinit {
        for index in 0..<count { free(pointer[index]) }
        pointer.deallocate()
    }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}

extension SubprocessEnvironment {
    /// The entries the caller gave (none for `.inherit`), for validation.
    func entries() -> [(String, String?)] {
        switch self {
        case .inherit: return []
        case .replace(let variables): return variables.map { ($0.key, $0.value) }
        case .amend(let changes): return changes.map { ($0.key, $0.value) }
        }
    }
}
