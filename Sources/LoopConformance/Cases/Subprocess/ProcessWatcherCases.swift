import Glibc
@_spi(Backend) import LoopCore

/// PROC-X38…X43: the child watcher — pidfd by default where the kernel grants it, and
/// the waiter-thread fallback forced on (exit codes, signals, many children, loop close,
/// streams), proving the fallback does what the pidfd path does.
enum ProcessWatcherCases {
    typealias Support = ProcessSupport

    static let all: [ConformanceCase] = [
        Support.scenario("PROC-X38", "by default a child is watched through a pidfd (when pidfd_open works here); its transport says so") { ctx, loop in
            let process = try await loop.createSubprocessExec("true")
            let expected: ChildWatcherKind = ChildWatcherKind.pidfdAvailable ? .pidfd : .waiterThread
            try ctx.expectEqual(process.transport.watcherKind, ProcessEnvironment.value(ChildWatcherKind.environmentVariable) == nil ? expected : loop.childWatcher, "watcher")
            _ = try await process.wait()
            try ctx.expectEqual(process.transport.watcherKind, nil, "no watcher once reaped")
        },
        Support.scenario("PROC-X39", "waiter-thread fallback forced: exit codes, death by signal and processLookup after the reap behave as with pidfds", watcher: .waiterThread) { ctx, loop in
            let first = try await loop.createSubprocessShell("exit 6")
            try ctx.expectEqual(first.transport.watcherKind, .waiterThread, "watcher")
            try ctx.expectEqual(try await first.wait(), 6, "exit code")
            let sleeper = try await loop.createSubprocessExec("sleep", ["30"])
            try sleeper.terminate()
            try ctx.expectEqual(try await sleeper.wait(), -SIGTERM, "terminated")
            _ = try await Support.expectSubprocessError(ctx, .processLookup, "kill after reap") { try sleeper.kill() }
        },
        Support.scenario("PROC-X40", "waiter-thread fallback forced: 50 children at once, all reaped with their codes", timeout: .seconds(60), watcher: .waiterThread) { ctx, loop in
            var processes: [Process] = []
            for index in 0..<50 { processes.append(try await loop.createSubprocessShell("exit \(index)")) }
            var codes: [Int32] = []
            for process in processes { codes.append(try await process.wait()) }
            try ctx.expectEqual(codes, (0..<50).map(Int32.init), "codes")
        },
        Support.scenario("PROC-X41", "waiter-thread fallback forced: communicate() through cat and a grandchild holding stdout behave as with pidfds", watcher: .waiterThread) { ctx, loop in
            let cat = try await loop.createSubprocessExec("cat", stdin: .pipe, stdout: .pipe)
            let input = Support.pattern(1 << 20)
            let (output, _) = try await cat.communicate(input: input)
            try ctx.expect(output == input, "cat round trip")
            let shell = try await loop.createSubprocessShell("(sleep 0.3; echo late) & echo early", stdout: .pipe)
            try ctx.expectEqual(try await shell.wait(), 0, "child's exit")
            try ctx.expectEqual(Support.text(try await shell.stdout?.read()), "early\nlate\n", "stdout")
        },
        ConformanceCase("PROC-X42", "waiter-thread fallback forced: closing the loop with a child running kills and reaps it (no zombie)", requires: Support.requirement) { ctx in
            let loop = try ctx.makeLoop()
            loop.childWatcher = .waiterThread
            let transport = try SocketCases.run(ctx, loop) { () async throws -> SubprocessTransport in
                try await loop.subprocessExec({ ProcessRecorder(loop) }, "sleep", ["30"], stdin: .devNull, stdout: .devNull, stderr: .devNull).transport
            }
            try loop.close()
            _ = ctx.takeLogRecords()
            try ctx.expectEqual(transport.returnCode, -SIGKILL, "returnCode")
            try ProcessSupport.expectNoZombies(ctx)
        },
        Support.scenario("PROC-X43", "a child the program started itself (not through the loop) is never reaped by the loop: it stays waitable by its owner") { ctx, loop in
            var pid: pid_t = 0
            let spawned = "/bin/true".withCString { path -> Int32 in
                var argv: [UnsafeMutablePointer<CChar>?] = [strdup("true"), nil]
                defer { free(argv[0]) }
                return posix_spawn(&pid, path, nil, nil, &argv, environ)
            }
            try ctx.expectEqual(spawned, 0, "posix_spawn")
            // Run loop children meanwhile, under both watchers.
            for kind in [ChildWatcherKind.pidfd, .waiterThread] where kind == .waiterThread || ChildWatcherKind.pidfdAvailable {
                loop.childWatcher = kind
                _ = try await loop.createSubprocessExec("true").wait()
            }
            var status: Int32 = 0
            try await loop.sleep(.milliseconds(20))
            let reaped = waitpid(pid, &status, 0)
            try ctx.expectEqual(reaped, pid, "the owner reaps its own child")
        },
    ]
}
