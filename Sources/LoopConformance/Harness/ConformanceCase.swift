import LoopCore

/// One named behaviour every backend must show, as a self-contained scenario.
///
/// The ``id`` is the catalogue ID it proves (e.g. `RUN-03`, see CONFORMANCE.md);
/// cases for behaviours outside the catalogue use the prefixes `SEL-` (backend
/// selection) and `BAD-` (bad input).
public struct ConformanceCase: Sendable, Identifiable, CustomStringConvertible {
    /// The catalogue ID, e.g. `"RUN-03"`.
    public let id: String
    /// One line saying what is checked.
    public let title: String
    /// Capabilities the backend must declare; otherwise the case is skipped, naming them.
    public let requires: BackendCapabilities
    /// How long the case may take before it fails as hung.
    public let timeout: Duration
    /// Whether a step of the case must run on the process's main thread (installing
    /// signal handlers); the suite must then be run from the main thread (see ``MainThread``).
    public let needsMainThread: Bool
    /// The scenario. Throw (e.g. through ``CaseContext/expect(_:_:file:line:)``) to fail.
    public let body: @Sendable (CaseContext) throws -> Void

    public init(
        _ id: String,
        _ title: String,
        requires: BackendCapabilities = [],
        timeout: Duration = .seconds(10),
        needsMainThread: Bool = false,
        body: @escaping @Sendable (CaseContext) throws -> Void
    ) {
        self.id = id
        self.title = title
        self.requires = requires
        self.timeout = timeout
        self.needsMainThread = needsMainThread
        self.body = body
    }

    public var description: String { "\(id) \(title)" }
}

/// A failed expectation inside a case.
public struct CaseFailure: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let location: SourceLocation

    public init(_ message: String, location: SourceLocation) {
        self.message = message
        self.location = location
    }

    public var description: String { "\(message) (\(location))" }
}

/// The outcome of one case on one backend.
public struct CaseResult: Sendable, CustomStringConvertible {
    public enum Status: String, Sendable {
        case pass, fail, skip
    }

    public let backend: String
    public let caseID: String
    public let title: String
    public let status: Status
    /// Why it failed or was skipped; empty on a pass.
    public let reason: String
    public let milliseconds: Double
    /// Whether the case ran with debug mode on.
    public let debug: Bool

    /// E.g. `epoll/HOOK-X21 fail (debug off): "<the case's title>": <reason>`; a failure or
    /// skip names what the case checks, so its author need not look the ID up.
    public var description: String {
        var text = "\(backend)/\(caseID) \(status.rawValue)"
        if !reason.isEmpty { text += " (debug \(debug ? "on" : "off")): \"\(title)\": \(reason)" }
        return text
    }

    /// The result as one JSON object (see ``JSONText/result(backend:caseID:status:reason:ms:debug:)``),
    /// `ms` rounded to three decimals and always written with a fraction (`3.0`).
    public var json: String {
        let ms = (milliseconds * 1000).rounded() / 1000
        return JSONText.result(
            backend: backend, caseID: caseID, status: status.rawValue, reason: reason, ms: "\(ms)", debug: debug)
    }
}
