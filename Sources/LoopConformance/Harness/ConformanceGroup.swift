/// A named part of the conformance catalogue: the cases of one behaviour group (a
/// group of CONFORMANCE.md, such as `TCP`, or one of the suite's own, such as `BUSY-POLL`).
public struct ConformanceGroup: Sendable, Identifiable, CustomStringConvertible {
    /// The group's name, unique in the suite, e.g. `"HELP"`.
    public let name: String
    /// One line saying what the group covers.
    public let summary: String
    /// The group's cases, in catalogue order.
    public let cases: [ConformanceCase]

    public init(_ name: String, _ summary: String, _ cases: [ConformanceCase]) {
        self.name = name
        self.summary = summary
        self.cases = cases
    }

    public var id: String { name }

    public var description: String { "\(name) (\(cases.count) cases): \(summary)" }
}
