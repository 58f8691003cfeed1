import Glibc
import LoopCore

/// PROC-01…PROC-10: the catalogue's subprocess behaviours (py-verified on CPython 3.11;
/// each case names its Python twin).
enum ProcessCatalogueCases {
    typealias Support = ProcessSupport

    static let all: [ConformanceCase] = [
        // Twin: p = await create_subprocess_exec("tr", "a-z", "A-Z", stdin=PIPE, stdout=PIPE);
        // await p.communicate(b"feed me") == (b"FEED ME", None); p.returncode == 0.
        Support.scenario("PROC-01", "createSubprocessExec with stdin/stdout pipes → pid > 0, returnCode nil while running; communicate(\"feed me\") → (\"FEED ME\", nil); returnCode 0") { ctx, loop in
            let process = try await loop.createSubprocessExec("tr", ["a-z", "A-Z"], stdin: .pipe, stdout: .pipe)
            try ctx.expect(process.pid > 0, "pid \(process.pid)")
            try ctx.expectEqual(process.returnCode, nil, "returnCode while running")
            try ctx.expect(process.stderr == nil, "stderr is not a pipe, so it has no reader")
            let (output, errors) = try await process.communicate(input: Array("feed me".utf8))
            try ctx.expectEqual(Support.text(output), "FEED ME", "stdout")
            try ctx.expectEqual(errors, nil, "stderr")
            try ctx.expectEqual(process.returnCode, 0, "returnCode")
        },
        // Twin: await (await create_subprocess_exec("sh", "-c", "exit 7")).wait() == 7, twice.
        Support.scenario("PROC-02", "a child exits with 7 → wait() 7, a second wait() 7 at once, returnCode 7; exit 255 → 255") { ctx, loop in
            let process = try await loop.createSubprocessExec("/bin/sh", ["-c", "exit 7"])
            try ctx.expectEqual(try await process.wait(), 7, "first wait")
            try ctx.expectEqual(try await process.wait(), 7, "second wait")
            try ctx.expectEqual(process.returnCode, 7, "returnCode")
            let high = try await loop.createSubprocessExec("/bin/sh", ["-c", "exit 255"])
            try ctx.expectEqual(try await high.wait(), 255, "exit 255")
        },
        // Twin: p.terminate(); await p.wait() == -15; p.kill() → -9; p.send_signal(SIGUSR1) → -10.
        Support.scenario("PROC-03", "terminate() → −SIGTERM; kill() → −SIGKILL; sendSignal(SIGUSR1) → −SIGUSR1") { ctx, loop in
            var codes: [Int32] = []
            for action in ["terminate", "kill", "usr1"] {
                let process = try await loop.createSubprocessExec("sleep", ["30"])
                switch action {
                case "terminate": try process.terminate()
                case "kill": try process.kill()
                default: try process.sendSignal(SIGUSR1)
                }
                codes.append(try await process.wait())
            }
            try ctx.expectEqual(codes, [-SIGTERM, -SIGKILL, -SIGUSR1], "return codes")
        },
        // Twin: create_subprocess_shell("echo $((6*7)); echo err >&2; exit 3", stdout=PIPE, stderr=PIPE).
        Support.scenario("PROC-04", "createSubprocessShell(\"echo $((6*7)); echo err >&2; exit 3\") with stdout/stderr pipes → (\"42\\n\", \"err\\n\"), returnCode 3") { ctx, loop in
            let process = try await loop.createSubprocessShell("echo $((6*7)); echo err >&2; exit 3", stdout: .pipe, stderr: .pipe)
            let (output, errors) = try await process.communicate()
            try ctx.expectEqual(Support.text(output), "42\n", "stdout")
            try ctx.expectEqual(Support.text(errors), "err\n", "stderr")
            try ctx.expectEqual(process.returnCode, 3, "returnCode")
        },
        // Twin: stderr=STDOUT merges; stdout=DEVNULL → p.stdout is None.
        Support.scenario("PROC-05", "stderr: .stdout merges stderr into stdout; stdout: .devNull → no stdout stream") { ctx, loop in
            let merged = try await loop.createSubprocessShell("echo out; echo err >&2", stdout: .pipe, stderr: .stdout)
            try ctx.expect(merged.stderr == nil, "merged stderr has no reader")
            let (output, errors) = try await merged.communicate()
            try ctx.expectEqual(Support.text(output), "out\nerr\n", "merged stdout")
            try ctx.expectEqual(errors, nil, "merged stderr")
            let quiet = try await loop.createSubprocessShell("echo discarded", stdout: .devNull)
            try ctx.expect(quiet.stdout == nil, "devNull stdout has no reader")
            try ctx.expectEqual(try await quiet.wait(), 0, "devNull child exit")
        },
        // Twin: create_subprocess_exec("/nonexistent/program") raises FileNotFoundError.
        Support.scenario("PROC-06", "a program that does not exist → SubprocessError.programNotFound from the create call, naming the program") { ctx, loop in
            let error = try await Support.expectSubprocessError(ctx, .programNotFound, "missing program") {
                _ = try await loop.createSubprocessExec("/nonexistent/loop-program", stdout: .pipe)
            }
            try ctx.expect(error.message.contains("/nonexistent/loop-program"), "message names the program: \(error.message)")
            try ctx.expectEqual(error.errno, ENOENT, "errno")
        },
        // Twin: the ValueErrors of create_subprocess_exec/shell. shell=, text= and bufsize=
        // have no Swift spelling (the types rule them out); the argument errors Swift can
        // still make are refused with SubprocessError.invalidArgument before any child starts.
        Support.scenario("PROC-07", "argument errors → SubprocessError.invalidArgument before any child starts: a NUL byte in a shell command, limit 0, .stdout for stdin, passFds of a standard stream, a negative process group") { ctx, loop in
            var messages: [String] = []
            let attempts: [(String, () async throws -> Void)] = [
                ("shell NUL", { _ = try await loop.createSubprocessShell("echo a\u{0}b") }),
                ("limit 0", { _ = try await loop.createSubprocessExec("true", limit: 0) }),
                ("stdin .stdout", { _ = try await loop.createSubprocessExec("true", stdin: .stdout) }),
                ("passFds 1", { _ = try await loop.createSubprocessExec("true", passFds: [1]) }),
                ("group -1", { _ = try await loop.createSubprocessExec("true", processGroup: -1) }),
            ]
            for (what, attempt) in attempts {
                let error = try await Support.expectSubprocessError(ctx, .invalidArgument, what, attempt)
                messages.append(error.message)
            }
            try ctx.expect(messages.allSatisfy { $0.hasPrefix("cannot start ") }, "messages name the program: \(messages)")
            try ctx.expectEqual(loop.runningSubprocessCount, 0, "children started")
        },
        // Twin: subprocess_exec(factory, "sh", "-c", ...) with three pipes; the protocol sees
        // connection_made, pipe_data_received(1|2), pipe_connection_lost(0|1|2, None),
        // process_exited once, connection_lost(None) last.
        Support.scenario("PROC-08", "protocol-level subprocessExec with three pipes: connectionMade first, pipeDataReceived on 1 and 2, pipeConnectionLost(nil) for 0, 1, 2, processExited once, connectionLost(nil) last; returnCode nil then 4; pipeTransport(0) writes and closes stdin") { ctx, loop in
            let recorder = ProcessRecorder(loop)
            let (transport, _) = try await loop.subprocessExec({ recorder }, "/bin/sh", ["-c", "read line; echo \"out:$line\"; echo err >&2; exit 4"])
            try ctx.expectEqual(recorder.events, ["made"], "events at return")
            try ctx.expect(transport.pid > 0, "pid \(transport.pid)")
            try ctx.expectEqual(transport.returnCode, nil, "returnCode while running")
            guard let stdin = transport.pipeTransport(fd: 0) as? any WriteTransport else { throw ctx.failure("pipeTransport(0) is not a write transport") }
            try ctx.expect(transport.pipeTransport(fd: 1) is any ReadTransport, "pipeTransport(1) reads")
            try stdin.write(Array("hi\n".utf8))
            stdin.close()
            try await recorder.lost.value
            try ctx.expectEqual(transport.returnCode, 4, "returnCode")
            try ctx.expectEqual(Support.text(recorder.received[1]), "out:hi\n", "stdout data")
            try ctx.expectEqual(Support.text(recorder.received[2]), "err\n", "stderr data")
            let events = recorder.events
            try ctx.expectEqual(events.first, "made", "first event")
            try ctx.expectEqual(events.last, "lost(nil)", "last event")
            try ctx.expectEqual(events.filter { $0.hasPrefix("exited") }, ["exited(4)"], "processExited exactly once")
            try ctx.expectEqual(Set(events.filter { $0.hasPrefix("pipeLost") }), ["pipeLost(0, nil)", "pipeLost(1, nil)", "pipeLost(2, nil)"], "pipes lost")
            try ctx.expectEqual(events.filter { $0.hasPrefix("pipeLost") }.count, 3, "each pipe lost once")
        },
        // Twin: communicate(2 MiB) with python echoing it on stdout and stderr.
        Support.scenario("PROC-09", "communicate() with 2 MiB in and 2 MiB back on both stdout and stderr → no deadlock, every byte matches", timeout: .seconds(40)) { ctx, loop in
            let input = Support.pattern(2 << 20)
            let script = "import sys; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(d); sys.stderr.buffer.write(d)"
            let process = try await loop.createSubprocessExec("python3", ["-c", script], stdin: .pipe, stdout: .pipe, stderr: .pipe)
            let (output, errors) = try await process.communicate(input: input)
            try ctx.expectEqual(output?.count, input.count, "stdout size")
            try ctx.expect(output == input, "stdout bytes match")
            try ctx.expect(errors == input, "stderr bytes match")
            try ctx.expectEqual(process.returnCode, 0, "returnCode")
        },
        // Twin: await p.stdout.readline() for each line, then b"".
        Support.scenario("PROC-10", "process.stdout.readline() → each line, then empty at end of file") { ctx, loop in
            let process = try await loop.createSubprocessExec("printf", ["a\\nbb\\nccc\\n"], stdout: .pipe)
            guard let stdout = process.stdout else { throw ctx.failure("no stdout reader") }
            var lines: [String] = []
            for _ in 0..<4 { lines.append(String(decoding: try await stdout.readline(), as: UTF8.self)) }
            try ctx.expectEqual(lines, ["a\n", "bb\n", "ccc\n", ""], "lines")
            try ctx.expectEqual(try await process.wait(), 0, "exit")
        },
    ]
}
