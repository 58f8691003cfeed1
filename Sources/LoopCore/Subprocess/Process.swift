import Glibc

/// A child process with streams (asyncio's `asyncio.subprocess.Process`): ``stdin`` is
/// a ``StreamWriter``, ``stdout`` and ``stderr`` are ``StreamReader``s — each `nil`
/// unless that stream is a pipe.
///
/// ```swift
/// let process = try await createSubprocessExec("tr", ["a-z", "A-Z"], stdin: .pipe, stdout: .pipe)
/// let (output, _) = try await process.communicate(input: Array("feed me".utf8))
/// ```
///
/// A process released without ``wait()`` is still reaped when it exits. Use it on its
/// loop's thread.
public final class Process: CustomStringConvertible, @unchecked Sendable {
    // @unchecked: like every loop-bound object, used on its loop's thread only.
    /// The subprocess transport underneath.
    public let transport: SubprocessTransport
    /// The child's stdin, when it is a pipe.
    public let stdin: StreamWriter?
    /// The child's stdout, when it is a pipe.
    public let stdout: StreamReader?
    /// The child's stderr, when it is a pipe.
    public let stderr: StreamReader?
    private let loop: BaseEventLoop

    init(transport: SubprocessTransport, protocol proto: SubprocessStreamProtocol, loop: BaseEventLoop) {
        self.transport = transport
        self.stdin = proto.stdin
        self.stdout = proto.stdout
        self.stderr = proto.stderr
        self.loop = loop
    }

    public var description: String { "<Process \(pid)>" }

    /// The child's process id.
    public var pid: Int32 { transport.pid }

    /// The exit code N, or −N for death by signal N; `nil` while the child runs.
    public var returnCode: Int32? { transport.returnCode }

    /// Waits for the child to exit and returns ``returnCode`` (at once if it has
    /// exited). It does not wait for a grandchild that keeps the pipes open.
    @discardableResult
    public func wait() async throws -> Int32 { try await transport.wait() }

    /// Sends `signal` to the child. Throws ``SubprocessError`` kind `processLookup` once
    /// the child has exited.
    public func sendSignal(_ signal: Int32) throws { try transport.sendSignal(signal) }

    /// Sends SIGTERM.
    public func terminate() throws { try transport.terminate() }

    /// Sends SIGKILL.
    public func kill() throws { try transport.kill() }

    /// Writes `input` (if any) to stdin and closes it, reads stdout and stderr to end of
    /// file, all at once, then waits for the child to exit. Returns what was read (`nil`
    /// for a stream that is not a pipe). No deadlock whatever the sizes; a child that
    /// stops reading stdin early (a broken pipe) is not an error.
    public func communicate(input: [UInt8]? = nil) async throws -> (stdout: [UInt8]?, stderr: [UInt8]?) {
        let feeding = try stdin.map { writer in
            try loop.createTask(name: nil, from: nil) { try await Self.feed(writer, input) }
        }
        let readingOut = try stdout.map { reader in
            try loop.createTask(name: nil, from: nil) { [transport] in try await Self.readAll(reader, fd: 1, transport) }
        }
        let readingErr = try stderr.map { reader in
            try loop.createTask(name: nil, from: nil) { [transport] in try await Self.readAll(reader, fd: 2, transport) }
        }
        do {
            try await feeding?.value
            let output = try await readingOut?.value
            let errors = try await readingErr?.value
            try await wait()
            return (output, errors)
        } catch {
            feeding?.cancel()
            readingOut?.cancel()
            readingErr?.cancel()
            throw error
        }
    }

    private static func feed(_ writer: StreamWriter, _ input: [UInt8]?) async throws {
        do {
            if let input, !input.isEmpty {
                try writer.write(input)
                try await writer.drain()
            }
        } catch let error as SystemError where error.errno == EPIPE || error.errno == ECONNRESET {
            // The child stopped reading: not communicate()'s failure (asyncio ignores it too).
        }
        writer.close()
    }

    private static func readAll(_ reader: StreamReader, fd: Int32, _ transport: SubprocessTransport) async throws -> [UInt8] {
        let bytes = try await reader.read()
        transport.pipeTransport(fd: fd)?.close()
        return bytes
    }
}
