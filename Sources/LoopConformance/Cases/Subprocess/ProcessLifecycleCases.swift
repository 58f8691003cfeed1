import Glibc
import LoopCore

/// PROC-X15…X30: volume (16 MiB through cat both ways, 200 children at once), signals
/// and exit status, close and loop close with children running, a released Process,
/// a grandchild holding stdout, flow control, concurrent waits, the reader limit.
enum ProcessLifecycleCases {
    typealias Support = ProcessSupport

    static let all: [ConformanceCase] = [
        // Twin: 16 MiB written to cat's stdin while its stdout is read, verified byte for byte.
        Support.scenario("PROC-X15", "16 MiB through cat both ways (written with drain while read concurrently), every byte verified", timeout: .seconds(60)) { ctx, loop in
            let input = Support.pattern(16 << 20)
            let process = try await loop.createSubprocessExec("cat", stdin: .pipe, stdout: .pipe)
            guard let stdin = process.stdin, let stdout = process.stdout else { throw ctx.failure("missing pipes") }
            let writer = try loop.createTask { () async throws -> Void in
                var offset = 0
                while offset < input.count {
                    let end = min(offset + 256 * 1024, input.count)
                    try stdin.write(Array(input[offset..<end]))
                    try await stdin.drain()
                    offset = end
                }
                stdin.close()
            }
            let output = try await stdout.read()
            try await writer.value
            try ctx.expectEqual(output.count, input.count, "bytes back")
            try ctx.expect(output == input, "bytes match")
            try ctx.expectEqual(try await process.wait(), 0, "exit")
        },
        // Twin: gather(*(create_subprocess_exec("sh", "-c", f"exit {i % 50}") for i in range(200))).
        Support.scenario("PROC-X16", "200 children at once, each exiting with its own code, all waited concurrently: every code right, none left", timeout: .seconds(90)) { ctx, loop in
            var processes: [Process] = []
            for index in 0..<200 {
                processes.append(try await loop.createSubprocessExec("/bin/sh", ["-c", "exit \(index % 50)"]))
            }
            try ctx.expect(loop.runningSubprocessCount > 0 || processes.allSatisfy { $0.returnCode != nil }, "children tracked")
            let waits = try processes.map { process in try loop.createTask { try await process.wait() } }
            var codes: [Int32] = []
            for wait in waits { codes.append(try await wait.value) }
            try ctx.expectEqual(codes, (0..<200).map { Int32($0 % 50) }, "return codes")
            try ctx.expectEqual(Set(processes.map(\.pid)).count, 200, "distinct pids")
        },
        // Twin: a child with SIGTERM ignored survives terminate(); kill() ends it with -9.
        Support.scenario("PROC-X17", "a child that ignores SIGTERM survives terminate() (returnCode stays nil); kill() then ends it with −SIGKILL") { ctx, loop in
            let script = "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(30)"
            let process = try await loop.createSubprocessExec("python3", ["-c", script], stdout: .pipe)
            guard let stdout = process.stdout else { throw ctx.failure("no stdout") }
            try ctx.expectEqual(Support.text(try await stdout.readline()), "ready\n", "child ready")
            try process.terminate()
            try await loop.sleep(.milliseconds(300))
            try ctx.expectEqual(process.returnCode, nil, "still running after SIGTERM")
            try process.kill()
            try ctx.expectEqual(try await process.wait(), -SIGKILL, "return code")
            try ctx.expectEqual(try await stdout.read(), [], "stdout ends")
        },
        // Twin: a child killing itself with SIGUSR2 → returncode -12.
        Support.scenario("PROC-X18", "a child that kills itself with SIGUSR2 → −SIGUSR2; exit 0 → 0; exit 1 → 1") { ctx, loop in
            var codes: [Int32] = []
            for script in ["kill -USR2 $$", "exit 0", "exit 1"] {
                codes.append(try await loop.createSubprocessShell(script).wait())
            }
            try ctx.expectEqual(codes, [-SIGUSR2, 0, 1], "return codes")
        },
        // Twin: after await p.wait() (and the transport closed), p.kill() raises ProcessLookupError.
        Support.scenario("PROC-X19", "sendSignal, terminate and kill after the child was reaped → SubprocessError.processLookup naming the program and pid") { ctx, loop in
            let process = try await loop.createSubprocessExec("true")
            _ = try await process.wait()
            var kinds: [String] = []
            for action in ["signal", "terminate", "kill"] {
                let error = try await Support.expectSubprocessError(ctx, .processLookup, action) {
                    switch action {
                    case "signal": try process.sendSignal(SIGUSR1)
                    case "terminate": try process.terminate()
                    default: try process.kill()
                    }
                }
                try ctx.expect(error.message.contains("\(process.pid)") && error.message.contains("true"), "message: \(error.message)")
                kinds.append("\(error.kind)")
            }
            try ctx.expectEqual(kinds.count, 3, "errors")
        },
        // Twin: transport.close() on a running child kills it; process_exited, then connection_lost.
        Support.scenario("PROC-X20", "transport.close() on a running child: isClosing, the child is killed (−SIGKILL) and reaped, processExited once, connectionLost(nil) last; close() again does nothing") { ctx, loop in
            let recorder = ProcessRecorder(loop)
            let (transport, _) = try await loop.subprocessExec({ recorder }, "sleep", ["30"])
            transport.close()
            try ctx.expect(transport.isClosing, "isClosing after close()")
            transport.close()
            try await recorder.lost.value
            try ctx.expectEqual(transport.returnCode, -SIGKILL, "returnCode")
            try ctx.expectEqual(recorder.events.filter { $0.hasPrefix("exited") }, ["exited(-9)"], "processExited once")
            try ctx.expectEqual(recorder.events.last, "lost(nil)", "last event")
            if ctx.debug {
                let warned = ctx.takeLogRecords().contains { $0.level == .warning && $0.message.contains("Close running child process") }
                try ctx.expect(warned, "debug mode logs the kill")
            }
        },
        // Twin: closing the loop with a child running (asyncio leaves it to the transport's
        // __del__); here the loop kills it, reaps it and logs a warning naming the pid.
        ConformanceCase("PROC-X21", "closing the loop with a child running: a warning names the pid, the child is killed and reaped (no zombie), returnCode −SIGKILL", requires: Support.requirement) { ctx in
            let loop = try ctx.makeLoop()
            let transport = try SocketCases.run(ctx, loop) { () async throws -> SubprocessTransport in
                let (transport, _) = try await loop.subprocessExec({ ProcessRecorder(loop) }, "sleep", ["30"], stdin: .devNull, stdout: .devNull, stderr: .devNull)
                return transport
            }
            let pid = transport.pid
            try loop.close()
            try ctx.expectEqual(transport.returnCode, -SIGKILL, "returnCode")
            try ctx.expectEqual(loop.runningSubprocessCount, 0, "children left")
            let warned = ctx.takeLogRecords().contains { $0.level == .warning && $0.message.contains("pid \(pid)") }
            try ctx.expect(warned, "a warning names pid \(pid)")
            try ctx.expect(kill(pid, 0) != 0, "pid \(pid) is gone")
            try ProcessSupport.expectNoZombies(ctx)
        },
        // Twin: a Process dropped without wait() is still reaped by the child watcher.
        Support.scenario("PROC-X22", "a Process released without wait() is still reaped when it exits (no zombie, nothing running)") { ctx, loop in
            var pid: Int32 = 0
            do {
                let process = try await loop.createSubprocessShell("sleep 0.1", stdin: .devNull, stdout: .devNull)
                pid = process.pid
            }
            let start = ctx.stopwatch()
            while loop.runningSubprocessCount > 0 {
                if ContinuousClock.now - start > .seconds(8) { throw ctx.failure("child \(pid) never reaped") }
                try await loop.sleep(.milliseconds(5))
            }
            try ctx.expect(!Support.zombieChildren().contains(pid), "pid \(pid) is not a zombie")
        },
        // Twin: sh -c '(sleep 0.5; echo late) & echo early': wait() returns at the child's
        // exit while the grandchild holds stdout; the stream ends when the grandchild closes it.
        Support.scenario("PROC-X23", "a child exits while its grandchild keeps stdout open: returnCode set and wait() returns at the exit, stdout still open; the stream ends when the grandchild closes it") { ctx, loop in
            let process = try await loop.createSubprocessShell("(sleep 0.5; echo late) & echo early", stdout: .pipe)
            guard let stdout = process.stdout else { throw ctx.failure("no stdout") }
            try ctx.expectEqual(try await process.wait(), 0, "child's exit")
            try ctx.expect(!stdout.atEOF, "stdout still open when wait() returns")
            try ctx.expectEqual(Support.text(try await stdout.readline()), "early\n", "first line")
            try ctx.expectEqual(Support.text(try await stdout.readline()), "late\n", "grandchild's line")
            try ctx.expectEqual(try await stdout.readline(), [], "end of file")
        },
        // Twin: the same at protocol level: process_exited before pipe 1 is lost; connection_lost last.
        Support.scenario("PROC-X24", "protocol level with a grandchild holding stdout: processExited comes before pipeConnectionLost(1), connectionLost only after it") { ctx, loop in
            let recorder = ProcessRecorder(loop)
            _ = try await loop.subprocessShell({ recorder }, "(sleep 0.3; echo late) & echo early", stdin: .devNull, stderr: .devNull)
            try await recorder.lost.value
            let events = recorder.events.filter { !$0.hasPrefix("data") }
            try ctx.expectEqual(events, ["made", "exited(0)", "pipeLost(1, nil)", "lost(nil)"], "events")
            try ctx.expectEqual(Support.text(recorder.received[1]), "early\nlate\n", "stdout")
        },
        // Twin: a stdin pipe to a child that does not read yet pauses writing above the high
        // mark and resumes once the child drains it.
        Support.scenario("PROC-X25", "stdin flow control: 1 MiB to a child that reads late → pauseWriting, then resumeWriting once it reads; every byte arrives") { ctx, loop in
            let recorder = ProcessRecorder(loop)
            let script = "import sys, time; time.sleep(0.3); print(len(sys.stdin.buffer.read()))"
            let (transport, _) = try await loop.subprocessExec({ recorder }, "python3", ["-c", script], stderr: .devNull)
            guard let stdin = transport.pipeTransport(fd: 0) as? any WriteTransport else { throw ctx.failure("no stdin") }
            try stdin.write(Support.pattern(1 << 20))
            stdin.close()
            try await recorder.lost.value
            try ctx.expect(recorder.events.contains("pause") && recorder.events.contains("resume"), "events \(recorder.events)")
            try ctx.expectEqual(Support.text(recorder.received[1]), "1048576\n", "bytes read by the child")
        },
        // Twin: two tasks awaiting p.wait() both get the return code.
        Support.scenario("PROC-X26", "two tasks wait() on one child at once: both get its code") { ctx, loop in
            let process = try await loop.createSubprocessShell("sleep 0.1; exit 5")
            let first = try loop.createTask { try await process.wait() }
            let second = try loop.createTask { try await process.wait() }
            try ctx.expectEqual([try await first.value, try await second.value], [5, 5], "codes")
        },
        // Twin: create_subprocess_exec(limit=16): a longer line makes readline raise ValueError.
        Support.scenario("PROC-X27", "limit: a stdout line longer than the reader's limit makes readline() throw; the next line still reads") { ctx, loop in
            let process = try await loop.createSubprocessExec("printf", [String(repeating: "x", count: 100) + "\\nok\\n"], stdout: .pipe, limit: 16)
            guard let stdout = process.stdout else { throw ctx.failure("no stdout") }
            do {
                _ = try await stdout.readline()
                throw ctx.failure("readline of a 100-byte line with limit 16 returned")
            } catch let error as LoopError where error.kind == .invalidArgument {}
            try ctx.expectEqual(try await process.wait(), 0, "exit")
            _ = try await stdout.read()
        },
        // Twin: communicate() with no pipes → (None, None) and the return code.
        Support.scenario("PROC-X28", "communicate() on a child without pipes → (nil, nil) and waits for the exit") { ctx, loop in
            let process = try await loop.createSubprocessShell("exit 9")
            let (output, errors) = try await process.communicate()
            try ctx.expect(output == nil && errors == nil, "no streams")
            try ctx.expectEqual(process.returnCode, 9, "returnCode")
        },
        // Twin: communicate(input) to a child that exits without reading: no BrokenPipeError.
        Support.scenario("PROC-X29", "communicate(input: 4 MiB) to a child that exits without reading stdin → no error (the broken pipe is ignored), its code returned") { ctx, loop in
            let process = try await loop.createSubprocessShell("exit 2", stdin: .pipe, stdout: .pipe)
            let (output, _) = try await process.communicate(input: Support.pattern(4 << 20))
            try ctx.expectEqual(output, [], "stdout")
            try ctx.expectEqual(process.returnCode, 2, "returnCode")
        },
        // Twin: get_pipe_transport(fd) is None for a stream that is not a pipe; extra info.
        Support.scenario("PROC-X30", "pipeTransport(fd:) is nil for devNull/inherit streams and fds other than 0-2; extraInfo(\"pid\") is the pid; the description names it") { ctx, loop in
            let recorder = ProcessRecorder(loop)
            let (transport, _) = try await loop.subprocessExec({ recorder }, "true", stdin: .devNull, stdout: .pipe, stderr: .inherit)
            try ctx.expect(transport.pipeTransport(fd: 0) == nil && transport.pipeTransport(fd: 2) == nil && transport.pipeTransport(fd: 3) == nil, "no pipe transports for 0, 2, 3")
            try ctx.expect(transport.pipeTransport(fd: 1) != nil, "stdout pipe")
            try ctx.expectEqual(transport.extraInfo("pid") as? Int32, transport.pid, "extraInfo pid")
            try ctx.expect(transport.description.contains("pid=\(transport.pid)"), "description \(transport.description)")
            try await recorder.lost.value
            try ctx.expectEqual(transport.returnCode, 0, "exit")
        },
    ]
}
