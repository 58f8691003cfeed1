import CLoopUring
import Glibc
@_spi(Backend) import LoopCore

/// Whether io_uring can run in this process, found once at run time.
///
/// A kernel without io_uring (`ENOSYS`), `kernel.io_uring_disabled` set or a seccomp
/// profile refusing `io_uring_setup` (`EPERM`; Docker's default), or a kernel without the
/// features the backend needs make it unavailable, with the reason; the default choice
/// then falls to epoll and `LOOP_BACKEND=io_uring` fails with that reason.
///
/// `LOOP_IO_URING_PROBE_ERRNO=ENOSYS|EPERM|<number>` makes the probe fail as if
/// `io_uring_setup` had returned that errno (to try the unavailable path anywhere).
public enum UringProbe {
    /// The environment variable that makes the probe fail (a test switch).
    public static let failureVariable = "LOOP_IO_URING_PROBE_ERRNO"

    /// The availability of the shared descriptor: the switch, then the cached probe.
    @Sendable public static func availability() -> BackendAvailability {
        if let value = getenv(failureVariable).map({ String(cString: $0) }), !value.isEmpty {
            let forced: Int32 = value == "ENOSYS" ? ENOSYS : value == "EPERM" ? EPERM : Int32(value) ?? EPERM
            return availability(setupResult: -forced) + " (forced by \(failureVariable))"
        }
        return probed
    }

    private static let probed: BackendAvailability = {
        let setup = availability(setupResult: cloop_uring_probe_setup())
        guard setup.isAvailable else { return setup }
        do {
            let selector = try UringSelector()
            selector.close()
            return .available
        } catch {
            return .unavailable(reason: "\(error)")
        }
    }()

    /// What an `io_uring_setup` result (0 or a negative errno) means for availability.
    public static func availability(setupResult: Int32) -> BackendAvailability {
        switch -setupResult {
        case _ where setupResult >= 0:
            return .available
        case ENOSYS:
            return .unavailable(reason: "io_uring_setup: ENOSYS, this kernel has no io_uring")
        case EPERM:
            let disabled = readSysctl("/proc/sys/kernel/io_uring_disabled") ?? "?"
            return .unavailable(
                reason: "io_uring_setup: EPERM, refused by kernel.io_uring_disabled (now \(disabled)) or a seccomp profile")
        default:
            return .unavailable(reason: "io_uring_setup: \(SystemError.describe(-setupResult)) (errno \(-setupResult))")
        }
    }
}

/// The first line of a small /proc file, or nil.
private func readSysctl(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { _ = close(fd) }
    var bytes = [UInt8](repeating: 0, count: 32)
    let count = read(fd, &bytes, bytes.count)
    guard count > 0 else { return nil }
    return String(decoding: bytes[0..<count].prefix { $0 != 10 }, as: UTF8.self)
}

extension BackendAvailability {
    fileprivate static func + (lhs: BackendAvailability, rhs: String) -> BackendAvailability {
        if case .unavailable(let reason) = lhs { return .unavailable(reason: reason + rhs) }
        return lhs
    }
}
