/// The little JSON writing conformance results need, without Foundation; `loopctl`
/// (LoopCtlKit) writes its reports with it too.
public enum JSONText {
    /// `text` as a JSON string literal, quotes included: `"`, `\`, newline, carriage
    /// return and tab escaped by name, other control characters as `\u00XX`.
    public static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// One conformance result as one JSON object, in this field order:
    /// `{"backend":…,"case":…,"status":…,"reason":…,"ms":…,"debug":…}`.
    ///
    /// - Parameter ms: the duration, already written as a JSON number (callers round it
    ///   their own way).
    public static func result(
        backend: String, caseID: String, status: String, reason: String, ms: String, debug: Bool
    ) -> String {
        "{\"backend\":\(string(backend)),\"case\":\(string(caseID)),\"status\":\(string(status)),"
            + "\"reason\":\(string(reason)),\"ms\":\(ms),\"debug\":\(debug)}"
    }
}
