import ArgumentParser

/// The `--backlog` option of `loopctl echo-server`: the listen backlog, a positive
/// integer, 4096 unless given. A value that is not an integer, zero or negative is
/// refused with a message naming the option (a validation error, exit code 64).
///
/// ```swift
/// struct EchoServerCommand: ParsableCommand {
///     @OptionGroup var backlogOption: BacklogOption
/// }
/// ```
public struct BacklogOption: ParsableArguments {
    /// The backlog used when the option is not given (the benchmark anchors' value).
    public static let defaultBacklog = 4096

    /// The listen backlog.
    @Option(name: .long, help: "The listen backlog (the benchmark anchors use 4096, the kernel's somaxconn).")
    public var backlog = BacklogOption.defaultBacklog

    /// The option with its default backlog, as when `--backlog` is not given.
    public init() {}

    /// Refuses a backlog of zero or less.
    public func validate() throws {
        guard backlog > 0 else { throw ValidationError("--backlog \(backlog) must be positive") }
    }
}
