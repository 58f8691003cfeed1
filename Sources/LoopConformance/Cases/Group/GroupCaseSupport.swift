import Glibc
import LoopCore
import Synchronization

/// What the GROUP cases share: a group on the backend under test (in the suite's debug
/// mode, its exception handler recording), an echo protocol that notes its loop, and
/// blocking loopback clients.
enum GroupCaseSupport {
    /// A group of `loops` loops on the backend under test.
    static func makeGroup(_ ctx: CaseContext, loops: Int = 2) throws -> LoopGroup {
        try LoopGroup(loops: loops, backend: ctx.backend) { loop in
            loop.setDebug(ctx.debug)
            loop.setExceptionHandler(ctx.recordingHandler)
        }
    }

    /// A blocking IPv4 loopback client of `port` (10 s receive timeout).
    static func connect(_ ctx: CaseContext, port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemError(errno: errno, call: "socket") }
        ctx.own(fd)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw SystemError(errno: errno, call: "connect(127.0.0.1:\(port))") }
        return fd
    }

    /// Whether connecting to `port` is refused within 5 seconds (each connection that
    /// still succeeds is closed at once).
    static func refusedSoon(_ ctx: CaseContext, port: Int) throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            guard let fd = try? connect(ctx, port: port) else { return true }
            ctx.close(fd)
            usleep(10_000)
        }
        return false
    }

    /// Sends `text` on `fd` and returns what comes back, as many bytes as were sent.
    static func roundTrip(_ ctx: CaseContext, _ fd: Int32, _ text: String) throws -> String {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw ctx.failure("send: \(sent) of \(bytes.count) bytes, errno \(errno)") }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while received.count < bytes.count {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            // A recv with SO_RCVTIMEO returns EINTR for task work the kernel queues on
            // this thread (io_uring completions of a ring it owns): not a failure.
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw ctx.failure("recv: \(count), errno \(errno), after \(received.count) bytes") }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}

/// Which loop of a group served each connection, in the order they were made.
final class GroupServedLog: Sendable {
    private let loops: [BaseEventLoop]
    private let served = Mutex<[Int]>([])

    init(_ group: LoopGroup) { loops = group.loops }

    func note(_ loop: BaseEventLoop) {
        let index = loops.firstIndex { $0 === loop } ?? -1
        served.withLock { $0.append(index) }
    }

    var order: [Int] { served.withLock { $0 } }
}

/// An echo protocol that notes, when connected, the loop it runs on.
final class GroupEcho: StreamProtocol, @unchecked Sendable {
    // @unchecked: like every protocol, used on its loop's thread only.
    private let loop: BaseEventLoop
    private let log: GroupServedLog
    private var transport: (any WriteTransport)?

    init(_ loop: BaseEventLoop, _ log: GroupServedLog) {
        self.loop = loop
        self.log = log
    }

    func connectionMade(_ transport: any BaseTransport) throws {
        self.transport = transport as? any WriteTransport
        guard RunningLoop.current === loop else {
            throw LoopError(.wrongThread, "GroupEcho: the protocol must run on the loop its factory was given")
        }
        log.note(loop)
    }

    func dataReceived(_ bytes: [UInt8]) throws { try transport?.write(bytes) }

    func connectionLost(_ error: (any Error)?) throws { transport = nil }
}
