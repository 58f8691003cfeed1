import Glibc
import LoopCore

/// PROC-X31…X37: bad input to the create calls — a typed ``SubprocessError`` naming the
/// program and the cause, thrown from the call, and nothing left behind (the harness
/// counts fds; each case checks that no child was started or left and that the
/// protocol factory ran at most once, with no task left).
enum ProcessBadInputCases {
    typealias Support = ProcessSupport

    /// Runs `attempt`, expecting `kind` with a message containing every piece of `mentions`.
    static func refused(
        _ ctx: CaseContext, _ loop: BaseEventLoop, _ kind: SubprocessError.Kind, _ what: String, mentions: [String],
        _ attempt: () async throws -> Void
    ) async throws {
        let tasksBefore = try allTasks(loop: loop).count
        let error = try await Support.expectSubprocessError(ctx, kind, what, attempt)
        for piece in mentions {
            try ctx.expect(error.message.contains(piece), "\(what): message \(error.message.debugDescription) mentions \(piece.debugDescription)")
        }
        try ctx.expectEqual(loop.runningSubprocessCount, 0, "\(what): children left")
        try ctx.expectEqual(try allTasks(loop: loop).count, tasksBefore, "\(what): tasks left")
    }

    static let all: [ConformanceCase] = [
        // Twin: PermissionError for a file without execute permission.
        Support.scenario("PROC-X31", "a program that is not executable → SubprocessError.permissionDenied naming it and \"not executable\"") { ctx, loop in
            let path = "/tmp/loop-noexec-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw ctx.failure("open(\(path)) failed") }
            _ = Glibc.close(fd)
            defer { unlink(path) }
            try await refused(ctx, loop, .permissionDenied, "not executable", mentions: [path, "not executable"]) {
                _ = try await loop.createSubprocessExec(path, stdin: .pipe, stdout: .pipe, stderr: .pipe)
            }
        },
        // Twin: PermissionError for a directory.
        Support.scenario("PROC-X32", "a directory as the program → SubprocessError.permissionDenied naming it and \"is a directory\"") { ctx, loop in
            try await refused(ctx, loop, .permissionDenied, "directory", mentions: ["/tmp", "is a directory"]) {
                _ = try await loop.createSubprocessExec("/tmp", stdout: .pipe)
            }
        },
        // Twin: FileNotFoundError / NotADirectoryError for cwd.
        Support.scenario("PROC-X33", "a working directory that does not exist, or is a file → SubprocessError.badWorkingDirectory naming the program and the directory") { ctx, loop in
            try await refused(ctx, loop, .badWorkingDirectory, "missing directory", mentions: ["true", "/nonexistent/dir", "No such file"]) {
                _ = try await loop.createSubprocessExec("true", stdout: .pipe, currentDirectory: "/nonexistent/dir")
            }
            try await refused(ctx, loop, .badWorkingDirectory, "file as directory", mentions: ["/etc/hostname", "Not a directory"]) {
                _ = try await loop.createSubprocessExec("true", stdout: .pipe, currentDirectory: "/etc/hostname")
            }
        },
        // Twin: create_subprocess_exec() with no program raises (IndexError/ValueError).
        Support.scenario("PROC-X34", "an empty program (empty argument list) → SubprocessError.invalidArgument; the shell form with an empty command runs sh and exits 0") { ctx, loop in
            try await refused(ctx, loop, .invalidArgument, "empty program", mentions: ["argument list is empty"]) {
                _ = try await loop.createSubprocessExec("", stdout: .pipe)
            }
            try ctx.expectEqual(try await loop.createSubprocessShell("").wait(), 0, "sh -c ''")
        },
        // Twin: ValueError "embedded null byte" for an argument, and for an environment entry.
        Support.scenario("PROC-X35", "a NUL byte in an argument, an environment name or value → SubprocessError.invalidArgument naming the program and \"NUL\"") { ctx, loop in
            try await refused(ctx, loop, .invalidArgument, "argument", mentions: ["echo", "NUL"]) {
                _ = try await loop.createSubprocessExec("echo", ["a\u{0}b"], stdout: .pipe)
            }
            try await refused(ctx, loop, .invalidArgument, "environment value", mentions: ["echo", "NUL"]) {
                _ = try await loop.createSubprocessExec("echo", environment: .amend(["LOOP_V": "x\u{0}y"]))
            }
            try await refused(ctx, loop, .invalidArgument, "environment name", mentions: ["echo", "NUL"]) {
                _ = try await loop.createSubprocessExec("echo", environment: .replace(["LOOP\u{0}N": "1"]))
            }
            try await refused(ctx, loop, .invalidArgument, "name with =", mentions: ["echo", "illegal environment variable name"]) {
                _ = try await loop.createSubprocessExec("echo", environment: .replace(["A=B": "1"]))
            }
        },
        // Twin: OSError EBADF for stdin=<closed fd>.
        Support.scenario("PROC-X36", "stdin (or stdout) as a closed fd, or a closed fd in passFds → SubprocessError.badFileDescriptor naming the program and the fd") { ctx, loop in
            let (read, write) = try ctx.pipe()
            ctx.close(read)
            ctx.close(write)
            try await refused(ctx, loop, .badFileDescriptor, "stdin", mentions: ["cat", "stdin", "fd \(read)"]) {
                _ = try await loop.createSubprocessExec("cat", stdin: .fd(read), stdout: .pipe)
            }
            try await refused(ctx, loop, .badFileDescriptor, "stdout", mentions: ["cat", "stdout"]) {
                _ = try await loop.createSubprocessExec("cat", stdin: .pipe, stdout: .fd(write))
            }
            try await refused(ctx, loop, .badFileDescriptor, "passFds", mentions: ["cat", "passFds"]) {
                _ = try await loop.createSubprocessExec("cat", stdin: .pipe, passFds: [write])
            }
        },
        // Twin: the protocol-level form refuses a missing program the same way, with pipes
        // requested, and the factory's protocol never sees connectionMade.
        Support.scenario("PROC-X37", "protocol-level subprocessExec of a missing program → programNotFound; all three pipes it made are closed; the protocol gets no event") { ctx, loop in
            let recorder = ProcessRecorder(loop)
            try await refused(ctx, loop, .programNotFound, "missing", mentions: ["loop-no-such-program"]) {
                _ = try await loop.subprocessExec({ recorder }, "loop-no-such-program")
            }
            try await loop.sleep(.milliseconds(10))
            try ctx.expectEqual(recorder.events, [], "protocol events")
        },
    ]
}
