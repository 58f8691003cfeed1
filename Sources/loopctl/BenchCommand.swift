import ArgumentParser
import LoopCtlKit
import Loops

/// `loopctl bench`: the micro workloads W1a, W1b, W2, W5 and W6 of shared/bench/WORKLOADS.md, and
/// our W5-eager and W9-queue, on each backend, each run in a fresh child process, reported as the median of the runs.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run the W1a, W1b, W2, W5, W6, W5-eager and W9-queue micro benchmarks (build with -c release).",
        discussion: """
            Prints one JSON line per backend × workload in the shape of shared/bench/README.md \
            ({"system":"loop-epoll","workload":"W1a","ns_per_op":…,"runs":[…]}; W2 adds total_ms \
            and peak_rss_mb), or a table without --json. Each run is a fresh process, so each \
            peak RSS is that run's own. Pin it as the anchors are pinned: taskset -c 1 loopctl bench.
            """
    )

    @Option(name: .long, help: "Run on this backend only (default: every built-in backend).")
    var backend: String?

    @Flag(name: .long, help: "Run on every registered backend (the default).")
    var allBackends = false

    @Option(name: .long, help: "Run only this workload: W1a, W1b, W2, W5, W6, W5-eager or W9-queue (default: all).")
    var workload: BenchWorkload?

    @Flag(name: .long, help: "Print JSON lines only.")
    var json = false

    @Option(name: .long, help: "Runs per backend × workload; the median is reported (default: 5 for W1a/W1b, 3 for W2).")
    var iterations: Int?

    @Option(name: .long, help: "Callbacks, timers, tasks or round trips per run (default: what WORKLOADS.md says, 1000000 or 100000 for W5; smaller only for a smoke run).")
    var n: Int?

    @Flag(name: .long, help: "Run benchmark W8 (subprocesses: spawn-and-wait, 64 MiB through cat) instead of the micro workloads.")
    var subprocess = false

    /// Set in the child processes that the parent starts: run once, print the measurement.
    @Flag(name: .long, help: .hidden)
    var child = false

    func validate() throws {
        if allBackends, backend != nil { throw ValidationError("--backend and --all-backends exclude each other") }
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
        if let n, n < 2 { throw ValidationError("--n must be at least 2") }
        if child, backend == nil || workload == nil { throw ValidationError("--child needs --backend and --workload") }
    }

    func run() throws {
        BuiltinBackends.register()
        if child {
            try runChild()
            return
        }
        if subprocess {
            try runSubprocessBench()
            return
        }
        #if DEBUG
        Output.err("loopctl bench: warning: this is a debug build; build with -c release for figures that mean anything\n")
        #endif
        let registry = BackendRegistry.shared
        var backends: [BackendDescriptor]
        if let backend {
            do {
                backends = [try registry.choose(name: backend).descriptor]
            } catch {
                Output.err("loopctl bench: \(error)\n")
                throw ExitCode.failure
            }
        } else {
            backends = registry.descriptors
            for descriptor in backends {
                if case .unavailable(let why) = descriptor.availability() {
                    Output.err("skipping backend \(descriptor.name): \(why)\n")
                }
            }
            backends = backends.filter { $0.availability().isAvailable }
        }
        let workloads = workload.map { [$0] } ?? BenchWorkload.allCases

        var results: [BenchResult] = []
        var failures: [String] = []
        for descriptor in backends {
            for workload in workloads {
                let runs = iterations ?? workload.defaultRuns
                var measurements: [BenchMeasurement] = []
                for index in 1...runs {
                    Output.err("[bench] \(descriptor.name) \(workload.rawValue) run \(index)/\(runs)\n")
                    do {
                        measurements.append(try measure(descriptor.name, workload))
                    } catch {
                        failures.append("\(descriptor.name) \(workload.rawValue): \(error)")
                        break
                    }
                }
                guard measurements.count == runs else { continue }
                let result = BenchResult(backend: descriptor.name, workload: workload, runs: measurements)
                results.append(result)
                if json { Output.out(result.jsonLine + "\n") }
            }
        }
        if !json, !results.isEmpty {
            Output.out(BenchResult.table(results) + "\n\n")
            for result in results { Output.out(result.jsonLine + "\n") }
        }
        for failure in failures { Output.err("loopctl bench: \(failure)\n") }
        if !failures.isEmpty { throw ExitCode.failure }
    }

    /// One run in a fresh child process.
    private func measure(_ backend: String, _ workload: BenchWorkload) throws -> BenchMeasurement {
        let output = try ChildProcess.run([
            "bench", "--child", "--backend", backend, "--workload", workload.rawValue, "--n", String(n ?? workload.standardCount),
        ])
        guard let line = output.split(separator: "\n").last, let measurement = BenchMeasurement(line: String(line)) else {
            throw BenchError("the child printed no measurement: \(output)")
        }
        guard measurement.isCorrect else {
            throw BenchError(
                "wrong result: \(measurement.completed) of \(measurement.expected) callbacks ran, "
                    + "\(measurement.cancelledFired) cancelled timer(s) fired")
        }
        return measurement
    }

    /// The child's side: one run on one fresh loop, reported as one line.
    private func runChild() throws {
        guard let backend, let workload else { throw ExitCode.failure }
        let loop = try BackendRegistry.shared.makeLoop(name: backend)
        let measurement = try BenchWorkloads.run(workload, on: loop, n: n ?? workload.standardCount)
        try loop.close()
        Output.out(measurement.line + "\n")
    }
}
