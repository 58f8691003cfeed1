/// The little JSON writing loopctl needs (strings and numbers), without Foundation.
public enum JSON {
    /// `text` as a JSON string literal, quotes included.
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

    /// `value` rounded to `decimals` places, as a JSON number (`null` when not finite).
    public static func number(_ value: Double, decimals: Int = 1) -> String {
        guard value.isFinite else { return "null" }
        var scale = 1.0
        for _ in 0..<max(0, decimals) { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return String(describing: rounded)
    }

    /// A JSON array of numbers.
    public static func array(_ values: [Double], decimals: Int = 1) -> String {
        "[" + values.map { number($0, decimals: decimals) }.joined(separator: ",") + "]"
    }
}
