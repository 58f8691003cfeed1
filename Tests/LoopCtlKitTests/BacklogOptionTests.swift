import ArgumentParser
import LoopCtlKit
import XCTest

/// `loopctl echo-server --backlog`: what it accepts, and what it refuses with which
/// message (the text after "Error: " that loopctl prints) and exit code.
final class BacklogOptionTests: XCTestCase {
    func testDefaultIs4096() throws {
        XCTAssertEqual(try BacklogOption.parse([]).backlog, 4096)
    }

    func testPositiveValuesAreAccepted() throws {
        XCTAssertEqual(try BacklogOption.parse(["--backlog", "1"]).backlog, 1)
        XCTAssertEqual(try BacklogOption.parse(["--backlog", "128"]).backlog, 128)
        XCTAssertEqual(try BacklogOption.parse(["--backlog=65535"]).backlog, 65535)
    }

    func testZeroIsRefused() {
        XCTAssertEqual(refusal(BacklogOption.self, ["--backlog", "0"]), "--backlog 0 must be positive")
    }

    func testNegativeIsRefused() {
        XCTAssertEqual(refusal(BacklogOption.self, ["--backlog=-5"]), "--backlog -5 must be positive")
        XCTAssertEqual(refusal(BacklogOption.self, ["--backlog=\(Int.min)"]), "--backlog \(Int.min) must be positive")
        // Separated by a space, "-5" reads as an option, so the value is missing.
        XCTAssertEqual(refusal(BacklogOption.self, ["--backlog", "-5"]), "Missing value for '--backlog <backlog>'")
    }

    func testNonNumericIsRefused() {
        for value in ["abc", "1.5", "", "12abc", "99999999999999999999"] {
            XCTAssertEqual(refusal(BacklogOption.self, ["--backlog", value]), "The value '\(value)' is invalid for '--backlog <backlog>'", "value \(value.debugDescription)")
        }
    }
}
