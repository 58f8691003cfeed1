/// Conversions between `Duration` and the `Double` seconds of the loop's clock.
extension Duration {
    /// This duration in seconds.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// This duration in whole nanoseconds, truncated toward zero; saturates at the
    /// bounds of `Int64`.
    package var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, overflowSum) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow || overflowSum { return seconds < 0 ? .min : .max }
        return sum
    }

    /// `seconds` as a duration, truncated toward zero to whole nanoseconds; saturates
    /// at the bounds of `Int64` nanoseconds, and NaN gives zero.
    package init(seconds: Double) {
        let nanoseconds = seconds * 1e9
        if nanoseconds.isNaN {
            self = .zero
        } else if nanoseconds >= 9.223372036854775e18 {
            self = .nanoseconds(Int64.max)
        } else if nanoseconds <= -9.223372036854775e18 {
            self = .nanoseconds(Int64.min)
        } else {
            self = .nanoseconds(Int64(nanoseconds))
        }
    }

    /// The duration in whole nanoseconds, clamped to `Int64` and to zero below.
    package var clampedNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        if seconds >= Int64.max / 1_000_000_000 - 1 { return Int64.max / 2 }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
