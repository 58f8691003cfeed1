import ArgumentParser
import Loops

@main
struct LoopCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loopctl",
        abstract: "The front door of the loop framework: backends, conformance, examples, benchmarks.",
        subcommands: [BackendsCommand.self, ConformanceCommand.self, ExampleCommand.self, BenchCommand.self, EchoServerCommand.self]
    )
}
