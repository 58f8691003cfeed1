import LoopCtlKit
import XCTest

/// The text and JSON that `loopctl conformance` prints.
final class ConformanceReportTests: XCTestCase {
    let columns = [
        ConformanceColumn(backend: "epoll", debug: false),
        ConformanceColumn(backend: "epoll", debug: true),
    ]

    func row(_ id: String, _ status: ConformanceRow.Status, debug: Bool, reason: String = "") -> ConformanceRow {
        ConformanceRow(backend: "epoll", caseID: id, title: "title of \(id)", status: status, reason: reason, debug: debug)
    }

    var mixed: [ConformanceRow] {
        [
            row("RUN-01", .pass, debug: false),
            row("RUN-02", .fail, debug: false, reason: "expected 1, got 2"),
            row("SIG-01", .skip, debug: false, reason: "backend 'epoll' lacks capability signals"),
            row("RUN-01", .pass, debug: true),
            row("RUN-02", .pass, debug: true),
            row("SIG-01", .skip, debug: true, reason: "backend 'epoll' lacks capability signals"),
        ]
    }

    func words(_ line: Substring) -> [String] { line.split(separator: " ").map(String.init) }

    func testClosingLineCountsEveryStatus() {
        let report = ConformanceReport(columns: columns, results: mixed)
        XCTAssertEqual(report.summaryLine, "3 passed, 1 failed, 2 skipped")
        XCTAssertEqual(ConformanceReport.summaryLine(passed: 0, failed: 0, skipped: 0), "0 passed, 0 failed, 0 skipped")
    }

    func testTextEndsWithTheClosingLineAlone() {
        let text = ConformanceReport(columns: columns, results: mixed).text
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.last, "")  // ends with a newline
        XCTAssertEqual(lines.dropLast().last, "3 passed, 1 failed, 2 skipped")
    }

    func testMatrixHasOneRowPerCaseAndOneColumnPerBackendAndDebugMode() throws {
        let matrix = ConformanceReport(columns: columns, results: mixed).matrix
        let lines = matrix.split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(words(lines[0]), ["case", "title", "epoll/debug-off", "epoll/debug-on"])
        XCTAssertEqual(words(lines[1]), ["RUN-01", "title", "of", "RUN-01", "pass", "pass"])
        XCTAssertEqual(words(lines[2]).suffix(2), ["FAIL", "pass"])
        XCTAssertEqual(words(lines[3]).suffix(2), ["skip", "skip"])
        // Cells line up under their column headers.
        let header = try XCTUnwrap(lines[0].firstRange(of: "epoll/debug-off"))
        let cell = try XCTUnwrap(lines[2].firstRange(of: "FAIL"))
        XCTAssertEqual(
            lines[0].distance(from: lines[0].startIndex, to: header.lowerBound),
            lines[2].distance(from: lines[2].startIndex, to: cell.lowerBound))
    }

    func testMissingResultsShowAsDash() {
        let report = ConformanceReport(columns: columns, results: [row("RUN-01", .pass, debug: false)])
        let lines = report.matrix.split(separator: "\n")
        XCTAssertEqual(words(lines[1]).suffix(2), ["pass", "-"])
    }

    func testDetailsListFailuresThenSkipsWithReasons() {
        let details = ConformanceReport(columns: columns, results: mixed).details
        XCTAssertEqual(details.split(separator: "\n").map(String.init), [
            "Failures:",
            "  FAIL RUN-02 [epoll/debug-off] title of RUN-02: expected 1, got 2",
            "Skipped:",
            "  skip SIG-01 [epoll/debug-off] title of SIG-01: backend 'epoll' lacks capability signals",
            "  skip SIG-01 [epoll/debug-on] title of SIG-01: backend 'epoll' lacks capability signals",
        ])
        let allPass = ConformanceReport(columns: columns, results: [row("RUN-01", .pass, debug: false)])
        XCTAssertEqual(allPass.details, "")
        XCTAssertTrue(allPass.text.hasSuffix("\n\n1 passed, 0 failed, 0 skipped\n"))
    }

    func testLongTitlesAreShortenedInTheMatrix() {
        let long = String(repeating: "x", count: 100)
        let row = ConformanceRow(backend: "poll", caseID: "RUN-09", title: long, status: .pass, debug: false)
        let report = ConformanceReport(columns: [ConformanceColumn(backend: "poll", debug: false)], results: [row])
        XCTAssertTrue(report.matrix.contains(String(repeating: "x", count: ConformanceReport.maximumTitleWidth - 1) + "…"))
        XCTAssertFalse(report.matrix.contains(long))
    }

    func testJSONLineHasExactlyTheDocumentedFields() {
        let row = ConformanceRow(
            backend: "libevent", caseID: "RUN-02", title: "t", status: .fail,
            reason: "said \"no\"\nthen\tstopped", milliseconds: 12.34567, debug: true)
        XCTAssertEqual(
            row.json,
            #"{"backend":"libevent","case":"RUN-02","status":"fail","reason":"said \"no\"\nthen\tstopped","ms":12.346,"debug":true}"#)
        let pass = ConformanceRow(backend: "poll", caseID: "RUN-01", title: "t", status: .pass, milliseconds: 3, debug: false)
        XCTAssertEqual(pass.json, #"{"backend":"poll","case":"RUN-01","status":"pass","reason":"","ms":3,"debug":false}"#)
        let report = ConformanceReport(columns: [], results: [pass, row])
        XCTAssertEqual(report.jsonLines, pass.json + "\n" + row.json + "\n")
    }

    func testJSONEscapesAndNumbers() {
        XCTAssertEqual(JSON.string("a\u{1}b"), #""a\u0001b""#)
        XCTAssertEqual(JSON.number(.nan), "null")
        XCTAssertEqual(JSON.number(2.26, decimals: 1), "2.3")
        XCTAssertEqual(JSON.number(1_000_000), "1000000")
        XCTAssertEqual(JSON.array([1, 2.5]), "[1,2.5]")
    }
}
