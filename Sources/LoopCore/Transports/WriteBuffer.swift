import Glibc

/// A stream transport's write buffer (shared by ``SocketTransport`` and
/// ``WritePipeTransport``): queued chunks, the first one consumed from an offset.
/// The flow-control marks are ``WriteFlowControl``'s. Loop-thread only, like its transports.
struct WriteBuffer {
    private var chunks: [[UInt8]] = []
    private var chunkHead = 0
    private var headOffset = 0
    /// How many bytes wait.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Queues `bytes` behind what waits.
    mutating func append(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        chunks.append(Array(bytes))
        count += bytes.count
    }

    /// Hands the waiting bytes to `send` in order, a chunk at a time, until everything
    /// is sent or `send` takes less (or nothing). `send` returns the bytes it took or
    /// -1 with errno set; EINTR retries, EAGAIN/EWOULDBLOCK stop. Returns the errno of
    /// any other failure (the buffer is left as it was for that chunk), else `nil`.
    mutating func drain(_ send: (UnsafeRawBufferPointer) -> Int) -> Int32? {
        var failure: Int32?
        while chunkHead < chunks.count {
            let offset = headOffset
            let sent = chunks[chunkHead].withUnsafeBytes { send(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            if sent < 0 {
                let error = errno
                if error == EINTR { continue }
                if error != EAGAIN && error != EWOULDBLOCK { failure = error }
                break
            }
            count -= sent
            headOffset += sent
            if headOffset == chunks[chunkHead].count {
                chunkHead += 1
                headOffset = 0
            } else {
                break
            }
        }
        if count == 0 {
            clear()
        } else if chunkHead > 64 && chunkHead * 2 > chunks.count {
            chunks.removeFirst(chunkHead)
            chunkHead = 0
        }
        return failure
    }

    /// Drops everything waiting.
    mutating func clear() {
        chunks.removeAll()
        chunkHead = 0
        headOffset = 0
        count = 0
    }
}
