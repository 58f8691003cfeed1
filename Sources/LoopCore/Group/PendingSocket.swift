import Glibc
import Synchronization

/// An accepted socket on its way from a ``GroupServer``'s acceptor to another loop:
/// whoever ``take()``s it owns it; one dropped untaken (its target loop closed before
/// it ran the handoff) is closed and uncounted.
final class PendingSocket: Sendable {
    private let fd: Mutex<Int32>
    private let connections: HandoffConnections

    init(_ fd: Int32, connections: HandoffConnections) {
        self.fd = Mutex(fd)
        self.connections = connections
    }

    /// The socket, or -1 when it was taken already.
    func take() -> Int32 {
        fd.withLock { fd in
            defer { fd = -1 }
            return fd
        }
    }

    deinit {
        let left = take()
        guard left >= 0 else { return }
        _ = Glibc.close(left)
        connections.remove(onLoopThread: false)
    }
}
