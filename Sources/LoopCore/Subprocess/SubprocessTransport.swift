import Glibc

/// A running child process and its stdio pipes (asyncio's `SubprocessTransport`).
///
/// The child's exit is watched through its pidfd (see ``ChildWatcherKind``); signals go
/// through the pidfd too, so they never reach a recycled pid. ``returnCode`` is the
/// exit code N, or −N for death by signal N. The protocol's ``SubprocessProtocol``
/// events follow asyncio's order: `connectionMade`, pipe events, `processExited`
/// exactly once, and `connectionLost(nil)` once the child exited and every pipe closed.
///
/// Create one with ``BaseEventLoop/subprocessExec(_:_:_:stdin:stdout:stderr:environment:currentDirectory:passFds:newSession:processGroup:)``.
/// Use it on its loop's thread.
public final class SubprocessTransport: BaseTransport, CustomStringConvertible {
    private enum Pipe {
        case write(WritePipeTransport)
        case read(ReadPipeTransport)

        var transport: any BaseTransport {
            switch self {
            case .write(let transport): return transport
            case .read(let transport): return transport
            }
        }
    }

    private unowned let loop: BaseEventLoop
    /// The child's process id.
    public let pid: Int32
    /// The program that was started.
    public let program: String
    /// The exit code N, or −N for death by signal N; `nil` while the child runs.
    public private(set) var returnCode: Int32?
    private var currentProtocol: any BaseProtocol
    private var pipes: [Int32: Pipe] = [:]
    private var disconnected: Set<Int32> = []
    private var closed = false
    private var finished = false
    /// Protocol calls made before `connectionMade` ran; `nil` once it has.
    private var pendingCalls: [() throws -> Void]? = []
    private var exitWaiters: [Future<Int32>] = []
    private var watch: ChildWatch?

    init(loop: BaseEventLoop, child: SpawnedChild, program: String, protocol proto: any BaseProtocol, waiter: Future<Void>) throws {
        self.loop = loop
        self.pid = child.pid
        self.program = program
        self.currentProtocol = proto
        for fd in child.pipes.keys.sorted() {
            guard let parentEnd = child.pipes[fd] else { continue }
            let pipeProtocol = SubprocessPipeProtocol(fd: fd, owner: self)
            let started = loop.createFuture(of: Void.self, from: nil)
            if fd == 0 {
                pipes[fd] = .write(try WritePipeTransport(loop: loop, fd: parentEnd, watchesReadEnd: true, protocol: pipeProtocol, waiter: started))
            } else {
                pipes[fd] = .read(try ReadPipeTransport(loop: loop, fd: parentEnd, protocol: pipeProtocol, waiter: started))
            }
        }
        watch = try ChildWatch(loop: loop, pid: child.pid, preferred: loop.subprocesses.watcherKind) { [unowned self] status in
            processExited(status)
        }
        _ = try loop.callSoon({ [self] in
            try currentProtocol.connectionMade(self)
            let calls = pendingCalls ?? []
            pendingCalls = nil
            for call in calls { _ = try loop.callSoon(call, from: nil) }
            if !waiter.isDone { try waiter.setResult(()) }
        }, from: nil)
        loop.subprocesses.add(self)
    }

    public var description: String {
        var text = "<SubprocessTransport pid=\(pid)"
        if closed { text += " closed" }
        if let returnCode { text += " returncode=\(returnCode)" } else { text += " running" }
        for fd in pipes.keys.sorted() { text += " fd\(fd)=\(disconnected.contains(fd) ? "closed" : "pipe")" }
        return text + ">"
    }

    /// Which watcher watches this child.
    public var watcherKind: ChildWatcherKind? { watch?.kind }

    // MARK: BaseTransport

    public var isClosing: Bool { closed }

    public var `protocol`: any BaseProtocol { currentProtocol }

    public func setProtocol(_ protocol: any BaseProtocol) { currentProtocol = `protocol` }

    /// "pid" is the child's pid; "program" its program.
    public func extraInfo(_ key: String) -> Any? {
        switch key {
        case "pid": return pid
        case "program": return program
        default: return nil
        }
    }

    /// Closes every pipe and, if the child still runs, kills it (SIGKILL; debug mode logs
    /// a warning). The child is reaped when its exit is seen, as always. Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        for fd in pipes.keys.sorted() where !disconnected.contains(fd) { pipes[fd]?.transport.close() }
        if returnCode == nil {
            if loop.debugEnabled { loop.logger.warning("Close running child process: kill \(self)") }
            try? watch?.send(SIGKILL, program: program)
        }
    }

    // MARK: Child

    /// The transport of the pipe to the child's `fd` (0 stdin: a ``WritePipeTransport``;
    /// 1, 2: a ``ReadPipeTransport``), or `nil` when that stream is not a pipe.
    public func pipeTransport(fd: Int32) -> (any BaseTransport)? { pipes[fd]?.transport }

    /// Sends `signal` to the child. Throws ``SubprocessError`` kind
    /// ``SubprocessError/Kind-swift.enum/processLookup`` once the child has exited.
    public func sendSignal(_ signal: Int32) throws {
        if returnCode != nil || watch == nil {
            throw SubprocessError(.processLookup, program: program, errno: ESRCH, "\(program) (pid \(pid)) has exited and was reaped: no process to signal")
        }
        try watch?.send(signal, program: program)
    }

    /// Sends SIGTERM (see ``sendSignal(_:)``).
    public func terminate() throws { try sendSignal(SIGTERM) }

    /// Sends SIGKILL (see ``sendSignal(_:)``).
    public func kill() throws { try sendSignal(SIGKILL) }

    /// Returns the return code once the child has exited (at once if it has). It does not
    /// wait for the pipes: a grandchild may keep them open longer.
    public func wait() async throws -> Int32 {
        if let returnCode { return returnCode }
        let waiter = loop.createFuture(of: Int32.self, from: nil)
        exitWaiters.append(waiter)
        return try await waiter.value
    }

    // MARK: Events

    func pipeDataReceived(fd: Int32, data: [UInt8]) {
        guard let proto = currentProtocol as? any SubprocessProtocol else { return }
        call { try proto.pipeDataReceived(fd: fd, data: data) }
    }

    func pipeConnectionLost(fd: Int32, error: (any Error)?) {
        disconnected.insert(fd)
        if let proto = currentProtocol as? any SubprocessProtocol {
            call { try proto.pipeConnectionLost(fd: fd, error: error) }
        }
        tryFinish()
    }

    private func processExited(_ status: Int32) {
        if loop.debugEnabled { loop.logger.info("\(self) exited with return code \(status)") }
        returnCode = status
        watch = nil
        loop.subprocesses.remove(self)
        if let proto = currentProtocol as? any SubprocessProtocol {
            call { try proto.processExited() }
        }
        tryFinish()
        let waiters = exitWaiters
        exitWaiters = []
        for waiter in waiters where !waiter.isDone { try? waiter.setResult(status) }
    }

    /// The loop closes while the child runs: kill and reap it now (no protocol events:
    /// the loop runs no more callbacks).
    func killAtLoopClose() {
        loop.logger.warning("Event loop closed while child process \(program) (pid \(pid)) was running: killed and reaped it")
        watch?.killAndReap()
        watch = nil
        if returnCode == nil { returnCode = -SIGKILL }
        closed = true
    }

    private func tryFinish() {
        guard !finished, returnCode != nil else { return }
        guard pipes.keys.allSatisfy({ disconnected.contains($0) }) else { return }
        finished = true
        call { [self] in
            defer { pipes = [:] }
            try currentProtocol.connectionLost(nil)
        }
    }

    private func call(_ body: @escaping () throws -> Void) {
        if pendingCalls != nil {
            pendingCalls?.append(body)
        } else {
            _ = try? loop.callSoon(body, from: nil)
        }
    }
}
