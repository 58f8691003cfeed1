import Glibc
import XCTest

@testable import LoopCore

/// The spawner's checks and lookups that need no loop: PATH resolution, the errno →
/// SubprocessError mapping, environment amending, and the watcher's environment switch.
final class ChildSpawnerTests: XCTestCase {
    func testResolveUsesTheFirstExecutableOnPath() {
        XCTAssertEqual(ChildSpawner.resolve("sh", path: "/nonexistent:/bin:/usr/bin"), "/bin/sh")
        XCTAssertEqual(ChildSpawner.resolve("./local", path: "/bin"), "./local", "a name with a slash is used as it is")
        XCTAssertEqual(ChildSpawner.resolve("loop-no-such-program", path: "/bin"), "loop-no-such-program")
    }

    func testResolveSkipsDirectoriesButRemembersThemForTheError() {
        // /usr/lib exists as a directory named "lib" under /usr; it is not executable as a program.
        XCTAssertEqual(ChildSpawner.resolve("lib", path: "/usr"), "/usr/lib")
    }

    func testSpawnErrorsNameTheProgramAndCause() {
        let missing = SubprocessError.fromSpawn(errno: ENOENT, program: "x", path: "/nope/x", currentDirectory: nil)
        XCTAssertEqual(missing.kind, .programNotFound)
        XCTAssertTrue(missing.message.contains("/nope/x"))
        let directory = SubprocessError.fromSpawn(errno: EACCES, program: "/tmp", path: "/tmp", currentDirectory: nil)
        XCTAssertEqual(directory.kind, .permissionDenied)
        XCTAssertTrue(directory.message.contains("is a directory"))
        let badDirectory = SubprocessError.fromSpawn(errno: ENOENT, program: "true", path: "/bin/true", currentDirectory: "/nope")
        XCTAssertEqual(badDirectory.kind, .badWorkingDirectory, "a chdir failure is not a missing program")
        let other = SubprocessError.fromSpawn(errno: ENOMEM, program: "true", path: "/bin/true", currentDirectory: nil)
        XCTAssertEqual(other.kind, .spawnFailed)
        XCTAssertEqual(other.errno, ENOMEM)
    }

    func testValidateRefusesBeforeCreatingAnything() {
        let options = SubprocessSpawnOptions(
            stdin: .pipe, stdout: .pipe, stderr: .stdout, environment: .inherit, currentDirectory: nil,
            passFds: [], newSession: true, processGroup: 0)
        XCTAssertThrowsError(try ChildSpawner.validate(program: "true", arguments: [], options: options)) { error in
            XCTAssertEqual((error as? SubprocessError)?.kind, .invalidArgument, "newSession with processGroup")
        }
    }

    func testAmendSetsAndRemoves() {
        let resolved = SubprocessEnvironment.amend(["LOOP_UNIT_SET": "1", "PATH": nil]).resolved()
        XCTAssertEqual(resolved["LOOP_UNIT_SET"], "1")
        XCTAssertNil(resolved["PATH"])
        XCTAssertEqual(SubprocessEnvironment.replace(["A": "b"]).resolved(), ["A": "b"])
    }

    func testWatcherKindsParseFromTheirEnvironmentNames() {
        XCTAssertEqual(ChildWatcherKind(rawValue: "pidfd"), .pidfd)
        XCTAssertEqual(ChildWatcherKind(rawValue: "waiter-thread"), .waiterThread)
        XCTAssertNil(ChildWatcherKind(rawValue: "sigchld"))
        XCTAssertTrue(ChildWatcherKind.summary.hasPrefix("child watcher: "))
    }
}
