import Glibc
import LoopCore

/// The fixtures the SOCK cases (and the other socket groups) share: the watchdog
/// runner, sockets the harness owns or the case hands over, test data.
extension SocketCases {
    /// Runs `body` as a task on `loop` and returns its result; fails the case (cancelling
    /// the task) if it is not done within `limit`.
    static func run<T>(
        _ ctx: CaseContext, _ loop: BaseEventLoop, within limit: Duration = .seconds(10),
        file: StaticString = #fileID, line: UInt = #line, _ body: sending @escaping () async throws -> T
    ) throws -> T {
        try runGuarded(ctx, loop, loop.createTask(body), within: limit, file: file, line: line)
    }

    /// Runs the loop until `future` is done; fails the case (cancelling the future) if it
    /// is not done within `limit`.
    @discardableResult
    static func runGuarded<T>(
        _ ctx: CaseContext, _ loop: BaseEventLoop, _ future: Future<T>, within limit: Duration = .seconds(10),
        file: StaticString = #fileID, line: UInt = #line
    ) throws -> T {
        let watchdog = try loop.callLater(limit) { loop.stop() }
        defer { watchdog.cancel() }
        do {
            return try loop.runUntilComplete(future)
        } catch let error as LoopError where error.kind == .stoppedBeforeFutureCompleted && !future.isDone {
            future.cancel()
            _ = try? loop.runUntilComplete(future)
            throw ctx.failure("not done after \(limit): \(future)", file: file, line: line)
        }
    }

    /// A non-blocking socket the harness closes after the case.
    static func socket(_ ctx: CaseContext, _ family: AddressFamily, _ type: SocketType) throws -> Int32 {
        let fd = try Socket.make(family, type)
        ctx.own(fd)
        return fd
    }

    /// A non-blocking stream socket listening on `address` (with `backlog`, if given),
    /// and the address it is bound to.
    static func listen(_ ctx: CaseContext, on address: SocketAddress, backlog: Int32? = nil) throws -> (Int32, SocketAddress) {
        let fd = try socket(ctx, address.family, .stream)
        try Socket.bind(fd, to: address)
        if let backlog { try Socket.listen(fd, backlog: backlog) } else { try Socket.listen(fd) }
        return (fd, try Socket.localAddress(fd))
    }

    /// A new socket bound to `address` (and listening, if asked), for the case to hand
    /// over to a server that owns and closes it; closed here if binding or listening fails.
    static func boundSocket(_ type: SocketType, to address: SocketAddress, listening: Bool = false) throws -> Int32 {
        let fd = try Socket.make(address.family, type)
        do {
            try Socket.bind(fd, to: address)
            if listening { try Socket.listen(fd) }
        } catch {
            _ = try? Socket.close(fd)
            throw error
        }
        return fd
    }

    /// A new stream socket connected to `address` with sockConnect, for the case to hand
    /// over to a transport that owns and closes it; closed here if connecting fails.
    static func connectedSocket(_ loop: BaseEventLoop, to address: SocketAddress) async throws -> Int32 {
        let fd = try Socket.make(address.family, .stream)
        do {
            try await loop.sockConnect(fd, to: address)
        } catch {
            _ = try? Socket.close(fd)
            throw error
        }
        return fd
    }

    /// `count` bytes that are not periodic in any small power of two.
    static func pattern(count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var state: UInt32 = 0x1234_5678
        for index in 0..<count {
            state = state &* 1_103_515_245 &+ 12_345
            bytes[index] = UInt8(truncatingIfNeeded: state >> 16)
        }
        return bytes
    }

    /// An unlinked temporary file holding `content`, positioned at its start, closed after the case.
    static func temporaryFile(_ ctx: CaseContext, _ content: [UInt8]) throws -> Int32 {
        var template = Array("/tmp/loop-sendfile-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw SystemError(errno: errno, call: "mkstemp") }
        ctx.own(fd)
        _ = unlink(template)
        let written = content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == content.count else { throw ctx.failure("writing the temporary file wrote \(written) of \(content.count) bytes") }
        _ = lseek(fd, 0, SEEK_SET)
        return fd
    }
}

/// FNV-1a over a byte stream.
struct Checksum {
    var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ bytes: ArraySlice<UInt8>) {
        for byte in bytes {
            value = (value ^ UInt64(byte)) &* 0x100_0000_01B3
        }
    }
}
