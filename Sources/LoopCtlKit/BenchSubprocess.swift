import Glibc
import Loops

/// Benchmark W8, subprocesses: spawn-and-wait of /bin/true 1,000 times one after
/// another (W8a) and 50 at a time (W8b), and 64 MiB through cat and back (W8c),
/// written as a user of the streams API would write them. The anchors (asyncio,
/// uvloop, swift-subprocess, Foundation's Process) are in scripts/bench-subprocess.
public enum SubprocessBenchRow: String, CaseIterable, Sendable {
    case sequential = "W8a"
    case concurrent = "W8b"
    case cat = "W8c"

    /// What the row does, for the table.
    public var title: String {
        switch self {
        case .sequential: return "spawn+wait /bin/true x1000, sequential"
        case .concurrent: return "spawn+wait /bin/true x1000, 50 at a time"
        case .cat: return "64 MiB through cat and back"
        }
    }
}

/// One W8 run: the wall time, and ns per child (W8a, W8b) or MiB/s (W8c).
public struct SubprocessBenchMeasurement: Sendable {
    public let row: SubprocessBenchRow
    public let wallNanoseconds: Int64

    /// ns per child (W8a, W8b) or ns per MiB (W8c).
    public var nanosecondsPerOperation: Double {
        Double(wallNanoseconds) / Double(row == .cat ? SubprocessBench.catMiB : SubprocessBench.children)
    }
}

public enum SubprocessBench {
    static let children = 1_000
    static let concurrency = 50
    static let catMiB = 64

    /// Runs `row` once on `loop` (which it leaves open). Throws when a child fails or the
    /// bytes do not come back intact.
    public static func run(_ row: SubprocessBenchRow, on loop: BaseEventLoop) throws -> SubprocessBenchMeasurement {
        loop.setDebug(false)
        let wall = try loop.runUntilComplete { () async throws -> Int64 in
            let start = BenchWorkloads.now()
            switch row {
            case .sequential: try await spawnAndWait(loop, total: children, width: 1)
            case .concurrent: try await spawnAndWait(loop, total: children, width: concurrency)
            case .cat: try await roundTrip(loop, mebibytes: catMiB)
            }
            return BenchWorkloads.now() - start
        }
        return SubprocessBenchMeasurement(row: row, wallNanoseconds: wall)
    }

    /// `width` workers share `total` spawn-and-waits.
    private static func spawnAndWait(_ loop: BaseEventLoop, total: Int, width: Int) async throws {
        let workers = try (0..<width).map { worker in
            try loop.createTask { () async throws -> Void in
                for _ in stride(from: worker, to: total, by: width) {
                    let process = try await loop.createSubprocessExec("/bin/true")
                    let code = try await process.wait()
                    if code != 0 { throw BenchError("/bin/true exited with \(code)") }
                }
            }
        }
        for worker in workers { try await worker.value }
    }

    private static func roundTrip(_ loop: BaseEventLoop, mebibytes: Int) async throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        for index in chunk.indices { chunk[index] = UInt8(truncatingIfNeeded: index &* 31) }
        let process = try await loop.createSubprocessExec("cat", stdin: .pipe, stdout: .pipe)
        guard let stdin = process.stdin, let stdout = process.stdout else { throw BenchError("cat has no pipes") }
        let writer = try loop.createTask { [chunk] () async throws -> Void in
            for _ in 0..<mebibytes {
                try stdin.write(chunk)
                try await stdin.drain()
            }
            stdin.close()
        }
        var received = 0
        var mismatch = false
        while true {
            let piece = try await stdout.read(1 << 20)
            if piece.isEmpty { break }
            for (offset, byte) in piece.enumerated() where byte != chunk[(received + offset) & ((1 << 20) - 1)] {
                mismatch = true
                break
            }
            received += piece.count
        }
        try await writer.value
        let code = try await process.wait()
        if mismatch || received != mebibytes << 20 || code != 0 {
            throw BenchError("cat round trip: \(received) of \(mebibytes << 20) bytes, mismatch \(mismatch), exit \(code)")
        }
    }
}
