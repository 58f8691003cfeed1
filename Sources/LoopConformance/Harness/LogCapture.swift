import Logging
import Synchronization

/// One log record a loop emitted during a case.
public struct CapturedLogRecord: Sendable, CustomStringConvertible {
    public let level: Logger.Level
    public let message: String
    public let error: String?
    public let metadata: [String: String]

    public var description: String { "[\(level)] \(message)" }
}

/// Collects the records of every logger the harness hands to a loop.
final class LogRecorder: Sendable {
    private let records = Mutex<[CapturedLogRecord]>([])

    func append(_ record: CapturedLogRecord) { records.withLock { $0.append(record) } }

    func take() -> [CapturedLogRecord] {
        records.withLock { records in
            defer { records.removeAll() }
            return records
        }
    }

    func logger(label: String) -> Logger {
        Logger(label: label) { _ in CapturingLogHandler(recorder: self) }
    }
}

struct CapturingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var flat: [String: String] = [:]
        for (key, value) in metadata { flat[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { flat[key] = "\(value)" }
        recorder.append(CapturedLogRecord(
            level: event.level,
            message: event.message.description,
            error: event.error.map { String(reflecting: $0) },
            metadata: flat
        ))
    }
}
