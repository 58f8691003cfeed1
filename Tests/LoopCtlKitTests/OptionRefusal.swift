import ArgumentParser
import XCTest

/// What loopctl prints after "Error: " when `T` refuses `arguments`, checking the exit
/// code (64, a usage error); "accepted" when they parse.
func refusal<T: ParsableArguments>(
    _ type: T.Type, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line
) -> String {
    do {
        let parsed = try T.parse(arguments)
        return "accepted: \(parsed)"
    } catch {
        XCTAssertEqual(T.exitCode(for: error), .validationFailure, "exit code", file: file, line: line)
        return T.message(for: error)
    }
}
