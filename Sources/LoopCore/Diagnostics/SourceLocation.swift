/// A place in source code that scheduled a callback or created a future.
///
/// In debug mode handles and futures remember where they were made, and
/// exception contexts and warnings show it (asyncio's `source_traceback`).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The `#fileID` of the call site, e.g. `"App/main.swift"`.
    public let fileID: String
    /// The line of the call site.
    public let line: UInt

    public init(fileID: String, line: UInt) {
        self.fileID = fileID
        self.line = line
    }

    public init(_ fileID: StaticString, _ line: UInt) {
        self.fileID = fileID.description
        self.line = line
    }

    public var description: String { "\(fileID):\(line)" }
}
