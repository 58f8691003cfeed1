import LoopConformance

/// One column of the conformance matrix: a backend with debug mode on or off.
public struct ConformanceColumn: Hashable, Sendable {
    public let backend: String
    public let debug: Bool

    public init(backend: String, debug: Bool) {
        self.backend = backend
        self.debug = debug
    }

    /// The column header, e.g. `epoll/debug-off`.
    public var title: String { "\(backend)/debug-\(debug ? "on" : "off")" }
}

/// One result row of a conformance run: a case on one backend in one debug mode.
public struct ConformanceRow: Sendable, Equatable {
    /// `pass`, `fail` or `skip`, as the harness reports them.
    public typealias Status = CaseResult.Status

    public let backend: String
    public let caseID: String
    public let title: String
    public let status: Status
    /// Why it failed or was skipped; empty on a pass.
    public let reason: String
    public let milliseconds: Double
    public let debug: Bool

    public init(
        backend: String, caseID: String, title: String, status: Status, reason: String = "",
        milliseconds: Double = 0, debug: Bool
    ) {
        self.backend = backend
        self.caseID = caseID
        self.title = title
        self.status = status
        self.reason = reason
        self.milliseconds = milliseconds
        self.debug = debug
    }

    public init(_ result: CaseResult) {
        self.init(
            backend: result.backend, caseID: result.caseID, title: result.title, status: result.status,
            reason: result.reason, milliseconds: result.milliseconds, debug: result.debug)
    }

    /// The row as one JSON object:
    /// `{"backend":…,"case":…,"status":"pass"|"fail"|"skip","reason":…,"ms":…,"debug":…}`.
    public var json: String {
        JSONText.result(
            backend: backend, caseID: caseID, status: status.rawValue, reason: reason,
            ms: JSON.number(milliseconds, decimals: 3), debug: debug)
    }
}

/// What `loopctl conformance` prints: the backend × case matrix, every failure and
/// skip with its reason, and the closing `N passed, N failed, N skipped` line.
public struct ConformanceReport: Sendable {
    /// The columns in the order they ran.
    public let columns: [ConformanceColumn]
    /// Every result, in the order they came.
    public let results: [ConformanceRow]

    /// Titles longer than this are shortened in the matrix (JSON output keeps them whole).
    public static let maximumTitleWidth = 60

    public init(columns: [ConformanceColumn], results: [ConformanceRow]) {
        self.columns = columns
        self.results = results
    }

    public var passed: Int { results.count { $0.status == .pass } }
    public var failed: Int { results.count { $0.status == .fail } }
    public var skipped: Int { results.count { $0.status == .skip } }

    /// The closing line, exactly `N passed, N failed, N skipped`.
    public var summaryLine: String { Self.summaryLine(passed: passed, failed: failed, skipped: skipped) }

    public static func summaryLine(passed: Int, failed: Int, skipped: Int) -> String {
        "\(passed) passed, \(failed) failed, \(skipped) skipped"
    }

    /// The matrix cell of one status: `pass`, `FAIL` (loud on purpose) or `skip`.
    public static func cell(_ status: ConformanceRow.Status) -> String {
        switch status {
        case .pass: return "pass"
        case .fail: return "FAIL"
        case .skip: return "skip"
        }
    }

    /// One row per case (ID and title, in the order the cases first ran), one column
    /// per backend × debug mode; `-` where a case has no result in a column.
    public var matrix: String {
        var caseOrder: [String] = []
        var titles: [String: String] = [:]
        var cells: [String: [ConformanceColumn: ConformanceRow.Status]] = [:]
        for result in results {
            if titles[result.caseID] == nil {
                caseOrder.append(result.caseID)
                titles[result.caseID] = result.title
            }
            cells[result.caseID, default: [:]][ConformanceColumn(backend: result.backend, debug: result.debug)] =
                result.status
        }
        let shownTitles = caseOrder.map { Self.shorten(titles[$0] ?? "", to: Self.maximumTitleWidth) }
        let idWidth = max("case".count, caseOrder.map(\.count).max() ?? 0)
        let titleWidth = max("title".count, shownTitles.map(\.count).max() ?? 0)
        let columnWidths = columns.map { max($0.title.count, 4) }

        var lines: [String] = []
        var header = Self.pad("case", idWidth) + "  " + Self.pad("title", titleWidth)
        for (column, width) in zip(columns, columnWidths) { header += "  " + Self.pad(column.title, width) }
        lines.append(Self.trimTrailingSpaces(header))
        for (row, caseID) in caseOrder.enumerated() {
            var line = Self.pad(caseID, idWidth) + "  " + Self.pad(shownTitles[row], titleWidth)
            for (column, width) in zip(columns, columnWidths) {
                let text = cells[caseID]?[column].map(Self.cell) ?? "-"
                line += "  " + Self.pad(text, width)
            }
            lines.append(Self.trimTrailingSpaces(line))
        }
        return lines.joined(separator: "\n")
    }

    /// Every failure, then every skip, each with its column and reason; empty when
    /// everything passed.
    public var details: String {
        var lines: [String] = []
        let failures = results.filter { $0.status == .fail }
        if !failures.isEmpty {
            lines.append("Failures:")
            for result in failures { lines.append("  " + Self.detailLine(result)) }
        }
        let skips = results.filter { $0.status == .skip }
        if !skips.isEmpty {
            lines.append("Skipped:")
            for result in skips { lines.append("  " + Self.detailLine(result)) }
        }
        return lines.joined(separator: "\n")
    }

    /// The whole text report: matrix, details (if any), closing line.
    public var text: String {
        var parts = [matrix]
        let details = self.details
        if !details.isEmpty { parts.append(details) }
        parts.append(summaryLine)
        return parts.joined(separator: "\n\n") + "\n"
    }

    /// One JSON object per result, one per line.
    public var jsonLines: String {
        results.map(\.json).map { $0 + "\n" }.joined()
    }

    static func detailLine(_ result: ConformanceRow) -> String {
        let column = ConformanceColumn(backend: result.backend, debug: result.debug)
        let reason = result.reason.isEmpty ? "(no reason given)" : result.reason
        return "\(cell(result.status)) \(result.caseID) [\(column.title)] \(result.title): \(reason)"
    }

    static func shorten(_ text: String, to width: Int) -> String {
        guard text.count > width, width > 1 else { return text }
        return String(text.prefix(width - 1)) + "…"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        let missing = width - text.count
        return missing > 0 ? text + String(repeating: " ", count: missing) : text
    }

    static func trimTrailingSpaces(_ text: String) -> String {
        var text = Substring(text)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
