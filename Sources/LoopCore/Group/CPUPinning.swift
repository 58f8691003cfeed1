import CLoopShims
import Glibc

/// Which CPUs the threads of a ``LoopGroup`` run on.
///
/// ```swift
/// let group = try LoopGroup(loops: 2, pinning: .cpus([2, 3]))   // loop 0 on CPU 2, loop 1 on CPU 3
/// ```
public enum CPUPinning: Sendable, Equatable {
    /// No pinning: the scheduler places the threads.
    case none
    /// Loop `i` runs on CPU `i % n`, `n` being the number of online CPUs.
    case spread
    /// Loop `i` runs on CPU `cpus[i % cpus.count]`.
    case cpus([Int])

    /// The CPU loop `index` of a group is pinned to, or `nil` without pinning. Throws
    /// ``LoopError/Kind-swift.enum/invalidArgument`` for an empty list or a CPU the
    /// process may not run on (see `sched_getaffinity(2)`).
    func cpu(forLoop index: Int) throws -> Int? {
        switch self {
        case .none:
            return nil
        case .spread:
            let allowed = try Self.allowedCPUs()
            guard !allowed.isEmpty else { return nil }
            return allowed[index % allowed.count]
        case .cpus(let list):
            guard !list.isEmpty else {
                throw LoopError(.invalidArgument, "CPUPinning.cpus: the list of CPUs must not be empty; use .none for no pinning")
            }
            let cpu = list[index % list.count]
            let allowed = try Self.allowedCPUs()
            guard allowed.contains(cpu) else {
                throw LoopError(
                    .invalidArgument,
                    "CPUPinning.cpus: CPU \(cpu) is not one this process may run on (allowed: \(allowed.map(String.init).joined(separator: ", ")))")
            }
            return cpu
        }
    }

    /// The CPUs the calling thread may run on, in ascending order.
    static func allowedCPUs() throws -> [Int] {
        var allowed: [Int] = []
        for cpu in 0..<Int(cloop_cpu_set_size()) {
            switch cloop_cpu_allowed(Int32(cpu)) {
            case 1: allowed.append(cpu)
            case 0: continue
            default: throw SystemError(errno: errno, call: "sched_getaffinity")
            }
        }
        return allowed
    }

    /// Pins the thread `thread` to `cpu`.
    static func pin(_ thread: pthread_t, to cpu: Int) throws {
        let result = cloop_pin_thread(thread, Int32(clamping: cpu))
        guard result == 0 else { throw SystemError(errno: result, call: "pthread_setaffinity_np(CPU \(cpu))") }
    }
}
