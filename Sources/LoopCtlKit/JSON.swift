import LoopConformance

/// The little JSON writing loopctl needs (strings and numbers), without Foundation.
/// Strings are escaped by LoopConformance's ``JSONText``, as conformance results are.
public enum JSON {
    /// `text` as a JSON string literal, quotes included.
    public static func string(_ text: String) -> String { JSONText.string(text) }

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
