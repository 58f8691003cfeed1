import Glibc

/// The loop's socket operations (asyncio's `sock_*` coroutines): each tries the call at
/// once and, when the socket would block, waits for readiness with the loop's own
/// reader or writer, which it removes again when done, failed or cancelled.
///
/// Await them from a task running on the loop; the socket must be non-blocking (debug
/// mode refuses a blocking one with ``LoopError/Kind-swift.enum/invalidArgument``).
/// Failed system calls throw ``SystemError`` with their `errno`.
///
/// ```swift
/// try loop.runUntilComplete {
///     let fd = try Socket.make(.inet, .stream)
///     defer { try? Socket.close(fd) }
///     try await loop.sockConnect(fd, host: "localhost", port: 8080)
///     try await loop.sockSendall(fd, Array("ping\n".utf8))
///     return try await loop.sockRecv(fd, maxBytes: 1024)
/// }
/// ```
extension BaseEventLoop {
    /// Receives up to `maxBytes` bytes; waits until some arrive. Returns `[]` once the
    /// peer has shut down writing.
    public func sockRecv(_ fd: Int32, maxBytes: Int) async throws -> [UInt8] {
        try checkSocketCall(fd, "sockRecv")
        guard maxBytes >= 0 else {
            throw LoopError(.invalidArgument, "sockRecv: maxBytes must not be negative, got \(maxBytes)")
        }
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        let count = try await receive(fd, into: &buffer)
        buffer.removeSubrange(count...)
        return buffer
    }

    /// Receives into `buffer` (up to its size); waits until data arrives. Returns how many
    /// bytes were stored, 0 once the peer has shut down writing.
    public func sockRecvInto(_ fd: Int32, _ buffer: inout [UInt8]) async throws -> Int {
        try checkSocketCall(fd, "sockRecvInto")
        return try await receive(fd, into: &buffer)
    }

    private func receive(_ fd: Int32, into buffer: inout [UInt8]) async throws -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return count }
            try await waitIfWouldBlock(fd, writable: false, errno: errno, call: "recv(\(fd))")
        }
    }

    /// Receives into the memory of `buffer`, which must stay valid until the call
    /// returns; waits until data arrives. Returns how many bytes were stored.
    public func sockRecvInto(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        try checkSocketCall(fd, "sockRecvInto")
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            try await waitIfWouldBlock(fd, writable: false, errno: errno, call: "recv(\(fd))")
        }
    }

    /// Sends all of `data`, waiting for the socket to drain as often as needed; returns
    /// once everything was handed to the OS. On an error, how much was sent is unknown.
    public func sockSendall(_ fd: Int32, _ data: [UInt8]) async throws {
        try checkSocketCall(fd, "sockSendall")
        var offset = 0
        let sendMore = { () throws -> Bool in
            while offset < data.count {
                let sent = data.withUnsafeBytes { send(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                if sent >= 0 {
                    offset += sent
                    continue
                }
                let failure = errno
                if failure == EINTR { continue }
                if failure == EAGAIN || failure == EWOULDBLOCK { return false }
                throw SystemError(errno: failure, call: "send(\(fd))")
            }
            return true
        }
        if try sendMore() { return }
        try await waitForReadiness(fd, writable: true, step: sendMore)
    }

    /// Connects to `address`; returns once connected. Throws ``SystemError`` with the
    /// connection's error (ECONNREFUSED when nobody listens).
    public func sockConnect(_ fd: Int32, to address: SocketAddress) async throws {
        try checkSocketCall(fd, "sockConnect")
        let call = "connect(\(fd), \(address))"
        let result = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if result == 0 { return }
        let failure = errno
        guard failure == EINPROGRESS || failure == EINTR || failure == EAGAIN else {
            throw SystemError(errno: failure, call: call)
        }
        try await waitForReadiness(fd, writable: true) {
            let pending = try Socket.option(fd, SOL_SOCKET, SO_ERROR)
            if pending == 0 { return true }
            if pending == EINPROGRESS || pending == EINTR || pending == EAGAIN { return false }
            throw SystemError(errno: pending, call: call)
        }
    }

    /// Connects to `host` and `port`; a host name is resolved first (with
    /// ``getaddrinfo(host:port:family:type:proto:flags:file:line:)``, for the socket's
    /// family and type) and the first address is used. Throws ``ResolverError`` for a
    /// host that does not resolve and ``LoopError/Kind-swift.enum/invalidArgument`` for
    /// a port outside 0...65535.
    public func sockConnect(_ fd: Int32, host: String, port: Int) async throws {
        try checkSocketCall(fd, "sockConnect")
        let address = try await resolveForSocket(
            host: host, port: port, family: Socket.family(of: fd), type: Socket.type(of: fd), call: "sockConnect")
        try await sockConnect(fd, to: address)
    }

    /// Accepts a connection on a listening socket; waits until one arrives. Returns the
    /// new socket (non-blocking, close-on-exec; the caller closes it) and the peer's address.
    public func sockAccept(_ fd: Int32) async throws -> (fd: Int32, address: SocketAddress) {
        try checkSocketCall(fd, "sockAccept")
        while true {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let connection = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &length) }
            }
            if connection >= 0 {
                do {
                    try Socket.setNonBlocking(connection)
                    guard fcntl(connection, F_SETFD, FD_CLOEXEC) == 0 else {
                        throw Posix.lastError("fcntl(\(connection), F_SETFD, FD_CLOEXEC)")
                    }
                    return (connection, try SocketAddress(storage, length: length))
                } catch {
                    Posix.close(connection)
                    throw error
                }
            }
            try await waitIfWouldBlock(fd, writable: false, errno: errno, call: "accept(\(fd))")
        }
    }

    /// Sends `data` as one datagram to `address`; waits while the socket's buffer is
    /// full. Returns how many bytes were sent.
    public func sockSendto(_ fd: Int32, _ data: [UInt8], to address: SocketAddress) async throws -> Int {
        try checkSocketCall(fd, "sockSendto")
        while true {
            let sent = data.withUnsafeBytes { bytes in
                address.withSockAddr { Glibc.sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, $1) }
            }
            if sent >= 0 { return sent }
            try await waitIfWouldBlock(fd, writable: true, errno: errno, call: "sendto(\(fd), \(address))")
        }
    }

    /// Receives one datagram of up to `maxBytes` bytes; waits until one arrives. Returns
    /// its bytes and the sender's address (`nil` when the OS reports none).
    public func sockRecvfrom(_ fd: Int32, maxBytes: Int) async throws -> (bytes: [UInt8], address: SocketAddress?) {
        try checkSocketCall(fd, "sockRecvfrom")
        guard maxBytes >= 0 else {
            throw LoopError(.invalidArgument, "sockRecvfrom: maxBytes must not be negative, got \(maxBytes)")
        }
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        while true {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &storage) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length)
                    }
                }
            }
            if count >= 0 {
                buffer.removeSubrange(count...)
                return (buffer, length > 0 ? try? SocketAddress(storage, length: length) : nil)
            }
            try await waitIfWouldBlock(fd, writable: false, errno: errno, call: "recvfrom(\(fd))")
        }
    }

    /// Sends `count` bytes of `file` starting at `offset` (to its end when `count` is
    /// `nil`) over the stream socket `fd`, and returns how many bytes were sent. Regular
    /// files go through sendfile(2); other files, or a sendfile(2) that fails before
    /// sending anything, are read and sent in chunks unless `fallback` is `false`. The
    /// file position is left at `offset` plus the bytes sent.
    ///
    /// Throws ``LoopError/Kind-swift.enum/invalidArgument`` for a socket that is not
    /// SOCK_STREAM, a negative `offset`, a `count` that is not positive, and (without
    /// `fallback`) a file that is not regular.
    public func sockSendfile(_ fd: Int32, file: Int32, offset: Int = 0, count: Int? = nil, fallback: Bool = true) async throws -> Int {
        try checkSocketCall(fd, "sockSendfile")
        guard try Socket.type(of: fd) == .stream else {
            throw LoopError(.invalidArgument, "sockSendfile: only SOCK_STREAM type sockets are supported, fd \(fd) is not one")
        }
        guard offset >= 0 else {
            throw LoopError(.invalidArgument, "sockSendfile: offset must be a non-negative integer (got \(offset))")
        }
        if let count, count <= 0 {
            throw LoopError(.invalidArgument, "sockSendfile: count must be a positive integer (got \(count)); pass nil to send to the end")
        }
        var status = stat()
        guard fstat(file, &status) == 0 else { throw Posix.lastError("fstat(\(file)) (sockSendfile)") }
        let regular = status.st_mode & S_IFMT == S_IFREG
        if regular {
            do {
                return try await sendfileNative(fd, file: file, offset: offset, count: count, size: Int(status.st_size))
            } catch let unavailable as SendfileUnavailable {
                guard fallback else { throw unavailable.error }
            }
        } else if !fallback {
            throw LoopError(.invalidArgument, "sockSendfile: file \(file) is not a regular file, so sendfile(2) cannot send it; pass fallback: true")
        }
        return try await sendfileByCopying(fd, file: file, offset: offset, count: count, regular: regular)
    }

    // MARK: Implementation

    /// The checks every socket operation makes: loop open, called on the loop's thread,
    /// and (debug mode) a non-blocking socket.
    func checkSocketCall(_ fd: Int32, _ call: String) throws {
        try checkOpen(call)
        guard isOnLoopThread else {
            throw LoopError(.wrongThread, "\(call): must be awaited from a task running on the loop's thread (e.g. loop.createTask or runUntilComplete)")
        }
        if debugEnabled {
            guard try Socket.isNonBlocking(fd) else {
                throw LoopError(.invalidArgument, "\(call): the socket must be non-blocking; call Socket.setNonBlocking(\(fd)) first")
            }
        }
    }

    /// After a failed call: returns to retry at once on EINTR, waits for readiness on
    /// EAGAIN, and throws any other error.
    private func waitIfWouldBlock(_ fd: Int32, writable: Bool, errno failure: Int32, call: String) async throws {
        if failure == EINTR { return }
        guard failure == EAGAIN || failure == EWOULDBLOCK else { throw SystemError(errno: failure, call: call) }
        try await waitForReadiness(fd, writable: writable) { true }
    }

    /// Watches `fd` for readability or writability and runs `step` in the watcher each
    /// time it is ready, until `step` returns `true` or throws; then removes the watcher
    /// and returns (or rethrows). A cancelled wait removes its watcher unless the fd was
    /// given another one meanwhile.
    func waitForReadiness(_ fd: Int32, writable: Bool, step: @escaping () throws -> Bool) async throws {
        let future = createFuture(of: Void.self, from: nil)
        let watcher: () throws -> Void = { [unowned self] in
            guard !future.isDone else { return }
            var failure: (any Error)?
            do {
                guard try step() else { return }
            } catch {
                failure = error
            }
            do {
                if writable { try removeWriter(fd) } else { try removeReader(fd) }
            } catch {
                failure = failure ?? error
            }
            if let failure { try future.setException(failure) } else { try future.setResult(()) }
        }
        if writable { try addWriter(fd, watcher) } else { try addReader(fd, watcher) }
        let watch = Int(fd) < watches.count ? watches[Int(fd)] : FileDescriptorWatch()
        let handle = writable ? watch.writer : watch.reader
        do {
            try await future.value
        } catch {
            // Cancelled (or the loop failed): stop watching, unless someone replaced or removed the watcher.
            if future.isCancelled, let handle, !handle.isCancelled {
                if writable { _ = try? removeWriter(fd) } else { _ = try? removeReader(fd) }
            }
            throw error
        }
    }

    /// sendfile(2) from a regular file; throws ``SendfileUnavailable`` when it fails
    /// before sending anything.
    private func sendfileNative(_ fd: Int32, file: Int32, offset: Int, count: Int?, size: Int) async throws -> Int {
        if count == nil && size <= offset { return 0 }
        var position = off_t(offset)
        var sent = 0
        defer { if sent > 0 { _ = lseek(file, off_t(offset + sent), SEEK_SET) } }
        let pump = { () throws -> Bool in
            while true {
                var want = max(size - offset - sent, 1)
                if let count { want = count - sent }
                if want <= 0 { return true }
                let result = Glibc.sendfile(fd, file, &position, min(want, 0x7FFF_F000))
                if result > 0 {
                    sent += result
                    continue
                }
                if result == 0 { return true }
                let failure = errno
                if failure == EINTR { continue }
                if failure == EAGAIN || failure == EWOULDBLOCK { return false }
                let error = SystemError(errno: failure, call: "sendfile(\(fd), \(file))")
                if sent == 0 { throw SendfileUnavailable(error: error) }
                throw error
            }
        }
        if try pump() { return sent }
        try await waitForReadiness(fd, writable: true, step: pump)
        return sent
    }

    /// The fallback of sockSendfile: read a chunk, send it all, repeat.
    private func sendfileByCopying(_ fd: Int32, file: Int32, offset: Int, count: Int?, regular: Bool) async throws -> Int {
        if regular || offset > 0 {
            guard lseek(file, off_t(offset), SEEK_SET) >= 0 else {
                throw Posix.lastError("lseek(\(file), \(offset)) (sockSendfile)")
            }
        }
        let blockSize = 256 * 1024
        var sent = 0
        defer { if sent > 0 && regular { _ = lseek(file, off_t(offset + sent), SEEK_SET) } }
        while true {
            var want = blockSize
            if let count { want = min(count - sent, blockSize) }
            if want <= 0 { break }
            let chunk = try await readChunk(file, maxBytes: want, regular: regular)
            if chunk.isEmpty { break }
            try await sockSendall(fd, chunk)
            sent += chunk.count
        }
        return sent
    }

    /// Reads up to `maxBytes` from `file`: at once from a regular file, with readiness
    /// waits from a non-blocking one, on the default executor from a blocking one.
    private func readChunk(_ file: Int32, maxBytes: Int, regular: Bool) async throws -> [UInt8] {
        let nonBlocking = try Socket.isNonBlocking(file)
        if !regular && !nonBlocking {
            return try await runInExecutor(nil, from: nil) { () throws -> [UInt8] in
                var buffer = [UInt8](repeating: 0, count: maxBytes)
                while true {
                    let count = buffer.withUnsafeMutableBytes { Posix.read(file, into: $0) }
                    if count >= 0 {
                        buffer.removeSubrange(count...)
                        return buffer
                    }
                    if errno != EINTR { throw SystemError(errno: errno, call: "read(\(file)) (sockSendfile)") }
                }
            }.value
        }
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        while true {
            let count = buffer.withUnsafeMutableBytes { Posix.read(file, into: $0) }
            if count >= 0 {
                buffer.removeSubrange(count...)
                return buffer
            }
            try await waitIfWouldBlock(file, writable: false, errno: errno, call: "read(\(file)) (sockSendfile)")
        }
    }
}

/// sendfile(2) failed before sending anything: sockSendfile may fall back to copying.
private struct SendfileUnavailable: Error {
    let error: SystemError
}
