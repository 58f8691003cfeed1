import ArgumentParser
import LoopConformance
import LoopCtlKit
import Loops

/// `loopctl conformance`: runs the conformance suite and prints the backend × case matrix.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Run the conformance suite and print the backend × case matrix.",
        discussion: """
            Without options, runs every case on the backend LOOP_BACKEND or the default would \
            choose, with debug mode off and then on. Exits non-zero when any case fails.
            """
    )

    enum DebugMode: String, ExpressibleByArgument, CaseIterable {
        case on, off, both

        var values: [Bool] {
            switch self {
            case .on: return [true]
            case .off: return [false]
            case .both: return [false, true]
            }
        }
    }

    @Option(name: .long, help: "Run on this backend only (default: LOOP_BACKEND or the best available).")
    var backend: String?

    @Flag(name: .long, help: "Run on every registered backend.")
    var allBackends = false

    @Option(name: .long, help: "Debug mode for the loops under test: on, off or both.")
    var debug: DebugMode = .both

    @Flag(name: .long, help: "Print one JSON object per result instead of the matrix.")
    var json = false

    @Option(name: .customLong("case"), help: "Run only the cases whose ID starts with this prefix (e.g. RUN- or CALL-03).")
    var casePrefix: String?

    func validate() throws {
        if allBackends, backend != nil {
            throw ValidationError("--backend and --all-backends exclude each other")
        }
    }

    func run() throws {
        BuiltinBackends.register()
        let registry = BackendRegistry.shared
        let backends: [BackendDescriptor]
        if allBackends {
            backends = registry.descriptors
        } else {
            do {
                backends = [try registry.choose(name: backend).descriptor]
            } catch {
                Output.err("loopctl conformance: \(error)\n")
                throw ExitCode.failure
            }
        }

        var cases = ConformanceSuite.cases
        if let casePrefix {
            cases = cases.filter { $0.id.hasPrefix(casePrefix) }
            guard !cases.isEmpty else {
                Output.err("loopctl conformance: no case ID starts with '\(casePrefix)'\n")
                throw ExitCode.failure
            }
        }

        var columns: [ConformanceColumn] = []
        var rows: [ConformanceRow] = []
        for descriptor in backends {
            for debugOn in debug.values {
                let column = ConformanceColumn(backend: descriptor.name, debug: debugOn)
                columns.append(column)
                if !json { Output.err("running \(cases.count) case(s) on \(column.title)\n") }
                ConformanceSuite.run(backend: descriptor, debug: debugOn, cases: cases) { result in
                    let row = ConformanceRow(result)
                    rows.append(row)
                    if json { Output.out(row.json + "\n") }
                }
            }
        }

        let report = ConformanceReport(columns: columns, results: rows)
        if json {
            Output.err(report.summaryLine + "\n")
        } else {
            Output.out(report.text)
        }
        if report.failed > 0 { throw ExitCode.failure }
    }
}
