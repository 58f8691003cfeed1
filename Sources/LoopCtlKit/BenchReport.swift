/// The median of several runs of one workload on one backend, in the JSON-lines shape
/// of shared/bench/README.md: `{"system":"loop-epoll","workload":"W1a","ns_per_op":…}`.
public struct BenchResult: Sendable, Equatable {
    public let backend: String
    public let workload: BenchWorkload
    public let runs: [BenchMeasurement]

    public init(backend: String, workload: BenchWorkload, runs: [BenchMeasurement]) {
        self.backend = backend
        self.workload = workload
        self.runs = runs
    }

    /// `loop-<backend>`, the system name the anchors' tables use for this framework.
    public var system: String { "loop-\(backend)" }

    public var n: Int { runs.first?.n ?? 0 }

    /// Median wall time per callback or timer, ns.
    public var nanosecondsPerOperation: Double { Self.median(runs.map(\.nanosecondsPerOperation)) }

    /// Median wall time of a whole run, ms.
    public var totalMilliseconds: Double { Self.median(runs.map { Double($0.wallNanoseconds) / 1e6 }) }

    /// Median peak RSS of a run's process, MiB.
    public var peakRSSMiB: Double { Self.median(runs.map { Double($0.peakRSSKiB) / 1024 }) }

    /// One JSON object on one line. W2 adds `total_ms`, `peak_rss_mb` and the phases.
    public var jsonLine: String {
        var fields: [(String, String)] = [
            ("system", JSON.string(system)),
            ("workload", JSON.string(workload.rawValue)),
            ("ns_per_op", JSON.number(nanosecondsPerOperation)),
        ]
        if workload == .w2 {
            fields.append(("total_ms", JSON.number(totalMilliseconds, decimals: 2)))
            fields.append(("peak_rss_mb", JSON.number(peakRSSMiB)))
            fields.append(("schedule_ms", JSON.number(Self.median(runs.map { Double($0.scheduleNanoseconds) / 1e6 }), decimals: 2)))
            fields.append(("cancel_ms", JSON.number(Self.median(runs.map { Double($0.cancelNanoseconds) / 1e6 }), decimals: 2)))
            let runPhase = runs.map { Double($0.wallNanoseconds - $0.scheduleNanoseconds - $0.cancelNanoseconds) / 1e6 }
            fields.append(("run_ms", JSON.number(Self.median(runPhase), decimals: 2)))
        }
        fields.append(("n", String(n)))
        fields.append(("runs", JSON.array(runs.map(\.nanosecondsPerOperation))))
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The median of `values` (the mean of the middle two for an even count; 0 for none).
    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// A readable table of `results`, one row per backend × workload.
    public static func table(_ results: [BenchResult]) -> String {
        let header = ["system", "workload", "ns/op (median)", "total ms", "peak RSS MiB", "runs (ns/op)"]
        var rows = [header]
        for result in results {
            let w2 = result.workload == .w2
            rows.append([
                result.system,
                result.workload.rawValue,
                JSON.number(result.nanosecondsPerOperation),
                JSON.number(result.totalMilliseconds, decimals: 1),
                w2 ? JSON.number(result.peakRSSMiB) : "-",
                result.runs.map { JSON.number($0.nanosecondsPerOperation) }.joined(separator: " "),
            ])
        }
        var widths = Array(repeating: 0, count: header.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                if index > 0 { line += "  " }
                line += index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            return line
        }.joined(separator: "\n")
    }
}
