import Glibc
import CLoopShims

/// The system calls LoopCore and its sibling modules make in more than one place, with
/// Glibc's imported types (enum-typed resource constants, `Int` results) smoothed over.
package enum Posix {
    // MARK: Errors

    /// A ``SystemError`` for `call` with the current `errno`; call it right after the
    /// failing call, before anything else can change `errno`.
    package static func lastError(_ call: String) -> SystemError {
        SystemError(errno: errno, call: call)
    }

    // MARK: Descriptors

    /// Closes `fd`, ignoring the result (for descriptors being discarded).
    package static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Closes `fd`; throws ``SystemError`` when close(2) fails.
    package static func closeOrThrow(_ fd: Int32) throws {
        guard Glibc.close(fd) == 0 else { throw lastError("close(\(fd))") }
    }

    /// read(2) into `buffer`: the byte count, 0 at end of file, or -1 with `errno` set.
    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        Glibc.read(fd, buffer.baseAddress, buffer.count)
    }

    /// write(2) from `buffer`: the byte count, or -1 with `errno` set.
    package static func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) -> Int {
        Glibc.write(fd, buffer.baseAddress, buffer.count)
    }

    /// A new pipe whose two ends are close-on-exec and non-blocking.
    package static func makeNonBlockingPipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard cloop_pipe2(&fds, O_NONBLOCK | O_CLOEXEC) == 0 else { throw lastError("pipe2(O_NONBLOCK | O_CLOEXEC)") }
        return (fds[0], fds[1])
    }

    /// Turns O_NONBLOCK on or off for `fd`.
    package static func setNonBlocking(_ fd: Int32, _ on: Bool = true) throws {
        guard cloop_set_nonblocking(fd, on ? 1 : 0) == 0 else {
            throw lastError("fcntl(\(fd), F_SETFL, O_NONBLOCK=\(on))")
        }
    }

    // MARK: Process limits and usage

    /// A soft and a hard resource limit.
    package struct ResourceLimit: Sendable, Equatable {
        package var soft: UInt64
        package var hard: UInt64

        package init(soft: UInt64, hard: UInt64) {
            self.soft = soft
            self.hard = hard
        }
    }

    /// This process's RLIMIT_NOFILE (how many descriptors it may open).
    package static func openFileLimit() throws -> ResourceLimit {
        var limit = rlimit()
        guard getrlimit(openFilesResource, &limit) == 0 else { throw lastError("getrlimit(RLIMIT_NOFILE)") }
        return ResourceLimit(soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
    }

    /// Sets this process's RLIMIT_NOFILE.
    package static func setOpenFileLimit(_ limit: ResourceLimit) throws {
        var value = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
        guard setrlimit(openFilesResource, &value) == 0 else { throw lastError("setrlimit(RLIMIT_NOFILE)") }
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit; a failure leaves it as it was.
    package static func raiseOpenFileLimitToHard() {
        guard let limit = try? openFileLimit(), limit.soft < limit.hard else { return }
        try? setOpenFileLimit(ResourceLimit(soft: limit.hard, hard: limit.hard))
    }

    /// getrusage(RUSAGE_SELF), or `nil` when it fails.
    package static func selfResourceUsage() -> rusage? {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return nil }
        return usage
    }

    /// `RLIMIT_NOFILE` as `getrlimit` takes it (Glibc imports it as an enum case).
    private static let openFilesResource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
}
