import ArgumentParser
import LoopCore

/// The `--busy-poll-us` option of `loopctl echo-server`: how long the loop may poll
/// before it sleeps, in microseconds, from 0 (off, the default) to the loop's
/// ``LoopCore/BaseEventLoop/maximumBusyPollLimit``. A value outside that range or not
/// an integer is refused with a message naming the option (a validation error, exit
/// code 64).
///
/// ```swift
/// struct EchoServerCommand: ParsableCommand {
///     @OptionGroup var busyPollOption: BusyPollOption
/// }
/// ```
public struct BusyPollOption: ParsableArguments {
    /// The busy-poll limit in microseconds; 0 turns busy polling off.
    @Option(
        name: .customLong("busy-poll-us"),
        help: "Poll for up to this many microseconds before sleeping (0, the default: sleep at once; at most 1000).")
    public var microseconds = 0

    /// The option with busy polling off, as when `--busy-poll-us` is not given.
    public init() {}

    /// The largest value accepted: the loop's maximum limit in whole microseconds.
    public static var maximumMicroseconds: Int { Int(BaseEventLoop.maximumBusyPollLimit / .microseconds(1)) }

    /// The limit to pass to ``LoopCore/BaseEventLoop/setBusyPoll(limit:)`` (`nil` when off).
    public var limit: Duration? { microseconds > 0 ? .microseconds(microseconds) : nil }

    /// Refuses a value below zero or above ``maximumMicroseconds``.
    public func validate() throws {
        guard (0...Self.maximumMicroseconds).contains(microseconds) else {
            throw ValidationError("--busy-poll-us \(microseconds) is outside 0...\(Self.maximumMicroseconds)")
        }
    }
}
