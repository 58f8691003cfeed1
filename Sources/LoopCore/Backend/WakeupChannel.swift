import Glibc
import CLoopShims
import Synchronization

/// The descriptor a backend watches so that ``SelectorBackend/wakeup()`` can end a wait
/// from any thread: an `eventfd(2)` on Linux, or a non-blocking self-pipe.
///
/// A backend makes one in its initializer, watches ``readFD`` for reading with its OS
/// mechanism, calls ``drain()`` when the wait reports ``readFD`` (never reporting it to the
/// loop), forwards ``SelectorBackend/wakeup()`` to ``wakeup()`` and calls ``close()`` from
/// its own ``SelectorBackend/close()``:
///
/// ```swift
/// let wake = try WakeupChannel()
/// // register wake.readFD for reading with the OS mechanism
/// public func wakeup() { wake.wakeup() }
/// // in wait: if fd == wake.readFD { wake.drain(); continue }
/// public func close() { wake.close(); /* then the mechanism's own fd */ }
/// ```
///
/// ## The close-versus-wakeup race
/// ``wakeup()`` may run on any thread while the loop thread calls ``close()``. If close
/// simply closed the descriptor, a wakeup that had already decided to write could write
/// into a descriptor number the process has meanwhile reused for a socket. So every
/// wakeup announces itself in one atomic word (bit 0: closed; the rest: twice the number
/// of wakeups in flight) before it writes, and ``close()`` first sets the closed bit, then
/// waits until no wakeup is in flight, and only then closes the descriptors. A wakeup that
/// announced itself after the closed bit was set sees it and writes nothing.
///
/// Memory ordering: the announcement and the closed bit are read-modify-writes of the same
/// atomic, so they are totally ordered whatever ordering they use; the announcement is
/// `acquiring` and the closed bit `acquiringAndReleasing`. A wakeup withdraws its
/// announcement with a `releasing` subtraction after its `write(2)`, and ``close()``
/// reads the count with `acquiring` loads, so each in-flight write happens before the
/// `close(2)` that ends the descriptor. The descriptor numbers are constants set before
/// the channel is shared.
///
/// ## Threading
/// ``wakeup()``: any thread, any number of times, also after ``close()`` (then it does
/// nothing); async-signal-safe (two atomic operations and one `write(2)`), and it leaves
/// `errno` as it was. ``drain()`` and ``close()``: the loop thread only.
@_spi(Backend) public final class WakeupChannel: @unchecked Sendable {
    /// Which kernel object carries the wakeups.
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        /// An `eventfd(2)` counter (one descriptor), falling back to a pipe when the
        /// kernel has no eventfd (`ENOSYS`, `EINVAL`).
        case eventfd
        /// A non-blocking pipe (two descriptors), as a portable backend would use.
        case pipe

        public var description: String {
            switch self {
            case .eventfd: return "eventfd"
            case .pipe: return "self-pipe"
            }
        }
    }

    /// The descriptor to watch for reading. Constant; closed by ``close()``.
    public let readFD: Int32
    /// The descriptor ``wakeup()`` writes: `readFD` for an eventfd, the pipe's write end.
    private let writeFD: Int32
    /// What carries the wakeups (``Kind/pipe`` also when an eventfd was asked for but
    /// the kernel has none).
    public let kind: Kind
    /// Bytes one ``wakeup()`` writes: 8 for an eventfd, 1 for a pipe.
    private let writeSize: Int
    /// Bit 0: closed. The rest: twice the number of ``wakeup()`` calls in flight.
    private let state = Atomic<Int>(0)

    /// Opens the descriptors, close-on-exec and non-blocking.
    ///
    /// - Throws: ``SystemError`` naming `eventfd` or `pipe2` when the kernel refuses
    ///   (e.g. the process is out of descriptors).
    public init(kind: Kind = .eventfd) throws {
        if kind == .eventfd {
            let fd = CLoopShims.eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
            if fd >= 0 {
                readFD = fd
                writeFD = fd
                writeSize = 8
                self.kind = .eventfd
                return
            }
            let error = errno
            guard error == ENOSYS || error == EINVAL else { throw SystemError(errno: error, call: "eventfd") }
        }
        var ends: (Int32, Int32) = (-1, -1)
        let result = withUnsafeMutablePointer(to: &ends) { pair in
            pair.withMemoryRebound(to: Int32.self, capacity: 2) { cloop_pipe2($0, O_NONBLOCK | O_CLOEXEC) }
        }
        guard result == 0 else { throw SystemError(errno: errno, call: "pipe2") }
        readFD = ends.0
        writeFD = ends.1
        writeSize = 1
        self.kind = .pipe
    }

    deinit { close() }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { state.load(ordering: .relaxed) & 1 != 0 }

    /// Makes ``readFD`` readable until the next ``drain()``. Any thread, also a signal
    /// handler's; harmless after ``close()``. Lock-free; `errno` is left as it was.
    public func wakeup() {
        let before = state.wrappingAdd(2, ordering: .acquiring).oldValue
        if before & 1 == 0 {
            let savedErrno = errno
            var one: UInt64 = 1
            // EAGAIN (a saturated counter or a full pipe) means a wakeup is already pending.
            _ = withUnsafeBytes(of: &one) { Glibc.write(writeFD, $0.baseAddress, writeSize) }
            errno = savedErrno
        }
        state.wrappingSubtract(2, ordering: .releasing)
    }

    /// Consumes every pending wakeup, so ``readFD`` is no longer readable. Loop thread;
    /// does nothing after ``close()``; `errno` is left as it was.
    public func drain() {
        guard !isClosed else { return }
        let savedErrno = errno
        defer { errno = savedErrno }
        // One read empties an eventfd counter (it returns 8 bytes); a pipe may hold more
        // bytes than the buffer, so read until a short read.
        var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        let size = MemoryLayout.size(ofValue: buffer)
        while withUnsafeMutableBytes(of: &buffer, { Glibc.read(readFD, $0.baseAddress, size) }) == size {}
    }

    /// Closes the descriptors once no ``wakeup()`` can be writing to them. Loop thread;
    /// calling it again does nothing.
    public func close() {
        let before = state.bitwiseOr(1, ordering: .acquiringAndReleasing).oldValue
        guard before & 1 == 0 else { return }
        // Wakeups that announced themselves before the closed bit may still be in write(2)
        // (one syscall each): wait for them, so the numbers cannot be recycled under them.
        while state.load(ordering: .acquiring) != 1 { sched_yield() }
        _ = Glibc.close(readFD)
        if writeFD != readFD { _ = Glibc.close(writeFD) }
    }
}
