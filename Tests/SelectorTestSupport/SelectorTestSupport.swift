import Glibc
@_spi(Backend) import LoopCore

// What the epoll and poll selector tests share: they drive a backend's hooks
// directly, on socket pairs, and check that no test leaks a descriptor. The hook
// contract itself is proved on every backend by the conformance cases HOOK-X01..X16.

/// How many descriptors the process has open (-1 without /proc).
public func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count
}

/// The events of one wait, in the order the backend recorded them.
package func events(_ buffer: ReadinessBuffer) -> [ReadinessEvent] {
    (0..<buffer.count).map { buffer[$0] }
}

/// A connected AF_UNIX stream socket pair, close-on-exec and non-blocking, so a test
/// that goes wrong fails instead of hanging in read or write.
public func makeSocketPair() throws -> (Int32, Int32) {
    var fds: [Int32] = [-1, -1]
    let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
    guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
        throw SystemError(errno: errno, call: "socketpair")
    }
    return (fds[0], fds[1])
}

public func closeAll(_ fds: Int32...) {
    for fd in fds { _ = close(fd) }
}

/// What one wait of `selector` reports for a socket watched only for writing once its
/// peer has closed: `(fd, events)`. epoll and poll report the hang-up as readable and
/// writable; the contract lets a backend report only the watched interest.
package func hangUpEvents(of selector: any SelectorBackend) throws -> (fd: Int32, events: [ReadinessEvent]) {
    let (a, b) = try makeSocketPair()
    defer { closeAll(a) }
    try selector.register(fd: a, interest: .writable)
    closeAll(b)
    var ready = ReadinessBuffer()
    try selector.wait(timeout: .seconds(5), into: &ready)
    return (a, events(ready))
}
