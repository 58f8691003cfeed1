import Glibc
import LoopConformance
import LoopCtlKit
@_spi(Backend) import SelectBackend

// What `loopctl conformance --backend select` would print, from this package: the
// loopctl binary cannot link a backend that lives in another package, so a third
// party prints the same case × backend matrix with LoopCtlKit's ConformanceReport.
//
//     swift run select-conformance            # debug mode off and on
//     swift run select-conformance RUN- FD-   # only cases whose ID starts with these

/// Progress on standard error, so standard output is the report alone.
func note(_ text: String) {
    var bytes = Array(text.utf8)
    _ = write(2, &bytes, bytes.count)
}

let prefixes = CommandLine.arguments.dropFirst()
let cases = ConformanceSuite.cases.filter { testCase in
    prefixes.isEmpty || prefixes.contains { testCase.id.hasPrefix($0) }
}
var columns: [ConformanceColumn] = []
var rows: [ConformanceRow] = []
for debug in [false, true] {
    let column = ConformanceColumn(backend: SelectSelector.descriptor.name, debug: debug)
    columns.append(column)
    note("running \(cases.count) case(s) on \(column.title)\n")
    ConformanceSuite.run(backend: SelectSelector.descriptor, debug: debug, cases: cases) { result in
        rows.append(ConformanceRow(result))
    }
}
let report = ConformanceReport(columns: columns, results: rows)
print(report.text, terminator: "")
exit(report.failed > 0 ? 1 : 0)
