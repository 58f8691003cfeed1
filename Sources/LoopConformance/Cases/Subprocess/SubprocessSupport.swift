import Glibc
@_spi(Backend) import LoopCore

/// Helpers the PROC cases share.
enum ProcessSupport {
    /// Children run in real time: a virtual-time loop would jump its clock past them
    /// to the case's watchdog, so every PROC case needs a real-time backend.
    static let requirement: BackendCapabilities = .realTime

    /// A PROC case: `body` runs as a loop task on a fresh loop (forced onto the waiter
    /// thread when `watcher` says so); afterwards the loop must have reaped every child
    /// it started, and — once the loop is closed — the process must have no zombie child.
    static func scenario(
        _ id: String, _ title: String, timeout: Duration = .seconds(20), watcher: ChildWatcherKind? = nil,
        _ body: @escaping @Sendable (CaseContext, BaseEventLoop) async throws -> Void
    ) -> ConformanceCase {
        ConformanceCase(id, title, requires: requirement, timeout: timeout + .seconds(5)) { ctx in
            let loop = try ctx.makeLoop()
            if let watcher { loop.childWatcher = watcher }
            try SocketCases.run(ctx, loop, within: timeout) { try await body(ctx, loop) }
            let running = loop.runningSubprocessCount
            try loop.close()
            try ctx.expectEqual(running, 0, "children started by the loop and not reaped when the case ended")
            try expectNoZombies(ctx)
        }
    }

    /// Fails the case if any child of this process is a zombie.
    static func expectNoZombies(_ ctx: CaseContext) throws {
        let zombies = zombieChildren()
        try ctx.expect(zombies.isEmpty, "zombie children of this process: \(zombies)")
    }

    /// The pids of this process's children in state Z (from /proc/<pid>/stat).
    static func zombieChildren() -> [Int32] {
        let me = getpid()
        var result: [Int32] = []
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = Int32(name) else { continue }
            guard let stat = readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let parent = Int32(fields[1]) else { continue }
            if parent == me && fields[0] == "Z" { result.append(pid) }
        }
        return result
    }

    /// A small file's contents, or nil.
    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    /// Runs `body` and returns the ``SubprocessError`` it throws, failing on anything else.
    static func expectSubprocessError(
        _ ctx: CaseContext, _ kind: SubprocessError.Kind, _ what: String,
        file: StaticString = #fileID, line: UInt = #line, _ body: () async throws -> Void
    ) async throws -> SubprocessError {
        do {
            try await body()
        } catch let error as SubprocessError {
            guard error.kind == kind else { throw ctx.failure("\(what): expected SubprocessError.\(kind), got .\(error.kind): \(error.message)", file: file, line: line) }
            return error
        } catch {
            throw ctx.failure("\(what): expected SubprocessError.\(kind), got \(error)", file: file, line: line)
        }
        throw ctx.failure("\(what): expected SubprocessError.\(kind), nothing was thrown", file: file, line: line)
    }

    /// A pattern of `count` bytes that no shifted copy matches (to catch reordering).
    static func pattern(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var state: UInt32 = 0x9E37_79B9
        for index in 0..<count {
            state = state &* 1_664_525 &+ 1_013_904_223
            bytes[index] = UInt8(truncatingIfNeeded: state >> 24)
        }
        return bytes
    }
}

/// A SubprocessProtocol that records every event, in order.
final class ProcessRecorder: SubprocessProtocol, @unchecked Sendable {
    // @unchecked: used on its loop's thread only.
    var events: [String] = []
    var received: [Int32: [UInt8]] = [:]
    var transport: SubprocessTransport?
    let exited: Future<Void>
    let lost: Future<Void>

    init(_ loop: BaseEventLoop) {
        exited = loop.createFuture(of: Void.self)
        lost = loop.createFuture(of: Void.self)
    }

    func connectionMade(_ transport: any BaseTransport) throws {
        self.transport = transport as? SubprocessTransport
        events.append("made")
    }

    func pipeDataReceived(fd: Int32, data: [UInt8]) throws {
        if events.last != "data(\(fd))" { events.append("data(\(fd))") }
        received[fd, default: []] += data
    }

    func pipeConnectionLost(fd: Int32, error: (any Error)?) throws {
        events.append("pipeLost(\(fd), \(error.map { "\($0)" } ?? "nil"))")
    }

    func processExited() throws {
        events.append("exited(\(transport?.returnCode.map { String($0) } ?? "nil"))")
        if !exited.isDone { try exited.setResult(()) }
    }

    func connectionLost(_ error: (any Error)?) throws {
        events.append("lost(\(error.map { "\($0)" } ?? "nil"))")
        if !lost.isDone { try lost.setResult(()) }
    }

    func pauseWriting() throws { events.append("pause") }

    func resumeWriting() throws { events.append("resume") }
}
