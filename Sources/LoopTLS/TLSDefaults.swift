import LoopCore

/// asyncio's default TLS timeouts.
public enum TLSDefaults {
    /// How long a handshake may take before the connection is aborted (60 s).
    public static let handshakeTimeout: Duration = .seconds(60)
    /// How long close waits for the peer's close_notify (30 s).
    public static let shutdownTimeout: Duration = .seconds(30)
}

/// The flow-control and message helpers of ``TLSProtocol``.
extension TLSProtocol {
    /// asyncio's `add_flowcontrol_defaults`.
    static func limits(high: Int?, low: Int?, kilobytes: Int) throws -> (high: Int, low: Int) {
        let resolvedHigh = high ?? (low.map { 4 * $0 } ?? kilobytes * 1024)
        let resolvedLow = low ?? resolvedHigh / 4
        guard resolvedHigh >= resolvedLow, resolvedLow >= 0 else {
            throw LoopError(.invalidArgument, "high (\(resolvedHigh)) must be >= low (\(resolvedLow)) must be >= 0")
        }
        return (resolvedHigh, resolvedLow)
    }

    /// `duration` in seconds as Python prints a float ("0.2", "60.0").
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) + Double(attoseconds) * 1e-18
        return "\(value)"
    }
}
