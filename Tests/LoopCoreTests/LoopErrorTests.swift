import XCTest

@testable import LoopCore

final class LoopErrorTests: XCTestCase {
    func testClosedErrorNamesTheCallAndTheFix() {
        let error = LoopError.closed("callSoon")
        XCTAssertEqual(error.kind, .closed)
        XCTAssertTrue(error.message.contains("callSoon"))
        XCTAssertTrue(error.message.contains("Event loop is closed"))
        XCTAssertTrue(error.message.contains("new loop"))
    }

    func testSystemErrorDescribesErrno() {
        let error = SystemError(errno: 9, call: "epoll_ctl(ADD)")
        XCTAssertTrue(error.description.contains("epoll_ctl(ADD)"))
        XCTAssertTrue(error.description.contains("errno 9"))
    }

    func testExceptionContextRendersMessageFirstThenKeys() {
        var context = ExceptionContext(message: "Exception in callback <Handle>", socket: 7)
        context.extra["custom"] = "value"
        let lines = context.description.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "Exception in callback <Handle>")
        XCTAssertTrue(lines.contains("socket: 7"))
        XCTAssertTrue(lines.contains("custom: value"))
    }
}
