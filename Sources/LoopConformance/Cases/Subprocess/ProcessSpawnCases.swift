import Glibc
import LoopCore

/// PROC-X01…X14: what the child starts with — only fds 0, 1, 2 and passFds open,
/// default signal dispositions and an empty mask, environment, working directory,
/// session and process group, each stdio choice, arguments passed verbatim.
enum ProcessSpawnCases {
    typealias Support = ProcessSupport

    /// Python that prints the child's open fds (its own listing fd excluded).
    static let listFds = "import os; fds = [int(f) for f in os.listdir('/proc/self/fd')]; print(sorted(f for f in fds if os.path.exists('/proc/self/fd/%d' % f)))"

    static let all: [ConformanceCase] = [
        // Twin: subprocess with close_fds=True: only 0, 1, 2 are open in the child.
        Support.scenario("PROC-X01", "the child's /proc/self/fd lists only 0, 1, 2 — even an fd the parent opened without O_CLOEXEC is closed") { ctx, loop in
            let leaky = open("/dev/null", O_RDONLY)
            guard leaky >= 0 else { throw ctx.failure("open(/dev/null) failed") }
            ctx.own(leaky)
            let process = try await loop.createSubprocessExec("python3", ["-c", listFds], stdin: .devNull, stdout: .pipe, stderr: .devNull)
            let (output, _) = try await process.communicate()
            try ctx.expectEqual(Support.text(output), "[0, 1, 2]\n", "child's fds (parent's extra fd was \(leaky))")
            try ctx.expectEqual(process.returnCode, 0, "exit")
        },
        // Twin: pass_fds=(fd,): the child keeps fd (close-on-exec cleared) and can write to it.
        Support.scenario("PROC-X02", "passFds: a close-on-exec pipe end is kept open in the child (and only it besides 0, 1, 2); the child writes through it") { ctx, loop in
            let (read, write) = try ctx.pipe()
            _ = fcntl(write, F_SETFD, FD_CLOEXEC)
            let other = open("/dev/null", O_RDONLY)
            ctx.own(other)
            let script = listFds + "; os.write(\(write), b'via passfd')"
            let process = try await loop.createSubprocessExec("python3", ["-c", script], stdin: .devNull, stdout: .pipe, passFds: [write])
            let (output, _) = try await process.communicate()
            try ctx.expectEqual(Support.text(output), "[0, 1, 2, \(write)]\n", "child's fds")
            try ctx.expectEqual(ctx.read(read), "via passfd", "bytes written through the passed fd")
        },
        // Twin: a child of a Python parent that ignores SIGPIPE gets SIG_DFL back
        // (restore_signals=True): `cat /dev/zero` whose reader goes away dies of SIGPIPE.
        Support.scenario("PROC-X03", "SIGPIPE is back to default in the child though the loop ignores it: cat /dev/zero whose stdout reader closes dies with −SIGPIPE; its SigIgn has no SIGPIPE bit") { ctx, loop in
            let process = try await loop.createSubprocessExec("cat", ["/dev/zero"], stdin: .devNull, stdout: .pipe)
            guard let stdout = process.stdout else { throw ctx.failure("no stdout") }
            _ = try await stdout.readexactly(4096)
            process.transport.pipeTransport(fd: 1)?.close()
            try ctx.expectEqual(try await process.wait(), -SIGPIPE, "cat's return code")
            let status = try await loop.createSubprocessShell("grep -E '^Sig(Ign|Blk)' /proc/$$/status", stdout: .pipe)
            let (lines, _) = try await status.communicate()
            let fields = Dictionary(uniqueKeysWithValues: (Support.text(lines) ?? "").split(separator: "\n").map { line -> (String, UInt64) in
                let parts = line.split(separator: "\t")
                return (String(parts.first ?? ""), UInt64(parts.last ?? "", radix: 16) ?? UInt64.max)
            })
            let ignored = fields["SigIgn:"] ?? UInt64.max
            try ctx.expectEqual(ignored & (1 << (UInt64(SIGPIPE) - 1)), 0, "SIGPIPE ignored in the child (SigIgn \(String(ignored, radix: 16)))")
        },
        // Twin: the child's signal mask is empty even when the spawning thread blocks signals.
        Support.scenario("PROC-X04", "the child's signal mask is empty although the spawning thread blocks SIGUSR1 and SIGUSR2") { ctx, loop in
            var block = sigset_t(), saved = sigset_t()
            sigemptyset(&block)
            sigaddset(&block, SIGUSR1)
            sigaddset(&block, SIGUSR2)
            pthread_sigmask(SIG_BLOCK, &block, &saved)
            defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
            let process = try await loop.createSubprocessExec("grep", ["^SigBlk", "/proc/self/status"], stdout: .pipe)
            let (output, _) = try await process.communicate()
            let mask = (Support.text(output) ?? "").split(separator: "\t").last.map { String($0).trimmingCharacters() } ?? "?"
            try ctx.expectEqual(UInt64(mask, radix: 16), 0, "child's SigBlk \(mask)")
        },
        // Twin: env={"A": "1"} → `env` prints exactly A=1.
        Support.scenario("PROC-X05", "environment .replace([\"LOOP_A\": \"1\"]) → the child's environment is exactly LOOP_A=1 (the program is still found on the default PATH)") { ctx, loop in
            let process = try await loop.createSubprocessExec("env", stdout: .pipe, environment: .replace(["LOOP_A": "1"]))
            let (output, _) = try await process.communicate()
            try ctx.expectEqual(Support.text(output), "LOOP_A=1\n", "environment")
        },
        // Twin: env=dict(os.environ, LOOP_X="y") with HOME removed.
        Support.scenario("PROC-X06", "environment .amend: a variable added and one removed; the rest (PATH) inherited") { ctx, loop in
            let process = try await loop.createSubprocessShell(
                "echo \"$LOOP_X|${HOME-unset}|$PATH\"", stdout: .pipe, environment: .amend(["LOOP_X": "y", "HOME": nil]))
            let (output, _) = try await process.communicate()
            let path = ProcessEnvironment.value("PATH") ?? ""
            try ctx.expectEqual(Support.text(output), "y|unset|\(path)\n", "amended environment")
        },
        // Twin: cwd="/tmp" → pwd prints /tmp.
        Support.scenario("PROC-X07", "currentDirectory: the child starts in /tmp (pwd), the parent's directory is unchanged") { ctx, loop in
            var before = [CChar](repeating: 0, count: 4096)
            _ = getcwd(&before, before.count)
            let process = try await loop.createSubprocessExec("pwd", ["-P"], stdout: .pipe, currentDirectory: "/tmp")
            let (output, _) = try await process.communicate()
            var after = [CChar](repeating: 0, count: 4096)
            _ = getcwd(&after, after.count)
            var resolved = [CChar](repeating: 0, count: 4096)
            _ = realpath("/tmp", &resolved)
            try ctx.expectEqual(Support.text(output), cText(resolved) + "\n", "child's directory")
            try ctx.expectEqual(cText(after), cText(before), "parent's directory")
        },
        // Twin: start_new_session=True → os.getsid(0) == os.getpid() in the child.
        Support.scenario("PROC-X08", "newSession: the child leads a new session; by default it shares the parent's session") { ctx, loop in
            let script = "import os; print(os.getsid(0) == os.getpid(), os.getsid(0))"
            let own = try await loop.createSubprocessExec("python3", ["-c", script], stdout: .pipe, newSession: true)
            let (ownOutput, _) = try await own.communicate()
            try ctx.expect(Support.text(ownOutput)?.hasPrefix("True ") == true, "new session: \(Support.text(ownOutput) ?? "nil")")
            let shared = try await loop.createSubprocessExec("python3", ["-c", script], stdout: .pipe)
            let (sharedOutput, _) = try await shared.communicate()
            try ctx.expectEqual(Support.text(sharedOutput), "False \(getsid(0))\n", "inherited session")
        },
        // Twin: process_group=0 → os.getpgrp() == os.getpid() in the child.
        Support.scenario("PROC-X09", "processGroup 0: the child leads a new process group; by default it is in the parent's group") { ctx, loop in
            let script = "import os; print(os.getpgrp() == os.getpid(), os.getpgrp())"
            let own = try await loop.createSubprocessExec("python3", ["-c", script], stdout: .pipe, processGroup: 0)
            let (ownOutput, _) = try await own.communicate()
            try ctx.expect(Support.text(ownOutput)?.hasPrefix("True ") == true, "new group: \(Support.text(ownOutput) ?? "nil")")
            let shared = try await loop.createSubprocessExec("python3", ["-c", script], stdout: .pipe)
            let (sharedOutput, _) = try await shared.communicate()
            try ctx.expectEqual(Support.text(sharedOutput), "False \(getpgrp())\n", "inherited group")
        },
        // Twin: args are passed verbatim, no shell: spaces, quotes, empty and non-ASCII arguments.
        Support.scenario("PROC-X10", "arguments reach the child verbatim: spaces, quotes, $, an empty argument, non-ASCII") { ctx, loop in
            let arguments = ["a b", "\"q\"", "$HOME", "", "é✓"]
            let process = try await loop.createSubprocessExec("python3", ["-c", "import sys; print(repr(sys.argv[1:]))"] + arguments, stdout: .pipe)
            let (output, _) = try await process.communicate()
            try ctx.expectEqual(Support.text(output), "['a b', '\"q\"', '$HOME', '', 'é✓']\n", "argv")
        },
        // Twin: stdin=DEVNULL → cat reads nothing and exits 0.
        Support.scenario("PROC-X11", "stdin .devNull: cat reads end of file at once and exits 0; process.stdin is nil") { ctx, loop in
            let process = try await loop.createSubprocessExec("cat", stdin: .devNull, stdout: .pipe)
            try ctx.expect(process.stdin == nil, "no stdin writer")
            let (output, _) = try await process.communicate()
            try ctx.expectEqual(output, [], "stdout")
            try ctx.expectEqual(process.returnCode, 0, "exit")
        },
        // Twin: stdout=fd, stderr=fd of a pipe the caller owns; the fds stay open in the parent.
        Support.scenario("PROC-X12", "stdout and stderr as fds the caller owns: the output arrives on the caller's pipes, which stay open in the parent") { ctx, loop in
            let (outRead, outWrite) = try ctx.pipe()
            let (errRead, errWrite) = try ctx.pipe()
            let process = try await loop.createSubprocessShell("echo to-out; echo to-err >&2", stdout: .fd(outWrite), stderr: .fd(errWrite))
            try ctx.expect(process.stdout == nil && process.stderr == nil, "no readers for caller fds")
            try ctx.expectEqual(try await process.wait(), 0, "exit")
            try ctx.expectEqual(ctx.read(outRead), "to-out\n", "stdout pipe")
            try ctx.expectEqual(ctx.read(errRead), "to-err\n", "stderr pipe")
            try ctx.expect(fcntl(outWrite, F_GETFD) >= 0 && fcntl(errWrite, F_GETFD) >= 0, "caller fds still open")
        },
        // Twin: stdin=None inherits the parent's fd 0: the child's /proc/self/fd/0 is the parent's.
        Support.scenario("PROC-X13", "stdin .inherit: the child's fd 0 is the parent's fd 0; stdout to a caller's fd with stderr .stdout puts both there") { ctx, loop in
            let script = "import os; print(os.readlink('/proc/self/fd/0'))"
            let process = try await loop.createSubprocessExec("python3", ["-c", script], stdin: .inherit, stdout: .pipe)
            let (output, _) = try await process.communicate()
            var target = [CChar](repeating: 0, count: 4096)
            let count = readlink("/proc/self/fd/0", &target, target.count - 1)
            let parentZero = count > 0 ? String(decoding: target[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
            try ctx.expectEqual(Support.text(output), parentZero + "\n", "child's fd 0")
            // stdout to the caller's pipe and stderr to "stdout": both land on that pipe, in order.
            let (read, write) = try ctx.pipe()
            let merged = try await loop.createSubprocessShell("echo out; echo err >&2", stdout: .fd(write), stderr: .stdout)
            try ctx.expectEqual(try await merged.wait(), 0, "exit")
            try ctx.expectEqual(ctx.read(read), "out\nerr\n", "merged into the caller's pipe")
        },
        // Twin: program lookup on PATH like execvp: "sh" is found; the resolved child runs.
        Support.scenario("PROC-X14", "a program name without a slash is looked up on PATH (sh); with a replaced environment, on that environment's PATH") { ctx, loop in
            let process = try await loop.createSubprocessExec("sh", ["-c", "echo found"], stdout: .pipe)
            let (output, _) = try await process.communicate()
            try ctx.expectEqual(Support.text(output), "found\n", "sh from PATH")
            let missing = try await Support.expectSubprocessError(ctx, .programNotFound, "program absent from the replaced PATH") {
                _ = try await loop.createSubprocessExec("sh", environment: .replace(["PATH": "/nonexistent-dir"]))
            }
            try ctx.expect(missing.message.contains("sh"), "message names the program: \(missing.message)")
        },
    ]
}

/// A NUL-terminated C buffer as text.
private func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        String(self.drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}
