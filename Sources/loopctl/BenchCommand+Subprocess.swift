import LoopCtlKit
import Loops

extension BenchCommand {
    /// `loopctl bench --subprocess`: W8 on each backend (or `--backend`), the median of
    /// `--iterations` runs (default 3), as a table or JSON lines.
    func runSubprocessBench() throws {
        let registry = BackendRegistry.shared
        let backends = try backend.map { [try registry.choose(name: $0).descriptor] }
            ?? registry.descriptors.filter { $0.availability().isAvailable }
        let runs = iterations ?? 3
        var lines: [String] = []
        for descriptor in backends {
            for row in SubprocessBenchRow.allCases {
                var figures: [Double] = []
                for index in 1...runs {
                    Output.err("[bench] \(descriptor.name) \(row.rawValue) run \(index)/\(runs)\n")
                    let loop = try registry.makeLoop(name: descriptor.name)
                    defer { try? loop.close() }
                    figures.append(try SubprocessBench.run(row, on: loop).nanosecondsPerOperation)
                }
                let median = figures.sorted()[figures.count / 2]
                let unit = row == .cat ? "ns_per_mib" : "ns_per_child"
                let runsText = figures.map { String(Int($0)) }.joined(separator: ",")
                let line = "{\"system\":\"loop-\(descriptor.name)\",\"workload\":\"\(row.rawValue)\",\"\(unit)\":\(Int(median)),\"runs\":[\(runsText)]}"
                lines.append(line)
                if json {
                    Output.out(line + "\n")
                } else {
                    let figure = row == .cat ? "\(Int(1e9 / median)) MiB/s" : "\(Int(median / 1000)) µs per child"
                    Output.out("\(descriptor.name)\t\(row.rawValue)\t\(row.title)\t\(figure)\n")
                }
            }
        }
        if !json { for line in lines { Output.out(line + "\n") } }
    }
}
