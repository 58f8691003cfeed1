import Foundation
import Subprocess

// W8 on swift-subprocess 1.0.2 and Foundation's Process: spawn-and-wait /bin/true x1000
// sequentially (W8a) and 50 at a time (W8b), 64 MiB through cat and back (W8c).
// One JSON line per system x row, the median of 3 runs.

let children = 1_000
let width = 50
let mebibytes = 64
let chunk: [UInt8] = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

struct AnchorError: Error { let text: String }

// MARK: swift-subprocess

func subprocessSpawn(width: Int) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<width {
            group.addTask {
                for _ in stride(from: worker, to: children, by: width) {
                    let result = try await run(.path("/bin/true"), output: .discarded)
                    guard result.terminationStatus.isSuccess else { throw AnchorError(text: "true failed") }
                }
            }
        }
        try await group.waitForAll()
    }
}

func subprocessCat() async throws {
    let received = try await run(.name("cat"), input: .inputWriter, output: .sequence, error: .discarded) { execution in
        async let reading: Int = {
            var count = 0
            for try await buffer in execution.standardOutput {
                let bytes = buffer.withUnsafeBytes { Array($0) }
                for (offset, byte) in bytes.enumerated() where byte != chunk[(count + offset) & ((1 << 20) - 1)] {
                    throw AnchorError(text: "mismatch")
                }
                count += bytes.count
            }
            return count
        }()
        for _ in 0..<mebibytes { _ = try await execution.standardInputWriter.write(chunk) }
        try await execution.standardInputWriter.finish()
        return try await reading
    }
    guard received.closureResult == mebibytes << 20 else { throw AnchorError(text: "cat returned \(received.closureResult) bytes") }
}

// MARK: Foundation.Process

final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func record() { lock.withLock { count += 1 } }
    var any: Bool { lock.withLock { count > 0 } }
}

func foundationSpawnOne() throws {
    let process = Foundation.Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw AnchorError(text: "true failed") }
}

func foundationSpawn(width: Int) throws {
    if width == 1 {
        for _ in 0..<children { try foundationSpawnOne() }
        return
    }
    let failures = Failures()
    DispatchQueue.concurrentPerform(iterations: width) { worker in
        for _ in stride(from: worker, to: children, by: width) {
            do { try foundationSpawnOne() } catch { failures.record() }
        }
    }
    if failures.any { throw AnchorError(text: "a child failed") }
}

func foundationCat() throws {
    let process = Foundation.Process()
    process.executableURL = URL(fileURLWithPath: "/bin/cat")
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    let writer = Thread {
        let data = Data(chunk)
        for _ in 0..<mebibytes { input.fileHandleForWriting.write(data) }
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    var count = 0
    while true {
        let data = output.fileHandleForReading.availableData
        if data.isEmpty { break }
        for (offset, byte) in data.enumerated() where byte != chunk[(count + offset) & ((1 << 20) - 1)] {
            throw AnchorError(text: "mismatch")
        }
        count += data.count
    }
    process.waitUntilExit()
    guard count == mebibytes << 20 else { throw AnchorError(text: "cat returned \(count) bytes") }
}

func report(_ system: String, _ row: String, _ runs: [Double]) {
    let unit = row == "W8c" ? "ns_per_mib" : "ns_per_child"
    let median = runs.sorted()[runs.count / 2]
    print("{\"system\":\"\(system)\",\"workload\":\"\(row)\",\"\(unit)\":\(Int(median)),\"runs\":[\(runs.map { String(Int($0)) }.joined(separator: ","))]}")
}

func measure(_ count: Int, _ body: () async throws -> Void) async throws -> Double {
    let start = now()
    try await body()
    return Double(now() - start) / Double(count)
}

let rows: [(String, Int)] = [("W8a", children), ("W8b", children), ("W8c", mebibytes)]
for (row, count) in rows {
    var runs: [Double] = []
    for _ in 0..<3 {
        runs.append(try await measure(count) {
            switch row {
            case "W8a": try await subprocessSpawn(width: 1)
            case "W8b": try await subprocessSpawn(width: width)
            default: try await subprocessCat()
            }
        })
    }
    report("swift-subprocess-1.0.2", row, runs)
}
for (row, count) in rows {
    var runs: [Double] = []
    for _ in 0..<3 {
        runs.append(try await measure(count) {
            switch row {
            case "W8a": try foundationSpawn(width: 1)
            case "W8b": try foundationSpawn(width: width)
            default: try foundationCat()
            }
        })
    }
    report("foundation-process", row, runs)
}
