import ArgumentParser
import LoopCore

/// The `--loops N [--reuse-port | --handoff]` options of `loopctl echo-server`: serve
/// across a ``LoopCore/LoopGroup`` of N loops, one thread each, with a listening
/// socket per loop (`--reuse-port`, SO_REUSEPORT, the default) or one acceptor
/// handing connections round robin (`--handoff`). Without `--loops` the server runs
/// on one loop on the main thread, as before. N below 1, or `--reuse-port` /
/// `--handoff` without `--loops`, is refused with a message naming the option (a
/// validation error, exit code 64).
///
/// ```swift
/// struct EchoServerCommand: ParsableCommand {
///     @OptionGroup var groupOption: LoopGroupOption
/// }
/// ```
public struct LoopGroupOption: ParsableArguments {
    /// How connections reach the group's loops.
    public enum Distribution: String, EnumerableFlag, Sendable {
        case reusePort, handoff

        public static func name(for value: Distribution) -> NameSpecification {
            switch value {
            case .reusePort: .customLong("reuse-port")
            case .handoff: .customLong("handoff")
            }
        }

        public static func help(for value: Distribution) -> ArgumentHelp? {
            switch value {
            case .reusePort: "With --loops: a listening socket per loop (SO_REUSEPORT); the kernel spreads connections (the default)."
            case .handoff: "With --loops: one loop accepts and hands connections to the loops round robin."
            }
        }

        /// The GroupServer distribution.
        public var groupDistribution: GroupServer.Distribution {
            switch self {
            case .reusePort: .reusePort
            case .handoff: .handoff
            }
        }
    }

    /// The number of loops, or `nil` for the single-loop server.
    @Option(name: .long, help: "Serve across a loop group of this many loops, one thread each.")
    public var loops: Int?

    /// How connections reach the loops, when given.
    @Flag public var distributionFlag: Distribution?

    /// The options as when none is given: one loop.
    public init() {}

    /// The distribution in force (SO_REUSEPORT unless `--handoff`).
    public var distribution: Distribution { distributionFlag ?? .reusePort }

    /// Refuses fewer than one loop, and a distribution without `--loops`.
    public func validate() throws {
        if let loops, loops < 1 { throw ValidationError("--loops \(loops) must be at least 1") }
        if loops == nil, let flag = distributionFlag {
            throw ValidationError("--\(flag == .reusePort ? "reuse-port" : "handoff") needs --loops N")
        }
    }
}
