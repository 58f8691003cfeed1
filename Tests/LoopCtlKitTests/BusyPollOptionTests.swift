import ArgumentParser
import LoopCtlKit
import XCTest

/// `loopctl echo-server --busy-poll-us`: what it accepts, the limit it gives the loop,
/// and what it refuses with which message and exit code.
final class BusyPollOptionTests: XCTestCase {
    func testDefaultIsOff() throws {
        let option = try BusyPollOption.parse([])
        XCTAssertEqual(option.microseconds, 0)
        XCTAssertNil(option.limit)
    }

    func testValuesInRangeGiveTheLimit() throws {
        XCTAssertNil(try BusyPollOption.parse(["--busy-poll-us", "0"]).limit)
        XCTAssertEqual(try BusyPollOption.parse(["--busy-poll-us", "50"]).limit, .microseconds(50))
        XCTAssertEqual(try BusyPollOption.parse(["--busy-poll-us=1000"]).limit, .milliseconds(1))
        XCTAssertEqual(BusyPollOption.maximumMicroseconds, 1000)
    }

    func testValuesOutsideTheRangeAreRefused() {
        XCTAssertEqual(refusal(BusyPollOption.self, ["--busy-poll-us", "1001"]), "--busy-poll-us 1001 is outside 0...1000")
        XCTAssertEqual(refusal(BusyPollOption.self, ["--busy-poll-us=-1"]), "--busy-poll-us -1 is outside 0...1000")
        XCTAssertEqual(refusal(BusyPollOption.self, ["--busy-poll-us=\(Int.max)"]), "--busy-poll-us \(Int.max) is outside 0...1000")
    }

    func testNonNumericIsRefused() {
        for value in ["fast", "2.5", ""] {
            XCTAssertEqual(
                refusal(BusyPollOption.self, ["--busy-poll-us", value]), "The value '\(value)' is invalid for '--busy-poll-us <busy-poll-us>'",
                "value \(value.debugDescription)")
        }
    }
}
