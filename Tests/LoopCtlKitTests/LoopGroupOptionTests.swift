import ArgumentParser
import LoopCtlKit
import XCTest

/// `loopctl echo-server --loops N [--reuse-port | --handoff]`: what it accepts, and what
/// it refuses with which message and exit code.
final class LoopGroupOptionTests: XCTestCase {
    func testDefaultIsOneLoopWithoutAGroup() throws {
        let option = try LoopGroupOption.parse([])
        XCTAssertNil(option.loops)
        XCTAssertEqual(option.distribution, .reusePort)
    }

    func testLoopsAndDistributions() throws {
        XCTAssertEqual(try LoopGroupOption.parse(["--loops", "2"]).loops, 2)
        XCTAssertEqual(try LoopGroupOption.parse(["--loops", "2"]).distribution, .reusePort)
        XCTAssertEqual(try LoopGroupOption.parse(["--loops", "3", "--reuse-port"]).distribution, .reusePort)
        XCTAssertEqual(try LoopGroupOption.parse(["--loops=4", "--handoff"]).distribution, .handoff)
        XCTAssertEqual(try LoopGroupOption.parse(["--handoff", "--loops", "1"]).distribution.groupDistribution, .handoff)
    }

    func testTooFewLoopsAreRefused() {
        XCTAssertEqual(refusal(LoopGroupOption.self, ["--loops", "0"]), "--loops 0 must be at least 1")
        XCTAssertEqual(refusal(LoopGroupOption.self, ["--loops=-2"]), "--loops -2 must be at least 1")
        XCTAssertEqual(refusal(LoopGroupOption.self, ["--loops", "two"]), "The value 'two' is invalid for '--loops <loops>'")
    }

    func testDistributionWithoutLoopsIsRefused() {
        XCTAssertEqual(refusal(LoopGroupOption.self, ["--handoff"]), "--handoff needs --loops N")
        XCTAssertEqual(refusal(LoopGroupOption.self, ["--reuse-port"]), "--reuse-port needs --loops N")
    }

    func testBothDistributionsAreRefused() {
        let message = refusal(LoopGroupOption.self, ["--loops", "2", "--reuse-port", "--handoff"])
        XCTAssertTrue(message.contains("--reuse-port") && message.contains("--handoff"), message)
    }
}
